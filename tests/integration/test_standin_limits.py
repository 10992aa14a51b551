"""The Slack stand-in's rate limits and faults, driven by the real slack_sdk WebClient: 429s
with Retry-After, server errors, a call accepted then answered 502 or left hanging, and
conversations.history's metadata, pages and one call a minute."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from testkit.standin import SlackStandIn
from tests.support.standin_client import client_for, standin

__all__ = ["standin"]  # the fixtures (tests/support/standin_client.py)


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
