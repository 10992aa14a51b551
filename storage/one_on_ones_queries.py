"""Queries behind the one-on-one agenda (check-in answers a manager replied to from the digest).

Keyword-only ``session=``, no commit inside: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func as sql_func
from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from storage.models import OneOnOneItem, Reflection
from storage.queries import _insert_if_absent
from storage.reflection_queries import _answered_commitments


def add_item(
    *,
    session: Session,
    team_id: str,
    manager_user_id: str,
    rep_user_id: str,
    checkin_id: int,
    question: str,
    answer: str,
    reply: str,
    submission_key: str,
    now: datetime,
) -> bool:
    """Put one answer on the agenda; False when this submission added it before."""
    return _insert_if_absent(
        session,
        OneOnOneItem.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "manager_user_id": manager_user_id,
            "rep_user_id": rep_user_id,
            "checkin_id": checkin_id,
            "question": question,
            "answer": answer,
            "reply": reply,
            "submission_key": submission_key,
            "created_at": now,
        },
        ["team_id", "submission_key"],
    )


def _theirs(user_id: str, report_ids: Collection[str]) -> Any:
    """Items about ``user_id`` (the rep) or about someone who reports to them now.

    Chosen by the rep, never by the stored ``manager_user_id``: that is the manager who put
    the item on the agenda, and once the rep moves to another manager it no longer gives them
    the right to read the rep's answer (README, data rights: the rep and their manager)."""
    return or_(
        col(OneOnOneItem.rep_user_id) == user_id,
        col(OneOnOneItem.rep_user_id).in_(sorted(set(report_ids))),
    )


def agenda_of(
    *, session: Session, team_id: str, user_id: str, report_ids: Collection[str], limit: int
) -> list[OneOnOneItem]:
    """The newest open (not done) agenda items about ``user_id`` or one of ``report_ids`` (the
    people reporting to them now)."""
    statement = (
        select(OneOnOneItem)
        .where(
            OneOnOneItem.team_id == team_id,
            _theirs(user_id, report_ids),
            col(OneOnOneItem.done_at).is_(None),
        )
        .order_by(col(OneOnOneItem.created_at).desc(), col(OneOnOneItem.id).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())


def count_open(*, session: Session, team_id: str, user_id: str, report_ids: Collection[str]) -> int:
    statement = select(sql_func.count()).where(
        OneOnOneItem.team_id == team_id,
        _theirs(user_id, report_ids),
        col(OneOnOneItem.done_at).is_(None),
    )
    return int(session.exec(statement).one())


def count_done_since(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    report_ids: Collection[str],
    since: datetime,
) -> int:
    """How many agenda items about ``user_id`` or ``report_ids`` were marked done since
    ``since``."""
    statement = select(sql_func.count()).where(
        OneOnOneItem.team_id == team_id,
        _theirs(user_id, report_ids),
        col(OneOnOneItem.done_at) >= since,
    )
    return int(session.exec(statement).one())


def get_item(*, session: Session, team_id: str, item_id: int) -> OneOnOneItem | None:
    statement = select(OneOnOneItem).where(
        OneOnOneItem.team_id == team_id, OneOnOneItem.id == item_id
    )
    return session.exec(statement.execution_options(populate_existing=True)).first()


def mark_done(*, session: Session, team_id: str, item_id: int, user_id: str, now: datetime) -> bool:
    """Mark an open item done; False when it already was (a double click, the other person's
    click first, another process): compare-and-set, so it is closed once."""
    result = session.execute(
        update(OneOnOneItem)
        .where(
            col(OneOnOneItem.team_id) == team_id,
            col(OneOnOneItem.id) == item_id,
            col(OneOnOneItem.done_at).is_(None),
        )
        .values(done_at=now, done_by=user_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def open_commitments(
    *, session: Session, team_id: str, user_id: str, skip_ids: set[int], limit: int
) -> list[Reflection]:
    """The rep's answered commitments nobody has asked about yet (neither a debrief nor, by
    ``skip_ids``, a check-in), newest first."""
    statement = (
        _answered_commitments(team_id, user_id)
        .where(col(Reflection.commitment_followed_up).is_(None))
        .limit(limit + len(skip_ids))
    )
    return [r for r in session.exec(statement).all() if r.id not in skip_ids][:limit]
