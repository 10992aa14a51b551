"""The calibration integration tests' setup (tests/integration/test_calibration_*.py): a
migrated database's session factory (`session_factory`), a loss a rep logged with the manager
they report to (`add_loss`), the manager's calibration of it (`calibrate`), a debrief DM's
outbox row (`debrief_dm`) and the outbox rows written so far (`outbox_rows`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot.clock import FakeClock
from bot.domain.calibration import CalibrationSubmission
from bot.uow import UnitOfWork
from bot.usecases import calibration as usecase
from bot.usecases.calibration import Calibrated, Refusal
from storage import outbox_queries, queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage, Outcome

__all__ = ["session_factory"]


@pytest.fixture
def session_factory(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def add_loss(
    session: Session, *, team_id: str, rep: str, manager: str, at: datetime, **fields: Any
) -> Outcome:
    """The workspace, `rep` reporting to `manager`, and a loss `rep` logged an hour before `at`
    (flushed, not committed: the caller may add to it)."""
    queries.get_or_create_workspace(session=session, team_id=team_id)
    queries.set_reports(
        session=session, team_id=team_id, manager_user_id=manager, report_user_ids=[rep]
    )
    outcome = Outcome(
        team_id=team_id,
        user_id=rep,
        kind="loss",
        occurred_at=at - timedelta(hours=1),
        submission_key=uuid.uuid4().hex,
        **fields,
    )
    session.add(outcome)
    session.flush()
    assert outcome.id is not None
    return outcome


def calibrate(
    session_factory: SessionFactory,
    *,
    team_id: str,
    outcome_id: int,
    user_id: str,
    at: datetime,
    submission: CalibrationSubmission | None,
    is_admin: bool = False,
) -> Calibrated | Refusal:
    """`user_id`'s calibration of the outcome at `at`, through the use case."""
    with UnitOfWork(session_factory, clock=FakeClock(at)) as uow:
        return usecase.record_calibration(
            uow,
            team_id=team_id,
            outcome_id=outcome_id,
            user_id=user_id,
            is_admin=is_admin,
            submission=submission,
        )


def outbox_rows(session_factory: SessionFactory, team_id: str) -> list[OutboxMessage]:
    with session_factory() as session:
        return outbox_queries.rows_of(session=session, team_id=team_id)


def debrief_dm(
    *,
    team_id: str,
    outcome_id: int,
    role: str,
    user_id: str,
    text: str,
    at: datetime,
    **fields: Any,
) -> OutboxMessage:
    """The outbox row of the outcome's debrief DM to its rep or manager (`role`: "rep" or
    "manager"), as the debrief queued it at `at`; `fields` for a state the dispatcher reached."""
    return OutboxMessage(
        team_id=team_id,
        post_key=f"debrief:{outcome_id}:{role}",
        kind=f"debrief-{role}",
        target_kind="user",
        target_id=user_id,
        payload={"text": text},
        not_before=at,
        created_at=at,
        **fields,
    )
