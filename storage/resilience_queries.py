"""Queries behind resilience support after a losing streak (bot.usecases.resilience).

Keyword-only ``session=``, no commit inside: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Member, Outcome


def lock_rep(*, session: Session, team_id: str, user_id: str) -> None:
    """Hold the rep's member row until the transaction ends (PostgreSQL: FOR UPDATE; SQLite
    holds its one write lock already), so two losses of one rep saved at once in two processes
    read each other's outcome in turn: the loss that completes a streak always sees it."""
    session.exec(
        select(Member.id)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .with_for_update()
    ).first()


def recent_outcomes(
    *, session: Session, team_id: str, user_id: str, limit: int
) -> list[tuple[int, str, datetime]]:
    """The rep's newest `limit` outcomes as (id, kind, occurred_at), newest first (through the
    outcomes' (team, user, occurred_at) index: a bounded read however long the history)."""
    statement = (
        select(Outcome.id, Outcome.kind, Outcome.occurred_at)
        .where(Outcome.team_id == team_id, Outcome.user_id == user_id)
        .order_by(col(Outcome.occurred_at).desc(), col(Outcome.id).desc())
        .limit(limit)
    )
    return [(int(i), str(kind), at) for i, kind, at in session.exec(statement).all() if i]
