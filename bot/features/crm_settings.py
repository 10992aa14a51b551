"""Connecting a workspace's own CRM from `/rebound settings` (many workspaces, OAuth mode): the
settings modal's *Connect a CRM* button pushes the CRM modal; its submission is checked (an
admin, at the moment of saving; every field) and saved before the ack, and the modal becomes the
confirmation, which shows a new Salesforce endpoint URL its one time.

Slack wants a view_submission answered within 3 seconds, with `response_action` errors (by
block_id) or `update` (https://docs.slack.dev/surfaces/modals#updating_response); `views.push`
stacks a modal on the one the button is in (https://docs.slack.dev/reference/methods/views.push).
Nothing here logs a token, a secret or the endpoint URL.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.crm_settings import (
    CRM_SETTINGS_CALLBACK_ID,
    CRM_SETTINGS_OPEN_ACTION_ID,
    NOT_ADMIN_CRM_ERROR,
    ORG_BLOCK_ID,
    ORG_TAKEN_ERROR,
    PORTAL_BLOCK_ID,
    PORTAL_TAKEN_ERROR,
    SAVE_FAILED_ERROR,
    crm_saved_view,
    crm_settings_modal,
    parse_crm_submission,
)
from bot.features.rebound_command import settings_refusal
from bot.messaging import team_id_of
from bot.slack_users import fetch_profile, is_rebound_admin
from bot.usecases.crm_connections import Taken, crm_status, make_cipher, save_crm_connection

log = logging.getLogger(__name__)

__all__ = ["register"]


def register(app: App, deps: Deps) -> None:
    app.action(CRM_SETTINGS_OPEN_ACTION_ID)(open_crm_settings)
    app.view(CRM_SETTINGS_CALLBACK_ID)(crm_settings_submitted)


def _global_secret(deps: Deps) -> bool:
    return bool(deps.settings.hubspot_client_secret)


def open_crm_settings(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = body["user"]["id"]
    if not deps.settings.oauth_mode:
        return  # one workspace: its CRM is the HUBSPOT_* / SALESFORCE_* settings
    profile = fetch_profile(client, user_id)
    if not is_rebound_admin(profile, user_id, deps.settings.admins):
        log.warning("CRM settings refused: %s is not an admin", user_id)
        return
    with deps.uow() as uow:
        status = crm_status(
            uow, team_id=team_id_of(body), global_hubspot_secret=_global_secret(deps)
        )
    try:
        client.views_push(trigger_id=body["trigger_id"], view=crm_settings_modal(status))
    except SlackApiError as error:
        log.warning("views.push failed: %s", error.response.get("error"))


def crm_settings_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    user_id = body["user"]["id"]
    if not deps.settings.oauth_mode or not deps.settings.encryption_key:
        ack(response_action="errors", errors={PORTAL_BLOCK_ID: NOT_ADMIN_CRM_ERROR})
        return
    # Checked at the moment of saving: the modal may be a forgery, or its opener no longer
    # an admin.
    refusal = settings_refusal(client, deps, user_id, NOT_ADMIN_CRM_ERROR)
    if refusal is not None:
        ack(response_action="errors", errors={PORTAL_BLOCK_ID: refusal})
        return
    team_id = team_id_of(body)
    global_secret = _global_secret(deps)
    try:
        with deps.uow() as uow:
            status = crm_status(uow, team_id=team_id, global_hubspot_secret=global_secret)
        submission, errors = parse_crm_submission(view["state"]["values"], status)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        # Saved before the ack: a short local write; if it fails the admin still has the
        # modal and what they typed.
        with deps.uow() as uow:
            saved = save_crm_connection(
                uow,
                team_id=team_id,
                admin_user_id=user_id,
                submission=submission,
                cipher=make_cipher(deps.settings.encryption_key),
                global_hubspot_secret=global_secret,
            )
    except Exception:
        log.exception("saving the CRM connection failed")
        ack(response_action="errors", errors={PORTAL_BLOCK_ID: SAVE_FAILED_ERROR})
        return
    if isinstance(saved, Taken):
        if saved.crm == "hubspot":
            ack(response_action="errors", errors={PORTAL_BLOCK_ID: PORTAL_TAKEN_ERROR})
        else:
            ack(response_action="errors", errors={ORG_BLOCK_ID: ORG_TAKEN_ERROR})
        return
    log.info(
        "CRM connection of %s changed by %s (HubSpot %s, Salesforce %s%s)",
        team_id,
        user_id,
        "connected" if saved.status.hubspot_connected else "off",
        "connected" if saved.status.salesforce_connected else "off",
        ", new endpoint URL" if saved.salesforce_endpoint else "",
    )
    ack(
        response_action="update",
        view=crm_saved_view(
            saved.status,
            public_url=deps.settings.public_url,
            salesforce_endpoint=saved.salesforce_endpoint,
        ),
    )
