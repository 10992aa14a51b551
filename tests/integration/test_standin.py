"""The Slack stand-in, driven by the real slack_sdk WebClient as the app drives it."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from testkit.standin import RecordedCall, SlackStandIn, StandInUser

BOT_TOKEN = "xoxb-standin"
APP_TOKEN = "xapp-1-A0REBOUND-1-standin"


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


def test_files_keep_their_alt_txt_up_to_slacks_1000_characters(standin: SlackStandIn) -> None:
    # files.getUploadURLExternal takes alt_txt; more than 1,000 characters is alt_txt_too_large.
    # https://api.slack.com/methods/files.getUploadURLExternal
    client = client_for(standin)
    response = client.files_upload_v2(
        channel="C0WINS", content=b"\x89PNG", filename="x.png", alt_txt="Chart of 3 reps"
    )
    file_id = response["file"]["id"]
    assert standin.uploaded_alt_txt(file_id) == "Chart of 3 reps"
    assert response["file"]["alt_txt"] == "Chart of 3 reps"
    [announced] = standin.calls_to("files.getUploadURLExternal")
    assert announced.params["alt_txt"] == "Chart of 3 reps"
    assert client.files_getUploadURLExternal(filename="y.png", length=3, alt_txt="a" * 1000)["ok"]
    with pytest.raises(SlackApiError) as raised:
        client.files_getUploadURLExternal(filename="z.png", length=3, alt_txt="a" * 1001)
    assert raised.value.response["error"] == "alt_txt_too_large"


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


def test_oauth_v2_access_in_a_grid_org_names_the_enterprise(standin: SlackStandIn) -> None:
    standin.add_team("T0GRIDWS", "Grid Workspace", enterprise_id="E0ORG", enterprise_name="Org")
    client = WebClient(base_url=standin.url)
    response = client.oauth_v2_access(client_id="1.2", client_secret="s", code="code-for-T0GRIDWS")
    assert response["team"] == {"id": "T0GRIDWS", "name": "Grid Workspace"}
    assert response["enterprise"] == {"id": "E0ORG", "name": "Org"}
    assert response["is_enterprise_install"] is False
    identity = client_for(standin, token=response["access_token"]).auth_test()
    assert (identity["team_id"], identity["enterprise_id"]) == ("T0GRIDWS", "E0ORG")
    # Outside Grid: no enterprise.
    plain = client.oauth_v2_access(client_id="1.2", client_secret="s", code="good-code")
    assert plain["enterprise"] is None
    assert "enterprise_id" not in client_for(standin, token=plain["access_token"]).auth_test()


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


# ----------------------------------------------------------------- Socket Mode


def socket_url(standin: SlackStandIn) -> str:
    return str(
        client_for(standin, token=APP_TOKEN).apps_connections_open(app_token=APP_TOKEN)["url"]
    )


class RawWebSocket:
    """A bare RFC 6455 client, written independently of the stand-in, to poke at the edges."""

    def __init__(self, url: str, *, key: str | None = None) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        self.rfile = self.sock.makefile("rb")
        self.sock.sendall(
            (
                f"GET {parts.path}?{parts.query} HTTP/1.1\r\n"
                f"Host: {parts.hostname}:{parts.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.status = int(self.rfile.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.rfile.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def send(self, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> None:
        header = bytes([(0x80 if fin else 0) | opcode])
        mask_bit = 0x80 if masked else 0
        if len(payload) <= 125:
            header += bytes([mask_bit | len(payload)])
        elif len(payload) <= 0xFFFF:
            header += bytes([mask_bit | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([mask_bit | 127]) + struct.pack("!Q", len(payload))
        if masked:
            mask = os.urandom(4)
            header += mask
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + payload)

    def send_json(self, message: dict[str, Any], **kwargs: Any) -> None:
        self.send(0x1, json.dumps(message).encode(), **kwargs)

    def receive(self) -> tuple[int, bytes, int]:
        """(opcode, payload, size of the length field in bits: 7, 16 or 64)."""
        first, second = self.rfile.read(2)
        assert not second & 0x80, "server frames are never masked"
        length, length_bits = second & 0x7F, 7
        if length == 126:
            (length,), length_bits = struct.unpack("!H", self.rfile.read(2)), 16
        elif length == 127:
            (length,), length_bits = struct.unpack("!Q", self.rfile.read(8)), 64
        assert first & 0x80, "the stand-in never fragments"
        return first & 0x0F, self.rfile.read(length), length_bits

    def receive_json(self) -> dict[str, Any]:
        opcode, payload, _ = self.receive()
        assert opcode == 0x1
        return dict(json.loads(payload))

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()


@pytest.fixture
def raw_socket(standin: SlackStandIn) -> Iterator[RawWebSocket]:
    connection = RawWebSocket(socket_url(standin))
    assert connection.status == 101
    try:
        yield connection
    finally:
        connection.close()


def test_apps_connections_open_hands_out_a_ticketed_socket_url(standin: SlackStandIn) -> None:
    first, second = socket_url(standin), socket_url(standin)
    assert first.startswith(f"ws://127.0.0.1:{standin.port}/socket?ticket=")
    assert "app_id=A0REBOUND" in first
    assert first != second


def test_handshake_answers_the_rfc_6455_accept_value(standin: SlackStandIn) -> None:
    # The worked example of RFC 6455 section 1.3.
    connection = RawWebSocket(socket_url(standin), key="dGhlIHNhbXBsZSBub25jZQ==")
    try:
        assert connection.status == 101
        assert connection.headers["upgrade"].lower() == "websocket"
        assert connection.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        hello = connection.receive_json()
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": "A0REBOUND"}
        assert "debug_info" in hello
        standin.socket_connected(timeout=2)
    finally:
        connection.close()


def test_a_socket_url_without_a_ticket_is_refused(standin: SlackStandIn) -> None:
    connection = RawWebSocket(f"ws://127.0.0.1:{standin.port}/socket?ticket=forged")
    try:
        assert connection.status == 401
    finally:
        connection.close()
    assert standin.socket_connection_count == 0


def test_ping_is_answered_with_pong_carrying_the_same_data(raw_socket: RawWebSocket) -> None:
    raw_socket.receive_json()  # hello
    raw_socket.send(0x9, b"session:123.5")
    assert raw_socket.receive() == (0xA, b"session:123.5", 7)


def test_fragmented_and_long_acks_are_reassembled_and_recorded(
    standin: SlackStandIn, raw_socket: RawWebSocket
) -> None:
    raw_socket.receive_json()
    standin.socket_connected(timeout=2)
    text = json.dumps({"envelope_id": "e-fragmented", "payload": {"text": "hello there"}}).encode()
    raw_socket.send(0x1, text[:10], fin=False)
    raw_socket.send(0x9, b"between fragments")  # control frames may interleave
    raw_socket.send(0x0, text[10:20], fin=False)
    raw_socket.send(0x0, text[20:], fin=True)
    assert raw_socket.receive()[0] == 0xA
    assert standin.wait_for_socket_ack("e-fragmented", timeout=2) == {
        "envelope_id": "e-fragmented",
        "payload": {"text": "hello there"},
    }

    medium, large = "m" * 1_000, "l" * 70_000  # 16-bit and 64-bit length fields
    raw_socket.send_json({"envelope_id": "e-medium", "payload": {"text": medium}})
    raw_socket.send_json({"envelope_id": "e-large", "payload": {"text": large}})
    assert standin.wait_for_socket_ack("e-medium", timeout=2)["payload"]["text"] == medium
    assert standin.wait_for_socket_ack("e-large", timeout=2)["payload"]["text"] == large
    assert [ack["envelope_id"] for ack in standin.socket_acks] == [
        "e-fragmented",
        "e-medium",
        "e-large",
    ]


def test_envelopes_use_the_length_field_their_size_needs(
    standin: SlackStandIn, raw_socket: RawWebSocket
) -> None:
    raw_socket.receive_json()
    standin.socket_connected(timeout=2)
    for size, expected_bits in ((1_000, 16), (70_000, 64)):
        envelope_id = standin.send_socket_envelope("events_api", {"blob": "x" * size})
        opcode, payload, length_bits = raw_socket.receive()
        assert (opcode, length_bits) == (0x1, expected_bits)
        envelope = json.loads(payload)
        assert envelope["envelope_id"] == envelope_id
        assert len(envelope["payload"]["blob"]) == size


def test_close_is_echoed_and_the_connection_forgotten(
    standin: SlackStandIn, raw_socket: RawWebSocket
) -> None:
    raw_socket.receive_json()
    standin.socket_connected(timeout=2)
    raw_socket.send(0x8, struct.pack("!H", 1000) + b"bye")
    opcode, payload, _ = raw_socket.receive()
    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1000
    assert raw_socket.rfile.read(1) == b""  # the server hung up
    deadline = time.monotonic() + 2
    while standin.socket_connection_count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert standin.socket_connection_count == 0
    with pytest.raises(RuntimeError):
        standin.send_socket_envelope("events_api", {})


def test_an_unmasked_client_frame_is_a_protocol_error(raw_socket: RawWebSocket) -> None:
    raw_socket.receive_json()
    raw_socket.send_json({"envelope_id": "e-1"}, masked=False)
    opcode, payload, _ = raw_socket.receive()
    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1002


def test_socket_waits_time_out_with_an_explanation(standin: SlackStandIn) -> None:
    with pytest.raises(AssertionError, match="no Socket Mode client connected"):
        standin.socket_connected(timeout=0.05)
    with pytest.raises(RuntimeError, match="no Socket Mode client"):
        standin.send_socket_envelope("events_api", {})
    with pytest.raises(ValueError, match="type_"):
        standin.send_socket_envelope("event_callback", {})
    with pytest.raises(AssertionError, match="no ack for envelope nope"):
        standin.wait_for_socket_ack("nope", timeout=0.05)


def test_slack_sdk_socket_mode_client_round_trip(standin: SlackStandIn) -> None:
    received: list[SocketModeRequest] = []
    messages: list[dict[str, Any]] = []
    client = SocketModeClient(
        app_token=APP_TOKEN,
        web_client=WebClient(base_url=standin.url),
        auto_reconnect_enabled=False,
    )

    def on_request(socket_client: Any, request: SocketModeRequest) -> None:
        received.append(request)
        socket_client.send_socket_mode_response(
            SocketModeResponse(
                envelope_id=request.envelope_id,
                payload={"text": f"seen {request.payload['event_id']}"},
            )
        )

    client.message_listeners.append(lambda _client, message, _raw: messages.append(message))
    client.socket_mode_request_listeners.append(on_request)
    try:
        client.connect()
        standin.socket_connected(timeout=5)
        assert standin.calls_to("apps.connections.open")[0].token == APP_TOKEN

        envelope_id = standin.send_socket_envelope(
            "events_api",
            {"type": "event_callback", "event_id": "Ev1"},
            retry_attempt=2,
            retry_reason="timeout",
            accepts_response_payload=True,
        )
        ack = standin.wait_for_socket_ack(envelope_id)
        assert ack == {"envelope_id": envelope_id, "payload": {"text": "seen Ev1"}}
        request = received[0]
        assert (request.type, request.retry_attempt, request.retry_reason) == (
            "events_api",
            2,
            "timeout",
        )
        assert request.accepts_response_payload is True
        assert messages[0]["type"] == "hello"

        # stop() closes the connection cleanly; the client notices without a timeout.
        closed = threading.Event()
        client.on_close_listeners.append(lambda code, reason: closed.set())
        standin.stop()
        assert closed.wait(5)
        assert standin.socket_connection_count == 0
        # The client drops its socket right after on_close; closing it before then races.
        deadline = time.monotonic() + 5
        while client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not client.is_connected()
    finally:
        client.close()


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


# --- conversations.history and faults after the fact ---------------------------------------------

METADATA = {"event_type": "rebound_post", "event_payload": {"post_key": "k-1"}}


def test_history_returns_metadata_only_when_asked_and_pages_by_15(standin: SlackStandIn) -> None:
    client = client_for(standin, retry_handlers=[])
    first = client.chat_postMessage(channel="C0WINS", text="with metadata", metadata=METADATA)
    for n in range(16):
        client.chat_postMessage(channel="C0WINS", text=f"filler {n}")
    oldest = f"{float(first['ts']) - 1:.6f}"
    plain = client.conversations_history(channel="C0WINS", oldest=oldest, limit=100)
    assert len(plain["messages"]) == 15 and plain["has_more"] is True  # 15: the 2025 limit
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["messages"][0]["text"] == "filler 15"  # newest first
    cursor = plain["response_metadata"]["next_cursor"]
    rest = client.conversations_history(
        channel="C0WINS", oldest=oldest, cursor=cursor, include_all_metadata=True
    )
    assert [m["text"] for m in rest["messages"]] == ["filler 0", "with metadata"]
    assert rest["messages"][1]["metadata"] == METADATA and rest["has_more"] is False


def test_a_call_accepted_then_answered_502_did_what_it_asked(standin: SlackStandIn) -> None:
    client = client_for(standin, retry_handlers=[])
    standin.accept_then_fail("chat.postMessage", status=502)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0WINS", text="posted anyway")
    assert raised.value.response.status_code == 502
    [call] = standin.calls_to("chat.postMessage")
    assert (call.ok, call.answered) == (True, 502)
    history = client.conversations_history(channel="C0WINS")
    assert [m["text"] for m in history["messages"]] == ["posted anyway"]


def test_a_call_accepted_then_left_hanging_times_the_client_out(standin: SlackStandIn) -> None:
    client = WebClient(token=standin.bot_token, base_url=standin.url, timeout=0.3)
    standin.accept_then_hang("chat.postMessage", seconds=1.0)
    with pytest.raises((TimeoutError, OSError)):
        client.chat_postMessage(channel="C0WINS", text="posted, never answered")
    assert [c.answered for c in standin.calls_to("chat.postMessage")] == [0]


def test_history_at_one_call_a_minute_answers_429_with_retry_after(standin: SlackStandIn) -> None:
    now = [0.0]
    standin.monotonic = lambda: now[0]
    standin.rate_limit("conversations.history", per_minute=1)
    client = client_for(standin, retry_handlers=[])
    assert client.conversations_history(channel="C0WINS")["ok"] is True
    with pytest.raises(SlackApiError) as raised:
        client.conversations_history(channel="C0WINS")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "60"
    now[0] = 60.0
    assert client.conversations_history(channel="C0WINS")["ok"] is True


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
