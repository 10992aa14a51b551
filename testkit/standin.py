"""A local stand-in for the Slack Web API, for tests and the offline demo.

No machine here reaches Slack, so the app's ``WebClient(base_url=SLACK_API_URL)`` talks to this
server instead. It answers as Slack answers (HTTP 200 with ``{"ok": false, "error": ...}`` for
API errors), records every call, rejects payloads that break Slack's documented Block Kit limits
with Slack's own error codes, and can answer 429 + ``Retry-After`` or 5xx on demand so the app's
retry and pacing code is exercised for real.

It also plays Slack's Socket Mode side: ``apps.connections.open`` answers a ``ws://`` URL on the
same port, where a minimal RFC 6455 WebSocket endpoint says ``hello``, sends envelopes a test
asks for (``send_socket_envelope``) and records the acks the app sends back (``socket_acks``).

It serves the response_urls the simulator hands out (``/commands/…`` and ``/actions/…`` on
its origin): POSTs are recorded (``responses_to``, ``wait_for_responses``) within Slack's limit
of 5 uses in 30 minutes. Channels have kinds (public, private with members, with or without
the bot, and DMs between two people) so chat.postEphemeral fails where Slack's does.

Run it standalone with ``python -m testkit.standin --port 8765``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import math
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import default as default_email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import parse_qs, parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Parameters Slack accepts as JSON strings inside form bodies; recorded decoded.
# metadata: chat.postMessage's message metadata, a JSON object sent form-encoded as a string
# (https://docs.slack.dev/reference/methods/chat.postMessage, "metadata").
_JSON_ENCODED_PARAMS = ("blocks", "view", "attachments", "files", "metadata")

# Documented Block Kit and message limits (https://docs.slack.dev/reference/block-kit).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_URL = 3_000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON_TEXT = 24
MAX_PRIVATE_METADATA = 3_000
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255
MAX_INPUT_LABEL = 2_000
MAX_INPUT_HINT = 2_000
MAX_PLACEHOLDER = 150
MAX_SELECT_OPTIONS = 100
MAX_CHOICE_OPTIONS = 10  # radio_buttons and checkboxes
MAX_OVERFLOW_OPTIONS = 5
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
MAX_TEXT_INPUT_LENGTH = 3_000
MAX_ALT_TEXT = 2_000
MAX_IMAGE_TITLE = 2_000

KNOWN_BLOCK_TYPES = frozenset(
    {"section", "header", "divider", "context", "actions", "input", "image", "rich_text"}
)
KNOWN_VIEW_TYPES = ("modal", "home")
_SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
_PLACEHOLDER_ELEMENT_TYPES = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
    }
)
KNOWN_ELEMENT_TYPES = _PLACEHOLDER_ELEMENT_TYPES | frozenset(
    {"button", "overflow", "radio_buttons", "checkboxes", "image", "datetimepicker"}
)

TRIGGER_ID_LIFETIME_SECONDS = 3.0
# A response_url takes "up to 5 times within 30 minutes of the user's invocation" (slash
# commands: https://docs.slack.dev/interactivity/implementing-slash-commands, "Delayed
# responses and multiple responses"; clicks: https://api.slack.com/interactivity/handling
# #message_responses).
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60
# The paths the simulator builds its response_urls on, like hooks.slack.com/commands/… and
# hooks.slack.com/actions/…: /<kind>/<team id>/<issued ms>.<n>/<token>.
RESPONSE_URL_KINDS = ("commands", "actions")
_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral")
# Methods that authenticate with something other than a Web API token.
_TOKENLESS_METHODS = frozenset({"oauth.v2.access"})
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

# Socket Mode: the WebSocket path apps.connections.open hands out, and what Slack sends over it.
SOCKET_PATH = "/socket"
SOCKET_ENVELOPE_TYPES = frozenset({"events_api", "slash_commands", "interactive"})
_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
_OPCODE_CONTINUATION = 0x0
_OPCODE_TEXT = 0x1
_OPCODE_BINARY = 0x2
_OPCODE_CLOSE = 0x8
_OPCODE_PING = 0x9
_OPCODE_PONG = 0xA
_CLOSE_NORMAL = 1000
_CLOSE_GOING_AWAY = 1001
_CLOSE_PROTOCOL_ERROR = 1002
# A message larger than this is a broken client, not a Slack ack; refuse it instead of buffering.
_MAX_SOCKET_MESSAGE = 16 * 1024 * 1024

_TZ_LABELS: dict[str, tuple[str, str]] = {
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "America/Chicago": ("Central Standard Time", "Central Daylight Time"),
    "America/Denver": ("Mountain Standard Time", "Mountain Daylight Time"),
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "Europe/Berlin": ("Central European Time", "Central European Summer Time"),
    "Europe/Paris": ("Central European Time", "Central European Summer Time"),
    "Asia/Tokyo": ("Japan Standard Time", "Japan Standard Time"),
    "UTC": ("Coordinated Universal Time", "Coordinated Universal Time"),
}


@dataclass
class StandInUser:
    id: str
    name: str
    real_name: str
    tz: str = "America/New_York"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    # profile.email, which Slack shows apps with users:read.email (users.lookupByEmail finds it).
    email: str | None = None


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the stand-in saw it, with the answer it gave."""

    method: str
    params: dict[str, Any]
    token: str | None
    ok: bool
    error: str | None
    at: float
    # The JSON body answered; handy to learn assigned ids (view ids, message ts).
    response: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # time.perf_counter() when the request's body had arrived, before any checking: benches
    # in the same process time "sent -> Slack received it" against it (`at` is wall-clock
    # time taken after answering, for people reading a log).
    received: float = field(default=0.0, compare=False, repr=False)
    # What the client was told when that differs from what happened: a call that posted its
    # message but was answered 502 (or not at all) is ok=True (Slack has it), answered=502
    # (or 0 for a hang), so duplicates show up in counts of posts.
    answered: int = field(default=200, compare=False)

    @property
    def conversation(self) -> str | None:
        """The conversation the call was addressed to: its `channel`, a user id read as that
        user's DM (chat.postMessage takes one: SlackStandIn._chat_post_message)."""
        channel = self.params.get("channel")
        if not isinstance(channel, str):
            return None
        return _dm_channel_id(channel) if channel[:1] in ("U", "W") else channel


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST to a response_url, with the answer the stand-in gave."""

    path: str  # e.g. /commands/T0REBOUND/1700000000000.1/abc
    body: dict[str, Any]
    status: int
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _ChannelInfo:
    """What the stand-in knows of a channel beyond its name, to model who can post there.

    `members` None means everyone in the workspace is in it (a public channel's default)."""

    private: bool = False
    members: frozenset[str] | None = None
    bot_is_member: bool = True


@dataclass
class _Fault:
    status: int
    retry_after: int
    remaining: int
    # "refuse": answer `status` without acting (429, or a 5xx before Slack did anything);
    # "accept": act (a message IS posted), then answer `status` (a 5xx after the fact);
    # "hang": act, then hold the answer `hang_seconds` (past the client's timeout).
    mode: str = "refuse"
    hang_seconds: float = 0.0
    error: str | None = None  # "refuse" with HTTP 200: this ok=false error
    # Only calls addressed to this user (a DM, by U- or D- id, or conversations.open's users)
    # or channel meet the fault; None: any call to the method.
    to: str | None = None


@dataclass
class _TokenBucket:
    per_second: float
    tokens: float
    refilled_at: float

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_second)

    def take(self, now: float) -> int | None:
        """Take one token; None when allowed, else the whole seconds to wait."""
        elapsed = max(0.0, now - self.refilled_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.refilled_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self.tokens) / self.per_second))


# files.getUploadURLExternal: an alt_txt longer than 1,000 characters is alt_txt_too_large
# ("Description for the image is longer than the limit of 1000 character").
# https://api.slack.com/methods/files.getUploadURLExternal
MAX_ALT_TXT = 1000


@dataclass
class _StoredFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    alt_txt: str | None = None
    title: str | None = None
    # Where files.completeUploadExternal shared it: conversation id -> the share's ts.
    shares: dict[str, str] = field(default_factory=dict)


