"""Queries behind a rep correcting or removing an outcome they logged lately
(bot.usecases.corrections).

Keyword-only ``session=``, no commit inside: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.models import OutboxMessage, Outcome, Reflection


def outcomes_since(
    *, session: Session, team_id: str, user_id: str, since: datetime, limit: int
) -> list[Outcome]:
    """The rep's outcomes logged at or after `since`, newest first (a range read on the
    outcomes' (team, user, occurred_at) index)."""
    statement = (
        select(Outcome)
        .where(
            Outcome.team_id == team_id,
            Outcome.user_id == user_id,
            col(Outcome.occurred_at) >= since,
        )
        .order_by(col(Outcome.occurred_at).desc(), col(Outcome.id).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())


def update_outcome(*, session: Session, outcome_id: int, values: Mapping[str, Any]) -> None:
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def delete_outcome(*, session: Session, team_id: str, outcome_id: int) -> None:
    """Delete the outcome, its reflections (its lessons), and its messages still waiting in the
    outbox (a reminder not yet sent, say). Rows being sent or already sent stay: their post
    keys are what stop a second send."""
    session.execute(delete(Reflection).where(col(Reflection.outcome_id) == outcome_id))
    session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.post_key).startswith(f"debrief:{outcome_id}:"),
            col(OutboxMessage.state) == "pending",
        )
    )
    session.execute(
        delete(Outcome).where(col(Outcome.id) == outcome_id, col(Outcome.team_id) == team_id)
    )


def replace_pending_payload(
    *, session: Session, team_id: str, post_key: str, payload: Mapping[str, Any]
) -> bool:
    """Give a row no dispatcher has claimed yet a new payload: it goes out as corrected, once.
    False when it is being sent, unknown or settled (a claim on PostgreSQL locks the row, so
    this waits for it and then finds it ``sending``): then its message is updated once sent."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.post_key) == post_key,
            col(OutboxMessage.state) == "pending",
        )
        .values(payload=dict(payload))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def outbox_keys_like(*, session: Session, team_id: str, prefix: str) -> list[str]:
    """The post keys of this workspace's outbox rows that start with `prefix`."""
    statement = select(OutboxMessage.post_key).where(
        OutboxMessage.team_id == team_id, col(OutboxMessage.post_key).startswith(prefix)
    )
    return list(session.exec(statement).all())


def was_sent_dm_about(*, session: Session, team_id: str, outcome_id: int, user_id: str) -> bool:
    """Whether this workspace's outbox holds a DM to `user_id` about the outcome (its debrief
    DM, the manager's note, a reminder...: the rows under ``debrief:<id>:``), whatever became of
    the outcome since. Read in this workspace only, so another workspace's outcome is never
    found here."""
    statement = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.team_id == team_id,
            col(OutboxMessage.post_key).startswith(f"debrief:{outcome_id}:"),
            OutboxMessage.target_kind == "user",
            OutboxMessage.target_id == user_id,
        )
        .limit(1)
    )
    return session.exec(statement).first() is not None
