"""Who gets check-ins, and whose time zone is due a refresh (storage.checkins_queries)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from storage.models import (
    Member,
    Workspace,
)


def all_team_ids(*, session: Session) -> list[str]:
    return list(session.exec(select(Workspace.team_id).order_by(col(Workspace.team_id))).all())


def checkin_people(*, session: Session, team_id: str) -> list[Member]:
    """Active members who get a weekly check-in.

    Everyone known (from the settings' teams or from a Slack profile) who is not a bot, not
    deleted, and not *only* a manager: a manager who reports to someone else is a rep too.
    """
    statement = (
        select(Member)
        .where(Member.team_id == team_id, *_checkin_person_conditions())
        .order_by(col(Member.user_id))
    )
    return list(session.exec(statement).all())


def _checkin_person_conditions() -> tuple[Any, ...]:
    return (
        col(Member.is_bot).is_(False),
        col(Member.deleted).is_(False),
        or_(col(Member.manager_user_id).is_not(None), col(Member.is_manager).is_(False)),
    )


def is_checkin_person(*, session: Session, team_id: str, user_id: str) -> bool:
    """Whether this member gets weekly check-ins (see ``checkin_people``)."""
    statement = select(Member.id).where(
        Member.team_id == team_id, Member.user_id == user_id, *_checkin_person_conditions()
    )
    return session.exec(statement).first() is not None


def members_needing_tz_refresh(
    *, session: Session, stale_before: datetime, limit: int, exclude_ids: Iterable[int] = ()
) -> list[Member]:
    """Active members whose Slack time zone was never read, or not since ``stale_before``:
    never read first, then the longest unread, so nobody waits behind a newer refresh.
    ``exclude_ids`` are members whose last attempt failed a moment ago (they wait their turn
    instead of taking the batch on every tick).

    Two range reads of ``ix_members_tz_refreshed`` (NULLs, then the oldest reads), so members
    read recently, however many, are never scanned."""
    excluded = sorted(set(exclude_ids))

    def batch(condition: Any, size: int) -> list[Member]:
        statement = select(Member).where(
            condition, col(Member.is_bot).is_(False), col(Member.deleted).is_(False)
        )
        if excluded:
            statement = statement.where(col(Member.id).not_in(excluded))
        statement = statement.order_by(col(Member.tz_refreshed_at), col(Member.id)).limit(size)
        return list(session.exec(statement).all())

    never_read = batch(col(Member.tz_refreshed_at).is_(None), limit)
    if len(never_read) >= limit:
        return never_read
    return never_read + batch(col(Member.tz_refreshed_at) < stale_before, limit - len(never_read))


def take_tz_refresh(*, session: Session, member_id: int, previous: datetime, now: datetime) -> bool:
    """Compare-and-set ``tz_refreshed_at`` from ``previous`` to ``now`` so one process
    re-reads a member's time zone; True if won. Only for zones read before (``previous`` set):
    their stored zone stays right while the read is under way. A zone never read has no claim:
    ``tz_refreshed_at`` is set only by a successful read, so nothing plans with a guessed zone
    (and a second process reading a new member at the same moment costs one extra call)."""
    result = session.execute(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.tz_refreshed_at) == previous)
        .values(tz_refreshed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release_tz_refresh(
    *, session: Session, member_id: int, taken_at: datetime, previous: datetime
) -> None:
    """A re-read taken at ``taken_at`` failed: put the previous read time back (if the claim
    is still ours), so the member stays due for a refresh."""
    session.execute(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.tz_refreshed_at) == taken_at)
        .values(tz_refreshed_at=previous)
        .execution_options(synchronize_session=False)
    )
