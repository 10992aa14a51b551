"""Closed deals from the CRMs (storage.models.CrmDeal): storing each notification once, finding
the rows still to read, match or remind, and what a debrief makes of them. Keyword-only
`session=`, never committing (the unit of work does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.domain.crm import (
    DEBRIEFED,
    DUPLICATE,
    ERROR,
    NEEDS_A_PERSON,
    OFFERED,
    RECEIVED,
    UNMATCHED,
    same_deal_name,
)
from storage.models import CrmDeal, Outcome, Workspace
from storage.queries import _insert_if_absent

# States in which a deal closing has had its effect: a later notification of it is a duplicate.
_SETTLED = (OFFERED, UNMATCHED, ERROR, DEBRIEFED)


def insert_once(*, session: Session, values: Mapping[str, Any]) -> bool:
    """Store one notification; False when its (team, source, event_key) is stored already."""
    return _insert_if_absent(
        session,
        CrmDeal.__table__,  # type: ignore[arg-type]
        {"attempts": 0, "name": "", **values},
        ["team_id", "source", "event_key"],
    )


def insert_many_once(*, session: Session, rows: list[Mapping[str, Any]]) -> int:
    """Store a webhook's notifications in one statement (a batch of 100 is one round trip, so
    HubSpot's answer stays quick); those stored before are left alone. Returns how many were
    new."""
    if not rows:
        return 0
    table = CrmDeal.__table__
    values = [{"attempts": 0, "name": "", **row} for row in rows]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)  # type: ignore[arg-type]
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[table.c.team_id, table.c.source, table.c.event_key]  # type: ignore[attr-defined]
        )
        .returning(table.c.event_key)  # type: ignore[attr-defined]
    )
    return len(session.execute(statement).all())


def by_event(*, session: Session, team_id: str, source: str, event_key: str) -> CrmDeal | None:
    return session.exec(
        select(CrmDeal).where(
            CrmDeal.team_id == team_id, CrmDeal.source == source, CrmDeal.event_key == event_key
        )
    ).first()


def get(*, session: Session, team_id: str, row_id: int) -> CrmDeal | None:
    row = session.get(CrmDeal, row_id)
    return row if row is not None and row.team_id == team_id else None


def other_closing_of(*, session: Session, row: CrmDeal) -> CrmDeal | None:
    """An earlier notification of the same deal closing that already had its effect."""
    return session.exec(
        select(CrmDeal)
        .where(
            CrmDeal.team_id == row.team_id,
            CrmDeal.source == row.source,
            CrmDeal.deal_id == row.deal_id,
            col(CrmDeal.id) != row.id,
            col(CrmDeal.state).in_(_SETTLED),
        )
        .order_by(col(CrmDeal.id))
    ).first()


def due(
    *, session: Session, states: Iterable[str], now: datetime, limit: int = 200
) -> list[CrmDeal]:
    """Rows in `states` whose next try has come, oldest first."""
    return list(
        session.exec(
            select(CrmDeal)
            .where(
                col(CrmDeal.state).in_(tuple(states)),
                (col(CrmDeal.next_try_at).is_(None)) | (col(CrmDeal.next_try_at) <= now),
            )
            .order_by(col(CrmDeal.id))
            .limit(limit)
        ).all()
    )


def received(*, session: Session, source: str, now: datetime, limit: int = 200) -> list[CrmDeal]:
    """Notifications whose deal is to be read from `source`: new ones, failed reads, and deals
    that had no owner (one may be set in the CRM since)."""
    return [
        row
        for row in due(session=session, states=(RECEIVED, ERROR, UNMATCHED), now=now, limit=limit)
        if row.source == source and (row.state != UNMATCHED or row.owner_email is None)
    ]


def count_needing_a_person(*, session: Session, team_id: str) -> int:
    """Closed deals kept but offered to nobody: no owner, no one in Slack, or the CRM failed.
    A deal counts once however many notifications it had."""
    statement = select(func.count(func.distinct(CrmDeal.deal_id))).where(
        CrmDeal.team_id == team_id, col(CrmDeal.state).in_(NEEDS_A_PERSON)
    )
    return int(session.exec(statement).one())


def debriefed_by_hand(
    *, session: Session, team_id: str, source: str, deal_id: str, name: str, now: datetime
) -> bool:
    """Whether the deal has a debrief already: one linked to its CRM id, or one of the same name
    saved within a day of now (a rep who typed /lost before the CRM said so)."""
    linked = session.exec(
        select(Outcome.id).where(
            Outcome.team_id == team_id,
            Outcome.crm_source == source,
            Outcome.crm_deal_id == deal_id,
        )
    ).first()
    if linked is not None:
        return True
    recent = session.exec(
        select(Outcome.deal).where(
            Outcome.team_id == team_id,
            col(Outcome.occurred_at) >= now - timedelta(days=1),
            col(Outcome.occurred_at) <= now + timedelta(days=1),
        )
    ).all()
    return any(same_deal_name(deal, name) for deal in recent)


def mark_debriefed(
    *,
    session: Session,
    team_id: str,
    now: datetime,
    row_id: int | None = None,
    name: str | None = None,
) -> list[CrmDeal]:
    """A debrief was saved: its offer (by row id, or an offer of the same deal name made within a
    day) is debriefed, so no reminder follows. Returns the rows it settled."""
    # Only the offer itself and the last day's: old offers never debriefed are not read again.
    recent = col(CrmDeal.received_at) >= now - timedelta(days=1)
    which = (col(CrmDeal.id) == row_id) | recent if row_id is not None else recent
    candidates = session.exec(
        select(CrmDeal).where(
            CrmDeal.team_id == team_id,
            col(CrmDeal.state).in_((OFFERED, UNMATCHED, ERROR)),
            which,
        )
    ).all()
    settled = []
    for row in candidates:
        by_id = row_id is not None and row.id == row_id
        by_name = (
            name is not None
            and same_deal_name(row.name, name)
            and row.received_at >= now - timedelta(days=1)
        )
        if by_id or by_name:
            row.state, row.debriefed_at = DEBRIEFED, now
            session.add(row)
            settled.append(row)
    return settled


def reminders_due(*, session: Session, now: datetime, limit: int = 200) -> list[CrmDeal]:
    """Offers not debriefed and not reminded whose workspace's reflection-reminder hours have
    passed since the offer."""
    statement = (
        select(CrmDeal, Workspace.reflection_reminder_hours)
        .join(Workspace, col(Workspace.team_id) == col(CrmDeal.team_id))
        .where(
            CrmDeal.state == OFFERED,
            col(CrmDeal.reminded_at).is_(None),
            col(CrmDeal.offered_at).is_not(None),
            col(CrmDeal.offered_at) <= now - timedelta(hours=1),
        )
        .order_by(col(CrmDeal.offered_at))
        .limit(limit)
    )
    return [
        row
        for row, hours in session.exec(statement).all()
        if row.offered_at is not None and row.offered_at + timedelta(hours=max(hours, 1)) <= now
    ]


def mark_reminded(*, session: Session, row_id: int, now: datetime) -> None:
    session.execute(
        update(CrmDeal)
        .where(col(CrmDeal.id) == row_id, col(CrmDeal.reminded_at).is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_duplicate(*, session: Session, row: CrmDeal) -> None:
    row.state = DUPLICATE
    session.add(row)
