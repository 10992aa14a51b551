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


def reply_to_click(client: WebClient, body: dict[str, Any], message: dict[str, Any]) -> None:
    """An only-visible-to-you reply to a button click, where the button was (else the DM)."""
    user_id = body["user"]["id"]
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    try:
        if channel:
            send_ephemeral(client, {"channel_id": channel, "user_id": user_id}, message)
        else:
            send_dm(client, user_id, message)
    except SlackApiError:
        pass  # nothing else to try: the click changed nothing either way


def not_yours_message(what: str, owner_user_id: str | None) -> dict[str, Any]:
    """The answer to someone using another person's button or form: `what` is e.g.
    "check-in"; nothing was changed."""
    whose = f"<@{owner_user_id}>'s" if owner_user_id else "someone else's"
    text = f"That {what} is {whose}, so I left it as it was. Yours are in your DMs with me."
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


NOT_YOURS_ERROR = "This form is someone else's, so nothing was saved. Yours are in your DMs."
