"""Closed deals from the CRMs (storage.models.CrmDeal): storing each notification once, finding
the rows still to read, match or remind, and what a debrief makes of them. Keyword-only
`session=`, never committing (the unit of work does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, update
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
from storage.claims import claim_ids
from storage.models import CrmDeal, Outcome, Workspace
from storage.queries import _insert_if_absent

_TABLE: Table = CrmDeal.__table__  # type: ignore[assignment]
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


def ids_of_events(*, session: Session, keys: Iterable[tuple[str, str, str]]) -> list[int]:
    """The row ids of notifications by (workspace, source, event key): a notification is one
    workspace's (two portals may send the same eventId); those never stored are left out."""
    by_team_source: dict[tuple[str, str], list[str]] = {}
    for team_id, source, event_key in keys:
        by_team_source.setdefault((team_id, source), []).append(event_key)
    ids: list[int] = []
    for (team_id, source), event_keys in by_team_source.items():
        ids += session.exec(
            select(CrmDeal.id).where(
                CrmDeal.team_id == team_id,
                CrmDeal.source == source,
                col(CrmDeal.event_key).in_(event_keys),
            )
        ).all()  # type: ignore[arg-type]
    return ids


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


def _is_due(now: datetime) -> Any:
    return col(CrmDeal.next_try_at).is_(None) | (col(CrmDeal.next_try_at) <= now)


def _unclaimed(now: datetime) -> Any:
    """Nobody holds the row, or the claim ran out (its process died or is far too slow)."""
    return col(CrmDeal.claimed_until).is_(None) | (col(CrmDeal.claimed_until) < now)


def _to_read(source: str, now: datetime) -> list[Any]:
    """Notifications whose deal is to be read from `source`: new ones, failed reads, and deals
    that had no owner (one may be set in the CRM since), whose next try has come."""
    return [
        col(CrmDeal.source) == source,
        col(CrmDeal.state).in_((RECEIVED, ERROR, UNMATCHED)),
        (col(CrmDeal.state) != UNMATCHED) | col(CrmDeal.owner_email).is_(None),
        _is_due(now),
    ]


def _to_match(now: datetime) -> list[Any]:
    """Deals kept for want of a person whose owner's email is known: looked up in Slack again.
    (One with no owner is read from its CRM again instead: _to_read.)"""
    return [
        col(CrmDeal.state) == UNMATCHED,
        col(CrmDeal.owner_email).is_not(None),
        _is_due(now),
    ]


def _claim(
    session: Session, due: list[Any], *, now: datetime, worker: str, until: datetime, limit: int
) -> list[CrmDeal]:
    ids = claim_ids(
        session=session,
        table=_TABLE,
        due=[*due, _unclaimed(now)],
        order_by=(_TABLE.c.id,),
        limit=limit,
        values={"claimed_by": worker, "claimed_until": until},
    )
    if not ids:
        return []
    return list(
        session.exec(
            select(CrmDeal)
            .where(col(CrmDeal.id).in_(ids))
            .order_by(col(CrmDeal.id))
            .execution_options(populate_existing=True)
        ).all()
    )


def claim_to_read(
    *, session: Session, source: str, now: datetime, worker: str, until: datetime, limit: int
) -> list[CrmDeal]:
    """Claim (for `worker`, until `until`) up to `limit` rows whose deal is to be read from
    `source`, oldest first; rows another process holds are skipped (storage.claims)."""
    return _claim(session, _to_read(source, now), now=now, worker=worker, until=until, limit=limit)


def claim_to_match(
    *, session: Session, now: datetime, worker: str, until: datetime, limit: int
) -> list[CrmDeal]:
    """Claim up to `limit` unmatched deals with an owner email, due to be looked up again."""
    return _claim(session, _to_match(now), now=now, worker=worker, until=until, limit=limit)


def held(*, session: Session, row_ids: Iterable[int], worker: str | None) -> dict[int, CrmDeal]:
    """The rows of `row_ids` that `worker` still holds, locked until the caller commits (on
    PostgreSQL; SQLite's writers are serialised anyway), so a claim cannot change under the
    write that settles them. A row whose claim ran out and was taken by another process is
    left out: its new holder records it. `worker` None: every row (deals read without a
    claim)."""
    ids = list(row_ids)
    if not ids:
        return {}
    statement = select(CrmDeal).where(col(CrmDeal.id).in_(ids))
    if worker is not None:
        statement = statement.where(col(CrmDeal.claimed_by) == worker)
    statement = statement.with_for_update().execution_options(populate_existing=True)
    return {row.id: row for row in session.exec(statement).all() if row.id is not None}


def release(row: CrmDeal) -> None:
    """The pass is done with the row: it is anyone's again (when its next try comes)."""
    row.claimed_by, row.claimed_until = None, None


def count_needing_a_person(*, session: Session, team_id: str) -> int:
    """Closed deals kept but offered to nobody: no owner, no one in Slack, or the CRM failed.
    A deal counts once however many notifications it had."""
    statement = select(func.count(func.distinct(CrmDeal.deal_id))).where(
        CrmDeal.team_id == team_id, col(CrmDeal.state).in_(NEEDS_A_PERSON)
    )
    return int(session.exec(statement).one())


def debriefed_by_hand(
    *,
    session: Session,
    team_id: str,
    source: str,
    deal_id: str,
    name: str,
    now: datetime,
    user_id: str | None,
) -> bool:
    """Whether the deal has a debrief already: one linked to its CRM id, or one of the same name
    saved within a day of now by `user_id`, the deal's owner in Slack (a rep who typed /lost
    before the CRM said so). Names are only names: another rep's deal may share one, so their
    debrief is never this deal's; with no owner known yet (`user_id` None) only the CRM id
    counts, and the name is checked once the owner is found."""
    linked = session.exec(
        select(Outcome.id).where(
            Outcome.team_id == team_id,
            Outcome.crm_source == source,
            Outcome.crm_deal_id == deal_id,
        )
    ).first()
    if linked is not None:
        return True
    if user_id is None:
        return False
    recent = session.exec(
        select(Outcome.deal).where(
            Outcome.team_id == team_id,
            Outcome.user_id == user_id,
            col(Outcome.occurred_at) >= now - timedelta(days=1),
            col(Outcome.occurred_at) <= now + timedelta(days=1),
        )
    ).all()
    return any(same_deal_name(deal, name) for deal in recent)


def mark_debriefed(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    now: datetime,
    row_id: int | None = None,
    name: str | None = None,
) -> list[CrmDeal]:
    """`user_id` saved a debrief: their offer it came from (by row id), or an offer of theirs of
    the same deal name made within a day, is debriefed, so no reminder follows. Only offers made
    to `user_id` are settled: another rep's deal of the same name (or a row id a submission
    names that isn't theirs) is left alone, and a deal no one in Slack owns yet is settled by
    its owner's debrief once it is matched (debriefed_by_hand). Returns the rows it settled."""
    # Only the offer itself and the last day's: old offers never debriefed are not read again.
    recent = col(CrmDeal.received_at) >= now - timedelta(days=1)
    which = (col(CrmDeal.id) == row_id) | recent if row_id is not None else recent
    candidates = session.exec(
        select(CrmDeal).where(
            CrmDeal.team_id == team_id,
            CrmDeal.slack_user_id == user_id,
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
