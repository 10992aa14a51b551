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
