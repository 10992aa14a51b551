"""Factories shared by the test modules: the values of a filled-in modal (loss, win,
reflection (from testkit/reflection_form.py, which the demo uses too), goal), people in the
stand-in, rows seeded straight into the database (losses, goals, kudos, a person with one of
everything), and the session fixture of the goals and dashboard tests."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from bot.blocks.debriefs import (
    REFLECT_ACTION_ID,
)
from bot.domain import NONE_HELD
from bot.slack_text import escape_mrkdwn
from storage import goals_queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    Outcome,
    Reflection,
)
from testkit.live import LiveApp
from testkit.reflection_form import reflection_values as reflection_values  # re-exported
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.slack import ALL_PRACTICES, DM, SlackDriver, _text_of


def _answered(practices: list[str] | None) -> list[str]:
    """The checklist as a rep must answer it: no practices given means "None of these held"."""
    return [NONE_HELD] if practices is None else practices


def lost_values(
    deal: str = "Acme renewal",
    *,
    amount: str | None = "48000",
    stage: str | None = "proposal",
    reason: str | None = "price",
    competitor: str | None = None,
    practices: list[str] | None = None,
    feedback: str | None = "Your price was 20% above budget.",
) -> dict[str, Any]:
    return {
        "deal": {"value": state_value("plain_text_input", deal)},
        "amount": {"value": state_value("number_input", amount)},
        "stage": {"value": state_value("static_select", stage)},
        "reason": {"value": state_value("static_select", reason)},
        "competitor": {"value": state_value("plain_text_input", competitor)},
        "practices": {"value": state_value("checkboxes", _answered(practices))},
        "buyer_feedback": {"value": state_value("plain_text_input", feedback)},
    }


def _lose(
    slack: SlackDriver, user_id: str, deal: str, **kwargs: Any
) -> tuple[RecordedCall, Outcome]:
    """Debrief a loss and wait for the rep's DM; returns (the DM, the saved outcome)."""
    view = slack.open_modal("/lost", deal, user_id)
    seen = slack.mark()
    reply = slack.submit(view, user_id, lost_values(deal, **kwargs))
    assert reply.body in ("", "{}") or reply.json().get("response_action") != "errors"
    return _debrief_dm(slack, user_id, deal, seen)


def _debrief_dm(
    slack: SlackDriver, user_id: str, deal: str, seen: int
) -> tuple[RecordedCall, Outcome]:
    """The rep's DM about the deal they debriefed since `seen`, waited for until the dispatcher
    recorded it as sent; (the DM, the outcome as it then is)."""
    # This deal's own DM: another may arrive meanwhile (the support a losing streak brings,
    # queued with the loss before it), so the DM is the one that names the deal.
    words = escape_mrkdwn(deal)

    def names_the_deal(calls: list[RecordedCall]) -> bool:
        return any(
            words in _text_of(c) for c in slack.since(seen, "chat.postMessage", channel=DM[user_id])
        )

    slack.standin.wait_for(names_the_deal, timeout=slack.wait_timeout)
    dm = next(
        c
        for c in slack.since(seen, "chat.postMessage", channel=DM[user_id])
        if words in _text_of(c)
    )
    saved = [o for o in slack.outcomes() if o.deal == deal][-1]
    assert saved.id is not None
    # The DM reached Slack; wait for the dispatcher to record it too (when the questions went
    # out, which the reminders count from), then read the outcome as it now is.
    slack.wait_recorded(f"debrief:{saved.id}:rep")
    outcome = [o for o in slack.outcomes() if o.id == saved.id][0]
    return dm, outcome


