"""A win's lesson reminder is found through the due-time index (issue 12 §6), on SQLite and
PostgreSQL: answered and skipped wins are outside the query's range, so however many a workspace
has they cost the scheduler's tick nothing; a due one is queued once, whatever the number of
ticks or processes; each workspace's own debrief-reminder hours apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import select

from bot.clock import FakeClock
from bot.uow import UnitOfWork
from bot.usecases import debriefs, lesson_reminders
from storage import debriefs_queries as dq
from storage import queries
from storage.db import SessionFactory, make_session_factory
from storage.models import OutboxMessage
from tests.support.factories import outcome_row
from tests.support.migrated_engine import engine

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

# A value the rows are made around; the test's clock starts here and only moves forward.
START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
REP = "U0REP"


def _workspace(new_session: SessionFactory, team_id: str, hours: int) -> None:
    with new_session() as session:
        queries.get_or_create_workspace(session=session, team_id=team_id)
        session.execute(
            text("UPDATE workspaces SET reflection_reminder_hours = :h WHERE team_id = :t"),
            {"h": hours, "t": team_id},
        )
        session.commit()


def _win(new_session: SessionFactory, team_id: str, deal: str, **fields: Any) -> int:
    with new_session() as session:
        row = outcome_row(
            team_id, REP, "win", START, deal=deal, reflection_requested_at=START, **fields
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def _reminders(new_session: SessionFactory) -> list[str]:
    with new_session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == debriefs.REMINDER))
        return sorted(f"{r.team_id}:{r.post_key}:{r.state}" for r in rows)


def test_only_due_unsettled_wins_are_reminded_once_each_by_their_workspaces_hours(
    engine: Engine,
) -> None:
    new_session = make_session_factory(engine)
    _workspace(new_session, "T0DAY", 24)
    _workspace(new_session, "T0SLOW", 48)
    # Settled wins: answered, or already reminded (sent, unsendable or skipped by the rep).
    for n in range(30):
        _win(new_session, "T0DAY", f"Answered {n}", reflection_answered_at=START)
        _win(new_session, "T0DAY", f"Settled {n}", reflection_reminded_at=START)
    due = _win(new_session, "T0DAY", "Due")
    slow = _win(new_session, "T0SLOW", "Slow")
    skipped = _win(new_session, "T0DAY", "Skipped")
    clock = FakeClock(START)

    with UnitOfWork(new_session, clock=clock) as uow:
        assert lesson_reminders.lesson_not_now(
            uow, team_id="T0DAY", user_id=REP, outcome_id=skipped
        )
        # Someone else can't skip it for the rep.
        assert lesson_reminders.lesson_not_now(
            uow, team_id="T0DAY", user_id="U0OTHER", outcome_id=due
        ) == debriefs.NotYours(owner_user_id=REP)

    clock.advance(hours=25)
    for _ in range(2):  # a second tick, or a second process: the post key keeps it one
        with UnitOfWork(new_session, clock=clock) as uow:
            debriefs.queue_reflection_reminders(uow)
    assert _reminders(new_session) == [f"T0DAY:debrief:{due}:reminder:pending"]

    clock.advance(hours=24)  # the slow workspace's 48 hours have passed too
    with UnitOfWork(new_session, clock=clock) as uow:
        assert debriefs.queue_reflection_reminders(uow) == 1
    assert _reminders(new_session) == sorted(
        [f"T0DAY:debrief:{due}:reminder:pending", f"T0SLOW:debrief:{slow}:reminder:pending"]
    )


def test_the_due_query_reads_the_due_time_index(engine: Engine, database_url: str) -> None:
    """On SQLite the plan of the scheduler's query names ix_outcomes_reflection_due: a range of
    unanswered, unsettled outcomes, never a walk over every win and loss."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan is checked on SQLite; PostgreSQL plans by table statistics")
    new_session = make_session_factory(engine)
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with new_session() as session:
            dq.reflection_reminders_due(session=session, now=START + timedelta(days=1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    (statement, parameters) = next((s, p) for s, p in statements if "FROM outcomes" in s)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_outcomes_reflection_due" in details, details
