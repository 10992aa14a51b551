"""The signed-request sender's payload shapes, captured by a bare local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from testkit.simulator import SlackSender


@pytest.fixture
def captured() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            bodies.append(json.loads(parse_qs(raw)["payload"][0]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack/events", bodies
    finally:
        server.shutdown()
        server.server_close()


def test_a_click_on_an_ephemeral_message_is_shaped_as_slack_sends_it(
    captured: tuple[str, list[dict[str, Any]]],
) -> None:
    """bolt-python's tests/scenario_tests/test_block_actions.py: container.type "message",
    message_ts, channel_id, is_ephemeral true; a response_url; no `message` (Slack can't send
    back an ephemeral message it doesn't keep)."""
    url, bodies = captured
    sender = SlackSender(url, "secret", response_origin="http://127.0.0.1:9")
    sender.block_actions(
        user_id="U0REP1",
        actions=[{"action_id": "a", "value": "v"}],
        ephemeral_ts="1700000000.000100",
        channel_id="C0GENERAL",
    )
    (payload,) = bodies
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0GENERAL",
        "is_ephemeral": True,
    }
    assert "message" not in payload
    assert payload["response_url"].startswith("http://127.0.0.1:9/actions/T0REBOUND/")


def test_commands_and_message_clicks_carry_response_urls_at_the_given_origin(
    captured: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = captured
    sender = SlackSender(url, "secret", response_origin="http://127.0.0.1:9/")
    fields = sender.slash_command_fields("/kudos", user_id="U0MGR")
    assert fields["response_url"].startswith("http://127.0.0.1:9/commands/T0REBOUND/")
    assert (
        fields["response_url"]
        != sender.slash_command_fields("/kudos", user_id="U0MGR")["response_url"]
    )
    sender.block_actions(
        user_id="U0REP1",
        actions=[{"action_id": "a"}],
        message={"ts": "1.2", "channel": "D0REP1"},
    )
    assert bodies[0]["container"]["is_ephemeral"] is False and bodies[0]["message"]["ts"] == "1.2"
    assert bodies[0]["response_url"].startswith("http://127.0.0.1:9/actions/T0REBOUND/")
    # Without an origin, Slack's own host, as before.
    default = SlackSender(url, "secret").slash_command_fields("/goal", user_id="U0REP1")
    assert default["response_url"].startswith("https://hooks.slack.com/commands/T0REBOUND/")
