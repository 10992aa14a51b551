"""Queries behind resilience support after a losing streak (bot.usecases.resilience).

Keyword-only ``session=``, no commit inside: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Member, Outcome, Workspace


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


def reps_with_losses_since(*, session: Session, team_id: str, since: datetime) -> list[str]:
    """The reps with a loss on or after `since` who are still in the workspace (no member row
    marked deleted), by user id: the only reps who can be on a current losing streak recent
    enough to bring support up when the streak setting is lowered."""
    gone = select(Member.user_id).where(Member.team_id == team_id, col(Member.deleted).is_(True))
    statement = (
        select(Outcome.user_id)
        .where(
            Outcome.team_id == team_id,
            Outcome.kind == "loss",
            col(Outcome.occurred_at) >= since,
            col(Outcome.user_id).not_in(gone),
        )
        .distinct()
        .order_by(col(Outcome.user_id))
    )
    return [str(user_id) for user_id in session.exec(statement).all()]


def support_streak(*, session: Session, team_id: str, default: int) -> int:
    """The workspace's streak setting as committed now: a column read, not the Workspace object
    the session may already hold (read earlier in the transaction, before a settings save
    committed: the identity map would keep its old value)."""
    value = session.exec(
        select(Workspace.support_streak).where(Workspace.team_id == team_id)
    ).first()
    return int(value) if value is not None else default
