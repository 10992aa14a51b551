"""`rebound run` in Socket Mode, as a real process against the stand-in's WebSocket endpoint.

Slack re-delivers an event (same `event_id`, new envelope, `retry_attempt` 1..3) when the app
was slow to ack; the app must ack every delivery and act on the event exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from testkit.live import APP_TOKEN, SocketModeApp, make_standin, socket_mode_app
from testkit.simulator import SlackSender
from testkit.standin import RecordedCall, SlackStandIn

REP = "U0REP1"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    """A stand-in of its own per test: the Socket Mode connection belongs to one process."""
    server = make_standin()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def running(standin: SlackStandIn, database_url: str, tmp_path: Path) -> Iterator[SocketModeApp]:
    with socket_mode_app(standin, database_url, tmp_path) as app:
        yield app


def home_publishes(calls: list[RecordedCall], user_id: str) -> list[RecordedCall]:
    return [
        call
        for call in calls
        if call.method == "views.publish" and call.ok and call.params.get("user_id") == user_id
    ]


def home_opened(sender: SlackSender, user_id: str) -> dict[str, Any]:
    return sender.event_envelope(
        {"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": "home"}
    )


def test_the_app_connects_with_the_ticketed_url_and_is_greeted(
    standin: SlackStandIn, running: SocketModeApp
) -> None:
    opens = standin.calls_to("apps.connections.open")
    assert opens, running.logs()
    assert all(call.token == APP_TOKEN for call in opens)
    assert standin.socket_connection_count == 1
    assert running.process.poll() is None, running.logs()


def test_an_event_redelivered_three_times_is_handled_once(
    standin: SlackStandIn, running: SocketModeApp
) -> None:
    # Over Socket Mode nothing is signed; the secret is never used.
    sender = SlackSender("unused://", "unused-secret")
    envelope = home_opened(sender, REP)

    first = standin.send_socket_envelope("events_api", envelope)
    assert standin.wait_for_socket_ack(first, timeout=10) == {"envelope_id": first}
    standin.wait_for(lambda calls: len(home_publishes(calls, REP)) == 1, timeout=10)

    for attempt in (1, 2, 3):
        retry = standin.send_socket_envelope(
            "events_api", envelope, retry_attempt=attempt, retry_reason="timeout"
        )
        assert standin.wait_for_socket_ack(retry, timeout=10) == {"envelope_id": retry}, (
            running.logs()
        )

    # A fresh event for the same person, told apart by a new name in their profile.
    # Bolt decides whether a delivery runs its listener before it acks, and runs listeners in
    # arrival order, so a retry that slipped through would have published by the time the
    # fresh event has: exactly two publishes proves the three retries were dropped.
    standin.add_user(replace(standin.users[REP], name="Leonardo", real_name="Leonardo Rep"))
    fresh = standin.send_socket_envelope("events_api", home_opened(sender, REP))
    standin.wait_for_socket_ack(fresh, timeout=10)

    def fresh_event_handled(calls: list[RecordedCall]) -> bool:
        publishes = home_publishes(calls, REP)
        profile_reads = [c for c in calls if c.method == "users.info" and c.params["user"] == REP]
        return len(publishes) == len(profile_reads) and any(
            "Leonardo" in json.dumps(call.params.get("view")) for call in publishes
        )

    calls = standin.wait_for(fresh_event_handled, timeout=10)
    assert len(home_publishes(calls, REP)) == 2, running.logs()
    assert running.process.poll() is None, running.logs()


def test_slash_command_help_comes_back_in_the_ack(
    standin: SlackStandIn, running: SocketModeApp
) -> None:
    sender = SlackSender("unused://", "unused-secret")
    fields = sender.slash_command_fields("/rebound", "help", user_id=REP, user_name="leo")

    envelope_id = standin.send_socket_envelope(
        "slash_commands", dict(fields), accepts_response_payload=True
    )
    ack = standin.wait_for_socket_ack(envelope_id, timeout=10)

    payload = ack.get("payload")
    assert isinstance(payload, dict), (ack, running.logs())
    assert payload["response_type"] == "ephemeral"
    assert "/lost" in payload["text"]
    assert any("/lost" in (block.get("text") or {}).get("text", "") for block in payload["blocks"])
    # The reply rode on the ack; nothing was posted through the Web API.
    assert standin.calls_to("chat.postEphemeral") == []


def test_a_malformed_event_over_the_socket_is_one_log_line_not_a_traceback(
    standin: SlackStandIn, running: SocketModeApp
) -> None:
    # HTTP requests are checked in bot.server; over the socket the same check is a middleware.
    sender = SlackSender("unused://", "unused-secret")
    broken = home_opened(sender, REP)
    broken["event_id"] = {"id": "Ev1"}  # Slack sends a string; this would reach the database
    seen = len(running.output)
    standin.send_socket_envelope("events_api", broken)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        "malformed" in line for line in running.output[seen:]
    ):
        time.sleep(0.05)
    assert any("malformed" in line for line in running.output[seen:]), running.logs()
    # And the app carries on: a well-formed event is handled.
    fine = standin.send_socket_envelope("events_api", home_opened(sender, REP))
    standin.wait_for_socket_ack(fine, timeout=10)
    standin.wait_for(lambda calls: len(home_publishes(calls, REP)) == 1, timeout=10)
    assert "Traceback" not in "".join(running.output[seen:]), running.logs()
