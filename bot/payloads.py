"""Is a signed Slack request shaped the way Slack sends it? Checked before Bolt sees it.

A signature says a request came from someone holding the signing secret, not that its fields
have the types Slack documents. A payload whose `event_id` is an object, whose `user` is a
number or whose `view.state.values` is a list would otherwise trip Bolt's own bookkeeping or a
listener, or reach the database as a value it refuses: a 500 that Slack retries, and a traceback
per request in the log. Here it is one 400 and one log line instead.

The shapes follow Slack's reference: slash commands, every field a string
(https://docs.slack.dev/tools/bolt-js/reference/interfaces/SlashCommand), the Events API
envelope with string `event_id` and `team_id`
(https://docs.slack.dev/tools/bolt-js/reference/interfaces/EnvelopedEvent), `block_actions`
(https://docs.slack.dev/reference/interaction-payloads/block_actions-payload) and
`view_submission`, whose `team`, `user` and `view` are required
(https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload).
Text a person typed (state values, command text) is left to the parse functions, which answer
with a field error; only what Slack itself fills in is checked here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

# Slack's IDs (T…, U…, C…, Ev…, trigger ids "123.456.abc") are short ASCII; anything else in
# an ID field (NUL, a lone surrogate, kilobytes of text) is not from Slack and would reach the
# database as a key.
_ID = re.compile(r"[A-Za-z0-9._-]{0,255}", re.ASCII)
_INTERACTIVE_TYPES = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}
)
_ENVELOPE_IDS = ("event_id", "team_id", "enterprise_id", "api_app_id", "user_id", "channel_id")
_COMMAND_FIELDS = ("command", "user_id", "team_id", "channel_id")
_VIEW_STRINGS = ("id", "type", "callback_id", "private_metadata", "hash", "external_id")
_VIEW_IDS = ("team_id", "app_installed_team_id", "app_id", "bot_id", "root_view_id")
_SELECTED_ONE_ID = ("selected_user", "selected_channel", "selected_conversation")
_SELECTED_MANY_IDS = ("selected_users", "selected_channels", "selected_conversations")
_SELECTED_TEXT = ("selected_date", "selected_time", "action_ts")
# Fields of the events Rebound listens to that its listeners read.
_EVENT_IDS: Mapping[str, tuple[str, ...]] = {"app_home_opened": ("user",)}


class Malformed(ValueError):
    """What is wrong with a payload, in a few words for the log."""


def parse_request(content_type: str, raw: bytes) -> dict[str, Any]:
    """The payload as Bolt will read it (same rules as slack_bolt.request.internals.parse_body:
    JSON when declared or when it starts with "{", else a form, whose `payload` field is
    JSON). Raises Malformed when that can't give an object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("body is not UTF-8") from None
    if not text:
        return {}
    media_type = content_type.split(";", 1)[0].strip()
    if media_type == "application/json" or text.startswith("{"):
        return _json_object(text, "body")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:  # interactivity: one form field holding JSON (a word in a
        return _json_object(fields["payload"], "payload")  # command's text is not one)
    return fields


def check_payload(body: Mapping[str, Any]) -> None:
    """Raise Malformed unless `body` has the shape Slack documents for its kind."""
    if body.get("ssl_check") == "1":
        # Slack's periodic certificate check of a slash command URL: `ssl_check=1&token=…`,
        # answered 200 by Bolt's SslCheck middleware (slack_bolt/middleware/ssl_check, after
        # https://docs.slack.dev/interactivity/implementing-slash-commands/).
        return
    if "command" in body:
        for key in _COMMAND_FIELDS:
            _id_or_text(body, key, required=True, text=key == "command")
        return
    kind = body.get("type")
    if not isinstance(kind, str):
        raise Malformed("no string `type`" if kind is None else "`type` is not a string")
    for key in _ENVELOPE_IDS:
        _id_or_text(body, key)
    for key in ("trigger_id", "response_url", "token"):
        _string(body, key)
    _id_holder(body, "team")
    _id_holder(body, "enterprise")
    _id_holder(body, "channel")
    _authorizations(body.get("authorizations"))
    # Whatever the type, Bolt reads these when present (even to log an unhandled request).
    for key in ("view", "event"):
        if key in body and not isinstance(body[key], dict):
            raise Malformed(f"`{key}` is not an object")
    for key in ("container", "message"):
        _object(body, key)
    _list_of_objects(body.get("actions"), "actions")
    if "is_enterprise_install" in body and not isinstance(
        body["is_enterprise_install"], bool | str | None
    ):
        raise Malformed("`is_enterprise_install` is not a boolean")
    if kind == "event_callback":
        _event_callback(body)
    elif kind == "url_verification":
        _string(body, "challenge", required=True)
    elif kind in _INTERACTIVE_TYPES:
        _interactive(body, kind)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is JSON but not an object")
    return value


def _string(body: Mapping[str, Any], key: str, *, required: bool = False) -> None:
    value = body.get(key)
    if value is None:
        if required:
            raise Malformed(f"no `{key}`")
        return
    if not isinstance(value, str):
        raise Malformed(f"`{key}` is not a string")


