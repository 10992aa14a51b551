"""Closed deals from a CRM become debrief offers in the owner's DM, exactly once.

Whichever CRM a deal comes from (bot.crm.hubspot turns HubSpot's webhooks into `ClosedDeal`s),
the same use cases run, each in a unit of work:

- `store_stage_changes`: a webhook's notifications, stored as they came (the request's whole
  work, so HubSpot is answered at once); a redelivered eventId finds its row and adds nothing.
- `receive_closed_deals`: the deals read from the CRM, stored with what became of them and, in
  the same transaction, the owner's DM queued in the outbox. The owner's Slack id comes in
  (`owners`, looked up with users.lookupByEmail by the job *before* this transaction, so a slow
  Slack never holds a database transaction open). A deal with no owner, nobody in Slack with
  that email, or a CRM that failed is kept (unmatched / error) and tried again on the next pass.
- `offer_matched_deals`: the next pass's matches for deals kept unmatched.
- `queue_offer_reminders`: one reminder per offer not debriefed, after the workspace's
  reflection-reminder hours.

The post key of an offer names the deal, not the notification: one deal closing is one DM,
whatever number of notifications said so.

Several replicas run the same jobs on one database: each pass *claims* the rows it reads
(`pending_reads`, `unmatched_deals`: storage.claims, `FOR UPDATE SKIP LOCKED` on PostgreSQL)
for CLAIM_LEASE on the app's clock, commits, calls the CRM and Slack with no transaction open,
then records what it learnt in a second short unit of work that settles only the rows it still
holds (`worker`). So each deal is read from its CRM by one process, and a process that dies
mid-pass leaves rows that are anyone's again once its lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.blocks.crm import DealOffer, debrief_offer_dm, debrief_offer_reminder_dm
from bot.domain.crm import (
    DEBRIEFED,
    ERROR,
    IGNORED,
    OFFERED,
    RECEIVED,
    UNMATCHED,
    ClosedDeal,
    StageChange,
    rebound_reason,
)
from bot.domain.text import without_unsaveable
from bot.uow import UnitOfWork, to_user
from storage import crm_queries
from storage.models import CrmDeal

# Outbox kinds (no hooks: what they record is written when they are queued).
OFFER, OFFER_REMINDER = "crm-debrief-offer", "crm-debrief-reminder"
# A CRM that failed, or an owner nobody in Slack matches, is tried again after this long, then
# less and less often (doubling, up to MAX_RETRY_AFTER), for as long as it takes.
RETRY_AFTER = timedelta(minutes=5)
MAX_RETRY_AFTER = timedelta(hours=6)


def retry_after(attempts: int) -> timedelta:
    return min(RETRY_AFTER * 2 ** min(max(attempts - 1, 0), 10), MAX_RETRY_AFTER)


MAX_NAME = 120  # the /lost modal's deal field takes 120 characters
# How long a pass holds the rows it claimed: longer than a pass takes (a batch read per 100
# deals, the owners' reads and users.lookupByEmail, each bounded by its client's timeout), short
# enough that a crashed process's rows wait little. A pass that outlives it only loses its rows
# to the next claimer (its records are then refused), never doubles an offer.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class StoredChanges:
    new: int
    replayed: int  # eventIds stored before: HubSpot's retries, no second effect


@dataclass(frozen=True)
class PendingRead:
    """A stored notification whose deal is still to be read from its CRM."""

    row_id: int
    team_id: str
    source: str
    event_key: str
    deal_id: str
    stage: str | None
    link: str | None = None  # the deal's page in the CRM, when the notification said where


@dataclass(frozen=True)
class Received:
    offered: int
    unmatched: int
    debriefed: int  # debriefed by hand already: no DM
    duplicates: int  # the same deal closing again, or the same notification again
    taken: int = 0  # rows this pass no longer held (its lease ran out, another process took them)


@dataclass(frozen=True)
class DebriefStart:
    """What the *Debrief this* button opens the /lost (or /won) modal with."""

    offer: DealOffer
    reason: str | None  # Rebound's reason key the CRM's reason maps onto, if it does
    crm_reason: str | None


@dataclass(frozen=True)
class NotTheirs:
    owner_user_id: str | None


@dataclass(frozen=True)
class AlreadyDebriefed:
    """The offer's deal has its debrief: a second would count the deal twice."""

    offer: DealOffer


