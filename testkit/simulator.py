"""Send requests to a Rebound server exactly as Slack sends them, signed with the signing secret.

Used by the offline demo and by the tests. Formats follow Slack's docs: slash commands are a
form body, their `text` escaped as Slack escapes it for that command's `should_escape` in
manifest.yml (see `command_text_as_sent`); interactivity (`view_submission`, `block_actions`)
is a form body with one `payload` field holding JSON; the Events API is a JSON envelope, with
`X-Slack-Retry-Num` on redeliveries.

A sender with `enterprise_id` plays a workspace of an Enterprise Grid org (the app installed on
that workspace, not org-wide): each payload then names the enterprise where Slack puts it.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from testkit.clock import real_time

# What Slack does to a command's text lives in testkit.command_text; these names are still
# importable from here, where the tests, the demo and testkit.live have always found them.
from testkit.command_text import Directory as Directory
from testkit.command_text import NameDirectory as NameDirectory
from testkit.command_text import command_text_as_sent as command_text_as_sent
from testkit.command_text import should_escape as should_escape

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
        directory: Directory | None = None,
        manifest: Path | None = None,
        response_origin: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str = "",
    ) -> None:
        """`response_origin`: where response_urls point (the stand-in's origin, so the app's
        replies through them are served and recorded there); Slack's hooks host otherwise."""
        self.events_url = events_url
        self.response_origin = (response_origin or "https://hooks.slack.com").rstrip("/")
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        # Resolves typed @names and #channels when a command escapes them (e.g. the stand-in).
        self.directory = directory
        # Whose should_escape settings apply: the repository's manifest.yml unless given.
        self.manifest = manifest
        self.enterprise_id = enterprise_id
        self.enterprise_name = enterprise_name or (enterprise_id or "")

    # -- Enterprise Grid ---------------------------------------------------------------------
    def _enterprise(self) -> dict[str, str] | None:
        """Interactivity payloads' `enterprise`: {id, name} in a Grid org, else null (bolt-python
        tests/slack_bolt/request/test_internals.py `enterprise_no_channel_requests`; bolt-js
        PR #521 "button gets is_enterprise_install & enterprise: {id, name}")."""
        if self.enterprise_id is None:
            return None
        return {"id": self.enterprise_id, "name": self.enterprise_name}

    def _team(self) -> dict[str, str]:
        """Interactivity payloads' `team`; in a Grid org it also names the enterprise (bolt-python
        tests/scenario_tests/test_block_actions.py: "team": {"id", "domain", "enterprise_id",
        "enterprise_name"})."""
        team = {"id": self.team_id, "domain": self.team_domain}
        if self.enterprise_id is not None:
            team.update(enterprise_id=self.enterprise_id, enterprise_name=self.enterprise_name)
        return team

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
        # Signed with the real time, as Slack signs, even when a test travels in time: the app
        # checks the timestamp against its own real clock (testkit.clock.real_time).
        ts = str(int(real_time()) if timestamp is None else timestamp)
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

    def new_response_url(self, kind: str = "commands") -> str:
        """Shaped like Slack's hooks.slack.com/{commands|actions}/{team}/{id}/{token}. The id's
        first part is when it was made, in milliseconds, so the stand-in can expire it after 30
        minutes as Slack does."""
        issued = f"{int(time.time() * 1000)}.{next(_counter)}"
        return f"{self.response_origin}/{kind}/{self.team_id}/{issued}/{secrets.token_hex(12)}"

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
        """The form Slack posts for `command` typed with `text`, as a person types it in the
        composer (`@leo great call`, `AT&T <renewal>`): Slack's escaping is applied here."""
        sent_text = command_text_as_sent(
            text, escape=should_escape(command, self.manifest), directory=self.directory
        )
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": sent_text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url("commands"),
            "trigger_id": trigger_id or new_trigger_id(),
            # In a Grid org the command also carries enterprise_id and enterprise_name
            # (https://docs.slack.dev/interactivity/implementing-slash-commands).
            **(
                {"enterprise_id": self.enterprise_id, "enterprise_name": self.enterprise_name}
                if self.enterprise_id is not None
                else {}
            ),
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
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "deprecated-verification-token",
            "trigger_id": new_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
        }
        return payload

    def block_actions(self, **fields: Any) -> HttpReply:
        """A button click (or other element) in a message, an ephemeral message or a view.

        For an ephemeral message (`ephemeral_ts` = the message_ts chat.postEphemeral answered,
        or any ts for one sent through a response_url; `channel_id` = where it was shown) the
        payload carries `container.is_ephemeral: true` and no `message`, as in bolt-python's
        https://github.com/slackapi/bolt-python/blob/main/tests/scenario_tests/test_block_actions.py
        Message clicks carry a `response_url` (`response_url` picks it, else a new one).
        `state` is what the surface's stateful elements hold, in the `state.values` shape of
        `state_value()`."""
        payload = self.block_actions_payload(**fields)
        return self.post_form({"payload": json.dumps(payload)})

    def block_actions_payload(
        self,
        *,
        user_id: str,
        actions: list[dict[str, Any]],
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        ephemeral_ts: str | None = None,
        response_url: str | None = None,
        state: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The `payload` field of a block_actions click, as a dict (`block_actions` sends it)."""
        # Without `state`, what the view holds already, if anything.
        values = state if state is not None else ((view or {}).get("state") or {}).get("values")
        values = values or {}
        for action in actions:
            action.setdefault("action_ts", f"{time.time():.6f}")
            action.setdefault("block_id", _new_id("b"))
            action.setdefault("type", "button")
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "deprecated-verification-token",
            "team": self._team(),
            "trigger_id": new_trigger_id(),
            "actions": actions,
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
            # Every block_actions payload carries the full state of the surface's stateful
            # elements, input blocks or not; a view's own `state` holds the same values
            # (https://api.slack.com/changelog/2020-09-full-state-on-view-submisson-and-block-actions;
            # https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
            "state": {"values": values},
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "")}
            payload["view"] = {**view, "state": {"values": values}}
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
            payload["response_url"] = response_url or self.new_response_url("actions")
        elif ephemeral_ts is not None:
            channel = channel_id or ""
            payload["container"] = {
                "type": "message",
                "message_ts": ephemeral_ts,
                "channel_id": channel,
                "is_ephemeral": True,
            }
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["response_url"] = response_url or self.new_response_url("actions")
        return payload

    # -- Events API --------------------------------------------------------------------------
    def event_envelope(
        self, event: dict[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        event = {"event_ts": f"{time.time():.6f}", **event}
        envelope: dict[str, Any] = {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _new_id("Ev"),
            "event_time": int(time.time()),
            # One installation the event is visible to (Slack truncates the list to one): here
            # the app's bot on this workspace, in its Grid org if any, never an org-wide install
            # (https://docs.slack.dev/apis/events-api/#callback-field;
            # https://api.slack.com/enterprise/apps/reference "Sample event payload").
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": "U0REBOUNDBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        if self.enterprise_id is not None:
            # Grid envelopes name the org too (bolt-python tests/scenario_tests/
            # test_events_org_apps.py: "team_id": "T111", "enterprise_id": "E111").
            envelope["enterprise_id"] = self.enterprise_id
        return envelope

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

    def app_home_opened(
        self,
        user_id: str,
        *,
        event_id: str | None = None,
        view: dict[str, Any] | None = None,
    ) -> HttpReply:
        """`user_id` opens the Home tab. `view` is the Home view currently published for them
        (as views.publish answered it, with its `hash`); Slack sends it once a Home has been
        published at least once (https://docs.slack.dev/reference/events/app_home_opened)."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id[1:],
            "tab": "home",
        }
        if view is not None:
            event["view"] = view
        return self.send_event(self.event_envelope(event, event_id=event_id))

    def tokens_revoked(
        self, *, oauth: list[str] | None = None, bot: list[str] | None = None
    ) -> HttpReply:
        """The app's tokens in this workspace were revoked: `oauth` lists the user ids whose
        user tokens, `bot` the bot user ids whose bot tokens (Slack sends both keys when both
        kinds went; https://docs.slack.dev/reference/events/tokens_revoked)."""
        tokens: dict[str, list[str]] = {}
        if oauth is not None:
            tokens["oauth"] = list(oauth)
        if bot is not None:
            tokens["bot"] = list(bot)
        return self.send_event(self.event_envelope({"type": "tokens_revoked", "tokens": tokens}))


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
