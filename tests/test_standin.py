"""The Slack stand-in, driven by the real slack_sdk WebClient as the app drives it."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.standin import RecordedCall, SlackStandIn, StandInUser

BOT_TOKEN = "xoxb-standin"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn()
    server.add_user(
        StandInUser(
            id="U0ALICE",
            name="alice",
            real_name="Alice Rep",
            tz="America/Los_Angeles",
        )
    )
    server.add_user(
        StandInUser(id="U0BOSS", name="boss", real_name="Bo Boss", is_admin=True, is_owner=True)
    )
    server.add_channel("C0WINS", "wins")
    with server:
        yield server


def client_for(standin: SlackStandIn, **kwargs: Any) -> WebClient:
    kwargs.setdefault("token", BOT_TOKEN)
    return WebClient(base_url=standin.url, **kwargs)


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def modal(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("hello")],
        **extra,
    }


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
    seen: list[str] = []
    cursor = None
    for page in client.users_list(limit=2, cursor=cursor):
        seen.extend(member["id"] for member in page["members"])
    assert sorted(seen) == ["U0ALICE", "U0BOSS", "U0REBOUNDBOT"]


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


def test_429_reaches_a_client_without_retries(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", retry_after=7)
    client = client_for(standin, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0WINS", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    [call] = standin.calls_to("chat.postMessage", ok_only=False)
    assert (call.ok, call.error) == (False, "ratelimited")
    # The fault was for one call only.
    assert client.chat_postMessage(channel="C0WINS", text="hi")["ok"] is True


def test_rate_limit_retry_handler_waits_and_succeeds(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", retry_after=1)
    client = client_for(standin, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    response = client.chat_postMessage(channel="C0WINS", text="eventually")
    assert response["ok"] is True
    assert time.monotonic() - started >= 1.0  # honoured Retry-After
    assert [call.ok for call in standin.calls_to("chat.postMessage", ok_only=False)] == [
        False,
        True,
    ]


def test_server_error_once_then_success(standin: SlackStandIn) -> None:
    standin.fail_next("users.info", status=500)
    client = client_for(standin, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])
    assert client.users_info(user="U0ALICE")["user"]["id"] == "U0ALICE"
    errors = [call.error for call in standin.calls_to("users.info", ok_only=False)]
    assert errors == ["fatal_error", None]


def test_rate_limit_bucket_answers_429_beyond_the_rate(standin: SlackStandIn) -> None:
    standin.rate_limit("chat.postMessage", per_second=1)
    client = client_for(standin, retry_handlers=[])
    client.chat_postMessage(channel="C0WINS", text="first")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0WINS", text="second")
    assert raised.value.response.status_code == 429
    assert int(raised.value.response.headers["Retry-After"]) >= 1


def test_files_upload_v2_end_to_end(standin: SlackStandIn) -> None:
    content = b"\x89PNG fake chart bytes"
    response = client_for(standin).files_upload_v2(
        channel="C0WINS", content=content, filename="x.png", title="Quadrants"
    )
    file_info = response["file"]
    assert file_info["title"] == "Quadrants"
    assert file_info["size"] == len(content)
    assert standin.uploaded_file(file_info["id"]) == content
    [complete] = standin.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0WINS"
    assert complete.params["files"][0]["id"] == file_info["id"]


def test_completing_a_file_never_uploaded_is_file_not_found(standin: SlackStandIn) -> None:
    client = client_for(standin)
    file_id = client.files_getUploadURLExternal(filename="x.png", length=3)["file_id"]
    with pytest.raises(SlackApiError) as raised:
        client.files_completeUploadExternal(files=[{"id": file_id, "title": "x"}])
    assert raised.value.response["error"] == "file_not_found"


def test_oauth_v2_access(standin: SlackStandIn) -> None:
    client = WebClient(base_url=standin.url)
    response = client.oauth_v2_access(client_id="123.456", client_secret="shh", code="good-code")
    assert response["access_token"].startswith("xoxb-")
    assert response["team"] == {"id": "T0REBOUND", "name": "Rebound Demo"}
    assert response["bot_user_id"] == "U0REBOUNDBOT"
    assert response["authed_user"]["id"]
    # The issued token works for later calls.
    assert client_for(standin, token=response["access_token"]).auth_test()["ok"] is True
    with pytest.raises(SlackApiError) as raised:
        client.oauth_v2_access(client_id="123.456", client_secret="shh", code="invalid")
    assert raised.value.response["error"] == "invalid_code"


def test_tokens_are_checked(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=standin.url).auth_test()
    assert raised.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as raised:
        client_for(standin, token="bogus").auth_test()
    assert raised.value.response["error"] == "invalid_auth"
    app_token_client = client_for(standin, token="xapp-1-A0-1-abc")
    assert app_token_client.apps_connections_open(app_token="xapp-1-A0-1-abc")["url"].startswith(
        "ws://127.0.0.1:"
    )


def test_unknown_method_is_404(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as raised:
        client_for(standin).api_call("nope.never")
    assert raised.value.response.status_code == 404
    assert raised.value.response["error"] == "unknown_method"


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
