"""Small helpers for talking to one person: a DM, or an ephemeral reply where they typed."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.blocks import kit

log = logging.getLogger(__name__)

# Slack takes a response_url "up to 5 times within 30 minutes"; a reply never waits long on it.
RESPONSE_URL_TIMEOUT_SECONDS = 10


def team_id_of(body: dict[str, Any]) -> str:
    """The workspace a payload came from: interactive payloads carry `team.id`, slash commands
    and events `team_id`, and a few (some view submissions) only the user's `team_id`."""
    return (body.get("team") or {}).get("id") or body.get("team_id") or body["user"]["team_id"]


def send_dm(client: WebClient, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """Post `message` in the app's DM with the user; returns Slack's response."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]


def post_to_response_url(
    response_url: str, message: dict[str, Any], *, replace_original: bool = False
) -> bool:
    """Answer through a payload's response_url: privately to the person who typed or clicked,
    in the very conversation, even one the bot can't post to (someone else's DM, a private
    channel it isn't in). With `replace_original` the message clicked is replaced instead, so
    its buttons can't be clicked again. False when Slack refused it (used up, expired)."""
    body: dict[str, Any] = {**message, "replace_original": replace_original}
    if not replace_original:
        body["response_type"] = "ephemeral"
    try:
        response = WebhookClient(response_url, timeout=RESPONSE_URL_TIMEOUT_SECONDS).send_dict(body)
    except Exception as error:  # unreachable or timed out: the caller picks another way
        log.warning("response_url post failed: %s", type(error).__name__)
        return False
    if response.status_code != 200:
        log.warning("response_url refused: %s %s", response.status_code, response.body)
        return False
    return True


def send_ephemeral(client: WebClient, command: dict[str, Any], message: dict[str, Any]) -> None:
    """An only-visible-to-you reply in the channel where the command was typed.

    chat.postEphemeral can't reach someone in a DM with another person or in a private channel
    without the bot; the command's response_url can, in the same place. Only when neither
    works does the reply go to the app's DM."""
    try:
        client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"], **message)
        return
    except SlackApiError as error:
        reason = error.response.get("error")
    response_url = command.get("response_url")
    if response_url and post_to_response_url(response_url, message):
        return
    log.info("ephemeral reply not possible (%s); sending it by DM", reason)
    send_dm(client, command["user_id"], message)


def command_failed_message(command_name: str | None) -> dict[str, Any]:
    """What someone sees when their command broke after Slack had its answer."""
    what = f"`{command_name}`" if command_name else "that"
    return {"text": f"Sorry, I couldn't finish {what} just now. Please try again in a minute."}


def tells_user_on_failure(listener: Callable[..., None]) -> Callable[..., None]:
    """Wrap a slash command listener so a failure never goes unanswered.

    Bolt runs listeners on a thread after `ack()`; if one raises after acking, Bolt clears the
    ack it had and Slack gets a 404 "unhandled request" 3 s later, with nothing shown to the
    person (bolt-python's slack_bolt/listener/thread_runner.py, run_ack_function_asynchronously:
    `if ack.response is not None: response = None ... ack.response = response`). Caught here:
    before the ack, the apology is the ack itself; after it, it goes through the response_url.

    Bolt reads the listener's argument names through `inspect.unwrap`, so the wrapped listener
    still gets exactly the arguments it names (it must name `ack` and `command`)."""

    @functools.wraps(listener)
    def guarded(**kwargs: Any) -> None:
        try:
            listener(**kwargs)
        except Exception:
            command: dict[str, Any] = kwargs.get("command") or {}
            log.exception("%s failed", command.get("command") or "a command")
            message = command_failed_message(command.get("command"))
            ack = kwargs.get("ack")
            if ack is not None and getattr(ack, "response", None) is None:
                ack(response_type="ephemeral", **message)
                return
            response_url = command.get("response_url")
            if not response_url or not post_to_response_url(response_url, message):
                log.warning("could not tell the user that %s failed", command.get("command"))

    return guarded


def reply_to_click(client: WebClient, body: dict[str, Any], message: dict[str, Any]) -> None:
    """An only-visible-to-you reply to a button click, where the button was (else the DM)."""
    user_id = body["user"]["id"]
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    # The click's response_url answers where postEphemeral can't reach (someone else's DM).
    where = {"channel_id": channel, "user_id": user_id, "response_url": body.get("response_url")}
    try:
        if channel:
            send_ephemeral(client, where, message)
        else:
            send_dm(client, user_id, message)
    except SlackApiError:
        pass  # nothing else to try: the click changed nothing either way


def not_yours_message(what: str, owner_user_id: str | None) -> dict[str, Any]:
    """The answer to someone using another person's button or form: `what` is e.g.
    "check-in"; nothing was changed."""
    whose = f"<@{owner_user_id}>'s" if owner_user_id else "someone else's"
    text = f"That {what} is {whose}, so I left it as it was. Yours are in your DMs with me."
    return kit.message(text)


NOT_YOURS_ERROR = "This form is someone else's, so nothing was saved. Yours are in your DMs."


def replace_clicked_message(
    body: dict[str, Any],
    new_blocks: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
) -> None:
    """The DM whose button was clicked, its buttons replaced by what the click did: the direct
    answer to the click, so through the click's response_url rather than a Web API call the
    outbox would have to own. "When a user interacts with an interactive element in a message,
    a payload containing a response_url will be sent to the app that published the interactive
    message. This response_url can be used to publish new messages. It can also be used to
    update the original" (https://docs.slack.dev/messaging/modifying-messages, "Updating
    messages using response_url"). What was decided is saved and queued already; a refused
    response_url leaves only the old buttons, which answer a second click as already done."""
    message, response_url = body.get("message"), body.get("response_url")
    if not message or not response_url:
        return
    post_to_response_url(
        response_url,
        {
            "text": message.get("text") or "Debrief saved",
            "blocks": new_blocks(list(message.get("blocks") or [])),
        },
        replace_original=True,
    )
