"""What the click listeners share: the prelude of a button that names one row, and opening a
modal in answer to a click or a command.

A row button's value is a row id the payload carries back; anyone can send a forged or stale
one, so a value that isn't a row id is acked and answered with nothing (bot.domain.text.
parse_row_id). Who clicked, and in which workspace, come from the payload (signed by Slack),
never from the value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.domain.text import parse_row_id
from bot.messaging import team_id_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowClick:
    """A click on a button naming one row: the app's deps, who clicked where, and the row."""

    deps: Deps
    team_id: str
    user_id: str
    row_id: int


def row_click(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> RowClick | None:
    """Ack the click (Slack wants it within 3 seconds, whatever follows), then read it; None
    when the button's value is not a row id (forged or garbled): nothing to do or say."""
    ack()
    try:
        row_id = parse_row_id(action.get("value"))
    except ValueError:
        return None
    return RowClick(context["deps"], team_id_of(body), body["user"]["id"], row_id)


def open_modal(client: WebClient, trigger_id: str, view: dict[str, Any], *, what: str) -> bool:
    """views.open with a click's or a command's trigger id; False (logged) when Slack refused
    it (e.g. the trigger id's 3 seconds were over), for the caller to tell the person or not.
    `what` names the form in the log."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        log.warning("views.open for %s failed: %s", what, error.response.get("error"))
        return False
    return True
