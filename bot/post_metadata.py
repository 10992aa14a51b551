"""The post key every message the outbox sends carries in Slack's message metadata, so that a
send whose outcome was lost can be found in the conversation before it is sent again
(bot.dispatcher, bot.outbox_reconcile); and the two reasons a row can never be sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Every chat.postMessage carries its post key in Slack's message metadata, so a send whose
# outcome was lost can be found in the conversation (https://docs.slack.dev/messaging/
# message-metadata: "event_type" names the event, "event_payload" is free-form). Slack returns
# metadata in conversations.history only when asked with include_all_metadata=true
# (https://docs.slack.dev/reference/methods/conversations.history).
METADATA_EVENT_TYPE = "rebound_post"


class Unrenderable(Exception):
    """An upload row whose renderer is unknown here (bot.uploads): it can never be sent."""


class MetadataRefused(Unrenderable, ValueError):
    """A message whose own metadata can't carry the post key (with_post_key): never sent."""


def with_post_key(message: Mapping[str, Any], post_key: str, team_id: str = "") -> dict[str, Any]:
    """chat.postMessage arguments with the post key (and the workspace it is unique in) in the
    message's metadata: the key a lost send is looked for by must always be there.

    A message carries one metadata object, one ``event_type`` and one free-form
    ``event_payload`` (https://docs.slack.dev/messaging/message-metadata; its values are
    strings, numbers, booleans or objects of them: https://docs.slack.dev/tools/
    node-slack-sdk/reference/types/interfaces/MessageMetadata). A caller's own metadata is
    merged when it is of our event type (or names none): its payload keys are kept beside the
    post key. Another event type, or a payload that names another post key or workspace,
    cannot share the message with ours: refused (MetadataRefused), never sent without the key.
    """
    ours: dict[str, Any] = {"post_key": post_key, **({"team_id": team_id} if team_id else {})}
    theirs = message.get("metadata")
    if theirs is None:
        return {**message, "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": ours}}
    if not isinstance(theirs, Mapping):
        raise MetadataRefused(f"metadata_not_an_object:{type(theirs).__name__}")
    event_type = theirs.get("event_type", METADATA_EVENT_TYPE)
    if event_type != METADATA_EVENT_TYPE:
        raise MetadataRefused(f"metadata_event_type:{event_type}")
    payload = theirs.get("event_payload") or {}
    if not isinstance(payload, Mapping):
        raise MetadataRefused("metadata_payload_not_an_object")
    clashes = sorted(k for k in ours if k in payload and payload[k] != ours[k])
    if clashes:
        raise MetadataRefused(f"metadata_payload_clash:{','.join(clashes)}")
    merged = {**payload, **ours}
    return {
        **message,
        "metadata": {**theirs, "event_type": METADATA_EVENT_TYPE, "event_payload": merged},
    }


def post_key_of(message: Mapping[str, Any], team_id: str = "") -> str | None:
    """The post key in a message's metadata (None when it has none, or is another
    workspace's: two databases' rows may share a key, never a workspace and a key)."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        return None
    if team_id and payload.get("team_id", team_id) != team_id:
        return None
    key = payload.get("post_key")
    return key if isinstance(key, str) else None
