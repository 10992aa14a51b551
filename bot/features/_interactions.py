"""What the click and form listeners share: the prelude of a button that names one row (and
the listener that runs it before a handler), opening a modal in answer to a click or a
command, and the first steps of a submitted form that names one row.

A row button's value is a row id the payload carries back; anyone can send a forged or stale
one, so a value that isn't a row id is acked and answered with nothing (bot.domain.text.
parse_row_id). Who clicked, and in which workspace, come from the payload (signed by Slack),
never from the value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.domain.text import parse_row_id
from bot.messaging import team_id_of

log = logging.getLogger(__name__)

S = TypeVar("S")  # what a form's parser makes of its answers: one of bot.domain's submissions


@dataclass(frozen=True)
class RowClick:
    """A click on a button naming one row: the app's deps, who clicked where, the row, and
    which of the buttons sharing a listener it was (its action_id)."""

    deps: Deps
    team_id: str
    user_id: str
    row_id: int
    action_id: str


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
    return RowClick(
        context["deps"], team_id_of(body), body["user"]["id"], row_id, action.get("action_id", "")
    )


RowClickHandler = Callable[[RowClick, WebClient, dict[str, Any]], None]
RowClickListener = Callable[[Ack, dict[str, Any], dict[str, Any], WebClient, BoltContext], None]


def on_row_click(handler: RowClickHandler) -> RowClickListener:
    """The Bolt listener for a row button whose answer is `handler(click, client, body)`: it
    acks and reads the click (row_click), and calls the handler only with a row id.

    Bolt passes a listener the arguments its parameters name, read through `inspect.unwrap`,
    and logs it by its name: so the listener takes the handler's name but no `__wrapped__`
    (functools.wraps would set it, and Bolt would then pass the handler's names)."""

    def listener(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        click = row_click(ack, body, action, context)
        if click is not None:
            handler(click, client, body)

    listener.__name__ = handler.__name__
    listener.__qualname__ = handler.__qualname__
    listener.__doc__ = handler.__doc__
    listener.__module__ = handler.__module__
    return listener


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


def form_row_and_answers(
    ack: Ack,
    view: dict[str, Any],
    read_row: Callable[[str], int | None],
    parse: Callable[[Mapping[str, Any]], tuple[S | None, dict[str, str]]],
) -> tuple[int, S] | None:
    """A submitted form's row (`read_row` of its private_metadata) and its answers (`parse` of
    its state). None once acked: without a row (a forged or garbled form) it just closes with
    nothing saved; with field errors it stays open, each said under its field."""
    row_id = read_row(view.get("private_metadata", ""))
    if row_id is None:
        ack()
        return None
    submission, errors = parse(view["state"]["values"])
    if submission is None:
        ack(response_action="errors", errors=errors)
        return None
    return row_id, submission