def _id_or_text(
    body: Mapping[str, Any], key: str, *, required: bool = False, text: bool = False
) -> None:
    _string(body, key, required=required)
    value = body.get(key)
    if isinstance(value, str) and not text and not _ID.fullmatch(value):
        raise Malformed(f"`{key}` is not a Slack ID")
    if isinstance(value, str) and text and (len(value) > 255 or "\x00" in value):
        raise Malformed(f"`{key}` is not a command name")


def _id_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, str) and _ID.fullmatch(i) for i in value)


def _object(body: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    value = body.get(key)
    if value is None:
        if required:
            raise Malformed(f"no `{key}`")
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"`{key}` is not an object")
    return value


def _id_holder(body: Mapping[str, Any], key: str, *, required: bool = False) -> None:
    """`team`, `user`, `channel`, `enterprise`: an object with a string `id` (Bolt also takes
    a bare ID string, as the Events API sends `user` inside an event)."""
    value = body.get(key)
    if isinstance(value, str):
        _id_or_text(body, key)
        return
    holder = _object(body, key, required=required)
    if holder:
        _id_or_text(holder, "id", required=required)
        _id_or_text(holder, "team_id")


def _list_of_objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Malformed(f"`{what}` is not a list of objects")
    return value


def _authorizations(value: Any) -> None:
    for item in _list_of_objects(value, "authorizations"):
        for key in ("team_id", "enterprise_id", "user_id"):
            _id_or_text(item, key)


def _event_callback(body: Mapping[str, Any]) -> None:
    _id_or_text(body, "event_id", required=True)
    _id_or_text(body, "team_id", required=True)
    event = _object(body, "event", required=True)
    _string(event, "type", required=True)
    for key in ("user", "channel", "team", "user_team"):
        _id_holder(event, key)
    for key in ("tab", "ts", "event_ts", "thread_ts"):
        _string(event, key)
    for key in _EVENT_IDS.get(event["type"], ()):
        _id_or_text(event, key, required=True)
    tokens = _object(event, "tokens")
    for key in ("oauth", "bot"):
        listed = tokens.get(key)
        if listed is not None and not _id_list(listed):
            raise Malformed(f"`event.tokens.{key}` is not a list of IDs")


def _interactive(body: Mapping[str, Any], kind: str) -> None:
    if not isinstance(body.get("user"), dict):
        raise Malformed("`user` is not an object")
    _id_holder(body, "user", required=True)
    team = body.get("team")
    user = body["user"]
    if not (
        (isinstance(team, dict) and team.get("id"))
        or body.get("team_id")
        or (isinstance(user, dict) and user.get("team_id"))
    ):
        raise Malformed("no workspace (`team.id` or `user.team_id`)")
    container = _object(body, "container")
    for key in ("type", "message_ts", "view_id"):
        _string(container, key)
    _id_or_text(container, "channel_id")
    message = _object(body, "message")
    for key in ("ts", "text"):
        _string(message, key)
    for item in _list_of_objects(body.get("response_urls"), "response_urls"):
        _string(item, "response_url")
    _view(body, required=kind in ("view_submission", "view_closed"))
    actions = _list_of_objects(body.get("actions"), "actions")
    if kind == "block_actions" and not actions:
        raise Malformed("`actions` is empty")
    for action in actions:
        for key in ("action_id", "block_id", "type"):
            _string(action, key, required=key != "block_id")
        _element_value(action, "an action")


def _view(body: Mapping[str, Any], *, required: bool) -> None:
    view = _object(body, "view", required=required)
    if not view:
        return
    for key in _VIEW_STRINGS:
        _string(view, key)
    for key in _VIEW_IDS:
        _id_or_text(view, key)
    for block in _list_of_objects(view.get("blocks"), "view.blocks"):
        for key in ("type", "block_id"):
            _string(block, key)
    state = _object(view, "state", required=required)
    values = _object(state, "values", required=required)
    for block_id, elements in values.items():
        if not isinstance(elements, dict):
            raise Malformed("`view.state.values` is not {block_id: {action_id: {...}}}")
        for element in elements.values():
            if not isinstance(element, dict):
                raise Malformed("`view.state.values` is not {block_id: {action_id: {...}}}")
            _string(element, "type", required=True)
            _element_value(element, f"the state of block {block_id!r}"[:80])


def _element_value(element: Mapping[str, Any], what: str) -> None:
    """The value fields Slack fills in for an input or action element
    (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission)."""
    problem = f"{what} has a value of the wrong type"
    value = element.get("value")
    if value is not None and not isinstance(value, str):
        raise Malformed(problem)
    for key in _SELECTED_TEXT:
        if element.get(key) is not None and not isinstance(element[key], str):
            raise Malformed(problem)
    for key in _SELECTED_ONE_ID:
        chosen = element.get(key)
        if chosen is not None and not (isinstance(chosen, str) and _ID.fullmatch(chosen)):
            raise Malformed(problem)
    for key in _SELECTED_MANY_IDS:
        chosen = element.get(key)
        if chosen is not None and not _id_list(chosen):
            raise Malformed(problem)
    option = element.get("selected_option")
    options = element.get("selected_options")
    for item in ([option] if option is not None else []) + _list_of_objects(options, "options"):
        if not isinstance(item, dict) or not isinstance(item.get("value", ""), str):
            raise Malformed(problem)
    if element.get("selected_date_time") is not None and not isinstance(
        element["selected_date_time"], int
    ):
        raise Malformed(problem)
