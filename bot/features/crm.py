"""A CRM's closed deal, offered in the rep's DM: *Debrief this* opens the /lost (or /won) modal
prefilled from the CRM, *Not now* leaves it for its one reminder. The offers themselves are
outbox rows the CRM jobs queue (bot.jobs.crm); this module answers the two buttons.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.crm import (
    DEBRIEF_ACTION_ID,
    NOT_NOW_ACTION_ID,
    already_debriefed_reply,
    not_now_reply,
)
from bot.blocks.debriefs import CrmPrefill, lost_modal, won_modal
from bot.domain.crm import CRM_NAMES
from bot.features._interactions import RowClick, on_row_click, open_modal
from bot.jobs import crm as jobs
from bot.jobs import salesforce as salesforce_jobs
from bot.messaging import not_yours_message, post_to_response_url, reply_to_click
from bot.scheduler import ScheduledJob
from bot.usecases import crm as usecases
from bot.usecases.crm import AlreadyDebriefed, DebriefStart, NotTheirs

__all__ = ["register", "scheduled_jobs"]


def register(app: App, deps: Deps) -> None:
    app.action(DEBRIEF_ACTION_ID)(debrief_clicked)
    app.action(NOT_NOW_ACTION_ID)(not_now_clicked)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    return jobs.scheduled_jobs(deps) + salesforce_jobs.scheduled_jobs(deps)


@on_row_click
def debrief_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    start = _start(click, client, body)
    if start is None:
        return
    offer = start.offer
    prefill = CrmPrefill(
        offer_id=offer.row_id,
        crm=CRM_NAMES.get(offer.source, offer.source),
        amount=offer.amount,
        reason=start.reason,
        crm_reason=start.crm_reason,
    )
    view = won_modal(offer.name, prefill) if offer.won else lost_modal(offer.name, prefill)
    open_modal(client, body["trigger_id"], view, what="a CRM debrief")


@on_row_click
def not_now_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    start = _start(click, client, body)
    if start is None:
        return
    response_url = body.get("response_url")
    if isinstance(response_url, str) and response_url:
        post_to_response_url(response_url, not_now_reply(start.offer), replace_original=True)


def _start(click: RowClick, client: WebClient, body: dict[str, Any]) -> DebriefStart | None:
    """Both buttons' first steps once the click is read: the offer clicked, and the answer
    when it isn't the clicker's to debrief or is debriefed already (then None)."""
    with click.deps.uow() as uow:
        start = usecases.start_debrief(
            uow, team_id=click.team_id, user_id=click.user_id, row_id=click.row_id
        )
    if isinstance(start, NotTheirs):
        reply_to_click(client, body, not_yours_message("debrief", start.owner_user_id))
        return None
    if isinstance(start, AlreadyDebriefed):
        reply_to_click(client, body, already_debriefed_reply(start.offer))
        return None
    return start
