"""The Salesforce job: stored closed Opportunities become debrief offers.

The message carried the deal already (bot.usecases.salesforce stored it); what this pass may
still need is the owner's email, read back through the REST API with the message's own session
(bot.crm.salesforce_api) when the org has no owner-email formula field. The rows are claimed
for this process first (one short unit of work: replicas never read one Opportunity twice),
that read and Slack's users.lookupByEmail happen outside any transaction; then one unit of work
stores the deals and queues the offers, for the rows still held (bot.usecases.crm). A
Salesforce that fails leaves the row for the next pass.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.app import Deps
from bot.crm import salesforce_api
from bot.dispatcher import worker_name
from bot.domain.crm import ClosedDeal
from bot.jobs.crm import MAX_PASSES, lookup_owners
from bot.jobs.goals import team_clients
from bot.scheduler import ScheduledJob
from bot.slack_clients import TeamClients
from bot.usecases import crm as crm_usecases
from bot.usecases import salesforce as usecases

log = logging.getLogger(__name__)
# A session that could not be used this many times is given up (it expires within hours):
# the deal is then kept as having no owner, shown to admins.
MAX_SESSION_TRIES = 5


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    clients = team_clients(deps)
    # Many workspaces: any of them may have connected an org in /rebound settings.
    enabled = deps.settings.salesforce_enabled or deps.settings.oauth_mode

    def read_salesforce(now: datetime) -> None:
        if enabled:
            read_salesforce_deals(deps, clients)

    return [("crm-salesforce-read", read_salesforce)]


def read_salesforce_deals(deps: Deps, clients: TeamClients, *, worker: str | None = None) -> int:
    """Claim the stored closed Opportunities due, read the owners' emails they lack, and turn
    them into offers. Returns the notifications handled."""
    worker = worker or worker_name()
    handled = 0
    api_url = deps.settings.salesforce_api_url
    settings = deps.settings
    # Sealed as the endpoint sealed it (bot.server): with REBOUND_ENCRYPTION_KEY when many
    # workspaces each have their own token (none of which Rebound keeps), else with the token.
    seal = salesforce_api.SessionSeal(
        (settings.encryption_key if settings.oauth_mode else settings.salesforce_outbound_token)
        or ""
    )
    for _ in range(MAX_PASSES):
        with deps.uow() as uow:
            pending = usecases.pending_deals(uow, worker=worker)  # committed before any read
        if not pending:
            break
        deals: list[ClosedDeal] = []
        failed: dict[str, list[int]] = {}
        sessions_done: list[int] = []
        for item in pending:
            deal = item.deal
            session_id = seal.open(item.api_session) if item.api_session else None
            if item.api_session and session_id is None:
                log.warning("a stored Salesforce session can't be read (token changed?)")
                sessions_done.append(item.row_id)
            if deal.owner_email is None and session_id and item.api_url:
                try:
                    email = salesforce_api.owner_email(
                        instance_url=api_url or item.api_url,
                        session_id=session_id,
                        opportunity_id=deal.deal_id,
                    )
                except salesforce_api.SessionGone:
                    log.warning("a Salesforce Outbound Message's session has expired")
                    sessions_done.append(item.row_id)
                except salesforce_api.SalesforceReadError as error:
                    if item.attempts + 1 < MAX_SESSION_TRIES:
                        log.warning("Salesforce could not be read: %s", error)
                        failed.setdefault(f"Salesforce: {error}", []).append(item.row_id)
                        continue
                    sessions_done.append(item.row_id)
                else:
                    sessions_done.append(item.row_id)
                    deal = replace(deal, owner_email=email)
            deals.append(deal)
        owners = lookup_owners(clients, ((d.team_id, d.owner_email) for d in deals))
        people = {(team, email): user for (team, email), user in owners.items() if user}
        with deps.uow() as uow:
            for error, row_ids in failed.items():
                crm_usecases.record_crm_failure(uow, row_ids, error, worker=worker)
            usecases.forget_sessions(uow, sessions_done, worker=worker)
            # Owners are matched within each deal's own workspace.
            for team_id in {d.team_id for d in deals}:
                usecases.receive_read_deals(
                    uow,
                    [d for d in deals if d.team_id == team_id],
                    owners={e: u for (t, e), u in people.items() if t == team_id},
                    sessions_done=(),
                    worker=worker,
                )
        handled += len(pending)
        if failed and not deals:
            break  # Salesforce is down: the rest waits for the next tick
    return handled
