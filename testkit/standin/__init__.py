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

A package, one module a part: state (what it knows and records) and core (SlackStandIn, put
together from the rest, started and stopped); the Web API methods by family (auth, users,
conversations, chat, views, files); server (the HTTP side: requests, faults, answers, response_urls,
uploads); socket_mode and websocket (Socket Mode over a minimal RFC 6455 WebSocket); blockkit
(Slack's Block Kit limits and their checker); scenario (what a test sets up) and recorded (what it
reads back); records (the data types). Import from here:
``from testkit.standin import SlackStandIn``.
"""

from testkit.standin.blockkit import (
    KNOWN_BLOCK_TYPES,
    KNOWN_ELEMENT_TYPES,
    KNOWN_VIEW_TYPES,
    MAX_ACTION_ID,
    MAX_ACTIONS_ELEMENTS,
    MAX_ALT_TEXT,
    MAX_BLOCK_ID,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CALLBACK_ID,
    MAX_CHOICE_OPTIONS,
    MAX_CONTEXT_ELEMENTS,
    MAX_EXTERNAL_ID,
    MAX_HEADER_TEXT,
    MAX_IMAGE_TITLE,
    MAX_INPUT_HINT,
    MAX_INPUT_LABEL,
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_OPTION_DESCRIPTION,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OVERFLOW_OPTIONS,
    MAX_PLACEHOLDER,
    MAX_PRIVATE_METADATA,
    MAX_SECTION_FIELD_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    MAX_SELECT_OPTIONS,
    MAX_TEXT_INPUT_LENGTH,
    MAX_URL,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_BUTTON_TEXT,
    MAX_VIEW_TITLE,
    BlockKitChecker,
)
from testkit.standin.core import SlackStandIn
from testkit.standin.files import MAX_ALT_TXT
from testkit.standin.records import (
    RecordedCall,
    ResponseUrlPost,
    SlackApiErrorAnswer,
    StandInUser,
    _dm_channel_id,
    _Fault,
)
from testkit.standin.server import (
    RESPONSE_URL_KINDS,
    RESPONSE_URL_LIFETIME_SECONDS,
    RESPONSE_URL_MAX_USES,
)
from testkit.standin.socket_mode import SOCKET_ENVELOPE_TYPES, SOCKET_PATH
from testkit.standin.views import TRIGGER_ID_LIFETIME_SECONDS
from testkit.standin.websocket import encode_websocket_frame, read_websocket_frame, websocket_accept

__all__ = [
    "BlockKitChecker",
    "KNOWN_BLOCK_TYPES",
    "KNOWN_ELEMENT_TYPES",
    "KNOWN_VIEW_TYPES",
    "MAX_ACTIONS_ELEMENTS",
    "MAX_ACTION_ID",
    "MAX_ALT_TEXT",
    "MAX_ALT_TXT",
    "MAX_BLOCK_ID",
    "MAX_BUTTON_TEXT",
    "MAX_BUTTON_VALUE",
    "MAX_CALLBACK_ID",
    "MAX_CHOICE_OPTIONS",
    "MAX_CONTEXT_ELEMENTS",
    "MAX_EXTERNAL_ID",
    "MAX_HEADER_TEXT",
    "MAX_IMAGE_TITLE",
    "MAX_INPUT_HINT",
    "MAX_INPUT_LABEL",
    "MAX_MESSAGE_BLOCKS",
    "MAX_MESSAGE_TEXT",
    "MAX_OPTION_DESCRIPTION",
    "MAX_OPTION_TEXT",
    "MAX_OPTION_VALUE",
    "MAX_OVERFLOW_OPTIONS",
    "MAX_PLACEHOLDER",
    "MAX_PRIVATE_METADATA",
    "MAX_SECTION_FIELDS",
    "MAX_SECTION_FIELD_TEXT",
    "MAX_SECTION_TEXT",
    "MAX_SELECT_OPTIONS",
    "MAX_TEXT_INPUT_LENGTH",
    "MAX_URL",
    "MAX_VIEW_BLOCKS",
    "MAX_VIEW_BUTTON_TEXT",
    "MAX_VIEW_TITLE",
    "RESPONSE_URL_KINDS",
    "RESPONSE_URL_LIFETIME_SECONDS",
    "RESPONSE_URL_MAX_USES",
    "RecordedCall",
    "ResponseUrlPost",
    "SOCKET_ENVELOPE_TYPES",
    "SOCKET_PATH",
    "SlackApiErrorAnswer",
    "SlackStandIn",
    "StandInUser",
    "TRIGGER_ID_LIFETIME_SECONDS",
    "_Fault",
    "_dm_channel_id",
    "encode_websocket_frame",
    "read_websocket_frame",
    "websocket_accept",
]
