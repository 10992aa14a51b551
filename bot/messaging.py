"""Small helpers for talking to one person: a DM, or an ephemeral reply where they typed."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


def team_id_of(body: dict[str, Any]) -> str:
    """The workspace a payload came from: interactive payloads carry `team.id`, slash commands
    and events `team_id`, and a few (some view submissions) only the user's `team_id`."""
    return (body.get("team") or {}).get("id") or body.get("team_id") or body["user"]["team_id"]


def send_dm(client: WebClient, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """Post `message` in the app's DM with the user; returns Slack's response."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]


def send_ephemeral(client: WebClient, command: dict[str, Any], message: dict[str, Any]) -> None:
    """An only-visible-to-you reply in the channel where the command was typed."""
    try:
        client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"], **message)
    except SlackApiError:
        # The bot can't post there (a channel it isn't in, someone else's DM): use the app DM.
        send_dm(client, command["user_id"], message)