def offer_key(source: str, deal_id: str) -> str:
    return f"crm:{source}:{deal_id}:offer"


def _offer_of(row: CrmDeal) -> DealOffer:
    assert row.id is not None
    return DealOffer(
        row_id=row.id,
        source=row.source,
        name=row.name,
        won=bool(row.won),
        amount=row.amount,
        currency=row.currency,
    )


# --- storing what a webhook said -----------------------------------------------------------------


def store_stage_changes(uow: UnitOfWork, changes: Sequence[StageChange]) -> StoredChanges:
    """Keep each notification once (its event key); the deals are read later (PendingRead)."""
    now = uow.now()
    # A batch may name one eventId twice: stored once (the database would refuse the pair).
    unique = {(c.team_id, c.source, c.event_key): c for c in changes}
    new = crm_queries.insert_many_once(
        session=uow.session,
        rows=[
            {
                "team_id": change.team_id,
                "source": change.source,
                "event_key": change.event_key,
                "deal_id": change.deal_id,
                "crm_stage": change.stage,
                "link": change.link,
                "state": RECEIVED,
                "received_at": now,
            }
            for change in unique.values()
        ],
    )
    return StoredChanges(new=new, replayed=len(changes) - new)


def pending_reads(
    uow: UnitOfWork,
    *,
    source: str,
    worker: str,
    lease: timedelta = CLAIM_LEASE,
    limit: int = 200,
) -> list[PendingRead]:
    """Claim for `worker` the notifications whose deal is to be read now: new ones, failed
    reads due again, and deals that had no owner, due again. Rows another process holds are
    not among them. Commit before reading the CRM."""
    now = uow.now()
    return [
        PendingRead(
            row_id=row.id or 0,
            team_id=row.team_id,
            source=row.source,
            event_key=row.event_key,
            deal_id=row.deal_id,
            stage=row.crm_stage,
            link=row.link,
        )
        for row in crm_queries.claim_to_read(
            session=uow.session,
            source=source,
            now=now,
            worker=worker,
            until=now + lease,
            limit=limit,
        )
    ]


def _held(uow: UnitOfWork, row_ids: Iterable[int], worker: str | None) -> list[CrmDeal]:
    """The rows `worker` still holds, their claims released: this unit of work settles them."""
    rows = crm_queries.held(session=uow.session, row_ids=row_ids, worker=worker)
    for row in rows.values():
        crm_queries.release(row)
        uow.session.add(row)
    return list(rows.values())


def ignore_notifications(
    uow: UnitOfWork, row_ids: Iterable[int], *, worker: str | None = None
) -> None:
    """Stage changes into stages that don't close a deal: kept, with no effect."""
    for row in _held(uow, row_ids, worker):
        if row.state in (RECEIVED, ERROR):
            row.state = IGNORED


def record_crm_failure(
    uow: UnitOfWork, row_ids: Iterable[int], error: str, *, worker: str | None = None
) -> None:
    """The CRM could not be read for these: kept as errors (an admin sees them), tried again."""
    now = uow.now()
    for row in _held(uow, row_ids, worker):
        if row.state not in (RECEIVED, ERROR, UNMATCHED):
            continue
        row.state, row.last_error = ERROR, error[:200]
        row.attempts += 1
        row.next_try_at = now + retry_after(row.attempts)
        uow.session.add(row)


# --- closed deals, read --------------------------------------------------------------------------


