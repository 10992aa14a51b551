"""Claiming due check-ins and recording what was sent, reminders and skips
(storage.checkins_queries).

Claiming due check-ins works on every backend and is exactly-once across processes:
candidate rows are read with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: concurrent claimers skip
each other's rows instead of queueing; the clause compiles to nothing on SQLite), then each
row is taken with a compare-and-set UPDATE whose row count says who won. On PostgreSQL the
rows are already locked, so the UPDATE always wins; on SQLite, where the file lock serialises
writers but not the earlier SELECT, the compare-and-set is what keeps a row to one claimer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from storage.models import (
    CheckIn,
    Workspace,
)


def _claimable(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(col(CheckIn.status) == "pending", col(CheckIn.due_at) <= now),
        and_(col(CheckIn.status) == "claimed", col(CheckIn.claimed_at) < now - lease),
    )


def claim_due_checkins(
    *,
    session: Session,
    now: datetime,
    lease: timedelta,
    claimed_by: str,
    limit: int,
    exclude_ids: Iterable[int] = (),
) -> list[CheckIn]:
    """Claim up to ``limit`` check-ins that are due (or whose claim's lease ran out).

    The claim is visible to other processes once the caller commits; send only after that.
    """
    statement = select(CheckIn).where(_claimable(now, lease))
    excluded = sorted(set(exclude_ids))
    if excluded:
        statement = statement.where(col(CheckIn.id).not_in(excluded))
    statement = (
        statement.order_by(col(CheckIn.due_at), col(CheckIn.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    candidate_ids = [c.id for c in session.exec(statement).all()]
    if not candidate_ids:
        return []
    # One compare-and-set for the batch; RETURNING names the rows this claimer won.
    won = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id).in_(candidate_ids), _claimable(now, lease))
        .values(status="claimed", claimed_by=claimed_by, claimed_at=now)
        .returning(col(CheckIn.id))
        .execution_options(synchronize_session=False)
    )
    ids = [row[0] for row in won.all()]
    if not ids:
        return []
    refreshed = select(CheckIn).where(col(CheckIn.id).in_(ids)).order_by(col(CheckIn.due_at))
    return list(session.exec(refreshed.execution_options(populate_existing=True)).all())


def finish_claim(
    *,
    session: Session,
    checkin_id: int,
    claimed_by: str,
    status: str,
    now: datetime,
    channel_id: str | None = None,
    message_ts: str | None = None,
) -> bool:
    """Move a claimed check-in to ``status`` ("sent", "skipped" or back to "pending"), if this
    worker still holds the claim (a lease taken over by another process is not ours to end)."""
    values: dict[str, Any] = {"status": status}
    if status == "sent":
        values.update(sent_at=now, channel_id=channel_id, message_ts=message_ts)
    if status == "pending":
        values.update(claimed_by=None, claimed_at=None)
    result = session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.id) == checkin_id,
            col(CheckIn.status) == "claimed",
            col(CheckIn.claimed_by) == claimed_by,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def record_sent(
    *,
    session: Session,
    checkin_id: int,
    channel_id: str | None,
    message_ts: str | None,
    now: datetime,
) -> bool:
    """The check-in's DM is in Slack (recorded by the outbox dispatcher, whichever process
    sent it): claimed → sent, with where the DM is. A check-in answered or skipped meanwhile
    keeps its status."""
    result = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id, col(CheckIn.status) == "claimed")
        .values(status="sent", sent_at=now, channel_id=channel_id, message_ts=message_ts)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def skip_claimed(*, session: Session, checkin_id: int) -> bool:
    """The check-in's DM can never be sent: claimed → skipped."""
    result = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id, col(CheckIn.status) == "claimed")
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def set_questions(*, session: Session, checkin_id: int, questions: list[dict[str, str]]) -> None:
    session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id)
        .values(questions=questions)
        .execution_options(synchronize_session=False)
    )


def reminders_due(
    *,
    session: Session,
    now: datetime,
    grace: timedelta,
    limit: int = 500,
    exclude_ids: Iterable[int] = (),
) -> list[tuple[CheckIn, int]]:
    """Sent, unanswered check-ins without a reminder whose workspace's reminder delay has
    passed (but by less than ``grace``: a reminder days late only confuses), with the delay.

    The window is in the query itself, per reminder delay in use (a handful of values), so
    old unanswered check-ins never fill the ``limit`` and hide the ones due now."""
    delays = session.exec(
        select(Workspace.checkin_reminder_hours)
        .where(col(Workspace.checkin_reminder_hours) > 0)
        .distinct()
    ).all()
    if not delays:
        return []
    windows = [
        and_(
            col(Workspace.checkin_reminder_hours) == hours,
            col(CheckIn.sent_at) <= now - timedelta(hours=hours),
            col(CheckIn.sent_at) > now - timedelta(hours=hours) - grace,
        )
        for hours in sorted(delays)
    ]
    statement = (
        select(CheckIn, Workspace.checkin_reminder_hours)
        .join(Workspace, col(Workspace.team_id) == col(CheckIn.team_id))
        .where(
            col(CheckIn.status) == "sent",
            col(CheckIn.reminder_sent_at).is_(None),
            or_(*windows),
        )
    )
    excluded = sorted(set(exclude_ids))
    if excluded:
        statement = statement.where(col(CheckIn.id).not_in(excluded))
    statement = statement.order_by(col(CheckIn.sent_at), col(CheckIn.id)).limit(limit)
    return [(checkin, hours) for checkin, hours in session.exec(statement).all()]


def mark_reminded(*, session: Session, checkin_id: int, now: datetime) -> None:
    session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id)
        .values(reminder_sent_at=now)
        .execution_options(synchronize_session=False)
    )


def skip_checkins_before(*, session: Session, team_id: str, user_id: str, until: datetime) -> int:
    """Mark the person's not-yet-answered check-ins due before ``until`` as skipped."""
    result = session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.team_id) == team_id,
            col(CheckIn.user_id) == user_id,
            col(CheckIn.status).in_(("pending", "sent")),
            col(CheckIn.due_at) < until,
        )
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def skip_checkin(*, session: Session, checkin_id: int) -> bool:
    """The person skipped this week: no reminder, shown as skipped in the digest."""
    result = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id, col(CheckIn.status).in_(("pending", "sent")))
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
