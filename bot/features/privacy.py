"""Data rights: `/rebound export` (files in the DM, through the outbox), `/rebound forget-me`
(delete my data after a confirmation click) and deleting a workspace's data on an admin's request.

`/rebound` routing lives in rebound_command; this module registers the buttons. The scheduled
deletion of reflections past a workspace's retention is a job (bot.jobs.privacy).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.privacy import (
    DELETE_WORKSPACE_CONFIRM_ACTION_ID,
    FORGET_ME_CANCEL_ACTION_ID,
    FORGET_ME_CONFIRM_ACTION_ID,
    delete_workspace_confirmation,
    delete_workspace_refused_message,
    export_on_its_way_message,
    forget_failed_message,
    forget_me_confirmation,
    forgotten_message,
    kept_message,
    not_your_button_message,
    workspace_deleted_message,
    workspace_export_refused_message,
)
from bot.jobs import privacy as jobs
from bot.messaging import post_to_response_url, reply_to_click, send_ephemeral, team_id_of
from bot.slack_users import fetch_profile, is_rebound_admin
from bot.usecases import privacy as usecases

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """What answers which click (the listeners read `deps` from Bolt's context)."""
    app.action(FORGET_ME_CONFIRM_ACTION_ID)(forget_me_confirmed)
    app.action(DELETE_WORKSPACE_CONFIRM_ACTION_ID)(delete_workspace_confirmed)
    app.action(FORGET_ME_CANCEL_ACTION_ID)(forget_me_cancelled)


scheduled_jobs = jobs.scheduled_jobs


def forget_me_confirmed(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    forget_clicker(client, context["deps"], body)


def delete_workspace_confirmed(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    delete_workspace_for_admin(client, context["deps"], body)


def forget_me_cancelled(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    _reply_to_click(client, body, kept_message(), settled=True)


# --- /rebound export -------------------------------------------------------------------------


def send_export(client: WebClient, deps: Deps, command: dict[str, Any], scope: str) -> None:
    """After the ack: queue the export's upload to the asker's DM, once per command (the files
    are made when the dispatcher sends it: bot.usecases.privacy.queue_export).

    `scope` is "workspace" for an admin's whole-workspace export, anything else for one's own.
    """
    team_id, user_id = command["team_id"], command["user_id"]
    whole_workspace = scope.lower() == "workspace"
    if whole_workspace:
        profile = fetch_profile(client, user_id)
        if not is_rebound_admin(profile, user_id, deps.settings.admins):
            send_ephemeral(client, command, workspace_export_refused_message())
            return
    # A failure here (the database is down) is answered by tells_user_on_failure, through the
    # command's response_url; an upload Slack never takes is told by DM (usecases.privacy).
    with deps.uow() as uow:
        queued = usecases.queue_export(
            uow,
            team_id=team_id,
            user_id=user_id,
            whole_workspace=whole_workspace,
            request_key=command.get("trigger_id") or uow.now().isoformat(),
        )
    if queued:
        send_ephemeral(client, command, export_on_its_way_message(workspace=whole_workspace))


# --- /rebound forget-me ----------------------------------------------------------------------


def ask_to_forget(client: WebClient, command: dict[str, Any]) -> None:
    """After the ack: the ephemeral confirmation with the danger button."""
    send_ephemeral(client, command, forget_me_confirmation(command["user_id"]))


def forget_clicker(client: WebClient, deps: Deps, body: dict[str, Any]) -> None:
    """Delete the clicking user's data, and only theirs: who is deleted comes from the
    payload's user (signed by Slack), never from the button's value."""
    clicker = body["user"]["id"]
    team_id = team_id_of(body)
    shown_to = ((body.get("actions") or [{}])[0] or {}).get("value")
    if shown_to != clicker:
        _reply_to_click(client, body, not_your_button_message())
        return
    try:
        with deps.uow() as uow:
            counts = usecases.forget_member(session=uow.session, team_id=team_id, user_id=clicker)
    except Exception:
        log.exception("forget-me failed")
        _reply_to_click(client, body, forget_failed_message())
        return
    log.info("forget-me: deleted %s rows for one member", sum(counts.values()))
    _reply_to_click(client, body, forgotten_message(counts), settled=True)


def ask_to_delete_workspace(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    """After the ack: admins get the confirmation; anyone else an explanation."""
    user_id = command["user_id"]
    if not is_rebound_admin(fetch_profile(client, user_id), user_id, deps.settings.admins):
        send_ephemeral(client, command, delete_workspace_refused_message())
        return
    send_ephemeral(client, command, delete_workspace_confirmation())


def delete_workspace_for_admin(client: WebClient, deps: Deps, body: dict[str, Any]) -> None:
    """The data is deleted at once (an uninstall waits for its grace period instead). Who may
    is checked again on the click: the button could have been forwarded."""
    clicker = body["user"]["id"]
    if not is_rebound_admin(fetch_profile(client, clicker), clicker, deps.settings.admins):
        _reply_to_click(client, body, delete_workspace_refused_message())
        return
    team_id = team_id_of(body)
    try:
        with deps.uow() as uow:
            deleted = usecases.delete_workspace_data(uow, team_id=team_id)
    except Exception:
        log.exception("deleting workspace data failed")
        _reply_to_click(client, body, forget_failed_message())
        return
    log.warning("workspace %s data deleted on an admin's request: %s", team_id, deleted)
    _reply_to_click(client, body, workspace_deleted_message(sum(deleted.values())), settled=True)


def _reply_to_click(
    client: WebClient, body: dict[str, Any], message: dict[str, Any], *, settled: bool = False
) -> None:
    """Answer a click on a confirmation. Once `settled` (done, or kept), the answer replaces
    the confirmation through the click's response_url (`replace_original`), the only way to
    change an ephemeral message, so its buttons can't be clicked again. Refusals and failures
    come as a new message and leave the buttons, to try again."""
    response_url = body.get("response_url")
    if response_url and post_to_response_url(response_url, message, replace_original=settled):
        return
    reply_to_click(client, body, message)
