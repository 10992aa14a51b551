"""The Slack stand-in's answers to interactivity: trigger ids that expire, chat.postEphemeral
and channel membership, response_urls."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from testkit.standin import SlackStandIn
from tests.support.standin_client import client_for, standin

__all__ = ["standin"]  # the fixtures (tests/support/standin_client.py)


def test_a_trigger_id_expires_after_three_seconds_as_in_slack() -> None:
    import time as _time

    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from testkit.simulator import new_trigger_id

    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Hello"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    with SlackStandIn() as standin:
        client = WebClient(token=standin.bot_token, base_url=standin.url, retry_handlers=[])
        assert client.views_open(trigger_id=new_trigger_id(), view=view)["ok"]
        stale = f"{int((_time.time() - 3.5) * 1000)}.1.abcdef"
        with pytest.raises(SlackApiError) as raised:
            client.views_open(trigger_id=stale, view=view)
        assert raised.value.response["error"] == "expired_trigger_id"
        # Trigger ids of other shapes are only checked for presence.
        assert client.views_open(trigger_id="13345224609.738474920.8088930838d88f008e0", view=view)[
            "ok"
        ]


# --- chat.postEphemeral and channel membership; response_urls ---------------------------------


def test_post_ephemeral_reaches_only_where_slack_lets_it(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/methods/chat.postEphemeral/ errors: channel_not_found
    for a DM between two people or a private channel without the app (it can't see either),
    not_in_channel where the app isn't, user_not_in_channel where the person isn't."""
    standin.add_channel(
        "C0SECRET", "secret", private=True, members={"U0ALICE"}, bot_is_member=False
    )
    standin.add_channel("C0CLUB", "club", private=True, members={"U0BOSS"})
    standin.add_channel("C0QUIET", "quiet", bot_is_member=False)
    standin.add_dm_between("D0ALICEBOSS", "U0ALICE", "U0BOSS")
    client = client_for(standin)

    def error_of(channel: str) -> str | None:
        try:
            client.chat_postEphemeral(channel=channel, user="U0ALICE", text="hi")
        except SlackApiError as error:
            return str(error.response["error"])
        return None

    assert error_of("D0ALICEBOSS") == "channel_not_found"
    assert error_of("C0SECRET") == "channel_not_found"
    assert error_of("C0QUIET") == "not_in_channel"
    assert error_of("C0CLUB") == "user_not_in_channel"
    assert error_of("D" + "0BOSS") == "user_not_in_channel"  # the app's DM with someone else
    assert error_of("C0WINS") is None  # a public channel everyone is in
    assert error_of("D0ALICE") is None  # the app's own DM with her
    # The private channel the app isn't in is invisible to every method.
    with pytest.raises(SlackApiError) as info:
        client.conversations_info(channel="C0SECRET")
    assert info.value.response["error"] == "channel_not_found"
    listed = [c["id"] for c in client.conversations_list()["channels"]]
    assert "C0SECRET" not in listed and "C0CLUB" in listed


def _post_json(url: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_response_url_takes_five_posts_then_refuses(standin: SlackStandIn) -> None:
    """ "up to 5 times within 30 minutes" (Slack's slash command and interactivity docs)."""
    from testkit.simulator import SlackSender

    sender = SlackSender("unused://", "secret", response_origin=standin.origin)
    url = sender.new_response_url("commands")
    assert url.startswith(f"{standin.origin}/commands/T0REBOUND/")
    for n in range(5):
        assert _post_json(url, {"text": f"reply {n}", "response_type": "ephemeral"})[0] == 200
    assert _post_json(url, {"text": "one too many"}) == (404, "expired_url")
    answers = standin.responses_to(url)
    assert [a["text"] for a in answers] == [f"reply {n}" for n in range(5)]
    assert len(standin.responses_to(url, ok_only=False)) == 6
    # Another URL is counted on its own; a click's replace_original is recorded as sent.
    other = sender.new_response_url("actions")
    assert _post_json(other, {"text": "done", "replace_original": True})[0] == 200
    assert standin.wait_for_responses(other) == [{"text": "done", "replace_original": True}]


def test_a_response_url_expires_after_thirty_minutes(standin: SlackStandIn) -> None:
    issued = int((time.time() - 30 * 60 - 5) * 1000)
    url = f"{standin.origin}/commands/T0REBOUND/{issued}.1/token"
    assert _post_json(url, {"text": "too late"}) == (404, "expired_url")
    fresh = f"{standin.origin}/commands/T0REBOUND/{int((time.time() - 60) * 1000)}.2/token"
    assert _post_json(fresh, {"text": "in time"})[0] == 200


def test_a_response_url_checks_the_message_as_chat_post_message_does(
    standin: SlackStandIn,
) -> None:
    url = f"{standin.origin}/actions/T0REBOUND/{int(time.time() * 1000)}.3/token"
    assert _post_json(url, {"response_type": "ephemeral"}) == (400, "no_text")
    assert _post_json(url, {"text": "x", "blocks": [{"type": "nope"}]}) == (400, "invalid_blocks")
    assert _post_json(url, {"text": "x", "response_type": "shout"}) == (400, "invalid_payload")
    assert _post_json(url, {"delete_original": True})[0] == 200
    with pytest.raises(AssertionError, match="refused"):
        standin.wait_for_responses(url, count=2, timeout=0.2)