def receive_closed_deals(
    uow: UnitOfWork,
    deals: Sequence[ClosedDeal],
    *,
    now: datetime | None = None,
    owners: Mapping[str, str] | None = None,
    worker: str | None = None,
) -> Received:
    """Store each closed deal (once per notification) and queue its owner's offer.

    `owners` maps an owner's email (lower case) to their Slack user id, as users.lookupByEmail
    found it. A deal already debriefed by hand (its CRM id, or its owner's debrief of the same
    name within a day) is kept as debriefed, with no DM; one with no Slack match is kept
    unmatched. With `worker`, only the notifications that pass still holds are settled
    (pending_reads claimed them)."""
    moment = now or uow.now()
    people = {email.lower(): user for email, user in (owners or {}).items()}
    offered = unmatched = debriefed = duplicates = taken = 0
    mine: dict[tuple[str, str, str], CrmDeal] | None = None
    if worker is not None:
        ids = crm_queries.ids_of_events(
            session=uow.session, keys=[(d.team_id, d.source, d.event_key) for d in deals]
        )
        mine = {(r.team_id, r.source, r.event_key): r for r in _held(uow, ids, worker)}
    for deal in deals:
        if mine is not None and (deal.team_id, deal.source, deal.event_key) not in mine:
            taken += 1  # another process holds it now: its pass records it
            continue
        row = _row_for(uow.session, deal, moment)
        if row is None:
            duplicates += 1  # this notification had its effect already
            continue
        _fill(row, deal)
        if crm_queries.other_closing_of(session=uow.session, row=row) is not None:
            crm_queries.mark_duplicate(session=uow.session, row=row)
            duplicates += 1
            continue
        # The owner first: a debrief of the same name counts only when it is theirs.
        user_id = people.get((row.owner_email or "").lower()) if row.owner_email else None
        if _kept_as_debriefed(uow, row, user_id, moment):
            debriefed += 1
            continue
        if user_id is None:
            row.attempts += 1
            row.state, row.next_try_at = UNMATCHED, moment + retry_after(row.attempts)
            row.last_error = "no owner" if not row.owner_email else "no Slack user"
            uow.session.add(row)
            unmatched += 1
            continue
        _offer(uow, row, user_id, moment)
        offered += 1
    return Received(offered, unmatched, debriefed, duplicates, taken)


def _row_for(session: Session, deal: ClosedDeal, now: datetime) -> CrmDeal | None:
    """The deal's row to fill in: the webhook's stored notification (still unread), or a new one.
    None when the notification was handled before."""
    row = crm_queries.by_event(
        session=session, team_id=deal.team_id, source=deal.source, event_key=deal.event_key
    )
    if row is None:
        inserted = crm_queries.insert_once(
            session=session,
            values={
                "team_id": deal.team_id,
                "source": deal.source,
                "event_key": deal.event_key,
                "deal_id": deal.deal_id,
                "state": RECEIVED,
                "received_at": now,
            },
        )
        if not inserted:
            return None
        row = crm_queries.by_event(
            session=session, team_id=deal.team_id, source=deal.source, event_key=deal.event_key
        )
        assert row is not None
        return row
    # An unmatched deal has had no effect yet: read again, it may have an owner now.
    return row if row.state in (RECEIVED, ERROR, UNMATCHED) else None


def _fill(row: CrmDeal, deal: ClosedDeal) -> None:
    row.won = deal.won
    # Names come from a CRM: kept to what the modal can hold, without what a database refuses.
    row.name = without_unsaveable(deal.name).strip()[:MAX_NAME] or f"Deal {deal.deal_id}"
    row.amount = float(deal.amount) if deal.amount is not None else None
    row.currency = deal.currency
    row.crm_reason = without_unsaveable(deal.crm_reason)[:500] if deal.crm_reason else None
    row.owner_email = deal.owner_email.strip().lower() if deal.owner_email else None
    row.link = deal.link or row.link  # HubSpot's is kept from the webhook (its portalId)
    row.last_error = None
    crm_queries.release(row)


def _kept_as_debriefed(uow: UnitOfWork, row: CrmDeal, user_id: str | None, now: datetime) -> bool:
    """A deal debriefed by hand already (its CRM id, or its owner's debrief of the same name
    within a day) is kept as debriefed, offered to nobody: True when it was."""
    if not crm_queries.debriefed_by_hand(
        session=uow.session,
        team_id=row.team_id,
        source=row.source,
        deal_id=row.deal_id,
        name=row.name,
        now=now,
        user_id=user_id,
    ):
        return False
    row.state, row.debriefed_at = DEBRIEFED, now
    uow.session.add(row)
    return True


def _offer(uow: UnitOfWork, row: CrmDeal, user_id: str, now: datetime) -> None:
    row.state, row.slack_user_id, row.offered_at = OFFERED, user_id, now
    row.next_try_at = row.last_error = None
    uow.session.add(row)
    uow.session.flush()
    uow.outbox.add(
        team_id=row.team_id,
        post_key=offer_key(row.source, row.deal_id),
        kind=OFFER,
        to=to_user(user_id),
        message=debrief_offer_dm(_offer_of(row)),
    )


# --- the next pass: owners matched since ---------------------------------------------------------


@dataclass(frozen=True)
class Unmatched:
    row_id: int
    team_id: str
    owner_email: str | None


