"""The one-on-one agenda through the use cases, on SQLite and PostgreSQL: what a reply from the
digest keeps, what each Home shows and for how long, and what forget-me and an export do with
it (issue 12 §6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.clock import FakeClock
from bot.domain.one_on_ones import AgendaRefusal, ReplySubmission
from bot.uow import UnitOfWork
from bot.usecases import agenda_done, privacy
from bot.usecases import one_on_ones as usecases
from bot.usecases.one_on_ones import DONE_WINDOW, NotTheirManager, SentReply
from storage import queries
from storage.db import SessionFactory, make_session_factory
from storage.models import CheckIn, CheckInAnswer, OneOnOneItem, OutboxMessage, Reflection
from tests.support.factories import outcome_row
from tests.support.migrated_engine import engine

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

TEAM = "T0AGENDA"
MANAGER, REP, OTHER = "U0MGR", "U0REP1", "U0REP2"
START = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)


@pytest.fixture
def new_session(engine: Engine) -> SessionFactory:
    factory = make_session_factory(engine)
    with factory() as session:
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        queries.set_reports(
            session=session, team_id=TEAM, manager_user_id=MANAGER, report_user_ids=[REP, OTHER]
        )
        session.commit()
    return factory


def _checkin(new_session: SessionFactory, user_id: str, week: str) -> int:
    with new_session() as session:
        checkin = CheckIn(
            team_id=TEAM,
            user_id=user_id,
            week_key=week,
            due_at=START,
            status="answered",
            questions=[{"key": "win", "text": "Your win this week?"}],
        )
        session.add(checkin)
        session.flush()
        assert checkin.id is not None
        session.add(
            CheckInAnswer(
                team_id=TEAM,
                checkin_id=checkin.id,
                question_key="win",
                question="Your win this week?",
                answer=f"Booked the demo ({week})",
            )
        )
        session.add(
            Reflection(
                team_id=TEAM,
                user_id=user_id,
                outcome_id=_outcome(session, user_id),
                question_key="commitment",
                question="One thing I will do differently",
                answer=f"Call the CFO first ({week})",
                is_commitment=True,
                created_at=START,
            )
        )
        session.commit()
        return checkin.id


def _outcome(session: Session, user_id: str) -> int:
    row = outcome_row(TEAM, user_id, "loss", START)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _reply(
    new_session: SessionFactory, clock: FakeClock, checkin_id: int, key: str, *, agenda: bool = True
) -> SentReply | NotTheirManager | None:
    with UnitOfWork(new_session, clock=clock) as uow:
        return usecases.send_reply(
            uow,
            team_id=TEAM,
            manager_user_id=MANAGER,
            checkin_id=checkin_id,
            submission=ReplySubmission("win", "Let's talk about it Thursday", agenda),
            submission_key=key,
        )


def test_the_agenda_shows_open_items_to_both_and_the_reps_open_commitments(
    new_session: SessionFactory,
) -> None:
    clock = FakeClock(START)
    old = _checkin(new_session, REP, "2026-W44")
    assert _reply(new_session, clock, old, "view:old") == SentReply(REP, True)
    clock.advance(days=DONE_WINDOW.days + 1)
    recent = _checkin(new_session, REP, "2026-W49")
    assert _reply(new_session, clock, recent, "view:new") == SentReply(REP, True)
    assert _reply(new_session, clock, recent, "view:new") == SentReply(REP, True)  # a retry
    assert _reply(new_session, clock, recent, "view:dm-only", agenda=False) == SentReply(REP, False)
    with new_session() as session:
        items = session.exec(select(OneOnOneItem).where(OneOnOneItem.team_id == TEAM)).all()
        assert len(items) == 2  # the retry and the DM-only reply added none
        posts = session.exec(
            select(OutboxMessage.post_key).where(OutboxMessage.team_id == TEAM)
        ).all()
        assert sorted(posts) == [
            "checkin-reply:view:dm-only",
            "checkin-reply:view:new",
            "checkin-reply:view:old",
        ]
        for viewer in (REP, MANAGER):
            agenda = usecases.agenda_of(session=session, team_id=TEAM, user_id=viewer, now=clock())
            # Open items stay until someone marks them done, however old: newest first.
            assert [i.answer for i in agenda.items] == [
                "Booked the demo (2026-W49)",
                "Booked the demo (2026-W44)",
            ]
            assert (agenda.more_open, agenda.done_lately) == (0, 0)
            assert agenda.open_commitments == {
                REP: ["Call the CFO first (2026-W49)", "Call the CFO first (2026-W44)"]
            }
        other = usecases.agenda_of(session=session, team_id=TEAM, user_id=OTHER, now=clock())
        assert other.items == [] and other.open_commitments == {}
        elsewhere = usecases.agenda_of(
            session=session, team_id="T0ELSEWHERE", user_id=REP, now=clock()
        )
        assert elsewhere.items == []


def test_only_the_reps_manager_replies_and_a_check_in_of_another_workspace_is_none(
    new_session: SessionFactory,
) -> None:
    clock = FakeClock(START)
    checkin_id = _checkin(new_session, OTHER, "2026-W48")
    with UnitOfWork(new_session, clock=clock) as uow:
        refused = usecases.send_reply(
            uow,
            team_id=TEAM,
            manager_user_id=REP,
            checkin_id=checkin_id,
            submission=ReplySubmission("win", "Hi", True),
            submission_key="view:forged",
        )
        assert refused == NotTheirManager(OTHER)
        assert (
            usecases.reply_target(
                session=uow.session, team_id="T0ELSEWHERE", user_id=MANAGER, checkin_id=checkin_id
            )
            is None
        )
    with new_session() as session:
        assert session.exec(select(OneOnOneItem)).all() == []
        assert session.exec(select(OutboxMessage).where(OutboxMessage.team_id == TEAM)).all() == []


@pytest.mark.parametrize("forgotten", [REP, MANAGER])
def test_forget_me_deletes_the_items_of_either_person_and_the_reps_export_holds_them(
    new_session: SessionFactory, forgotten: str
) -> None:
    clock = FakeClock(START)
    checkin_id = _checkin(new_session, REP, "2026-W48")
    _reply(new_session, clock, checkin_id, "view:1")
    with new_session() as session:
        export = privacy.personal_export(session=session, team_id=TEAM, user_id=REP, now=START)
        document = json.loads(export[0].content)
        assert [i["reply"] for i in document["one_on_one_agenda"]] == [
            "Let's talk about it Thursday"
        ]
        manager = privacy.personal_export(session=session, team_id=TEAM, user_id=MANAGER, now=START)
        assert json.loads(manager[0].content)["one_on_one_agenda"] == []
        counts = privacy.forget_member(session=session, team_id=TEAM, user_id=forgotten)
        session.commit()
        assert counts["one-on-one agenda items"] == 1
        assert session.exec(select(OneOnOneItem)).all() == []


def test_an_item_is_closed_once_and_both_homes_are_queued_once(
    new_session: SessionFactory,
) -> None:
    clock = FakeClock(START)
    checkin_id = _checkin(new_session, REP, "2026-W48")
    _reply(new_session, clock, checkin_id, "view:1")
    with new_session() as session:
        (item,) = session.exec(select(OneOnOneItem).where(OneOnOneItem.team_id == TEAM)).all()
        assert item.id is not None
        item_id = item.id
    homes = {person: agenda_done.HomeOf(profile=None, is_admin=False) for person in (REP, MANAGER)}

    def close(user_id: str, *, is_admin: bool = False) -> object:
        with UnitOfWork(new_session, clock=clock) as uow:
            return agenda_done.close_item(
                uow, team_id=TEAM, user_id=user_id, item_id=item_id, is_admin=is_admin, homes=homes
            )

    # A teammate (not an admin) is refused; another workspace has no such item.
    refused = close(OTHER)
    assert isinstance(refused, agenda_done.Refused)
    assert refused.why is AgendaRefusal.NOT_THEIRS
    with UnitOfWork(new_session, clock=clock) as uow:
        assert (
            agenda_done.close_item(
                uow, team_id="T0ELSEWHERE", user_id=REP, item_id=item_id, is_admin=True, homes={}
            )
            is None
        )
    clock.advance(minutes=5)
    closed = close(REP)
    assert isinstance(closed, agenda_done.AgendaPeople) and closed.homes == (REP, MANAGER)
    again = close(MANAGER)  # the manager's stale Home: closed already, nothing more queued
    assert isinstance(again, agenda_done.Refused) and again.why is AgendaRefusal.ALREADY_DONE
    with new_session() as session:
        row = session.get(OneOnOneItem, item_id)
        assert row is not None and (row.done_at, row.done_by) == (clock(), REP)
        publishes = session.exec(
            select(OutboxMessage).where(OutboxMessage.method == "views.publish")
        ).all()
        assert sorted(p.post_key for p in publishes) == [
            f"agenda-done:{item_id}:home:{MANAGER}",
            f"agenda-done:{item_id}:home:{REP}",
        ]
        for publish in publishes:
            assert publish.payload["user_id"] == publish.target_id
            assert publish.payload["view"]["type"] == "home"
        for viewer in (REP, MANAGER):
            agenda = usecases.agenda_of(session=session, team_id=TEAM, user_id=viewer, now=clock())
            assert (list(agenda.items), agenda.done_lately) == ([], 1)
        # Four weeks on, the count of what was done lately is back to nothing.
        later = clock() + DONE_WINDOW + timedelta(minutes=1)
        agenda = usecases.agenda_of(session=session, team_id=TEAM, user_id=REP, now=later)
        assert agenda.done_lately == 0
