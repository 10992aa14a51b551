"""`/rebound`: help, settings (admins only), and a helpful answer to anything else."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.help import help_message
from bot.blocks.settings import (
    SETTINGS_CALLBACK_ID,
    SETTINGS_CHANGED_ERROR,
    not_admin_message,
    parse_settings_submission,
    settings_modal,
    settings_version_of,
)
from bot.features import goals, privacy
from bot.features._interactions import open_modal
from bot.features.debriefs import reply_with_lessons
from bot.messaging import send_ephemeral, team_id_of, tells_user_on_failure
from bot.slack_text import unescape_command_text
from bot.slack_users import SlackUnavailable, fetch_profile, is_rebound_admin, lookup_profile
from bot.usecases.crm_connections import crm_status
from bot.usecases.members import member_name
from bot.usecases.settings import SettingsChanged, current_settings, record_settings

log = logging.getLogger(__name__)


# Each answers after the ack (an admin check, a search, charts, files: all slower than 3 s
# can allow). Arguments: the client, deps, the command payload, and the words after the name.
Subcommand = Callable[[WebClient, Deps, dict[str, Any], str], None]
REBOUND_SUBCOMMANDS: dict[str, Subcommand] = {
    "settings": lambda client, deps, command, rest: open_settings(client, deps, command),
    "lessons": reply_with_lessons,
    "report": lambda client, deps, command, rest: goals.send_report(client, deps, command),
    "export": privacy.send_export,
    "forget-me": lambda client, deps, command, rest: privacy.ask_to_forget(client, command),
    "delete-workspace-data": lambda client, deps, command, rest: privacy.ask_to_delete_workspace(
        client, deps, command
    ),
    "help": lambda client, deps, command, rest: None,  # answered in the ack itself
}


def register(app: App, deps: Deps) -> None:
    """What answers which request (the listeners read `deps` from Bolt's context)."""
    app.command("/rebound")(rebound_command)
    app.view(SETTINGS_CALLBACK_ID)(settings_submitted)


@tells_user_on_failure
def rebound_command(
    ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    words = (command.get("text") or "").split()
    name = words[0].lower() if words else "help"
    if name == "help":
        ack(**help_message())
        return
    handler = REBOUND_SUBCOMMANDS.get(name)
    if handler is None:
        # Shown as typed (Slack escaped it: /rebound escapes mentions), escaped again there.
        ack(**help_message(unknown=unescape_command_text(words[0])))
        return
    ack()
    handler(client, context["deps"], command, " ".join(words[1:]))


def settings_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    # Checked again at the moment of saving: the modal may have been opened by someone who
    # is no longer an admin, or forged by someone who never was.
    user_id = body["user"]["id"]
    refusal = _settings_refusal(client, deps, user_id)
    if refusal is not None:
        ack(response_action="errors", errors={SETTINGS_FIRST_BLOCK_ID: refusal})
        return
    team_id = team_id_of(body)
    submission, errors = parse_settings_submission(
        view["state"]["values"], name_of=lambda member_id: _member_name(deps, team_id, member_id)
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    # Saved before ack on purpose: a short local write, and if it fails the admin still has
    # the modal open with everything they chose, instead of a closed modal and lost input.
    # The "settings saved" DM is queued in the same transaction.
    try:
        with deps.uow() as uow:
            record_settings(
                uow,
                team_id=team_id,
                admin_user_id=user_id,
                submission=submission,
                version=settings_version_of(view),
                submission_key=str(view.get("id") or ""),
            )
    except SettingsChanged:
        ack(
            response_action="errors",
            errors={SETTINGS_FIRST_BLOCK_ID: SETTINGS_CHANGED_ERROR},
        )
        return
    except Exception:
        log.exception("saving settings failed")
        ack(
            response_action="errors",
            errors={"checkin_weekday": "Couldn't save just now. Please try Save again."},
        )
        return
    ack()


def _member_name(deps: Deps, team_id: str, user_id: str) -> str | None:
    """The person's name from our member record (no Slack call: the modal waits for the ack)."""
    try:
        with deps.uow() as uow:
            return member_name(uow, team_id=team_id, user_id=user_id)
    except Exception:
        log.exception("reading a member's name failed")
        return None


# A view_submission's errors are keyed by the block_id of the input they show under (the first
# one here): https://docs.slack.dev/tools/bolt-js/reference/interfaces/ViewErrorsResponseAction
SETTINGS_FIRST_BLOCK_ID = "recognition_channel"
# The admin check runs before the ack, which Slack wants within 3 seconds
# (https://docs.slack.dev/tools/bolt-js/concepts/acknowledge): one short try, no retries.
ADMIN_CHECK_TIMEOUT_SECONDS = 1.5
NOT_ADMIN_ERROR = (
    "Only Rebound admins can change settings — workspace owners and admins, and anyone listed "
    "in REBOUND_ADMINS. Nothing was changed."
)
ADMIN_CHECK_FAILED_ERROR = "I couldn't check with Slack just now. Please try Save again."


def settings_refusal(
    client: WebClient, deps: Deps, user_id: str, not_admin: str = ""
) -> str | None:
    """Why `user_id` may not save settings right now, or None when they may (`not_admin`: the
    words for someone who isn't an admin, when not the settings' own)."""
    refusal = _settings_refusal(client, deps, user_id)
    return not_admin if refusal == NOT_ADMIN_ERROR and not_admin else refusal


def _settings_refusal(client: WebClient, deps: Deps, user_id: str) -> str | None:
    """Why `user_id` may not save settings right now, or None when they may."""
    if user_id in deps.settings.admins:
        return None
    quick = WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=ADMIN_CHECK_TIMEOUT_SECONDS,
        retry_handlers=[],
    )
    try:
        profile = lookup_profile(quick, user_id)
    except SlackUnavailable:
        return ADMIN_CHECK_FAILED_ERROR
    if not is_rebound_admin(profile, user_id, deps.settings.admins):
        log.warning("settings submission refused: %s is not an admin", user_id)
        return NOT_ADMIN_ERROR
    return None


def open_settings(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    user_id = command["user_id"]
    profile = fetch_profile(client, user_id)
    if not is_rebound_admin(profile, user_id, deps.settings.admins):
        send_ephemeral(client, command, not_admin_message())
        return
    with deps.uow() as uow:
        current = current_settings(session=uow.session, team_id=command["team_id"])
        # Many workspaces: each connects its own CRM (one workspace: the HUBSPOT_* settings).
        crm = (
            crm_status(
                uow,
                team_id=command["team_id"],
                global_hubspot_secret=bool(deps.settings.hubspot_client_secret),
            )
            if deps.settings.oauth_mode
            else None
        )
    if not open_modal(
        client, command["trigger_id"], settings_modal(current, crm), what="/rebound settings"
    ):
        send_ephemeral(
            client,
            command,
            {
                "text": "Slack didn't let me open the settings just now. Please run "
                "`/rebound settings` again."
            },
        )
