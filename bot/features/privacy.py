"""Data rights: `/rebound export` (files in the DM), `/rebound forget-me` (delete my data after a
confirmation click) and the scheduled deletion of reflections past a workspace's retention.

`/rebound` routing lives in rebound_command; this module registers the buttons and the job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.privacy import (
    DELETE_WORKSPACE_CONFIRM_ACTION_ID,
    FORGET_ME_CANCEL_ACTION_ID,
    FORGET_ME_CONFIRM_ACTION_ID,
    delete_workspace_confirmation,
    delete_workspace_refused_message,
    export_comment,
    export_failed_message,
    export_on_its_way_message,
    forget_failed_message,
    forget_me_confirmation,
    forgotten_message,
    kept_message,
    not_your_button_message,
    workspace_deleted_message,
    workspace_export_refused_message,
)
from bot.delivery import Delivery, worker_name
from bot.messaging import post_to_response_url, reply_to_click, send_ephemeral, team_id_of
from bot.scheduler import ScheduledJob
from bot.slack_users import fetch_profile, is_rebound_admin
from bot.usecases import privacy as usecases
from storage import queries

log = logging.getLogger(__name__)
# Retention is in days; looking every few minutes is plenty and spares the database.
RETENTION_CHECK_EVERY = timedelta(minutes=10)
UPLOAD_LEASE = timedelta(minutes=5)


def register(app: App, deps: Deps) -> None:
    @app.action(FORGET_ME_CONFIRM_ACTION_ID)
    def forget_me_confirmed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        forget_clicker(client, deps, body)

    @app.action(DELETE_WORKSPACE_CONFIRM_ACTION_ID)
    def delete_workspace_confirmed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        delete_workspace_for_admin(client, deps, body)

    @app.action(FORGET_ME_CANCEL_ACTION_ID)
    def forget_me_cancelled(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        _reply_to_click(client, body, kept_message(), settled=True)


# --- /rebound export -------------------------------------------------------------------------


def send_export(client: WebClient, deps: Deps, command: dict[str, Any], scope: str) -> None:
    """After the ack: build the export and upload it to the asker's DM, once per command.

    `scope` is "workspace" for an admin's whole-workspace export, anything else for one's own.
    """
    team_id, user_id = command["team_id"], command["user_id"]
    whole_workspace = scope.lower() == "workspace"
    if whole_workspace:
        profile = fetch_profile(client, user_id)
        if not is_rebound_admin(profile, user_id, deps.settings.admins):
            send_ephemeral(client, command, workspace_export_refused_message())
            return
    now = deps.clock()
    with deps.session_factory() as session:
        if whole_workspace:
            files = usecases.workspace_export(session=session, team_id=team_id, now=now)
        else:
            files = usecases.personal_export(
                session=session, team_id=team_id, user_id=user_id, now=now
            )
        session.commit()
    key = f"export:{user_id}:{'workspace' if whole_workspace else 'me'}:" + (
        command.get("trigger_id") or now.isoformat()
    )
    try:
        uploaded = _upload_once(
            client,
            deps,
            team_id=team_id,
            user_id=user_id,
            key=key,
            files=files,
            comment=export_comment(
                workspace=whole_workspace, filenames=[f.filename for f in files]
            ),
        )
    except Exception:
        log.exception("export upload failed")
        send_ephemeral(client, command, export_failed_message())
        return
    if uploaded:
        send_ephemeral(client, command, export_on_its_way_message(workspace=whole_workspace))


def _upload_once(
    client: WebClient,
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    key: str,
    files: list[usecases.ExportFile],
    comment: str,
) -> bool:
    """Upload all files in one files upload v2 call, claimed in post_log so a retried command
    uploads once; False when this key was already uploaded."""
    with deps.session_factory() as session:
        claim = queries.claim_post(
            session=session,
            team_id=team_id,
            post_key=key,
            kind="export",
            claimed_by=worker_name(),
            now=deps.clock(),
            lease=UPLOAD_LEASE,
        )
        session.commit()
    if claim is None:
        return False
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            file_uploads=[
                {"content": f.content, "filename": f.filename, "title": f.title} for f in files
            ],
            initial_comment=comment,
        )
    except Exception:
        with deps.session_factory() as session:
            queries.release_post(session=session, post=claim)
            session.commit()
        raise
    with deps.session_factory() as session:
        queries.mark_post_sent(
            session=session, post=claim, channel_id=channel, message_ts=None, now=deps.clock()
        )
        session.commit()
    return True


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
        with deps.session_factory() as session:
            counts = usecases.forget_member(session=session, team_id=team_id, user_id=clicker)
            session.commit()
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
    from storage import oauth_queries

    clicker = body["user"]["id"]
    if not is_rebound_admin(fetch_profile(client, clicker), clicker, deps.settings.admins):
        _reply_to_click(client, body, delete_workspace_refused_message())
        return
    team_id = team_id_of(body)
    try:
        with deps.session_factory() as session:
            deleted = oauth_queries.purge_workspace_data(
                session=session, team_id=team_id, keep_installation=True
            )
            session.commit()
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


# --- retention -------------------------------------------------------------------------------


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, ScheduledJob]]:
    last_run: list[datetime] = []

    def delete_expired_reflections(now: datetime) -> None:
        if last_run and now - last_run[-1] < RETENTION_CHECK_EVERY:
            return
        with deps.session_factory() as session:
            deleted = usecases.apply_reflection_retention(session=session, now=now)
            session.commit()
        last_run[:] = [now]
        for team_id, count in deleted.items():
            log.info("retention: deleted %d old reflections in %s", count, team_id)

    return [("privacy.reflection_retention", delete_expired_reflections)]
