"""Planning check-ins: who is due, their next times, the week's rows inserted once, and reading
them back (storage.checkins_queries)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from storage.checkins_queries.base import _dialect_insert, _due
from storage.models import (
    CheckIn,
    Member,
    utcnow,
)


def members_due_for_planning(*, session: Session, now: datetime, limit: int) -> list[Member]:
    """Members whose check-in planning is due (``next_checkin_at`` NULL or past), by team.

    Everyone, not only check-in people: the caller stores a next time for those it skips too,
    so they leave the index's due range instead of being read on every tick."""
    statement = (
        select(Member)
        # No ORDER BY: one by id would make the planner walk the primary key instead.
        .where(_due(col(Member.next_checkin_at), now))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def is_checkin_person_row(member: Member) -> bool:
    """``_checkin_person_conditions`` for a loaded member."""
    return (
        not member.is_bot
        and not member.deleted
        and (member.manager_user_id is not None or not member.is_manager)
    )


def set_next_checkins(*, session: Session, next_at: dict[int, datetime]) -> None:
    """Store each member's next planning time (member id -> when)."""
    _set_times(session, "next_checkin_at", next_at)


def set_next_digests(*, session: Session, next_at: dict[int, datetime]) -> None:
    """Store each manager's next digest time (member id -> when)."""
    _set_times(session, "next_digest_at", next_at)


def _set_times(session: Session, column: str, next_at: dict[int, datetime]) -> None:
    if not next_at:
        return
    table = Member.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("member_id"))  # type: ignore[attr-defined]
        .values({column: bindparam("at")})
    )
    session.connection().execute(
        statement, [{"member_id": k, "at": v} for k, v in sorted(next_at.items())]
    )


def existing_checkin_keys(
    *, session: Session, team_id: str, week_keys: Iterable[str]
) -> set[tuple[str, str]]:
    """(user_id, week_key) of the team's check-ins in ``week_keys``."""
    weeks = sorted(set(week_keys))
    if not weeks:
        return set()
    statement = select(CheckIn.user_id, CheckIn.week_key).where(
        CheckIn.team_id == team_id, col(CheckIn.week_key).in_(weeks)
    )
    return {(user_id, week) for user_id, week in session.exec(statement).all()}


def insert_checkins_if_absent(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert check-in rows (team_id, user_id, week_key, due_at, status) unless one exists for
    the same person and week; returns how many went in. Rows are sorted so that processes
    inserting overlapping sets at once take the key locks in the same order (no deadlock)."""
    if not rows:
        return 0
    now = utcnow()
    ordered = sorted(rows, key=lambda r: (r["team_id"], r["user_id"], r["week_key"]))
    values = [{"questions": [], "created_at": now, **row} for row in ordered]
    table = CheckIn.__table__
    statement = (
        _dialect_insert(session, table)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[table.c.team_id, table.c.user_id, table.c.week_key]  # type: ignore[attr-defined]
        )
        .returning(table.c.id)  # type: ignore[attr-defined]
    )
    created = len(session.execute(statement).all())
    if created:
        _clear_managers_digest(session, ordered)
    return created


def _clear_managers_digest(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """A rep asked this week can make their manager's digest due again (it skips a week in
    which nobody was asked): clear the managers' stored digest times (storage.due_times)."""
    by_team: dict[str, set[str]] = {}
    for row in rows:
        by_team.setdefault(row["team_id"], set()).add(row["user_id"])
    for team_id, user_ids in sorted(by_team.items()):
        managers = (
            select(Member.manager_user_id)
            .where(Member.team_id == team_id, col(Member.user_id).in_(sorted(user_ids)))
            .scalar_subquery()
        )
        session.execute(
            update(Member)
            .where(
                col(Member.team_id) == team_id,
                col(Member.user_id).in_(managers),
                col(Member.next_digest_at).is_not(None),
            )
            .values(next_digest_at=None)
            .execution_options(synchronize_session=False)
        )


def get_checkin(*, session: Session, checkin_id: int) -> CheckIn | None:
    return session.get(CheckIn, checkin_id, populate_existing=True)


def get_week_checkin(
    *, session: Session, team_id: str, user_id: str, week_key: str
) -> CheckIn | None:
    statement = select(CheckIn).where(
        CheckIn.team_id == team_id, CheckIn.user_id == user_id, CheckIn.week_key == week_key
    )
    return session.exec(statement.execution_options(populate_existing=True)).first()


def recent_checkins(
    *, session: Session, team_id: str, user_id: str, before_week: str, limit: int = 8
) -> list[CheckIn]:
    """The person's check-ins of weeks before ``before_week``, newest first."""
    statement = (
        select(CheckIn)
        .where(
            CheckIn.team_id == team_id,
            CheckIn.user_id == user_id,
            col(CheckIn.week_key) < before_week,
        )
        .order_by(col(CheckIn.week_key).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())
