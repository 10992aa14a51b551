"""A CRM's closed deal, offered in the rep's DM: *Debrief this* opens the /lost (or /won) modal
prefilled from the CRM, *Not now* leaves it for its one reminder. The offers themselves are
outbox rows the CRM jobs queue (bot.jobs.crm); this module answers the two buttons.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.crm import (
    DEBRIEF_ACTION_ID,
    NOT_NOW_ACTION_ID,
    already_debriefed_reply,
    not_now_reply,
)
from bot.blocks.debriefs import CrmPrefill, lost_modal, won_modal
from bot.domain.crm import CRM_NAMES
from bot.domain.text import parse_row_id
from bot.jobs import crm as jobs
from bot.jobs import salesforce as salesforce_jobs
from bot.messaging import not_yours_message, post_to_response_url, reply_to_click, team_id_of
from bot.scheduler import ScheduledJob
from bot.usecases import crm as usecases
from bot.usecases.crm import AlreadyDebriefed, DebriefStart, NotTheirs

log = logging.getLogger(__name__)

__all__ = ["register", "scheduled_jobs"]


def register(app: App, deps: Deps) -> None:
    app.action(DEBRIEF_ACTION_ID)(debrief_clicked)
    app.action(NOT_NOW_ACTION_ID)(not_now_clicked)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    return jobs.scheduled_jobs(deps) + salesforce_jobs.scheduled_jobs(deps)


def debrief_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    start = _start(context, body, action)
    if start is None:
        return
    if isinstance(start, NotTheirs):
        reply_to_click(client, body, not_yours_message("debrief", start.owner_user_id))
        return
    if isinstance(start, AlreadyDebriefed):
        reply_to_click(client, body, already_debriefed_reply(start.offer))
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
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("views.open for a CRM debrief failed: %s", error.response.get("error"))


def not_now_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    start = _start(context, body, action)
    if start is None:
        return
    if isinstance(start, NotTheirs):
        reply_to_click(client, body, not_yours_message("debrief", start.owner_user_id))
        return
    if isinstance(start, AlreadyDebriefed):
        reply_to_click(client, body, already_debriefed_reply(start.offer))
        return
    response_url = body.get("response_url")
    if isinstance(response_url, str) and response_url:
        post_to_response_url(response_url, not_now_reply(start.offer), replace_original=True)


def _start(
    context: BoltContext, body: dict[str, Any], action: dict[str, Any]
) -> DebriefStart | NotTheirs | AlreadyDebriefed | None:
    try:
        row_id = parse_row_id(action.get("value"))
    except ValueError:
        return None
    deps: Deps = context["deps"]
    with deps.uow() as uow:
        return usecases.start_debrief(
            uow, team_id=team_id_of(body), user_id=body["user"]["id"], row_id=row_id
        )