def unmatched_deals(
    uow: UnitOfWork, *, worker: str, lease: timedelta = CLAIM_LEASE, limit: int = 200
) -> list[Unmatched]:
    """Claim for `worker` the deals kept for want of a person whose next try has come. A deal
    with no owner has nobody to look up: its CRM is read again instead (pending_reads), where
    an owner set since is found."""
    now = uow.now()
    return [
        Unmatched(row.id or 0, row.team_id, row.owner_email)
        for row in crm_queries.claim_to_match(
            session=uow.session, now=now, worker=worker, until=now + lease, limit=limit
        )
    ]


def offer_matched_deals(
    uow: UnitOfWork, matches: Mapping[int, str | None], *, worker: str | None = None
) -> int:
    """Offer each kept deal whose owner now has a Slack match (row id -> user id, None: still
    no one: tried again later), of those `worker` still holds. Returns the offers queued."""
    now = uow.now()
    offered = 0
    rows = {row.id: row for row in _held(uow, matches, worker)}
    for row_id, user_id in matches.items():
        row = rows.get(row_id)
        if row is None or row.state != UNMATCHED:
            continue
        if user_id is None:
            row.attempts += 1
            row.next_try_at = now + retry_after(row.attempts)
            uow.session.add(row)
            continue
        if _kept_as_debriefed(uow, row, user_id, now):
            continue
        _offer(uow, row, user_id, now)
        offered += 1
    return offered


def unmatched_count(uow: UnitOfWork, *, team_id: str) -> int:
    """For the admins' Home: closed deals kept but offered to nobody yet."""
    return crm_queries.count_needing_a_person(session=uow.session, team_id=team_id)


# --- the rep's answers ---------------------------------------------------------------------------


def start_debrief(
    uow: UnitOfWork, *, team_id: str, user_id: str, row_id: int
) -> DebriefStart | NotTheirs | AlreadyDebriefed | None:
    """What *Debrief this* opens; NotTheirs when the offer is someone else's, AlreadyDebriefed
    once its debrief is saved, None when there is no such offer."""
    row = crm_queries.get(session=uow.session, team_id=team_id, row_id=row_id)
    if row is None or row.state not in (OFFERED, DEBRIEFED):
        return None
    if row.slack_user_id != user_id:
        return NotTheirs(row.slack_user_id)
    if row.state == DEBRIEFED:
        return AlreadyDebriefed(_offer_of(row))
    return DebriefStart(
        offer=_offer_of(row), reason=rebound_reason(row.crm_reason), crm_reason=row.crm_reason
    )


def debrief_link(
    session: Session, *, team_id: str, user_id: str, row_id: int | None
) -> tuple[str, str, str | None] | None:
    """(source, CRM deal id, the deal's page there) of the offer a debrief modal was opened
    from, when it is the rep's."""
    if row_id is None:
        return None
    row = crm_queries.get(session=session, team_id=team_id, row_id=row_id)
    if row is None or row.slack_user_id != user_id:
        return None
    return row.source, row.deal_id, row.link


def settle_offers(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    row_id: int | None,
    deal_name: str,
) -> None:
    """`user_id` saved a debrief (bot.usecases.debriefs): the offer of theirs it came from, or
    an offer of theirs of the same deal name made within a day, is debriefed, and so gets no
    reminder. Other reps' offers are theirs to debrief, whatever their deals are called."""
    crm_queries.mark_debriefed(
        session=session, team_id=team_id, user_id=user_id, now=now, row_id=row_id, name=deal_name
    )


# --- the one reminder ----------------------------------------------------------------------------


def queue_offer_reminders(uow: UnitOfWork) -> int:
    """One reminder per offer still not debriefed after the reflection-reminder hours (the
    workspace's setting, as for the debrief questions): marked reminded as it is queued, in
    the same transaction, so there is never a second."""
    queued = 0
    now = uow.now()
    for row in crm_queries.reminders_due(session=uow.session, now=now):
        if row.slack_user_id is None or row.id is None:
            continue
        crm_queries.mark_reminded(session=uow.session, row_id=row.id, now=now)
        queued += uow.outbox.add(
            team_id=row.team_id,
            post_key=f"crm:{row.source}:{row.deal_id}:reminder",
            kind=OFFER_REMINDER,
            to=to_user(row.slack_user_id),
            message=debrief_offer_reminder_dm(_offer_of(row)),
        )
    return queued
