"""`/metrics`: Prometheus text with Slack requests, ack latency and Slack API 429s."""

from __future__ import annotations

import re
import urllib.request

from bot.metrics import request_kind
from testkit.live import LiveApp
from testkit.standin import SlackStandIn


def _metrics(live: LiveApp) -> str:
    with urllib.request.urlopen(f"{live.base_url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.read().decode()


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_requests_and_ack_latency_are_counted_by_kind(live: LiveApp) -> None:
    before = _metrics(live)
    sender = live.sender()
    for _ in range(3):
        assert sender.slash_command("/rebound", "help", user_id="U0REP1").status == 200
    after = _metrics(live)
    counted = _value(after, "rebound_slack_requests_total", kind="slash_command", status="200")
    assert (
        counted - _value(before, "rebound_slack_requests_total", kind="slash_command", status="200")
        == 3
    )
    assert _value(after, "rebound_ack_seconds_count", kind="slash_command") >= 3
    assert _value(after, "rebound_ack_seconds_bucket", kind="slash_command", le="3.0") >= 3


def test_slack_429s_are_counted(live: LiveApp, standin: SlackStandIn) -> None:
    before = _value(
        _metrics(live), "rebound_slack_api_errors_total", method="users.info", status="429"
    )
    standin.fail_next("users.info", status=429, retry_after=1)
    seen = len(standin.calls)
    live.sender().slash_command("/rebound", "settings", user_id="U0REP2")
    # The client honours Retry-After, retries, and the non-admin gets their explanation.
    standin.wait_for(
        lambda calls: any(c.method == "chat.postEphemeral" for c in calls[seen:]), timeout=10
    )
    after = _value(
        _metrics(live), "rebound_slack_api_errors_total", method="users.info", status="429"
    )
    assert after - before == 1


def test_request_kind_labels() -> None:
    assert request_kind("application/x-www-form-urlencoded", b"token=x&command=%2Flost") == (
        "slash_command"
    )
    assert (
        request_kind(
            "application/x-www-form-urlencoded", b"payload=%7B%22type%22%3A%22view_submission%22"
        )
        == "view_submission"
    )
    assert request_kind("application/json", b'{"type":"event_callback","event":{}}') == (
        "event_callback"
    )
    assert request_kind("application/json", b'{"type":"url_verification"}') == "url_verification"
    assert request_kind("text/plain", b"hello") == "other"