class SlackApiErrorAnswer(Exception):
    """An API error answer: ``{"ok": false, "error": error, **extra}`` with HTTP 200."""

    def __init__(self, error: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra or {}


def _problem_too_long(pointer: str, limit: int) -> str:
    # Slack words a maximum of N characters as "less than N+1".
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _problem_too_many(pointer: str, limit: int) -> str:
    return f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"


def _problem_missing(pointer: str, name: str) -> str:
    return f"[ERROR] missing required field: {name} [json-pointer:{pointer}]"


class BlockKitChecker:
    """Collects Slack-style problem messages for blocks and views that break documented limits."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def _add(self, problem: str) -> None:
        self.problems.append(problem)

    def check_string(self, value: Any, pointer: str, limit: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self._add(f"[ERROR] must be a string [json-pointer:{pointer}]")
        elif len(value) > limit:
            self._add(_problem_too_long(pointer, limit))

    def check_text_object(
        self,
        obj: Any,
        pointer: str,
        limit: int,
        *,
        plain_text_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                parent, _, name = pointer.rpartition("/")
                self._add(_problem_missing(parent or "/", name))
            return
        if not isinstance(obj, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        allowed = ("plain_text",) if plain_text_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self._add(f"[ERROR] must be one of {', '.join(allowed)} [json-pointer:{pointer}/type]")
        text = obj.get("text")
        if not isinstance(text, str):
            self._add(_problem_missing(pointer, "text"))
        elif not text:
            self._add(f"[ERROR] must be more than 0 characters [json-pointer:{pointer}/text]")
        elif len(text) > limit:
            self._add(_problem_too_long(f"{pointer}/text", limit))

    def check_blocks(self, blocks: Any, pointer: str, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self._add(f"[ERROR] must be an array [json-pointer:{pointer}]")
            return
        if len(blocks) > max_blocks:
            self._add(_problem_too_many(pointer, max_blocks))
        seen_block_ids: set[str] = set()
        for index, block in enumerate(blocks):
            self.check_block(block, f"{pointer}/{index}", seen_block_ids)

    def check_block(self, block: Any, pointer: str, seen_block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        block_type = block.get("type")
        if block_type is None:
            self._add(_problem_missing(pointer, "type"))
            return
        if block_type not in KNOWN_BLOCK_TYPES:
            self._add(f"[ERROR] failed to match all allowed schemas [json-pointer:{pointer}]")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.check_string(block_id, f"{pointer}/block_id", MAX_BLOCK_ID)
            if block_id in seen_block_ids:
                self._add(
                    f"[ERROR] duplicate block_id value '{block_id}' "
                    f"[json-pointer:{pointer}/block_id]"
                )
            seen_block_ids.add(block_id)
        check = getattr(self, f"_check_{block_type}_block")
        check(block, pointer)

    def _check_section_block(self, block: dict[str, Any], pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self._add(_problem_missing(pointer, "text"))
        if text is not None:
            self.check_text_object(text, f"{pointer}/text", MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list):
                self._add(f"[ERROR] must be an array [json-pointer:{pointer}/fields]")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    self._add(_problem_too_many(f"{pointer}/fields", MAX_SECTION_FIELDS))
                for index, item in enumerate(fields):
                    self.check_text_object(
                        item, f"{pointer}/fields/{index}", MAX_SECTION_FIELD_TEXT
                    )
        accessory = block.get("accessory")
        if accessory is not None:
            self.check_element(accessory, f"{pointer}/accessory")

    def _check_header_block(self, block: dict[str, Any], pointer: str) -> None:
        self.check_text_object(
            block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_text_only=True
        )

    def _check_divider_block(self, block: dict[str, Any], pointer: str) -> None:
        return

    def _check_context_block(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self._add(_problem_missing(pointer, "elements"))
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self._add(_problem_too_many(f"{pointer}/elements", MAX_CONTEXT_ELEMENTS))
        for index, element in enumerate(elements):
            element_pointer = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self.check_element(element, element_pointer)
            else:
                self.check_text_object(element, element_pointer, MAX_SECTION_TEXT)

    def _check_actions_block(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self._add(_problem_missing(pointer, "elements"))
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self._add(_problem_too_many(f"{pointer}/elements", MAX_ACTIONS_ELEMENTS))
        seen_action_ids: set[str] = set()
        for index, element in enumerate(elements):
            element_pointer = f"{pointer}/elements/{index}"
            self.check_element(element, element_pointer)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id is not None:
                if action_id in seen_action_ids:
                    self._add(
                        f"[ERROR] duplicate action_id value '{action_id}' "
                        f"[json-pointer:{element_pointer}/action_id]"
                    )
                seen_action_ids.add(action_id)

    def _check_input_block(self, block: dict[str, Any], pointer: str) -> None:
        self.check_text_object(
            block.get("label"), f"{pointer}/label", MAX_INPUT_LABEL, plain_text_only=True
        )
        self.check_text_object(
            block.get("hint"),
            f"{pointer}/hint",
            MAX_INPUT_HINT,
            plain_text_only=True,
            required=False,
        )
        element = block.get("element")
        if element is None:
            self._add(_problem_missing(pointer, "element"))
        else:
            self.check_element(element, f"{pointer}/element")

    def _check_image_block(self, block: dict[str, Any], pointer: str) -> None:
        if block.get("image_url") is None and block.get("slack_file") is None:
            self._add(_problem_missing(pointer, "image_url"))
        self.check_string(block.get("image_url"), f"{pointer}/image_url", MAX_URL)
        if block.get("alt_text") is None:
            self._add(_problem_missing(pointer, "alt_text"))
        self.check_string(block.get("alt_text"), f"{pointer}/alt_text", MAX_ALT_TEXT)
        self.check_text_object(
            block.get("title"),
            f"{pointer}/title",
            MAX_IMAGE_TITLE,
            plain_text_only=True,
            required=False,
        )

    def _check_rich_text_block(self, block: dict[str, Any], pointer: str) -> None:
        if not isinstance(block.get("elements"), list):
            self._add(_problem_missing(pointer, "elements"))

    def check_element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        element_type = element.get("type")
        if element_type is None:
            self._add(_problem_missing(pointer, "type"))
            return
        if element_type not in KNOWN_ELEMENT_TYPES:
            self._add(f"[ERROR] failed to match all allowed schemas [json-pointer:{pointer}]")
            return
        self.check_string(element.get("action_id"), f"{pointer}/action_id", MAX_ACTION_ID)
        if element_type in _PLACEHOLDER_ELEMENT_TYPES:
            self.check_text_object(
                element.get("placeholder"),
                f"{pointer}/placeholder",
                MAX_PLACEHOLDER,
                plain_text_only=True,
                required=False,
            )
        if element_type == "button":
            self.check_text_object(
                element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_text_only=True
            )
            self.check_string(element.get("value"), f"{pointer}/value", MAX_BUTTON_VALUE)
            self.check_string(element.get("url"), f"{pointer}/url", MAX_URL)
        elif element_type in _SELECT_TYPES:
            self._check_select_options(element, pointer)
        elif element_type in ("radio_buttons", "checkboxes"):
            self._check_options(element.get("options"), f"{pointer}/options", MAX_CHOICE_OPTIONS)
        elif element_type == "overflow":
            self._check_options(element.get("options"), f"{pointer}/options", MAX_OVERFLOW_OPTIONS)
        elif element_type == "plain_text_input":
            for name in ("max_length", "min_length"):
                length = element.get(name)
                if isinstance(length, int) and length > MAX_TEXT_INPUT_LENGTH:
                    self._add(
                        f"[ERROR] must be less than {MAX_TEXT_INPUT_LENGTH + 1} "
                        f"[json-pointer:{pointer}/{name}]"
                    )
        elif element_type == "image":
            self.check_string(element.get("alt_text"), f"{pointer}/alt_text", MAX_ALT_TEXT)

    def _check_select_options(self, element: dict[str, Any], pointer: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is None and groups is None:
            self._add(_problem_missing(pointer, "options"))
            return
        if options is not None:
            self._check_options(options, f"{pointer}/options", MAX_SELECT_OPTIONS)
        if groups is not None:
            if not isinstance(groups, list):
                self._add(f"[ERROR] must be an array [json-pointer:{pointer}/option_groups]")
                return
            if len(groups) > MAX_SELECT_OPTIONS:
                self._add(_problem_too_many(f"{pointer}/option_groups", MAX_SELECT_OPTIONS))
            for index, group in enumerate(groups):
                group_pointer = f"{pointer}/option_groups/{index}"
                if not isinstance(group, dict):
                    self._add(f"[ERROR] must be an object [json-pointer:{group_pointer}]")
                    continue
                self.check_text_object(
                    group.get("label"),
                    f"{group_pointer}/label",
                    MAX_OPTION_TEXT,
                    plain_text_only=True,
                )
                self._check_options(
                    group.get("options"), f"{group_pointer}/options", MAX_SELECT_OPTIONS
                )

    def _check_options(self, options: Any, pointer: str, max_options: int) -> None:
        if not isinstance(options, list) or not options:
            parent, _, name = pointer.rpartition("/")
            self._add(_problem_missing(parent, name))
            return
        if len(options) > max_options:
            self._add(_problem_too_many(pointer, max_options))
        for index, option in enumerate(options):
            option_pointer = f"{pointer}/{index}"
            if not isinstance(option, dict):
                self._add(f"[ERROR] must be an object [json-pointer:{option_pointer}]")
                continue
            self.check_text_object(option.get("text"), f"{option_pointer}/text", MAX_OPTION_TEXT)
            value = option.get("value")
            if value is None:
                self._add(_problem_missing(option_pointer, "value"))
            self.check_string(value, f"{option_pointer}/value", MAX_OPTION_VALUE)
            self.check_text_object(
                option.get("description"),
                f"{option_pointer}/description",
                MAX_OPTION_DESCRIPTION,
                required=False,
            )

    def check_view(self, view: Any, *, allowed_types: tuple[str, ...] = KNOWN_VIEW_TYPES) -> None:
        pointer = "/view"
        if not isinstance(view, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        view_type = view.get("type")
        if view_type is None:
            self._add(_problem_missing(pointer, "type"))
            return
        if view_type not in allowed_types:
            self._add(
                f"[ERROR] must be one of {', '.join(allowed_types)} [json-pointer:{pointer}/type]"
            )
            return
        if view_type == "modal":
            self.check_text_object(
                view.get("title"), f"{pointer}/title", MAX_VIEW_TITLE, plain_text_only=True
            )
            for button in ("submit", "close"):
                self.check_text_object(
                    view.get(button),
                    f"{pointer}/{button}",
                    MAX_VIEW_BUTTON_TEXT,
                    plain_text_only=True,
                    required=False,
                )
        blocks = view.get("blocks")
        if blocks is None:
            self._add(_problem_missing(pointer, "blocks"))
        else:
            self.check_blocks(blocks, f"{pointer}/blocks", MAX_VIEW_BLOCKS)
            has_input = isinstance(blocks, list) and any(
                isinstance(block, dict) and block.get("type") == "input" for block in blocks
            )
            if view_type == "modal" and has_input and view.get("submit") is None:
                self._add(
                    "[ERROR] must provide a submit property when using input blocks "
                    f"[json-pointer:{pointer}]"
                )
        self.check_string(
            view.get("private_metadata"), f"{pointer}/private_metadata", MAX_PRIVATE_METADATA
        )
        self.check_string(view.get("callback_id"), f"{pointer}/callback_id", MAX_CALLBACK_ID)
        self.check_string(view.get("external_id"), f"{pointer}/external_id", MAX_EXTERNAL_ID)


def _workspace_domain(team_name: str) -> str:
    return "-".join(team_name.lower().split()) or "workspace"


def _dm_channel_id(user_id: str) -> str:
    """Stable DM channel id of a user: "D" + the user id without its leading "U"."""
    return "D" + (user_id[1:] if user_id.startswith("U") else user_id)


def _tz_label_and_offset(tz_name: str, now: datetime | None = None) -> tuple[str, int]:
    zone = ZoneInfo(tz_name)
    local = (now or datetime.now(zone)).astimezone(zone)
    offset = local.utcoffset()
    offset_seconds = int(offset.total_seconds()) if offset is not None else 0
    labels = _TZ_LABELS.get(tz_name)
    if labels is None:
        return local.tzname() or tz_name, offset_seconds
    in_daylight_time = bool(local.dst())
    return labels[1] if in_daylight_time else labels[0], offset_seconds


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=default_email_policy).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            params[str(name)] = payload
        else:
            params[str(name)] = payload.decode("utf-8", errors="replace")
    return params


def _decode_json_params(params: dict[str, Any]) -> None:
    for name in _JSON_ENCODED_PARAMS:
        value = params.get(name)
        if isinstance(value, str):
            # Undecodable values stay strings; the method answers invalid_blocks_format & co.
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)


# ----------------------------------------------------------------- WebSocket (RFC 6455)


def websocket_accept(key: str) -> str:
    """The Sec-WebSocket-Accept value answering a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1((key.strip() + _WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_websocket_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One unmasked frame, as a server sends it; 7-, 16- or 64-bit length as the size needs."""
    first = (0x80 if fin else 0x00) | opcode
    length = len(payload)
    if length <= 125:
        header = struct.pack("!BB", first, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


def _apply_mask(payload: bytes, mask: bytes) -> bytes:
    # XOR as one big integer: far faster than a per-byte loop for large acks.
    if not payload:
        return payload
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return masked.to_bytes(len(payload), "big")


class _WebSocketClosed(ConnectionError):
    """The peer went away (EOF or a socket error) in the middle of the conversation."""


class _WebSocketProtocolError(Exception):
    """The client broke RFC 6455; the connection is closed with status 1002."""


@dataclass(frozen=True)
class _Frame:
    fin: bool
    opcode: int
    payload: bytes


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        try:
            chunk = stream.read(size - len(data))
        except OSError as error:
            raise _WebSocketClosed(str(error)) from error
        if not chunk:
            raise _WebSocketClosed("end of stream")
        data += chunk
    return data


def read_websocket_frame(stream: BinaryIO, *, require_mask: bool = True) -> _Frame:
    """Read one frame; client frames must be masked (RFC 6455 section 5.1)."""
    first, second = _read_exact(stream, 2)
    if first & 0x70:
        raise _WebSocketProtocolError("reserved bits set without a negotiated extension")
    opcode = first & 0x0F
    masked = bool(second & 0x80)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exact(stream, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exact(stream, 8))
    if require_mask and not masked:
        raise _WebSocketProtocolError("client frames must be masked")
    if opcode >= _OPCODE_CLOSE and (length > 125 or not first & 0x80):
        raise _WebSocketProtocolError("control frames are at most 125 bytes and never fragmented")
    if length > _MAX_SOCKET_MESSAGE:
        raise _WebSocketProtocolError("frame too large")
    mask = _read_exact(stream, 4) if masked else b""
    payload = _read_exact(stream, length)
    if masked:
        payload = _apply_mask(payload, mask)
    return _Frame(fin=bool(first & 0x80), opcode=opcode, payload=payload)


class _SocketConnection:
    """One Socket Mode client, served on the request-handler thread that accepted it."""

    def __init__(self, request: _StandInRequestHandler, connection_id: int) -> None:
        self.id = connection_id
        self._request = request
        self._send_lock = threading.Lock()
        self._close_sent = False
        self.finished = threading.Event()

    def send_frame(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            if self._close_sent:
                raise _WebSocketClosed("a close frame was already sent")
            if opcode == _OPCODE_CLOSE:
                self._close_sent = True
            try:
                # wfile is unbuffered (StreamRequestHandler.wbufsize == 0): one sendall a frame.
                self._request.wfile.write(encode_websocket_frame(opcode, payload))
            except (OSError, ValueError) as error:  # ValueError: the handler closed the file
                raise _WebSocketClosed(str(error)) from error

    def send_json(self, message: dict[str, Any]) -> None:
        self.send_frame(_OPCODE_TEXT, json.dumps(message).encode("utf-8"))

    def send_close(self, code: int, reason: str = "") -> None:
        with contextlib.suppress(_WebSocketClosed):
            self.send_frame(_OPCODE_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))

    def abort(self) -> None:
        """Cut the TCP connection; the reader thread then sees end of stream and finishes."""
        with contextlib.suppress(OSError):
            self._request.connection.shutdown(socket.SHUT_RDWR)

    def receive_messages(self, on_text: Callable[[str], None]) -> None:
        """Read frames until the client closes: answer pings, reassemble fragmented messages."""
        rfile = self._request.rfile
        parts: list[bytes] = []
        message_opcode: int | None = None
        try:
            while True:
                frame = read_websocket_frame(rfile)
                if frame.opcode == _OPCODE_PING:
                    self.send_frame(_OPCODE_PONG, frame.payload)
                    continue
                if frame.opcode == _OPCODE_PONG:
                    continue
                if frame.opcode == _OPCODE_CLOSE:
                    # Echo the status code, as RFC 6455 section 5.5.1 asks, then hang up.
                    self.send_close(
                        struct.unpack("!H", frame.payload[:2])[0]
                        if len(frame.payload) >= 2
                        else _CLOSE_NORMAL
                    )
                    return
                if frame.opcode in (_OPCODE_TEXT, _OPCODE_BINARY):
                    if message_opcode is not None:
                        raise _WebSocketProtocolError("a new message began inside a fragmented one")
                    message_opcode, parts = frame.opcode, [frame.payload]
                elif frame.opcode == _OPCODE_CONTINUATION:
                    if message_opcode is None:
                        raise _WebSocketProtocolError("continuation frame without a message")
                    parts.append(frame.payload)
                else:
                    raise _WebSocketProtocolError(f"unknown opcode {frame.opcode:#x}")
                if sum(len(part) for part in parts) > _MAX_SOCKET_MESSAGE:
                    raise _WebSocketProtocolError("message too large")
                if frame.fin:
                    data, opcode = b"".join(parts), message_opcode
                    message_opcode, parts = None, []
                    if opcode == _OPCODE_TEXT:
                        try:
                            text = data.decode("utf-8")
                        except UnicodeDecodeError as error:
                            raise _WebSocketProtocolError("text is not UTF-8") from error
                        on_text(text)
        except _WebSocketProtocolError as error:
            self.send_close(_CLOSE_PROTOCOL_ERROR, str(error)[:100])
        except _WebSocketClosed:
            return


class _StandInHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: SlackStandIn


class _StandInRequestHandler(BaseHTTPRequestHandler):
    server: _StandInHTTPServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path == SOCKET_PATH:
            self.server.stand_in._serve_socket(self)
            return
        self.server.stand_in._serve(self)

    def do_POST(self) -> None:
        self.server.stand_in._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        return  # Tests and the demo read recorded calls, not access logs.


class SlackStandIn:
    """A local Slack Web API server that answers as Slack does and records every call."""

    def __init__(
        self,
        *,
        team_id: str = "T0REBOUND",
        team_name: str = "Rebound Demo",
        bot_user_id: str = "U0REBOUNDBOT",
        bot_token: str = "xoxb-standin",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = _workspace_domain(team_name)
        # Workspaces an OAuth install can pick: oauth.v2.access with code "code-for-<team id>"
        # installs in that team, any other code in `team_id`. Tokens name their team.
        self.teams: dict[str, str] = {team_id: team_name}
        # Enterprise Grid: team id -> (enterprise id, enterprise name) for teams in an org.
        self.team_enterprises: dict[str, tuple[str, str]] = {}
        # Token rotation: installs then carry a refresh token, each usable once.
        self.token_rotation = False
        self.token_lifetime_seconds = 12 * 60 * 60
        self._refresh_tokens: dict[str, str] = {}  # unspent refresh token -> team id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0REBOUND"
        self.app_id = "A0REBOUND"
        self.bot_token = bot_token
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._server: _StandInHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.users: dict[str, StandInUser] = {
            bot_user_id: StandInUser(
                id=bot_user_id, name="rebound", real_name="Rebound", tz="UTC", is_bot=True
            )
        }
        self.channels: dict[str, str] = {}
        self.usergroups: dict[str, str] = {}  # user group id -> its @handle (without the @)
        self._channel_info: dict[str, _ChannelInfo] = {}
        # DMs between two people (not the app): the bot can't see them at all.
        self._people_dms: dict[str, tuple[str, str]] = {}
        self._response_posts: list[ResponseUrlPost] = []
        self._calls: list[RecordedCall] = []
        # trigger_id -> the calls that used it (views.open/push): a bench looks up thousands
        # of modals by trigger without scanning every recorded call each time.
        self._calls_by_trigger: dict[str, list[RecordedCall]] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._buckets: dict[str, _TokenBucket] = {}
        # The clock rate limits are measured on; a test may swap in its own (seconds).
        self.monotonic: Callable[[], float] = time.monotonic
        # conversations.history's page size limit: 15 for apps outside the Marketplace (the
        # changelog cited at rate_limit), 999 for Marketplace apps.
        self.history_max_limit = 15
        # (channel, ts) of every message chat.delete removed, in order.
        self.deleted_messages: list[tuple[str, str]] = []
        self._message_teams: dict[tuple[str, str], str] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._view_ids_by_external_id: dict[str, str] = {}
        self._home_view_ids: dict[str, str] = {}  # user id -> that user's Home tab view id
        self._files: dict[str, _StoredFile] = {}
        self._last_ts_micros = 0
        self._next_id = 1
        # Socket Mode: tickets handed out by apps.connections.open, live connections, acks.
        self._socket_changed = threading.Condition(self._lock)
        self._socket_tickets: set[str] = set()
        self._socket_connections: dict[int, _SocketConnection] = {}
        self._socket_acks: list[dict[str, Any]] = []
        self._next_socket_connection_id = 1
        self._stopping = False
        self._handlers: dict[str, Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.join": self._conversations_join,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.info": self._files_info,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
        }

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> SlackStandIn:
        if self._server is not None:
            return self
        server = _StandInHTTPServer((self._host, self._port), _StandInRequestHandler)
        server.stand_in = self
        self._server = server
        self._stopping = False
        self._thread = threading.Thread(
            # A short poll interval keeps stop() fast; tests start and stop many servers.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-stand-in",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._lock:
            self._stopping = True
        # Stop listening first, so a Socket Mode client that reconnects on close finds no one.
        server.shutdown()
        server.server_close()
        self._close_socket_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``."""
        return f"{self.origin}/api/"

    # ----------------------------------------------------------------- setup

    def add_user(self, user: StandInUser) -> None:
        try:
            ZoneInfo(user.tz)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {user.tz!r} for user {user.id}") from error
        with self._lock:
            self.users[user.id] = user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        private: bool = False,
        members: set[str] | frozenset[str] | None = None,
        bot_is_member: bool = True,
    ) -> None:
        """A public channel everyone is in by default; or `private` with its `members`, with or
        without the bot. Membership decides who chat.postEphemeral can reach there."""
        with self._lock:
            self.channels[channel_id] = name
            self._channel_info[channel_id] = _ChannelInfo(
                private=private,
                members=frozenset(members) if members is not None else None,
                bot_is_member=bot_is_member,
            )

    def add_dm_between(self, channel_id: str, user_id: str, other_user_id: str) -> None:
        """A DM between two people, the app not in it: a slash command typed there carries
        this channel id, but no Web API method can see or post to it."""
        if not channel_id.startswith("D"):
            raise ValueError("DM channel ids start with D")
        with self._lock:
            self._people_dms[channel_id] = (user_id, other_user_id)

    # The simulator's Directory: how Slack resolves a typed @name or #channel when it escapes
    # a slash command's text (testkit.simulator.command_text_as_sent).
    def user_id_named(self, name: str) -> str | None:
        with self._lock:
            return next((u.id for u in self.users.values() if u.name == name), None)

    def channel_id_named(self, name: str) -> str | None:
        with self._lock:
            return next((cid for cid, cname in self.channels.items() if cname == name), None)

    def usergroup_id_named(self, handle: str) -> str | None:
        with self._lock:
            return next((gid for gid, h in self.usergroups.items() if h == handle), None)

    def add_usergroup(self, usergroup_id: str, handle: str) -> None:
        with self._lock:
            self.usergroups[usergroup_id] = handle

    def add_team(
        self,
        team_id: str,
        name: str,
        *,
        enterprise_id: str | None = None,
        enterprise_name: str = "",
    ) -> None:
        """A workspace an OAuth install can pick; with `enterprise_id`, a workspace of that
        Enterprise Grid org (the app is then installed on the workspace, not the whole org)."""
        with self._lock:
            self.teams[team_id] = name
            if enterprise_id:
                self.team_enterprises[team_id] = (enterprise_id, enterprise_name or enterprise_id)
            else:
                self.team_enterprises.pop(team_id, None)

    # ----------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
        to: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` (429 or 5xx), or,
        with ``error``, HTTP 200 and ``{"ok": false, "error": error}`` (a definite refusal
        such as internal_error, which Slack's method pages list among their errors). With
        ``to``, only calls addressed to that user's DM (or that channel) meet it."""
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(
                    status=200 if error else status,
                    retry_after=retry_after,
                    remaining=times,
                    error=error,
                    to=to,
                )
            )

    def accept_then_fail(self, method: str, *, status: int = 502, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` do what they ask (a message is posted), then
        are answered HTTP ``status``: Slack's edge may fail after Slack acted, and the client
        cannot tell this from a failure before it."""
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(status=status, retry_after=0, remaining=times, mode="accept")
            )

    def accept_then_hang(self, method: str, *, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` do what they ask, then answer only after
        ``seconds`` (make it longer than the client's timeout: the client gives up first)."""
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(
                    status=200, retry_after=0, remaining=times, mode="hang", hang_seconds=seconds
                )
            )

    def rate_limit(
        self, method: str, per_second: float | None = None, *, per_minute: float | None = None
    ) -> None:
        """Allow ``method`` at most ``per_second`` (or ``per_minute``) calls (token bucket, on
        ``self.monotonic``), else 429 with Retry-After. conversations.history for apps outside
        the Marketplace is 1 a minute (https://docs.slack.dev/changelog/2025/05/29/
        rate-limit-changes-for-non-marketplace-apps/): ``rate_limit(method, per_minute=1)``."""
        rate = per_second if per_second is not None else (per_minute or 0) / 60.0
        if rate <= 0:
            raise ValueError("the rate must be positive")
        with self._lock:
            self._buckets[method] = _TokenBucket(
                per_second=rate, tokens=max(1.0, rate), refilled_at=self.monotonic()
            )

    # ----------------------------------------------------------------- recorded calls

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method and (call.ok or not ok_only)]

    def calls_with_trigger(self, trigger_id: str) -> list[RecordedCall]:
        """The calls (views.open, views.push) that used `trigger_id`, oldest first."""
        with self._lock:
            return list(self._calls_by_trigger.get(trigger_id, ()))

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._calls_by_trigger.clear()

    def messages_to(self, channel: str, *, ok_only: bool = True) -> list[RecordedCall]:
        """chat.postMessage/postEphemeral calls to a channel, or to a DM by D- or U- id."""
        wanted = self._resolve_channel_id(channel)
        return [
            call
            for call in self.calls
            if call.method in _MESSAGE_METHODS
            and (call.ok or not ok_only)
            and isinstance(call.params.get("channel"), str)
            and self._resolve_channel_id(call.params["channel"]) == wanted
        ]

    def has_message(self, channel: str, ts: str) -> bool:
        """Whether the conversation still holds the message (not deleted)."""
        with self._lock:
            return (channel, ts) in self._messages

    def message_at(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as the conversation holds it now (after any chat.update); None once
        deleted or never posted."""
        with self._lock:
            stored = self._messages.get((channel, ts))
            return json.loads(json.dumps(stored)) if stored is not None else None

    def add_message_by_someone_else(self, channel: str, text: str) -> str:
        """A message a person (not the bot) posted in `channel`; its ts."""
        with self._lock:
            ts = self._new_ts()
            self._messages[(channel, ts)] = {
                "type": "message",
                "user": "U0SOMEONE",
                "text": text,
                "ts": ts,
            }
        return ts

    def published_home(self, user_id: str) -> dict[str, Any] | None:
        """The Home view currently published for `user_id` (with its `hash`), as Slack puts it
        in app_home_opened; None before the first views.publish."""
        with self._lock:
            view_id = self._home_view_ids.get(user_id)
            view = self._views.get(view_id) if view_id else None
            return json.loads(json.dumps(view)) if view is not None else None

    def uploaded_file(self, file_id: str) -> bytes | None:
        """The bytes uploaded for a file id, or None when nothing was uploaded."""
        with self._lock:
            stored = self._files.get(file_id)
            return stored.content if stored is not None else None

    def uploaded_alt_txt(self, file_id: str) -> str | None:
        """The `alt_txt` a file was announced with (files.getUploadURLExternal), or None."""
        with self._lock:
            stored = self._files.get(file_id)
            return stored.alt_txt if stored is not None else None

    @property
    def response_url_posts(self) -> list[ResponseUrlPost]:
        """Every POST to a response_url, oldest first (accepted and refused)."""
        with self._lock:
            return list(self._response_posts)

    def responses_to(self, response_url: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        """The JSON bodies the app sent to `response_url` (a full URL or its path)."""
        path = urlsplit(response_url).path
        return [p.body for p in self.response_url_posts if p.path == path and (p.ok or not ok_only)]

    def wait_for_responses(
        self, response_url: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until `count` accepted responses reached `response_url`; AssertionError after
        `timeout`, naming what did arrive there and the Web API calls made meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.responses_to(response_url)
            if len(bodies) >= count:
                return bodies
            if time.monotonic() >= deadline:
                refused = [
                    (p.status, p.error)
                    for p in self.response_url_posts
                    if p.path == urlsplit(response_url).path and not p.ok
                ]
                raise AssertionError(
                    f"{len(bodies)} of {count} response(s) to {response_url} within "
                    f"{timeout:.1f}s; refused: {refused}; calls:\n{self._summarize(self.calls)}"
                )
            time.sleep(0.02)

    def wait_for(
        self, predicate: Callable[[list[RecordedCall]], bool], timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Poll the recorded calls until ``predicate`` holds; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls
            if predicate(calls):
                return calls
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"condition not met within {timeout:.1f}s; "
                    f"{len(calls)} call(s) seen:\n{self._summarize(calls)}"
                )
            time.sleep(0.02)

    @staticmethod
    def _summarize(calls: list[RecordedCall]) -> str:
        if not calls:
            return "  (none)"
        lines = []
        for call in calls:
            outcome = "ok" if call.ok else f"error={call.error}"
            details = []
            for name in ("channel", "user", "user_id", "trigger_id", "view_id"):
                if name in call.params:
                    details.append(f"{name}={call.params[name]}")
            text = call.params.get("text")
            if isinstance(text, str) and text:
                details.append(f"text={text[:60]!r}")
            lines.append(f"  {call.method} {outcome} {' '.join(details)}".rstrip())
        return "\n".join(lines)

    # ----------------------------------------------------------------- Socket Mode

    def socket_connected(self, timeout: float = 10.0) -> None:
        """Wait until a Socket Mode client is connected and has been sent ``hello``."""
        with self._socket_changed:
            if not self._socket_changed.wait_for(lambda: bool(self._socket_connections), timeout):
                raise AssertionError(
                    f"no Socket Mode client connected within {timeout:.1f}s; "
                    f"{len(self._socket_tickets)} apps.connections.open ticket(s) issued"
                )

    @property
    def socket_connection_count(self) -> int:
        with self._lock:
            return len(self._socket_connections)

    def send_socket_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
    ) -> str:
        """Send Slack's Socket Mode envelope to the newest connected client; its envelope_id."""
        if type_ not in SOCKET_ENVELOPE_TYPES:
            raise ValueError(f"type_ must be one of {sorted(SOCKET_ENVELOPE_TYPES)}, not {type_!r}")
        with self._lock:
            # Slack picks one of the app's connections; the newest is as good as any.
            newest_id = max(self._socket_connections, default=None)
            connection = self._socket_connections.get(newest_id) if newest_id else None
        if connection is None:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = envelope_id or str(uuid.uuid4())
        connection.send_json(
            {
                "envelope_id": envelope_id,
                "type": type_,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        return envelope_id

    @property
    def socket_acks(self) -> list[dict[str, Any]]:
        """Acks received from Socket Mode clients, oldest first: ``{"envelope_id", "payload"?}``."""
        with self._lock:
            return list(self._socket_acks)

    def wait_for_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The ack for ``envelope_id``; AssertionError when none arrives within ``timeout``."""

        def find() -> dict[str, Any] | None:
            return next((a for a in self._socket_acks if a.get("envelope_id") == envelope_id), None)

        with self._socket_changed:
            if not self._socket_changed.wait_for(lambda: find() is not None, timeout):
                seen = [ack.get("envelope_id") for ack in self._socket_acks]
                raise AssertionError(
                    f"no ack for envelope {envelope_id} within {timeout:.1f}s; acks seen: {seen}"
                )
            ack = find()
            assert ack is not None
            return ack

    def _serve_socket(self, request: _StandInRequestHandler) -> None:
        """Upgrade to a WebSocket, say hello, then serve the connection on this thread."""
        request.close_connection = True
        problem = self._websocket_handshake_problem(request)
        if problem is not None:
            status, message = problem
            encoded = message.encode("utf-8")
            request.send_response(status)
            request.send_header("Content-Type", "text/plain; charset=utf-8")
            request.send_header("Content-Length", str(len(encoded)))
            if status == 426:
                request.send_header("Sec-WebSocket-Version", "13")
            request.end_headers()
            request.wfile.write(encoded)
            return
        request.protocol_version = "HTTP/1.1"  # RFC 6455 upgrades an HTTP/1.1 request
        request.send_response(101, "Switching Protocols")
        request.send_header("Upgrade", "websocket")
        request.send_header("Connection", "Upgrade")
        request.send_header(
            "Sec-WebSocket-Accept", websocket_accept(request.headers["Sec-WebSocket-Key"])
        )
        request.end_headers()
        with self._lock:
            connection = _SocketConnection(request, self._next_socket_connection_id)
            self._next_socket_connection_id += 1
        try:
            connection.send_json(
                {
                    "type": "hello",
                    "num_connections": self.socket_connection_count + 1,
                    "debug_info": {
                        "host": "applink-standin",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            with self._socket_changed:
                if self._stopping:
                    connection.send_close(_CLOSE_GOING_AWAY)
                    return
                self._socket_connections[connection.id] = connection
                self._socket_changed.notify_all()
            connection.receive_messages(self._record_socket_message)
        except _WebSocketClosed:
            pass
        finally:
            with self._socket_changed:
                self._socket_connections.pop(connection.id, None)
                self._socket_changed.notify_all()
            connection.finished.set()

    def _websocket_handshake_problem(
        self, request: _StandInRequestHandler
    ) -> tuple[int, str] | None:
        headers = request.headers
        if (headers.get("Upgrade") or "").lower() != "websocket" or "upgrade" not in [
            token.strip().lower() for token in (headers.get("Connection") or "").split(",")
        ]:
            return 400, "expected a WebSocket upgrade"
        if (headers.get("Sec-WebSocket-Version") or "").strip() != "13":
            return 426, "unsupported WebSocket version"
        key = (headers.get("Sec-WebSocket-Key") or "").strip()
        try:
            key_is_valid = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            key_is_valid = False
        if not key_is_valid:
            return 400, "invalid Sec-WebSocket-Key"
        ticket = (parse_qs(urlsplit(request.path).query).get("ticket") or [""])[0]
        with self._lock:
            if ticket not in self._socket_tickets:
                # Slack's URLs carry a ticket from apps.connections.open; nothing else connects.
                return 401, "unknown ticket; call apps.connections.open for a URL"
            if self._stopping:
                return 503, "shutting down"
        return None

    def _record_socket_message(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return  # Slack ignores what it cannot parse; so does the stand-in.
        if isinstance(message, dict) and isinstance(message.get("envelope_id"), str):
            with self._socket_changed:
                self._socket_acks.append(message)
                self._socket_changed.notify_all()

    def _close_socket_connections(self) -> None:
        with self._lock:
            connections = list(self._socket_connections.values())
        for connection in connections:
            connection.send_close(_CLOSE_GOING_AWAY, "server stopping")
        for connection in connections:
            # The slack_sdk client never answers a close frame; don't wait long for it.
            if not connection.finished.wait(0.5):
                connection.abort()
                connection.finished.wait(2.0)

    # ----------------------------------------------------------------- HTTP plumbing

    def _serve(self, request: _StandInRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length > 0 else b""
        received = time.perf_counter()
        if parts.path.startswith("/upload/") and request.command == "POST":
            self._serve_upload(request, parts.path.removeprefix("/upload/"), body)
            return
        if parts.path.split("/")[1] in RESPONSE_URL_KINDS and request.command == "POST":
            self._serve_response_url(request, parts.path, body)
            return
        if not parts.path.startswith("/api/"):
            self._send(request, 404, {"ok": False, "error": "unknown_method"})
            return
        method = parts.path.removeprefix("/api/").strip("/")
        status, payload, headers = self._answer_api_call(
            method,
            query=parts.query,
            body=body,
            content_type=request.headers.get("Content-Type") or "",
            authorization=request.headers.get("Authorization") or "",
            received=received,
        )
        self._send(request, status, payload, headers)

    @staticmethod
    def _send(
        request: _StandInRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        encoded = json.dumps(payload).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(encoded)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        # A client that gave up (accept_then_hang) has closed the connection by now.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            request.end_headers()
            request.wfile.write(encoded)

    def _serve_response_url(self, request: _StandInRequestHandler, path: str, body: bytes) -> None:
        """A POST to a response_url (JSON: text, blocks, response_type, replace_original,
        delete_original). Slack takes each at most 5 times within 30 minutes; past that the
        stand-in answers 404 expired_url (Slack documents the limit, not the wording; this
        is the incoming-webhooks style of a plain-text error with a 4xx status)."""
        status, error = 200, None
        try:
            decoded = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            decoded = None
        payload: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
        segments = path.strip("/").split("/")
        issued = segments[2].split(".", 1)[0] if len(segments) == 4 else ""
        with self._lock:
            uses = sum(1 for p in self._response_posts if p.path == path and p.ok)
        if len(segments) != 4 or not issued.isdigit():
            status, error = 404, "invalid_url"
        elif (
            time.time() - int(issued) / 1000 > RESPONSE_URL_LIFETIME_SECONDS
            or uses >= RESPONSE_URL_MAX_USES
        ):
            status, error = 404, "expired_url"
        elif not isinstance(decoded, dict) or payload.get("response_type") not in (
            None,
            "ephemeral",
            "in_channel",
        ):
            status, error = 400, "invalid_payload"
        elif not payload.get("delete_original"):
            try:
                self._validate_message_content(payload)
            except SlackApiErrorAnswer as answer:
                status, error = 400, answer.error
        post = ResponseUrlPost(path=path, body=payload, status=status, error=error, at=time.time())
        with self._lock:
            self._response_posts.append(post)
        answer = (error or "ok").encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/plain; charset=utf-8")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def _serve_upload(self, request: _StandInRequestHandler, file_id: str, body: bytes) -> None:
        with self._lock:
            stored = self._files.get(file_id)
            if stored is not None:
                stored.content = body
        if stored is None:
            answer, status = b"Not Found", 404
        else:
            answer, status = f"OK - {len(body)}".encode(), 200
        request.send_response(status)
        request.send_header("Content-Type", "text/plain; charset=utf-8")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def _parse_params(self, query: str, body: bytes, content_type: str) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        media_type = content_type.split(";")[0].strip().lower()
        if body:
            if media_type == "application/json":
                decoded = json.loads(body.decode("utf-8"))
                if not isinstance(decoded, dict):
                    raise ValueError("a JSON body must be an object")
                params.update(decoded)
            elif media_type == "multipart/form-data":
                params.update(_parse_multipart(content_type, body))
            else:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        _decode_json_params(params)
        return params

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        payload: dict[str, Any],
        received: float | None = None,
        *,
        answered: int = 200,
    ) -> None:
        call = RecordedCall(
            method=method,
            params=params,
            token=token,
            ok=bool(payload.get("ok")),
            error=payload.get("error"),
            at=time.time(),
            response=payload,
            received=time.perf_counter() if received is None else received,
            answered=answered,
        )
        trigger_id = params.get("trigger_id")
        with self._lock:
            self._calls.append(call)
            if isinstance(trigger_id, str) and trigger_id:
                self._calls_by_trigger.setdefault(trigger_id, []).append(call)

    def _addressed_to(self, params: dict[str, Any], to: str) -> bool:
        if params.get("users") == to:
            return True
        channel = params.get("channel")
        return isinstance(channel, str) and (
            self._resolve_channel_id(channel) == self._resolve_channel_id(to)
        )

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        """The fault this call meets, else None."""
        with self._lock:
            queue = self._faults.get(method) or []
            for index, fault in enumerate(queue):
                if fault.to is not None and not self._addressed_to(params, fault.to):
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(index)
                return fault
            bucket = self._buckets.get(method)
            if bucket is not None:
                wait_seconds = bucket.take(self.monotonic())
                if wait_seconds is not None:
                    return _Fault(status=429, retry_after=wait_seconds, remaining=0)
        return None

    def _answer_api_call(
        self,
        method: str,
        *,
        query: str,
        body: bytes,
        content_type: str,
        authorization: str,
        received: float | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        received = time.perf_counter() if received is None else received
        try:
            params = self._parse_params(query, body, content_type)
        except (ValueError, UnicodeDecodeError):
            payload = {"ok": False, "error": "invalid_json"}
            self._record(method, {}, None, payload, received)
            return 200, payload, {}
        token = params.pop("token", None)
        if authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip() or token
        elif authorization.startswith("Basic "):
            self._merge_basic_auth(params, authorization)

        fault = self._take_fault(method, params)
        if fault is not None and fault.mode == "refuse":
            status, retry_after = fault.status, fault.retry_after
            if fault.error is not None:
                payload = {"ok": False, "error": fault.error}
                self._record(method, params, token, payload, received)
                return 200, payload, {}
            if status == 429:
                payload = {"ok": False, "error": "ratelimited"}
                self._record(method, params, token, payload, received)
                return 429, payload, {"Retry-After": str(retry_after)}
            payload = {"ok": False, "error": "fatal_error"}
            self._record(method, params, token, payload, received)
            return status, payload, {}

        handler = self._handlers.get(method)
        if handler is None:
            payload = {"ok": False, "error": "unknown_method"}
            self._record(method, params, token, payload, received)
            return 404, payload, {}

        try:
            self._check_token(method, token)
            with self._lock:
                result = handler(params, token)
            payload = {"ok": True, **result}
        except SlackApiErrorAnswer as answer:
            payload = {"ok": False, "error": answer.error, **answer.extra}
        if fault is not None and fault.mode == "accept":
            self._record(method, params, token, payload, received, answered=fault.status)
            return fault.status, {"ok": False, "error": "fatal_error"}, {}
        if fault is not None and fault.mode == "hang":
            self._record(method, params, token, payload, received, answered=0)
            time.sleep(fault.hang_seconds)
            return 200, payload, {}
        self._record(method, params, token, payload, received)
        return 200, payload, {}

    @staticmethod
    def _merge_basic_auth(params: dict[str, Any], authorization: str) -> None:
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
        except ValueError:
            return
        client_id, _, client_secret = decoded.partition(":")
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", client_secret)

    def _check_token(self, method: str, token: str | None) -> None:
        if method in _TOKENLESS_METHODS:
            return
        if not token:
            raise SlackApiErrorAnswer("not_authed")
        if method in _APP_TOKEN_METHODS:
            if not token.startswith("xapp-"):
                raise SlackApiErrorAnswer("not_allowed_token_type")
            return
        if token.startswith("xapp-"):
            raise SlackApiErrorAnswer("not_allowed_token_type")
        if token != self.bot_token and not token.startswith(("xoxb-", "xoxp-")):
            raise SlackApiErrorAnswer("invalid_auth")

    # ----------------------------------------------------------------- id helpers

    def _new_id(self, prefix: str) -> str:
        number = self._next_id
        self._next_id += 1
        return f"{prefix}0{number:08X}"

    def _new_ts(self) -> str:
        """A unique, increasing message ts in Slack's "seconds.micros" form."""
        now_micros = int(time.time() * 1_000_000)
        self._last_ts_micros = max(now_micros, self._last_ts_micros + 100)
        seconds, micros = divmod(self._last_ts_micros, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _resolve_channel_id(self, channel: str) -> str:
        """A user id stands for the app's DM with that user (only chat.postMessage takes one:
        _known_channel)."""
        if channel.startswith("U") or channel.startswith("W"):
            return _dm_channel_id(channel)
        return channel

    def _known_channel(self, channel: Any, *, user_id_means_dm: bool = False) -> str:
        if not isinstance(channel, str) or not channel:
            raise SlackApiErrorAnswer("channel_not_found")
        if channel[0] in "UW" and not user_id_means_dm:
            # Only chat.postMessage turns a user id into the app's DM with them (below); every
            # other conversations/chat method wants the conversation's own id (a D… for a DM,
            # from conversations.open: "You can then send a message to the conversation using
            # the chat.postMessage method", docs.slack.dev/reference/methods/conversations.open).
            raise SlackApiErrorAnswer("channel_not_found")
        channel_id = self._resolve_channel_id(channel)
        info = self._channel_info.get(channel_id)
        if info is not None and info.private and not info.bot_is_member:
            # A private channel is invisible to an app that isn't in it: Slack answers
            # channel_not_found, as for any id it can't see.
            raise SlackApiErrorAnswer("channel_not_found")
        if channel_id in self.channels or self._dm_user(channel_id) is not None:
            return channel_id
        raise SlackApiErrorAnswer("channel_not_found")

    def _visible_to_bot(self, channel_id: str) -> bool:
        info = self._channel_info.get(channel_id)
        return info is None or not info.private or info.bot_is_member

    def _dm_user(self, channel_id: str) -> StandInUser | None:
        if not channel_id.startswith("D"):
            return None
        for user in self.users.values():
            if _dm_channel_id(user.id) == channel_id:
                return user
        return None

    def _known_user(self, user_id: Any) -> StandInUser:
        user = self.users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise SlackApiErrorAnswer("user_not_found")
        return user

    # ----------------------------------------------------------------- shapes

    def _user_object(self, user: StandInUser) -> dict[str, Any]:
        tz_label, tz_offset = _tz_label_and_offset(user.tz)
        profile: dict[str, Any] = {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "team": self.team_id,
        }
        if user.is_bot:
            profile["bot_id"] = self.bot_id
        if user.email is not None:
            profile["email"] = user.email
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": user.is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }

    def _channel_object(self, channel_id: str) -> dict[str, Any]:
        dm_user = self._dm_user(channel_id)
        if dm_user is not None:
            return {
                "id": channel_id,
                "created": 1_700_000_000,
                "is_im": True,
                "is_org_shared": False,
                "user": dm_user.id,
                "is_open": True,
            }
        name = self.channels[channel_id]
        info = self._channel_info.get(channel_id) or _ChannelInfo()
        return {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "created": 1_700_000_000,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": info.private,
            "is_archived": False,
            "is_general": False,
            "is_member": info.bot_is_member,
        }

    def _message_object(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for name in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(name) is not None:
                message[name] = params[name]
        return message

    def _permalink(self, channel_id: str, ts: str) -> str:
        return f"https://{self.team_domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"

    # ----------------------------------------------------------------- validation

    @staticmethod
    def _validate_message_content(params: dict[str, Any]) -> None:
        text, blocks = params.get("text"), params.get("blocks")
        attachments = params.get("attachments")
        if not text and not blocks and not attachments:
            raise SlackApiErrorAnswer("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackApiErrorAnswer("msg_too_long")
        if blocks is None:
            return
        if isinstance(blocks, str) or not isinstance(blocks, list):
            raise SlackApiErrorAnswer("invalid_blocks_format")
        checker = BlockKitChecker()
        checker.check_blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
        if checker.problems:
            raise SlackApiErrorAnswer(
                "invalid_blocks", {"response_metadata": {"messages": checker.problems}}
            )

    @staticmethod
    def _validated_view(
        params: dict[str, Any], *, allowed_types: tuple[str, ...] = KNOWN_VIEW_TYPES
    ) -> dict[str, Any]:
        view = params.get("view")
        checker = BlockKitChecker()
        if view is None:
            checker.problems.append(_problem_missing("/", "view"))
        else:
            checker.check_view(view, allowed_types=allowed_types)
        if checker.problems:
            raise SlackApiErrorAnswer(
                "invalid_arguments", {"response_metadata": {"messages": checker.problems}}
            )
        assert isinstance(view, dict)
        return view

    # ----------------------------------------------------------------- methods

    def _team_of_token(self, token: str | None) -> str:
        parts = (token or "").split("-")
        if len(parts) > 2 and parts[0] == "xoxb" and parts[1] in self.teams:
            return parts[1]
        return self.team_id

    def _enterprise_of(self, team_id: str) -> dict[str, str] | None:
        """The `enterprise` object of oauth.v2.access for a team: {id, name} in a Grid org, else
        null (https://docs.slack.dev/reference/methods/oauth.v2.access)."""
        grid = self.team_enterprises.get(team_id)
        return None if grid is None else {"id": grid[0], "name": grid[1]}

    def _auth_test(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        team_id = self._team_of_token(token)
        answer: dict[str, Any] = {
            "url": f"https://{_workspace_domain(self.teams[team_id])}.slack.com/",
            "team": self.teams[team_id],
            "user": self.users[self.bot_user_id].name,
            "team_id": team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        # "When working against a team within an Enterprise organization, you'll also find their
        # enterprise_id here." https://docs.slack.dev/reference/methods/auth.test
        enterprise = self._enterprise_of(team_id)
        if enterprise is not None:
            answer["enterprise_id"] = enterprise["id"]
        return answer

    def _users_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"user": self._user_object(self._known_user(params.get("user")))}

    def _users_lookup_by_email(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # https://docs.slack.dev/reference/methods/users.lookupByEmail: "Find a user with an
        # email address" (required argument `email`, scope users:read.email); the answer is the
        # same user object as users.info's, and an address nobody in the workspace has is the
        # error `users_not_found`.
        email = str(params.get("email") or "").strip().lower()
        if not email:
            raise SlackApiErrorAnswer("invalid_arguments")
        for user in self.users.values():
            if user.email is not None and user.email.lower() == email:
                return {"user": self._user_object(user)}
        raise SlackApiErrorAnswer("users_not_found")

    def _users_list(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        members = [self._user_object(user) for user in self.users.values()]
        cursor = str(params.get("cursor") or "")
        start = int(cursor) if cursor.isdigit() else 0
        limit = int(params.get("limit") or 0)
        if limit <= 0:
            return {"members": members[start:], "response_metadata": {"next_cursor": ""}}
        page = members[start : start + limit]
        next_start = start + limit
        next_cursor = str(next_start) if next_start < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = params.get("channel")
        if channel:
            return {"channel": {"id": self._known_channel(channel)}}
        users = [user_id for user_id in str(params.get("users") or "").split(",") if user_id]
        if not users:
            raise SlackApiErrorAnswer("users_list_not_supplied")
        for user_id in users:
            self._known_user(user_id)
        if len(users) == 1:
            return {"channel": {"id": _dm_channel_id(users[0])}}
        # A group DM: stable for the same set of people.
        group_id = "G" + "".join(sorted(user_id.lstrip("UW") for user_id in users))[:20]
        self.channels.setdefault(group_id, "mpdm-" + "--".join(sorted(users)))
        return {"channel": {"id": group_id}}

    def _conversations_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"channel": self._channel_object(self._known_channel(params.get("channel")))}

    def _conversations_list(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "channels": [
                self._channel_object(channel_id)
                for channel_id in self.channels
                if self._visible_to_bot(channel_id)
            ],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_join(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = self._known_channel(params.get("channel"))
        info = self._channel_info.get(channel_id)
        if info is not None and not info.private:
            info.bot_is_member = True
        return {"channel": self._channel_object(channel_id)}

    def _chat_post_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # A user id as `channel` posts to the app's DM with that user, opening it if need be:
        # "provide the user's ID as the channel value and a direct message conversation will be
        # opened if it isn't open already" (docs.slack.dev/reference/methods/chat.postMessage,
        # "Channels"). The answer's `channel` is the DM's own id (D…).
        channel_id = self._known_channel(params.get("channel"), user_id_means_dm=True)
        self._validate_message_content(params)
        ts = self._new_ts()
        message = self._message_object(params, ts)
        self._messages[(channel_id, ts)] = message
        self._message_teams[(channel_id, ts)] = self._team_of_token(token)
        return {"channel": channel_id, "ts": ts, "message": message}

    def _conversations_history(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Messages of one conversation, newest first, between ``oldest`` and ``latest``
        (exclusive unless ``inclusive``), ``limit`` a page (default and maximum 15 for apps
        outside the Marketplace), with ``has_more`` and ``response_metadata.next_cursor``.
        Message ``metadata`` is only returned when ``include_all_metadata`` is true
        (https://docs.slack.dev/reference/methods/conversations.history: "include_all_metadata:
        Return all metadata associated with this message"). A public channel the bot is not in
        answers not_in_channel, as Slack does for a bot token."""
        channel_id = self._known_channel(params.get("channel"))
        info = self._channel_info.get(channel_id)
        if info is not None and not info.bot_is_member:
            raise SlackApiErrorAnswer("not_in_channel")

        def number(name: str, default: float) -> float:
            try:
                return float(params.get(name) or default)
            except (TypeError, ValueError):
                raise SlackApiErrorAnswer("invalid_ts_" + name) from None

        oldest, latest = number("oldest", 0.0), number("latest", float("inf"))
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
        try:
            limit = int(params.get("limit") or self.history_max_limit)
        except (TypeError, ValueError):
            raise SlackApiErrorAnswer("invalid_limit") from None
        limit = max(1, min(limit, self.history_max_limit))
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        team = self._team_of_token(token)

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = sorted(
            (
                message
                for (channel, ts), message in self._messages.items()
                if channel == channel_id
                and self._message_teams.get((channel, ts), team) == team
                and within(float(ts))
            ),
            key=lambda message: float(message["ts"]),
            reverse=True,
        )
        try:
            start = int(base64.b64decode(str(params.get("cursor") or "")).decode() or 0)
        except ValueError:
            raise SlackApiErrorAnswer("invalid_cursor") from None
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = [
            message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
            for message in page
        ]
        cursor = base64.b64encode(str(start + limit).encode()).decode() if more else ""
        return {
            "messages": messages,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _chat_post_ephemeral(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Errors as https://docs.slack.dev/reference/methods/chat.postEphemeral/ lists them:
        # channel_not_found ("Value passed for channel was invalid": a DM between two other
        # people, or a private channel the app isn't in, which it cannot see), not_in_channel
        # ("Cannot post user messages to a channel they are not in": the app isn't in it) and
        # user_not_in_channel ("Intended recipient is not in the specified channel").
        channel_id = self._known_channel(params.get("channel"))
        user = self._known_user(params.get("user"))
        info = self._channel_info.get(channel_id)
        if info is not None and not info.bot_is_member:
            raise SlackApiErrorAnswer("not_in_channel")
        if info is not None and info.members is not None and user.id not in info.members:
            raise SlackApiErrorAnswer("user_not_in_channel")
        dm_user = self._dm_user(channel_id)
        if dm_user is not None and dm_user.id != user.id:
            raise SlackApiErrorAnswer("user_not_in_channel")  # the app's DM with someone else
        self._validate_message_content(params)
        return {"message_ts": self._new_ts()}

    def _chat_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """chat.update as https://docs.slack.dev/reference/methods/chat.update documents it:
        "Only messages posted by the authenticated user are able to be updated using this
        method ... Bot users may also update the messages they post. Attempting to update other
        message types will return a cant_update_message error"; message_not_found when "No
        message exists with the requested timestamp" (a deleted one too)."""
        channel_id = self._known_channel(params.get("channel"))
        ts = params.get("ts")
        stored = self._messages.get((channel_id, str(ts)))
        if stored is None:
            raise SlackApiErrorAnswer("message_not_found")
        if stored.get("bot_id") != self.bot_id:
            raise SlackApiErrorAnswer("cant_update_message")
        self._validate_message_content(params)
        updated = {**stored, **self._message_object(params, str(ts))}
        updated["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        self._messages[(channel_id, str(ts))] = updated
        return {"channel": channel_id, "ts": ts, "text": updated["text"], "message": updated}

    def _chat_delete(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """chat.delete as https://docs.slack.dev/reference/methods/chat.delete documents it:
        ``channel`` and ``ts`` are required; "When used with a bot token, this method may delete
        only messages posted by that bot" (cant_delete_message otherwise); channel_not_found
        for a channel that isn't valid, message_not_found when "no message exists with the
        requested timestamp" (so a second delete of one message answers that); the answer
        carries the channel and ts: {"ok": true, "channel": …, "ts": …}."""
        channel_id = self._known_channel(params.get("channel"))
        ts = params.get("ts")
        if not ts:
            raise SlackApiErrorAnswer("invalid_arguments")
        stored = self._messages.get((channel_id, str(ts)))
        if stored is None:
            raise SlackApiErrorAnswer("message_not_found")
        if stored.get("bot_id") != self.bot_id:
            raise SlackApiErrorAnswer("cant_delete_message")
        del self._messages[(channel_id, str(ts))]
        self.deleted_messages.append((channel_id, str(ts)))
        return {"channel": channel_id, "ts": str(ts)}

    def _chat_get_permalink(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = self._known_channel(params.get("channel"))
        ts = str(params.get("message_ts") or "")
        if (channel_id, ts) not in self._messages:
            raise SlackApiErrorAnswer("message_not_found")
        return {"channel": channel_id, "permalink": self._permalink(channel_id, ts)}

    def _store_view(
        self, view: dict[str, Any], *, view_id: str | None = None, root_view_id: str | None = None
    ) -> dict[str, Any]:
        view_id = view_id or self._new_id("V")
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._new_id('h')}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for name in ("title", "submit", "close"):
            if view.get(name) is not None:
                stored[name] = view[name]
        old_external_id = self._views.get(view_id, {}).get("external_id")
        if old_external_id:
            self._view_ids_by_external_id.pop(old_external_id, None)
        if stored["external_id"]:
            self._view_ids_by_external_id[stored["external_id"]] = view_id
        self._views[view_id] = stored
        return stored

    def _check_trigger(self, trigger_id: Any) -> None:
        """Slack's trigger_ids last 3 seconds. The signed-request sender (testkit.simulator) puts
        the moment it made one in its first part, in milliseconds, so a modal opened after slow
        work fails here as it would in Slack; other trigger ids are only checked for presence."""
        if not trigger_id:
            raise SlackApiErrorAnswer("invalid_trigger_id")
        issued = str(trigger_id).split(".", 1)[0]
        if len(issued) == 13 and issued.isdigit():
            age = time.time() - int(issued) / 1000
            if age > TRIGGER_ID_LIFETIME_SECONDS:
                raise SlackApiErrorAnswer("expired_trigger_id")

    def _views_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._check_trigger(params.get("trigger_id"))
        view = self._validated_view(params)
        return {"view": self._store_view(view)}

    def _views_push(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._check_trigger(params.get("trigger_id"))
        view = self._validated_view(params, allowed_types=("modal",))
        return {"view": self._store_view(view)}

    def _views_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and not external_id:
            raise SlackApiErrorAnswer("invalid_arguments")
        if not view_id:
            view_id = self._view_ids_by_external_id.get(str(external_id))
        existing = self._views.get(str(view_id)) if view_id else None
        if existing is None:
            raise SlackApiErrorAnswer("not_found")
        given_hash = params.get("hash")
        if given_hash and given_hash != existing["hash"]:
            raise SlackApiErrorAnswer("hash_conflict")
        view = self._validated_view(params)
        return {
            "view": self._store_view(
                view, view_id=existing["id"], root_view_id=existing["root_view_id"]
            )
        }

    def _views_publish(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = self._known_user(params.get("user_id"))
        view = self._validated_view(params, allowed_types=("home",))
        existing_id = self._home_view_ids.get(user.id)
        existing = self._views.get(existing_id) if existing_id else None
        given_hash = params.get("hash")
        # `hash` "represents view state to protect against possible race conditions";
        # hash_conflict: "the provided hash doesn't match the current stored value". Each
        # publish stores a new hash, so a hash read before another publish is stale.
        # https://docs.slack.dev/reference/methods/views.publish
        if existing is not None and given_hash and given_hash != existing["hash"]:
            raise SlackApiErrorAnswer("hash_conflict")
        stored = self._store_view(view, view_id=existing_id)
        self._home_view_ids[user.id] = stored["id"]
        return {"view": stored}

    def _files_get_upload_url_external(
        self, params: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        filename = params.get("filename")
        length_text = str(params.get("length") or "")
        if not filename or not length_text.isdigit():
            raise SlackApiErrorAnswer("invalid_arguments")
        length = int(length_text)
        if length <= 0:
            raise SlackApiErrorAnswer("invalid_length")
        # `alt_txt`: "Description of image for screen-reader", optional; longer than 1,000
        # characters is `alt_txt_too_large`.
        # https://api.slack.com/methods/files.getUploadURLExternal
        alt_txt = params.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > MAX_ALT_TXT:
            raise SlackApiErrorAnswer("alt_txt_too_large")
        file_id = self._new_id("F")
        self._files[file_id] = _StoredFile(
            id=file_id,
            filename=str(filename),
            length=length,
            alt_txt=str(alt_txt) if alt_txt is not None else None,
        )
        return {"upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(
        self, params: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise SlackApiErrorAnswer("invalid_arguments")
        channel_ids: list[str] = []
        if params.get("channel_id"):
            channel_ids.append(self._known_channel(params["channel_id"]))
        for channel in str(params.get("channels") or "").split(","):
            if channel:
                channel_ids.append(self._known_channel(channel))
        answered = []
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            stored = self._files.get(str(file_id))
            if stored is None or stored.content is None:
                raise SlackApiErrorAnswer("file_not_found")
            share_ts = self._new_ts()
            stored.title = str(item.get("title") or stored.filename)
            for channel_id in channel_ids:
                stored.shares.setdefault(channel_id, share_ts)
            answered.append(
                {
                    **self._file_object(stored),
                    "permalink": self._permalink(channel_ids[0], share_ts)
                    if channel_ids
                    else f"https://{self.team_domain}.slack.com/files/{stored.id}",
                }
            )
        return {"files": answered}

    def _file_object(self, stored: _StoredFile) -> dict[str, Any]:
        """A file object as https://docs.slack.dev/reference/objects/file-object shows it: where
        it is shared is in `shares` (public/private, by conversation, each share with its `ts`)
        and in the `channels`, `groups` and `ims` lists; a file nobody shared has none."""
        public = {c: [{"ts": ts}] for c, ts in stored.shares.items() if c.startswith("C")}
        private = {c: [{"ts": ts}] for c, ts in stored.shares.items() if not c.startswith("C")}
        return {
            "id": stored.id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": stored.filename,
            "title": stored.title or stored.filename,
            **({"alt_txt": stored.alt_txt} if stored.alt_txt is not None else {}),
            "user": self.bot_user_id,
            "size": len(stored.content or b""),
            "url_private": f"{self.origin}/files/{stored.id}/{stored.filename}",
            "shares": {
                **({"public": public} if public else {}),
                **({"private": private} if private else {}),
            },
            "channels": [c for c in stored.shares if c.startswith("C")],
            "groups": [c for c in stored.shares if c.startswith("G")],
            "ims": [c for c in stored.shares if c.startswith("D")],
        }

    def _files_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """files.info: the file object (https://docs.slack.dev/reference/methods/files.info;
        an unknown id is `file_not_found`). A file uploaded but never completed is known here
        and shared nowhere."""
        stored = self._files.get(str(params.get("file") or ""))
        if stored is None:
            raise SlackApiErrorAnswer("file_not_found")
        return {"file": self._file_object(stored)}

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not params.get("client_id"):
            raise SlackApiErrorAnswer("invalid_client_id")
        if not params.get("client_secret"):
            raise SlackApiErrorAnswer("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            team_id = self._refresh_tokens.pop(str(params.get("refresh_token")), None)
            if team_id is None:
                raise SlackApiErrorAnswer("invalid_refresh_token")
            return {
                "app_id": self.app_id,
                "token_type": "bot",
                "scope": "chat:write,commands,users:read,im:write,files:write",
                "bot_user_id": self.bot_user_id,
                "team": {"id": team_id, "name": self.teams[team_id]},
                "enterprise": self._enterprise_of(team_id),
                "is_enterprise_install": False,
                **self._new_bot_token(team_id),
            }
        code = params.get("code")
        if not code or code == "invalid":
            raise SlackApiErrorAnswer("invalid_code")
        team_id = str(code).removeprefix("code-for-")
        if team_id not in self.teams:
            team_id = self.team_id
        installer = next(
            (user for user in self.users.values() if not user.is_bot),
            StandInUser(id="U0INSTALLER", name="installer", real_name="Installer"),
        )
        return {
            "app_id": self.app_id,
            "authed_user": {"id": installer.id, "scope": "", "token_type": "user"},
            "scope": "chat:write,commands,users:read,im:write,files:write",
            "token_type": "bot",
            "bot_user_id": self.bot_user_id,
            "team": {"id": team_id, "name": self.teams[team_id]},
            # A workspace of a Grid org answers both `team` and `enterprise`; the app is then
            # installed on that one workspace (is_enterprise_install false). An org-wide install
            # would answer "team": null and is_enterprise_install true, which this app's manifest
            # (org_deploy_enabled: false) never asks for.
            # https://docs.slack.dev/reference/methods/oauth.v2.access and
            # https://api.slack.com/enterprise/apps/reference (sample oauth.v2.access response)
            "enterprise": self._enterprise_of(team_id),
            "is_enterprise_install": False,
            **self._new_bot_token(team_id),
        }

    def _new_bot_token(self, team_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"access_token": f"xoxb-{team_id}-{self._new_id('t')}"}
        if self.token_rotation:
            refresh_token = f"xoxe-1-{team_id}-{self._new_id('r')}"
            self._refresh_tokens[refresh_token] = team_id
            answer.update(refresh_token=refresh_token, expires_in=self.token_lifetime_seconds)
        return answer

    def _apps_connections_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Shaped like Slack's wss://wss-primary.slack.com/link/?ticket=…&app_id=…
        ticket = str(uuid.uuid4())
        self._socket_tickets.add(ticket)
        return {
            "url": f"ws://{self._host}:{self.port}{SOCKET_PATH}?ticket={ticket}&app_id={self.app_id}"
        }


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in until interrupted, with a couple of sample users and a wins channel."""
    parser = argparse.ArgumentParser(description="A local stand-in for the Slack Web API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--bot-token", default="xoxb-standin")
    arguments = parser.parse_args(argv)
    stand_in = SlackStandIn(host=arguments.host, port=arguments.port, bot_token=arguments.bot_token)
    stand_in.add_user(
        StandInUser(id="U0MANAGER", name="maria", real_name="Maria Manager", is_admin=True)
    )
    stand_in.add_user(
        StandInUser(id="U0REP", name="riley", real_name="Riley Rep", tz="America/Los_Angeles")
    )
    stand_in.add_channel("C0WINS", "wins")
    stand_in.start()
    print(f"Slack stand-in listening: SLACK_API_URL={stand_in.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stand_in.stop()


if __name__ == "__main__":
    main()