def _reflect(
    slack: SlackDriver, user_id: str, outcome: Outcome, values: dict[str, Any]
) -> dict[str, Any]:
    seen = slack.mark()
    slack.click(user_id, REFLECT_ACTION_ID, str(outcome.id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    seen = slack.mark()
    reply = slack.submit(view, user_id, values)
    assert reply.body in ("", "{}") or reply.json().get("response_action") != "errors", reply.body
    slack.wait(seen, "chat.postMessage", channel=DM[user_id])
    return view


TEAM = "T0REBOUND"


def goal_values(
    *,
    metric: str = "revenue",
    custom: str | None = None,
    target: str | None = "50000",
    start: str | None = "2026-11-01",
    end: str | None = "2026-11-30",
    why: str | None = "Buy my team a celebration dinner",
) -> dict[str, dict[str, Any]]:
    return {
        "metric": {"value": state_value("static_select", metric)},
        "custom_metric": {"value": state_value("plain_text_input", custom)},
        "target": {"value": state_value("number_input", target)},
        "cycle_start": {"value": state_value("datepicker", start)},
        "cycle_end": {"value": state_value("datepicker", end)},
        "why": {"value": state_value("plain_text_input", why)},
    }


@pytest.fixture
def session_factory(database_url: str) -> Iterator[Any]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def add_outcome(
    session: Session,
    user_id: str,
    kind: str,
    at: datetime,
    *,
    score: float = 1.0,
    amount: float | None = None,
    reason: str | None = None,
    team_id: str = TEAM,
) -> None:
    classification = {
        ("win", True): "system-hit",
        ("win", False): "lucky-hit",
        ("loss", True): "perfect-miss",
        ("loss", False): "system-miss",
    }[(kind, score >= 0.8)]
    session.add(
        Outcome(
            team_id=team_id,
            user_id=user_id,
            kind=kind,
            deal=f"Deal {uuid.uuid4().hex[:6]}",
            amount=amount,
            reason=reason,
            process_score=score,
            classification=classification,
            occurred_at=at,
            submission_key=uuid.uuid4().hex,
        )
    )


def add_goal(
    session: Session,
    user_id: str,
    *,
    metric: str = "revenue",
    target: float = 1000,
    start: date = date(2026, 11, 1),
    end: date = date(2026, 11, 30),
    team_id: str = TEAM,
) -> Goal:
    goal = goals_queries.insert_goal(
        session=session,
        team_id=team_id,
        user_id=user_id,
        metric=metric,
        custom_metric=None,
        target=target,
        cycle_start=start,
        cycle_end=end,
        why="because",
        submission_key=uuid.uuid4().hex,
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    assert goal is not None
    return goal


def add_current_goal(
    session: Session,
    user_id: str,
    today: date,
    *,
    metric: str,
    target: float,
    team_id: str = TEAM,
) -> Goal:
    """A goal whose cycle is under way on `today`: begun two days before, ending 20 after."""
    return add_goal(
        session,
        user_id,
        metric=metric,
        target=target,
        start=today - timedelta(days=2),
        end=today + timedelta(days=20),
        team_id=team_id,
    )


def new_user(standin: SlackStandIn, tz: str = "Europe/London", *, tag: str | None = None) -> str:
    """Someone new in the stand-in (in every workspace: Slack user ids are the same across them
    here); `tag` names them, for a test that looks for them by name."""
    user_id = "U" + uuid.uuid4().hex[:9].upper()
    if tag is None:
        name, real_name = user_id.lower(), f"Rep {user_id}"
    else:
        name, real_name = f"{tag}-{user_id.lower()}", tag.title()
    standin.add_user(StandInUser(id=user_id, name=name, real_name=real_name, tz=tz))
    return user_id


def outcome_row(team_id: str, user_id: str, kind: str, at: datetime, **fields: Any) -> Outcome:
    """A debriefed deal as its row (a win is a system hit, a loss a system miss, unless a
    `classification` is given)."""
    classification = fields.pop("classification", "system-hit" if kind == "win" else "system-miss")
    return Outcome(
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        deal=fields.pop("deal", f"Deal {uuid.uuid4().hex[:6]}"),
        amount=125_000.0,
        process_score=1.0 if classification == "perfect-miss" else 0.4,
        classification=classification,
        occurred_at=at,
        submission_key=uuid.uuid4().hex,
        **fields,
    )


def open_goal_modal(live: LiveApp, standin: SlackStandIn, user_id: str) -> dict[str, Any]:
    seen = len(standin.calls)
    assert live.sender().slash_command("/goal", user_id=user_id).status == 200
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    # The view as Slack stored it, with its id: a resubmission carries the same id.
    return [c for c in calls[seen:] if c.method == "views.open"][0].response["view"]


def live_session(live: LiveApp) -> Session:
    return Session(make_engine(live.database_url))


@dataclass(frozen=True)
class Seeded:
    outcome_id: int
    reflection_id: int
    checkin_id: int
    goal_id: int


def seed_person(session: Session, team_id: str, user_id: str, tag: str, *, at: datetime) -> Seeded:
    """A member with a lost deal and its reflection, a check-in with an answer and a goal for
    the month of `at` (the test's clock: tests never read the wall clock); every free text
    carries `tag` so a test can look for it in exported bytes."""
    year, week, _ = at.isocalendar()
    month_start = at.date().replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    session.add(Member(team_id=team_id, user_id=user_id, display_name=f"Name {tag}"))
    outcome = Outcome(
        team_id=team_id,
        user_id=user_id,
        kind="loss",
        deal=f"Deal {tag}",
        amount=1234.5,
        reason="Price",
        process_score=0.4,
        classification="system-miss",
        occurred_at=at,
        submission_key=uuid.uuid4().hex,
    )
    session.add(outcome)
    session.flush()
    assert outcome.id is not None
    reflection = Reflection(
        team_id=team_id,
        user_id=user_id,
        outcome_id=outcome.id,
        question_key="lesson",
        question="What did this loss teach you?",
        answer=f"Lesson {tag}",
        created_at=at,
    )
    checkin = CheckIn(
        team_id=team_id,
        user_id=user_id,
        week_key=f"{year}-W{week:02d}",
        due_at=at,
        status="answered",
        questions=[{"key": "win", "text": "Your win this week?"}],
    )
    goal = Goal(
        team_id=team_id,
        user_id=user_id,
        metric="custom",
        custom_metric=f"Metric {tag}",
        target=10,
        cycle_start=month_start,
        cycle_end=next_month - timedelta(days=1),
        why=f"Why {tag}",
    )
    session.add_all([reflection, checkin, goal])
    session.flush()
    assert checkin.id is not None and reflection.id is not None and goal.id is not None
    session.add(
        CheckInAnswer(
            team_id=team_id,
            checkin_id=checkin.id,
            question_key="win",
            question="Your win this week?",
            answer=f"Answer {tag}",
        )
    )
    return Seeded(outcome.id, reflection.id, checkin.id, goal.id)


def seed_kudos(
    session: Session, team_id: str, giver: str, recipients: list[str], message: str
) -> int:
    kudos = Kudos(
        team_id=team_id,
        giver_user_id=giver,
        category="resilience",
        message=message,
        status="posted",
        submission_key=uuid.uuid4().hex,
    )
    session.add(kudos)
    session.flush()
    assert kudos.id is not None
    for user_id in recipients:
        session.add(KudosRecipient(team_id=team_id, kudos_id=kudos.id, user_id=user_id))
    return kudos.id


def count(session: Session, model: type[SQLModel], **where: Any) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return int(session.exec(statement).one())


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def won_values(
    deal: str = "Globex expansion",
    *,
    amount: str | None = "30000",
    practices: list[str] | None = None,
    luck: str | None = "none",
) -> dict[str, Any]:
    return {
        "deal": {"value": state_value("plain_text_input", deal)},
        "amount": {"value": state_value("number_input", amount)},
        "practices": {"value": state_value("checkboxes", _answered(practices))},
        "luck": {"value": state_value("static_select", luck)},
    }


def log_win(
    slack: SlackDriver, user_id: str, deal: str, **won: Any
) -> tuple[RecordedCall, Outcome]:
    """Debrief a win over HTTP (every practice held unless `won`, more of won_values, says
    otherwise) and wait for the rep's DM about it; returns (the DM, the saved outcome)."""
    view = slack.open_modal("/won", deal, user_id)
    seen = slack.mark()
    reply = slack.submit(view, user_id, won_values(deal, **{"practices": ALL_PRACTICES, **won}))
    assert "errors" not in (reply.body or ""), reply.body
    return _debrief_dm(slack, user_id, deal, seen)
