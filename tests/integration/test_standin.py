"""The Slack stand-in's Web API, driven by the real slack_sdk WebClient as the app drives it:
auth, users, messages and their blocks, views, chat.update and chat.delete, and the record
of calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from testkit.standin import RecordedCall, SlackStandIn
from tests.support.standin_client import BOT_TOKEN, client_for, modal, section, standin

__all__ = ["standin"]  # the fixtures (tests/support/standin_client.py)


def test_url_ends_in_api_and_auth_test_names_the_bot(standin: SlackStandIn) -> None:
    assert standin.url.startswith("http://127.0.0.1:")
    assert standin.url.endswith("/api/")
    response = client_for(standin).auth_test()
    assert response["user_id"] == "U0REBOUNDBOT"
    assert response["team_id"] == "T0REBOUND"
    assert response["team"] == "Rebound Demo"
    assert response["bot_id"]
    assert response["url"] == "https://rebound-demo.slack.com/"
    [call] = standin.calls_to("auth.test")
    assert call.token == BOT_TOKEN


def test_users_info_gives_timezone_and_admin_flags(standin: SlackStandIn) -> None:
    client = client_for(standin)
    alice = client.users_info(user="U0ALICE")["user"]
    assert alice["tz"] == "America/Los_Angeles"
    # Pacific time is UTC-8 in winter and UTC-7 in summer.
    assert alice["tz_offset"] in (-8 * 3600, -7 * 3600)
    assert alice["tz_label"].startswith("Pacific")
    assert alice["is_admin"] is False
    assert alice["profile"]["real_name"] == "Alice Rep"
    boss = client.users_info(user="U0BOSS")["user"]
    assert boss["is_admin"] is True
    assert boss["is_owner"] is True
    with pytest.raises(SlackApiError) as raised:
        client.users_info(user="U0NOBODY")
    assert raised.value.response["error"] == "user_not_found"


def test_users_list_pages_with_cursor(standin: SlackStandIn) -> None:
    client = client_for(standin)
    pages = [[member["id"] for member in page["members"]] for page in client.users_list(limit=2)]
    assert [len(page) for page in pages] == [2, 1]
    assert sorted(sum(pages, [])) == ["U0ALICE", "U0BOSS", "U0REBOUNDBOT"]


def test_dm_post_is_recorded_with_decoded_blocks(standin: SlackStandIn) -> None:
    client = client_for(standin)
    channel = client.conversations_open(users="U0ALICE")["channel"]["id"]
    assert channel == "D0ALICE"
    blocks = [section("*Nice comeback!*", block_id="b1"), {"type": "divider"}]
    first = client.chat_postMessage(channel=channel, text="Nice comeback!", blocks=blocks)
    second = client.chat_postMessage(channel=channel, text="again")
    assert first["channel"] == "D0ALICE"
    assert float(second["ts"]) > float(first["ts"])
    [recorded, _] = standin.messages_to("D0ALICE")
    assert recorded.params["blocks"] == blocks
    assert recorded.params["text"] == "Nice comeback!"
    assert recorded.ok and recorded.error is None
    # Posting to a user id lands in that user's DM, as in Slack.
    client.chat_postMessage(channel="U0ALICE", text="by user id")
    assert [call.params["text"] for call in standin.messages_to("D0ALICE")][-1] == "by user id"


def test_form_encoded_blocks_are_decoded(standin: SlackStandIn) -> None:
    blocks = [section("form body")]
    body = f"channel=C0WINS&text=hi&blocks={json.dumps(blocks)}".encode()
    request = urllib.request.Request(
        standin.url + "chat.postMessage",
        data=body,
        headers={
            "Authorization": f"Bearer {BOT_TOKEN}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["ok"] is True
    [call] = standin.messages_to("C0WINS")
    assert call.params["blocks"] == blocks


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_errors(standin: SlackStandIn) -> None:
    client = client_for(standin)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"channel": "C0NOWHERE", "text": "hi"}, "channel_not_found"),
        ({"channel": "C0WINS"}, "no_text"),
        ({"channel": "C0WINS", "text": "x" * 40_001}, "msg_too_long"),
    ]
    for arguments, error in cases:
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(**arguments)
        assert raised.value.response["error"] == error
    assert standin.calls_to("chat.postMessage") == []
    assert len(standin.calls_to("chat.postMessage", ok_only=False)) == 3


def test_fifty_one_blocks_are_invalid_blocks(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.chat_postMessage(channel="C0WINS", text="ok", blocks=[section("x")] * 50)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0WINS", text="too many", blocks=[section("x")] * 51)
    response = raised.value.response
    assert response["error"] == "invalid_blocks"
    assert response["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        (section("x" * 3001), "/blocks/0/text/text"),
        (
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            "/blocks/0/text/text",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "b" * 76},
                        "action_id": "a",
                    }
                ],
            },
            "/blocks/0/elements/0/text/text",
        ),
        ({"type": "carousel"}, "/blocks/0"),
        ({"text": {"type": "mrkdwn", "text": "no type"}}, "/blocks/0"),
    ],
)
def test_block_limits_are_enforced(
    standin: SlackStandIn, block: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client_for(standin).chat_postMessage(channel="C0WINS", text="t", blocks=[block])
    assert raised.value.response["error"] == "invalid_blocks"
    [message] = raised.value.response["response_metadata"]["messages"]
    assert message.endswith(f"[json-pointer:{pointer}]")


def test_duplicate_block_ids_are_rejected(standin: SlackStandIn) -> None:
    blocks = [section("one", block_id="same"), section("two", block_id="same")]
    with pytest.raises(SlackApiError) as raised:
        client_for(standin).chat_postMessage(channel="C0WINS", text="t", blocks=blocks)
    assert raised.value.response["error"] == "invalid_blocks"


def test_views_open_update_and_publish(standin: SlackStandIn) -> None:
    client = client_for(standin)
    opened = client.views_open(trigger_id="123.456.abc", view=modal("Log a loss"))["view"]
    assert opened["id"].startswith("V")
    assert opened["hash"]
    updated = client.views_update(view_id=opened["id"], view=modal("Thanks"))["view"]
    assert updated["id"] == opened["id"]
    assert updated["title"]["text"] == "Thanks"
    home = client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})["view"]
    assert home["type"] == "home"
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="", view=modal("No trigger"))
    assert raised.value.response["error"] == "invalid_trigger_id"
    with pytest.raises(SlackApiError) as raised:
        client.views_update(view_id="V0NOPE", view=modal("Gone"))
    assert raised.value.response["error"] == "not_found"


def test_views_publish_with_a_stale_hash_is_a_hash_conflict(standin: SlackStandIn) -> None:
    # https://docs.slack.dev/reference/methods/views.publish: hash_conflict "when the provided
    # hash doesn't match the current stored value".
    client = client_for(standin)
    first = client.views_publish(user_id="U0BOSS", view={"type": "home", "blocks": []})["view"]
    assert standin.published_home("U0BOSS") == first
    second = client.views_publish(
        user_id="U0BOSS", view={"type": "home", "blocks": []}, hash=first["hash"]
    )["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    with pytest.raises(SlackApiError) as raised:
        client.views_publish(
            user_id="U0BOSS", view={"type": "home", "blocks": []}, hash=first["hash"]
        )
    assert raised.value.response["error"] == "hash_conflict"
    assert standin.published_home("U0BOSS") == second
    assert standin.published_home("U0NEVER") is None


def test_modal_title_of_25_characters_is_invalid_arguments(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.views_open(trigger_id="t1", view=modal("x" * 24))
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="t2", view=modal("x" * 25))
    response = raised.value.response
    assert response["error"] == "invalid_arguments"
    assert response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_private_metadata_over_3000_is_rejected(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.views_open(trigger_id="t1", view=modal("Fits", private_metadata="m" * 3000))
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="t2", view=modal("Too big", private_metadata="m" * 3001))
    assert raised.value.response["error"] == "invalid_arguments"
    assert any(
        "/view/private_metadata" in message
        for message in raised.value.response["response_metadata"]["messages"]
    )


def test_malformed_views_are_invalid_arguments(standin: SlackStandIn) -> None:
    client = client_for(standin)
    no_type: dict[str, Any] = {"title": {"type": "plain_text", "text": "t"}, "blocks": []}
    no_title: dict[str, Any] = {"type": "modal", "blocks": []}
    input_without_submit = modal(
        "Input",
        blocks=[
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Deal"},
                "element": {"type": "plain_text_input", "action_id": "deal"},
            }
        ],
    )
    for view in (no_type, no_title, input_without_submit):
        with pytest.raises(SlackApiError) as raised:
            client.views_open(trigger_id="t", view=view)
        assert raised.value.response["error"] == "invalid_arguments"


def test_chat_update_and_permalink(standin: SlackStandIn) -> None:
    client = client_for(standin)
    posted = client.chat_postMessage(channel="C0WINS", text="v1")
    updated = client.chat_update(channel="C0WINS", ts=posted["ts"], text="v2")
    assert updated["message"]["text"] == "v2"
    permalink = client.chat_getPermalink(channel="C0WINS", message_ts=posted["ts"])["permalink"]
    assert permalink == (
        f"https://rebound-demo.slack.com/archives/C0WINS/p{posted['ts'].replace('.', '')}"
    )
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C0WINS", ts="1.000001", text="v3")
    assert raised.value.response["error"] == "message_not_found"


def test_ephemeral_messages_count_as_messages_to_the_channel(standin: SlackStandIn) -> None:
    client = client_for(standin)
    response = client.chat_postEphemeral(channel="C0WINS", user="U0ALICE", text="only you")
    assert response["message_ts"]
    [call] = standin.messages_to("C0WINS")
    assert call.method == "chat.postEphemeral"


def test_wait_for_returns_when_the_call_arrives(standin: SlackStandIn) -> None:
    def has_post(calls: list[RecordedCall]) -> bool:
        return any(call.method == "chat.postMessage" for call in calls)

    client_for(standin).chat_postMessage(channel="C0WINS", text="done")
    calls = standin.wait_for(has_post, timeout=1.0)
    assert has_post(calls)


def test_wait_for_times_out_with_a_summary(standin: SlackStandIn) -> None:
    client_for(standin).chat_postMessage(channel="C0WINS", text="the only post")
    with pytest.raises(AssertionError) as raised:
        standin.wait_for(lambda calls: len(calls) > 5, timeout=0.2)
    message = str(raised.value)
    assert "1 call(s) seen" in message
    assert "chat.postMessage ok channel=C0WINS" in message
    assert "the only post" in message


def test_clear_calls_empties_the_record(standin: SlackStandIn) -> None:
    client_for(standin).auth_test()
    assert standin.calls
    standin.clear_calls()
    assert standin.calls == []


def test_chat_delete_as_slack_documents_it(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/methods/chat.delete: channel and ts in, the same out;
    message_not_found for a ts with no message (a second delete), cant_delete_message for a
    message the bot didn't post, channel_not_found for a channel that isn't valid."""
    client = client_for(standin)
    posted = client.chat_postMessage(channel="C0WINS", text="A tip of the hat")
    ts = str(posted["ts"])
    assert standin.has_message("C0WINS", ts)
    answer = client.chat_delete(channel="C0WINS", ts=ts)
    assert (answer["ok"], answer["channel"], answer["ts"]) == (True, "C0WINS", ts)
    assert not standin.has_message("C0WINS", ts)
    assert standin.deleted_messages == [("C0WINS", ts)]
    for channel, message_ts, error in (
        ("C0WINS", ts, "message_not_found"),
        ("C0WINS", standin.add_message_by_someone_else("C0WINS", "hi"), "cant_delete_message"),
        ("C0NOPE", ts, "channel_not_found"),
    ):
        with pytest.raises(SlackApiError) as raised:
            client.chat_delete(channel=channel, ts=message_ts)
        assert raised.value.response["error"] == error
    assert standin.deleted_messages == [("C0WINS", ts)]
