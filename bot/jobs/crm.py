"""The CRM jobs: turn stored HubSpot notifications into debrief offers, match kept deals to people
on the next pass, and remind once.

Each pass claims, reads, then records: a short unit of work claims the due rows for this
process (so replicas on one database never read the same deal from the CRM), the CRM's API
(bot.crm.hubspot_api) and Slack's users.lookupByEmail are called outside any transaction, then
one unit of work stores the deals and queues the offers together, for the rows this process
still holds (bot.usecases.crm). A CRM or a Slack that fails leaves the rows to the next pass;
a process that dies mid-pass leaves them to whichever process claims once its lease is over;
nothing is lost.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.crm.hubspot import SOURCE as HUBSPOT
from bot.crm.hubspot_api import HubSpotError, HubSpotReader
from bot.dispatcher import worker_name
from bot.domain.crm import ClosedDeal, StageChange
from bot.jobs.goals import team_clients
from bot.scheduler import ScheduledJob
from bot.slack_clients import TeamClients
from bot.usecases import crm as usecases
from bot.usecases import crm_connections as connections

log = logging.getLogger(__name__)
MAX_PASSES = 20  # batches of pending rows per tick (200 each): a burst is worked through


# Which reader reads a workspace's deals: HUBSPOT_ACCESS_TOKEN's for the bot token's one
# workspace, or the token the workspace connected (many workspaces); None: HubSpot isn't
# connected there (its notifications are kept as errors, shown to its admins).
Readers = Callable[[str], HubSpotReader | None]


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    clients = team_clients(deps)
    readers = hubspot_readers(deps)

    def read_hubspot(now: datetime) -> None:
        if readers is not None:
            read_hubspot_deals(deps, readers, clients)

    def match_kept_deals(now: datetime) -> None:
        match_unmatched_deals(deps, clients)

    def remind(now: datetime) -> None:
        with deps.uow() as uow:
            usecases.queue_offer_reminders(uow)

    return [
        ("crm-hubspot-read", read_hubspot),
        ("crm-match-owners", match_kept_deals),
        ("crm-offer-reminders", remind),
    ]


def hubspot_readers(deps: Deps) -> Readers | None:
    settings = deps.settings
    if settings.oauth_mode and settings.encryption_key:
        return WorkspaceReaders(deps, connections.make_cipher(settings.encryption_key))
    if not settings.hubspot_enabled:
        return None
    reader = HubSpotReader(settings.hubspot_access_token or "", settings.hubspot_api_url)
    return lambda team_id: reader


class WorkspaceReaders:
    """Many workspaces: each one's reader, with the token it connected in /rebound settings.
    Kept while the token is the same (the reader caches its pipelines and owners); a token
    replaced in the settings gets a new reader on the next pass."""

    def __init__(self, deps: Deps, cipher: connections.Cipher) -> None:
        self._deps, self._cipher = deps, cipher
        self._readers: dict[str, tuple[str, HubSpotReader]] = {}
        self._lock = threading.Lock()

    def __call__(self, team_id: str) -> HubSpotReader | None:
        with self._deps.uow() as uow:
            token = connections.hubspot_access_token(uow, team_id=team_id, cipher=self._cipher)
        if not token:
            return None
        with self._lock:
            known = self._readers.get(team_id)
            if known is not None and hmac.compare_digest(known[0], token):
                return known[1]
            reader = HubSpotReader(token, self._deps.settings.hubspot_api_url)
            self._readers[team_id] = (token, reader)
            return reader


def read_hubspot_deals(
    deps: Deps, readers: Readers, clients: TeamClients, *, worker: str | None = None
) -> int:
    """Claim the stored notifications due, read their deals, each workspace's with its own
    reader, look their owners up in Slack, then store them and queue the offers. Returns the
    notifications handled."""
    worker = worker or worker_name()
    handled = 0
    for _ in range(MAX_PASSES):
        with deps.uow() as uow:  # the claim, committed before HubSpot is called
            pending = usecases.pending_reads(uow, source=HUBSPOT, worker=worker)
        if not pending:
            break
        ignored: list[int] = []
        failed: dict[str, list[int]] = {}
        deals: list[ClosedDeal] = []
        by_team: dict[str, list[usecases.PendingRead]] = {}
        for row in pending:
            by_team.setdefault(row.team_id, []).append(row)
        for team_id, rows in by_team.items():
            reader = readers(team_id)
            if reader is None:
                failed.setdefault("HubSpot is not connected", []).extend(r.row_id for r in rows)
                continue
            deals += _read_team(reader, rows, ignored, failed)
        if failed:
            log.warning(
                "HubSpot could not be read for %d notifications", sum(map(len, failed.values()))
            )
        owners = lookup_owners(clients, ((d.team_id, d.owner_email) for d in deals))
        people = {(team, email): user for (team, email), user in owners.items() if user}
        with deps.uow() as uow:
            usecases.ignore_notifications(uow, ignored, worker=worker)
            for error, row_ids in failed.items():
                usecases.record_crm_failure(uow, row_ids, error, worker=worker)
            # Owners are matched within each deal's own workspace: one email may be two
            # people in two workspaces.
            for team_id in {d.team_id for d in deals}:
                usecases.receive_closed_deals(
                    uow,
                    [d for d in deals if d.team_id == team_id],
                    owners={e: u for (t, e), u in people.items() if t == team_id},
                    worker=worker,
                )
        handled += len(pending)
        if sum(map(len, failed.values())) == len(pending):
            break  # HubSpot is down: the rest waits for the next tick
    return handled


def _read_team(
    reader: HubSpotReader,
    rows: list[usecases.PendingRead],
    ignored: list[int],
    failed: dict[str, list[int]],
) -> list[ClosedDeal]:
    """One workspace's pending notifications read with its reader (ignored and failed rows
    are added to those lists)."""
    closings: list[tuple[StageChange, bool]] = []
    row_of: dict[str, int] = {}
    for row in rows:
        change = StageChange(
            source=row.source,
            team_id=row.team_id,
            event_key=row.event_key,
            deal_id=row.deal_id,
            stage=row.stage or "",
            link=row.link,
        )
        try:
            closing = reader.closing_of(change.stage)
        except HubSpotError as error:
            failed.setdefault(str(error), []).append(row.row_id)
            continue
        if not closing.closed:
            ignored.append(row.row_id)
            continue
        closings.append((change, closing.won))
        row_of[change.event_key] = row.row_id
    # The deals 100 a request, their owners cached: a burst costs HubSpot few requests.
    deals, unread = reader.closed_deals(closings)
    for event_key, error in unread.items():
        failed.setdefault(error, []).append(row_of[event_key])
    return deals


def match_unmatched_deals(deps: Deps, clients: TeamClients, *, worker: str | None = None) -> int:
    """The next pass for deals kept for want of a person: claim them, look each owner up again
    (users.lookupByEmail, no transaction open), offer those found."""
    worker = worker or worker_name()
    with deps.uow() as uow:
        kept = usecases.unmatched_deals(uow, worker=worker)
    if not kept:
        return 0
    owners = lookup_owners(clients, ((k.team_id, k.owner_email) for k in kept))
    with deps.uow() as uow:
        return usecases.offer_matched_deals(
            uow,
            {k.row_id: owners.get((k.team_id, k.owner_email or "")) for k in kept},
            worker=worker,
        )


def lookup_owners(
    clients: TeamClients, owners: Iterable[tuple[str, str | None]]
) -> dict[tuple[str, str], str | None]:
    """(team, email) -> the Slack user with that email, by users.lookupByEmail
    (https://docs.slack.dev/reference/methods/users.lookupByEmail, scope users:read.email);
    None when nobody in the workspace has it, the person left, or Slack failed (tried again on
    the next pass)."""
    found: dict[tuple[str, str], str | None] = {}
    for team_id, email in owners:
        if not email or (team_id, email) in found:
            continue
        try:
            user = clients.client_for(team_id).users_lookupByEmail(email=email)["user"]
        except SlackApiError as error:
            code = error.response.get("error")
            # users_not_found in Slack's reference today; user_not_found in older answers.
            if code not in ("users_not_found", "user_not_found"):
                log.warning("users.lookupByEmail failed: %s", code)
            found[(team_id, email)] = None
            continue
        except Exception as error:  # Slack unreachable: the next pass tries again
            log.warning("users.lookupByEmail failed: %s", type(error).__name__)
            found[(team_id, email)] = None
            continue
        usable = not user.get("deleted") and not user.get("is_bot")
        found[(team_id, email)] = user.get("id") if usable else None
    return found
