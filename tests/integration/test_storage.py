"""Storage: engine set-up, exactly-once claims, and the query functions, on both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select

from storage.db import (
    SessionFactory,
    make_engine,
    make_session_factory,
    normalize_database_url,
    ping,
    upgrade,
)
from storage.models import CheckIn, Goal, Outcome, PostLog, Reflection
from storage.queries import (
    claim_post,
    get_member,
    get_or_create_workspace,
    get_post,
    list_members,
    manager_of,
    managers_of,
    mark_post_sent,
    record_event_once,
    release_post,
    reports_of,
    set_reports,
    update_workspace_settings,
    upsert_member,
)
from tests.support.migrated_engine import engine

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

TEAM = "T0001"
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


@pytest.fixture
def new_session(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


def _post_rows(new_session: SessionFactory, post_key: str) -> list[PostLog]:
    with new_session() as session:
        statement = select(PostLog).where(PostLog.team_id == TEAM, PostLog.post_key == post_key)
        return list(session.exec(statement).all())


# --- engine ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/rebound", "postgresql+psycopg://u:p@db:5432/rebound"),
        ("postgresql://u@db/rebound", "postgresql+psycopg://u@db/rebound"),
        ("postgresql+psycopg://u@db/rebound", "postgresql+psycopg://u@db/rebound"),
        (" sqlite:///rebound.db\n", "sqlite:///rebound.db"),
    ],
)
def test_normalize_database_url(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_ping_true_when_database_answers_false_when_not(engine: Engine) -> None:
    assert ping(engine) is True
    # Nothing listens on port 1 of the loopback address.
    unreachable = make_engine("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
    try:
        assert ping(unreachable) is False
    finally:
        unreachable.dispose()


def test_sqlite_engine_uses_wal_and_enforces_foreign_keys(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            journal_mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
            busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert (journal_mode, foreign_keys, busy_timeout) == ("wal", 1, 5000)
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(new_session: SessionFactory) -> None:
    with new_session() as session:
        session.add(
            Reflection(
                team_id=TEAM, user_id="U1", outcome_id=999, question_key="q1", question="Why?"
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


# --- exactly-once posts ------------------------------------------------------------------------


def test_claim_post_twice_second_is_refused(new_session: SessionFactory) -> None:
    with new_session() as session:
        first = claim_post(
            session=session, team_id=TEAM, post_key="kudos:1", kind="kudos", claimed_by="a", now=NOW
        )
        session.commit()
    assert first is not None
    assert (first.status, first.claimed_by, first.claimed_at) == ("claimed", "a", NOW)

    with new_session() as session:
        second = claim_post(
            session=session, team_id=TEAM, post_key="kudos:1", kind="kudos", claimed_by="b", now=NOW
        )
        session.commit()
    assert second is None
    assert [row.claimed_by for row in _post_rows(new_session, "kudos:1")] == ["a"]


def test_same_post_key_in_another_workspace_is_a_different_post(
    new_session: SessionFactory,
) -> None:
    with new_session() as session:
        here = claim_post(
            session=session, team_id=TEAM, post_key="digest", kind="digest", claimed_by="a", now=NOW
        )
        there = claim_post(
            session=session,
            team_id="T0002",
            post_key="digest",
            kind="digest",
            claimed_by="a",
            now=NOW,
        )
        session.commit()
    assert here is not None and there is not None


def test_concurrent_claims_exactly_one_wins(new_session: SessionFactory) -> None:
    contenders = 8
    barrier = threading.Barrier(contenders)

    def attempt(replica: int) -> bool:
        with new_session() as session:
            barrier.wait(timeout=30)
            post = claim_post(
                session=session,
                team_id=TEAM,
                post_key="digest:2026-W48",
                kind="digest",
                claimed_by=f"replica-{replica}",
                now=NOW,
            )
            session.commit()
            return post is not None

    with ThreadPoolExecutor(max_workers=contenders) as pool:
        outcomes = list(pool.map(attempt, range(contenders)))

    assert outcomes.count(True) == 1
    rows = _post_rows(new_session, "digest:2026-W48")
    assert len(rows) == 1
    assert rows[0].claimed_by == f"replica-{outcomes.index(True)}"


def test_release_then_claim_again(new_session: SessionFactory) -> None:
    with new_session() as session:
        post = claim_post(
            session=session, team_id=TEAM, post_key="p", kind="kudos", claimed_by="a", now=NOW
        )
        session.commit()
    assert post is not None

    # Released from a different unit of work than the one that claimed it.
    with new_session() as session:
        release_post(session=session, post=post)
        session.commit()
    assert _post_rows(new_session, "p") == []

    with new_session() as session:
        again = claim_post(
            session=session, team_id=TEAM, post_key="p", kind="kudos", claimed_by="b", now=NOW
        )
        session.commit()
    assert again is not None and again.claimed_by == "b"


def test_mark_post_sent_records_where_it_went(new_session: SessionFactory) -> None:
    with new_session() as session:
        post = claim_post(
            session=session, team_id=TEAM, post_key="p", kind="kudos", claimed_by="a", now=NOW
        )
        session.commit()
    assert post is not None
    sent_at = NOW + timedelta(seconds=2)
    with new_session() as session:
        mark_post_sent(session=session, post=post, channel_id="C1", message_ts="1.2", now=sent_at)
        session.commit()

    with new_session() as session:
        stored = get_post(session=session, team_id=TEAM, post_key="p")
    assert stored is not None
    assert (stored.status, stored.channel_id, stored.message_ts, stored.sent_at) == (
        "sent",
        "C1",
        "1.2",
        sent_at,
    )


def test_record_event_once(new_session: SessionFactory) -> None:
    with new_session() as session:
        assert record_event_once(session=session, team_id=TEAM, event_id="Ev1", now=NOW) is True
        session.commit()
    with new_session() as session:
        assert record_event_once(session=session, team_id=TEAM, event_id="Ev1", now=NOW) is False
        assert record_event_once(session=session, team_id=TEAM, event_id="Ev2", now=NOW) is True
        assert record_event_once(session=session, team_id="T0002", event_id="Ev1", now=NOW) is True
        session.commit()


# --- datetimes and constraints -----------------------------------------------------------------


def test_datetimes_come_back_aware_utc(new_session: SessionFactory) -> None:
    due_in_new_york = datetime(2026, 11, 27, 14, 0, tzinfo=ZoneInfo("America/New_York"))
    with new_session() as session:
        checkin = CheckIn(team_id=TEAM, user_id="U1", week_key="2026-W48", due_at=due_in_new_york)
        session.add(checkin)
        session.commit()
        checkin_id = checkin.id

    with new_session() as session:
        stored = session.get(CheckIn, checkin_id)
        assert stored is not None
        assert stored.due_at.tzinfo is not None
        assert stored.due_at.utcoffset() == timedelta(0)
        assert stored.due_at == due_in_new_york
        assert stored.created_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(new_session: SessionFactory) -> None:
    with new_session() as session:
        session.add(CheckIn(team_id=TEAM, user_id="U1", week_key="w", due_at=datetime(2026, 1, 1)))
        with pytest.raises(StatementError, match="naive"):
            session.flush()


def test_checkin_unique_per_member_and_week(new_session: SessionFactory) -> None:
    with new_session() as session:
        session.add(CheckIn(team_id=TEAM, user_id="U1", week_key="2026-W48", due_at=NOW))
        session.commit()
    with new_session() as session:
        session.add(CheckIn(team_id=TEAM, user_id="U2", week_key="2026-W48", due_at=NOW))
        session.add(CheckIn(team_id=TEAM, user_id="U1", week_key="2026-W49", due_at=NOW))
        session.commit()
    with new_session() as session:
        session.add(CheckIn(team_id=TEAM, user_id="U1", week_key="2026-W48", due_at=NOW))
        with pytest.raises(IntegrityError):
            session.commit()
    with new_session() as session:
        count = session.exec(select(func.count()).select_from(CheckIn)).one()
    assert count == 3


def test_outcome_and_goal_values_round_trip(new_session: SessionFactory) -> None:
    with new_session() as session:
        outcome = Outcome(
            team_id=TEAM,
            user_id="U1",
            kind="loss",
            deal="Acme renewal",
            amount=12500.5,
            discovery=True,
            process_score=0.2,
            classification="system-miss",
            occurred_at=NOW,
            submission_key="V123",
        )
        goal = Goal(
            team_id=TEAM,
            user_id="U1",
            metric="revenue",
            target=50000.0,
            cycle_start=date(2026, 11, 1),
            cycle_end=date(2026, 11, 30),
        )
        session.add(outcome)
        session.add(goal)
        session.commit()
        ids = (outcome.id, goal.id)

    with new_session() as session:
        stored_outcome = session.get(Outcome, ids[0])
        stored_goal = session.get(Goal, ids[1])
    assert stored_outcome is not None and stored_goal is not None
    assert stored_outcome.amount == 12500.5
    assert (stored_outcome.discovery, stored_outcome.pipeline_full) == (True, False)
    assert stored_outcome.occurred_at == NOW
    assert (stored_goal.cycle_end, stored_goal.progress) == (date(2026, 11, 30), 0.0)


def test_checkin_questions_json_round_trip(new_session: SessionFactory) -> None:
    questions = [{"key": "wins", "text": "What went well?"}, {"key": "block", "text": "Stuck?"}]
    with new_session() as session:
        checkin = CheckIn(team_id=TEAM, user_id="U1", week_key="w", due_at=NOW, questions=questions)
        session.add(checkin)
        session.commit()
        checkin_id = checkin.id
    with new_session() as session:
        stored = session.get(CheckIn, checkin_id)
    assert stored is not None and stored.questions == questions


def test_outcome_submission_key_saves_once(new_session: SessionFactory) -> None:
    def outcome() -> Outcome:
        return Outcome(
            team_id=TEAM,
            user_id="U1",
            kind="win",
            deal="d",
            process_score=1.0,
            classification="system-hit",
            occurred_at=NOW,
            submission_key="V1",
        )

    with new_session() as session:
        session.add(outcome())
        session.commit()
    with new_session() as session:
        session.add(outcome())
        with pytest.raises(IntegrityError):
            session.commit()


# --- workspaces and members ----------------------------------------------------------------------


def test_workspace_created_with_defaults_and_settings_updated(new_session: SessionFactory) -> None:
    with new_session() as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM, name="Acme")
        session.commit()
    assert (workspace.checkin_weekday, workspace.checkin_hour, workspace.kudos_policy) == (
        4,
        14,
        "managers",
    )
    assert workspace.strong_process_threshold == 0.8 and workspace.digest_enabled is True

    with new_session() as session:
        update_workspace_settings(
            session=session, team_id=TEAM, recognition_channel_id="C9", checkin_hour=9
        )
        session.commit()
    with new_session() as session:
        stored = get_or_create_workspace(session=session, team_id=TEAM)
    assert (stored.name, stored.recognition_channel_id, stored.checkin_hour) == ("Acme", "C9", 9)
    assert stored.updated_at >= stored.created_at


def test_update_workspace_settings_rejects_unknown_keys(new_session: SessionFactory) -> None:
    with new_session() as session:
        get_or_create_workspace(session=session, team_id=TEAM)
        with pytest.raises(ValueError, match="colour"):
            update_workspace_settings(session=session, team_id=TEAM, checkin_hour=9, colour="red")
        with pytest.raises(ValueError, match="created_at"):
            update_workspace_settings(session=session, team_id=TEAM, created_at=NOW)
        session.commit()
    with new_session() as session:
        assert get_or_create_workspace(session=session, team_id=TEAM).checkin_hour == 14


def test_upsert_member_creates_then_updates(new_session: SessionFactory) -> None:
    with new_session() as session:
        created = upsert_member(session=session, team_id=TEAM, user_id="U1", display_name="Ann")
        session.commit()
    assert (created.tz, created.is_manager) == ("UTC", False)

    with new_session() as session:
        upsert_member(session=session, team_id=TEAM, user_id="U1", tz="Europe/Berlin")
        session.commit()
    with new_session() as session:
        member = get_member(session=session, team_id=TEAM, user_id="U1")
        everyone = list_members(session=session, team_id=TEAM)
        assert member is not None
        assert (member.display_name, member.tz, member.id) == ("Ann", "Europe/Berlin", created.id)
        assert [m.user_id for m in everyone] == ["U1"]
        with pytest.raises(ValueError, match="shoe_size"):
            upsert_member(session=session, team_id=TEAM, user_id="U1", shoe_size=9)


def test_list_members_active_only_skips_bots_and_deleted(new_session: SessionFactory) -> None:
    with new_session() as session:
        upsert_member(session=session, team_id=TEAM, user_id="U1")
        upsert_member(session=session, team_id=TEAM, user_id="UBOT", is_bot=True)
        upsert_member(session=session, team_id=TEAM, user_id="UGONE", deleted=True)
        upsert_member(session=session, team_id="T0002", user_id="U9")
        session.commit()
        active = list_members(session=session, team_id=TEAM, active_only=True)
        everyone = list_members(session=session, team_id=TEAM)
    assert [m.user_id for m in active] == ["U1"]
    assert [m.user_id for m in everyone] == ["U1", "UBOT", "UGONE"]


def test_set_reports_replaces_the_team(new_session: SessionFactory) -> None:
    with new_session() as session:
        upsert_member(session=session, team_id=TEAM, user_id="U1", display_name="Ann")
        set_reports(
            session=session, team_id=TEAM, manager_user_id="M1", report_user_ids=["U1", "U2"]
        )
        session.commit()
    with new_session() as session:
        assert [m.user_id for m in managers_of(session=session, team_id=TEAM)] == ["M1"]
        assert [
            m.user_id for m in reports_of(session=session, team_id=TEAM, manager_user_id="M1")
        ] == ["U1", "U2"]
        boss = manager_of(session=session, team_id=TEAM, user_id="U2")
        assert boss is not None and boss.user_id == "M1"
        ann = get_member(session=session, team_id=TEAM, user_id="U1")
        assert ann is not None and ann.display_name == "Ann"

    with new_session() as session:
        set_reports(
            session=session, team_id=TEAM, manager_user_id="M1", report_user_ids=["U2", "U3", "M1"]
        )
        session.commit()
    with new_session() as session:
        reports = reports_of(session=session, team_id=TEAM, manager_user_id="M1")
        assert [m.user_id for m in reports] == ["U2", "U3"]
        assert manager_of(session=session, team_id=TEAM, user_id="U1") is None
        assert manager_of(session=session, team_id=TEAM, user_id="M1") is None
