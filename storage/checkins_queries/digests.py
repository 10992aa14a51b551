"""Managers' weekly digests: who is due one, and their reports' check-ins of the week
(storage.checkins_queries)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.checkins_queries.base import _due
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Member,
)


def members_due_for_digest(
    *, session: Session, now: datetime, limit: int, exclude_ids: Iterable[int] = ()
) -> list[Member]:
    """Members whose manager's-digest time is due (``next_digest_at`` NULL or past), managers
    or not: the caller stores a next time for every one of them, except a digest it must try
    again (``exclude_ids``: those already looked at in this tick, a handful)."""
    statement = select(Member).where(_due(col(Member.next_digest_at), now)).limit(limit)
    excluded = sorted(set(exclude_ids))
    if excluded:
        statement = statement.where(col(Member.id).not_in(excluded))
    return list(session.exec(statement).all())


def clear_next_checkins(*, session: Session) -> None:
    """Forget every stored planning time (the clock moved back past them)."""
    session.execute(
        update(Member)
        .where(col(Member.next_checkin_at).is_not(None))
        .values(next_checkin_at=None)
        .execution_options(synchronize_session=False)
    )


def clear_next_digests(*, session: Session) -> None:
    """Forget every stored manager's-digest time (the clock moved back past them)."""
    session.execute(
        update(Member)
        .where(col(Member.next_digest_at).is_not(None))
        .values(next_digest_at=None)
        .execution_options(synchronize_session=False)
    )


def who_has_reports(*, session: Session, members: Sequence[Member]) -> set[tuple[str, str]]:
    """(team_id, user_id) of those among ``members`` whom an active member reports to (one
    query for the batch, through ``ix_members_team_manager``)."""
    if not members:
        return set()
    wanted = {(m.team_id, m.user_id) for m in members}
    statement = (
        select(Member.team_id, Member.manager_user_id)
        .where(
            col(Member.team_id).in_(sorted({team for team, _ in wanted})),
            col(Member.manager_user_id).in_(sorted({user for _, user in wanted})),
            col(Member.deleted).is_(False),
        )
        .distinct()
    )
    return {(t, m) for t, m in session.exec(statement).all() if m and (t, m) in wanted}


def managers_with_reports(*, session: Session) -> list[Member]:
    """Every active member, in any workspace, whom someone reports to."""
    reporting = (
        select(Member.team_id, Member.manager_user_id)
        .where(col(Member.manager_user_id).is_not(None), col(Member.deleted).is_(False))
        .distinct()
    )
    pairs = {(team, manager) for team, manager in session.exec(reporting).all()}
    if not pairs:
        return []
    statement = select(Member).where(
        col(Member.deleted).is_(False), col(Member.user_id).in_(sorted({m for _, m in pairs}))
    )
    managers = [m for m in session.exec(statement).all() if (m.team_id, m.user_id) in pairs]
    return sorted(managers, key=lambda m: (m.team_id, m.user_id))


def checkins_of_week(
    *, session: Session, team_id: str, user_ids: Sequence[str], week_key: str
) -> dict[str, CheckIn]:
    if not user_ids:
        return {}
    statement = select(CheckIn).where(
        CheckIn.team_id == team_id,
        col(CheckIn.user_id).in_(sorted(user_ids)),
        CheckIn.week_key == week_key,
    )
    return {c.user_id: c for c in session.exec(statement).all()}


def answers_of_many(*, session: Session, checkin_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    if not checkin_ids:
        return {}
    statement = select(CheckInAnswer).where(col(CheckInAnswer.checkin_id).in_(sorted(checkin_ids)))
    found: dict[int, dict[str, str]] = {}
    for answer in session.exec(statement).all():
        found.setdefault(answer.checkin_id, {})[answer.question_key] = answer.answer
    return found
