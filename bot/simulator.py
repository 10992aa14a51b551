"""Send requests to a Rebound server exactly as Slack sends them, signed with the signing secret.

Used by the offline demo and by the tests. Formats follow Slack's docs: slash commands are a
form body; interactivity (`view_submission`, `block_actions`) is a form body with one `payload`
field holding JSON; the Events API is a JSON envelope, with `X-Slack-Retry-Num` on redeliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

_counter = itertools.count(1)


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def new_trigger_id() -> str:
    """Shaped like Slack's ("<digits>.<digits>.<hex>"); the first part is when it was made, in
    milliseconds, so the stand-in can expire it after 3 seconds as Slack does."""
    return f"{int(time.time() * 1000)}.{next(_counter)}.{secrets.token_hex(8)}"


def _new_id(prefix: str) -> str:
    return f"{prefix}{int(time.time() * 1000) % 10**9:09d}{next(_counter):05d}"


class SlackSender:
    """Plays Slack's side of the HTTP conversation against `events_url`."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0REBOUND",
        team_domain: str = "rebound-demo",
        api_app_id: str = "A0REBOUND",
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id

    # -- transport ---------------------------------------------------------------------------
    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        extra_headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
        timeout: float = 10.0,
    ) -> HttpReply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or slack_signature(self.signing_secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        headers.update(extra_headers or {})
        request = urllib.request.Request(self.events_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return HttpReply(
                    response.status, dict(response.headers), response.read().decode("utf-8")
                )
        except urllib.error.HTTPError as error:
            return HttpReply(error.code, dict(error.headers), error.read().decode("utf-8"))

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> HttpReply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    # -- slash commands ----------------------------------------------------------------------
    def slash_command_fields(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        user_name: str = "",
        channel_id: str = "C0GENERAL",
        channel_name: str = "general",
        trigger_id: str | None = None,
    ) -> dict[str, str]:
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": f"https://hooks.slack.com/commands/{self.team_id}/{_new_id('')}/x",
            "trigger_id": trigger_id or new_trigger_id(),
        }

    def slash_command(self, command: str, text: str = "", **kwargs: Any) -> HttpReply:
        return self.post_form(self.slash_command_fields(command, text, **kwargs))

    # -- interactivity -----------------------------------------------------------------------
    def _user(self, user_id: str) -> dict[str, str]:
        return {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": self.team_id,
        }

    def view_submission(
        self, view: dict[str, Any], *, user_id: str, values: dict[str, dict[str, Any]]
    ) -> HttpReply:
        """Submit `view` (as the app opened it) with `values` in Slack's `state.values` shape:
        {block_id: {action_id: {"type": ..., <value fields>}}}. Use `state_value()` to build."""
        payload = self.view_submission_payload(view, user_id=user_id, values=values)
        return self.post_form({"payload": json.dumps(payload)})

    def view_submission_payload(
        self, view: dict[str, Any], *, user_id: str, values: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """The `payload` field of a view_submission, as a dict (see `view_submission`)."""
        submitted = {
            "id": view.get("id") or _new_id("V"),
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": values},
            "hash": view.get("hash") or _new_id("h"),
            "title": view.get("title"),
            "clear_on_close": False,
            "notify_on_close": False,
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": view.get("id"),
            "app_id": self.api_app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": "B0REBOUND",
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "deprecated-verification-token",
            "trigger_id": new_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return payload

    def block_actions(
        self,
        *,
        user_id: str,
        actions: list[dict[str, Any]],
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
    ) -> HttpReply:
        """A button click (or other element) in a message or a view."""
        payload = self.block_actions_payload(
            user_id=user_id, actions=actions, view=view, message=message, channel_id=channel_id
        )
        return self.post_form({"payload": json.dumps(payload)})

    def block_actions_payload(
        self,
        *,
        user_id: str,
        actions: list[dict[str, Any]],
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        """The `payload` field of a block_actions, as a dict (see `block_actions`)."""
        for action in actions:
            action.setdefault("action_ts", f"{time.time():.6f}")
            action.setdefault("block_id", _new_id("b"))
            action.setdefault("type", "button")
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "deprecated-verification-token",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "trigger_id": new_trigger_id(),
            "actions": actions,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "")}
            payload["view"] = view
        if message is not None:
            channel = channel_id or message.get("channel", "")
            payload["container"] = {
                "type": "message",
                "message_ts": message.get("ts", ""),
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["message"] = message
            payload["response_url"] = f"https://hooks.slack.com/actions/{self.team_id}/x/y"
        return payload

    # -- Events API --------------------------------------------------------------------------
    def event_envelope(
        self, event: dict[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        event = {"event_ts": f"{time.time():.6f}", **event}
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _new_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": "U0REBOUNDBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def send_event(
        self,
        envelope: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> HttpReply:
        headers = {}
        if retry_num:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(json.dumps(envelope).encode(), "application/json", extra_headers=headers)

    def app_home_opened(self, user_id: str, *, event_id: str | None = None) -> HttpReply:
        envelope = self.event_envelope(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D" + user_id[1:],
                "tab": "home",
            },
            event_id=event_id,
        )
        return self.send_event(envelope)


def state_value(element_type: str, value: Any) -> dict[str, Any]:
    """One input's entry in `view.state.values`, the way Slack reports it."""
    if element_type in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        return {"type": element_type, "value": value}
    if element_type in ("static_select", "radio_buttons", "external_select"):
        option = (
            None
            if value is None
            else {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
        )
        return {"type": element_type, "selected_option": option}
    if element_type == "checkboxes":
        return {
            "type": element_type,
            "selected_options": [
                {"text": {"type": "plain_text", "text": str(v)}, "value": str(v)} for v in value
            ],
        }
    if element_type == "users_select":
        return {"type": element_type, "selected_user": value}
    if element_type == "multi_users_select":
        return {"type": element_type, "selected_users": list(value)}
    if element_type == "channels_select":
        return {"type": element_type, "selected_channel": value}
    if element_type == "conversations_select":
        return {"type": element_type, "selected_conversation": value}
    if element_type == "datepicker":
        return {"type": element_type, "selected_date": value}
    raise ValueError(f"no state shape for {element_type}")
