"""Salesforce's Outbound Messages into the CRM core (bot.usecases.crm), each in a unit of work.

- `store_outbound_notifications`: the request's whole work. Each notification is stored once
  (its Id; a re-sent one finds its row and adds nothing) with the Opportunity as the message
  gave it, so Salesforce is acknowledged only once they are all stored, and fast.
- `pending_deals` / `receive_read_deals`: the job's pass. The deal is in the row already; only
  an owner email missing from the message is read back (the message's session, REST API) by
  the job, outside any transaction, before the core stores the deals and queues the offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from bot.crm.salesforce import SOURCE, OpportunityNotification, opportunity_link
from bot.domain.crm import IGNORED, RECEIVED, ClosedDeal
from bot.domain.text import without_unsaveable
from bot.uow import UnitOfWork
from bot.usecases.crm import CLAIM_LEASE, MAX_NAME, Received, receive_closed_deals
from storage import crm_queries, salesforce_queries


@dataclass(frozen=True)
class Stored:
    new: int
    replayed: int  # notification Ids stored before: Salesforce's re-sends, no second effect
    ignored: int  # not closed (IsClosed false): stored, with no effect


def store_outbound_notifications(
    uow: UnitOfWork,
    notifications: Sequence[OpportunityNotification],
    *,
    team_id: str,
    api_url: str | None,
    session_id: str | None,
    link_base: str | None,
) -> Stored:
    """Keep each notification once. Only IsClosed=true starts the flow; the others are kept as
    ignored (so a re-send of them is still one effect: none). The message's session is kept only
    for a closed deal whose owner email the message lacks, until the job has read it."""
    now = uow.now()
    new = ignored = 0
    for note in notifications:
        needs_read = note.closed and note.owner_email is None and api_url and session_id
        inserted = crm_queries.insert_once(
            session=uow.session,
            values={
                "team_id": team_id,
                "source": SOURCE,
                "event_key": note.notification_id,
                "deal_id": note.opportunity_id,
                "crm_stage": (note.stage or "")[:100] or None,
                "state": RECEIVED if note.closed else IGNORED,
                "won": note.won,
                "name": without_unsaveable(note.name).strip()[:MAX_NAME]
                or f"Opportunity {note.opportunity_id}",
                "amount": float(note.amount) if note.amount is not None else None,
                "currency": note.currency,
                "owner_email": note.owner_email.strip().lower() if note.owner_email else None,
                "link": opportunity_link(link_base, note.opportunity_id),
                "api_url": api_url if needs_read else None,
                "api_session": session_id if needs_read else None,
                "received_at": now,
            },
        )
        new += inserted
        ignored += int(inserted and not note.closed)
    return Stored(new=new, replayed=len(notifications) - new, ignored=ignored)


@dataclass(frozen=True)
class PendingDeal:
    """A stored closed Opportunity still to become an offer."""

    row_id: int
    deal: ClosedDeal
    api_url: str | None
    api_session: str | None
    attempts: int


def pending_deals(
    uow: UnitOfWork, *, worker: str, lease: timedelta = CLAIM_LEASE, limit: int = 200
) -> list[PendingDeal]:
    """Claim for `worker` the stored closed Opportunities still to become offers (other
    processes' claims skipped: bot.usecases.crm); commit before reading Salesforce."""
    now = uow.now()
    rows = crm_queries.claim_to_read(
        session=uow.session, source=SOURCE, now=now, worker=worker, until=now + lease, limit=limit
    )
    return [
        PendingDeal(
            row_id=row.id or 0,
            deal=ClosedDeal(
                source=row.source,
                team_id=row.team_id,
                event_key=row.event_key,
                deal_id=row.deal_id,
                won=bool(row.won),
                name=row.name,
                amount=Decimal(str(row.amount)) if row.amount is not None else None,
                currency=row.currency,
                owner_email=row.owner_email,
                link=row.link,
            ),
            api_url=row.api_url,
            api_session=row.api_session,
            attempts=row.attempts,
        )
        for row in rows
    ]


def forget_sessions(uow: UnitOfWork, row_ids: Iterable[int], *, worker: str | None = None) -> None:
    """The sessions used (or unusable) are forgotten, on the rows `worker` still holds."""
    salesforce_queries.forget_sessions(session=uow.session, row_ids=row_ids, worker=worker)


def receive_read_deals(
    uow: UnitOfWork,
    deals: Sequence[ClosedDeal],
    *,
    owners: Mapping[str, str],
    sessions_done: Iterable[int],
    worker: str | None = None,
) -> Received:
    """The core stores the deals and queues the offers; the sessions used are forgotten in the
    same transaction (of the rows `worker` still holds)."""
    salesforce_queries.forget_sessions(session=uow.session, row_ids=sessions_done, worker=worker)
    return receive_closed_deals(uow, deals, owners=owners, worker=worker)
