"""Scale-out: three `rebound serve` replicas on one PostgreSQL behind a round-robin front.

Slack retries an event or a view submission when it sees no quick 200, and a load balancer
sends each retry to whichever replica is next; whatever replica gets it, the effect happens
once (processed_events for events, the submission key and post_log for submissions).
"""

from __future__ import annotations

import http.client
import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from testkit.clock import SharedClock
from testkit.live import LiveApp, app_env, serve_process
from testkit.standin import SlackStandIn
from tests.support.databases import fresh_database
from tests.support.factories import lost_values
from tests.support.slack import DM, REP1, WINS, Slack

REPLICAS = 3
_FORWARDED_HEADERS = ("Content-Type", "X-Slack-Request-Timestamp", "X-Slack-Signature")


@dataclass
class RoundRobinFront:
    """A tiny threaded HTTP proxy on loopback: each request goes to the next replica."""

    ports: list[int]
    served_by: list[int] = field(default_factory=list)
    _next: Iterator[int] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._next = itertools.cycle(self.ports)

    def pick(self) -> int:
        with self._lock:
            port = next(self._next)
            self.served_by.append(port)
            return port

    def start(self) -> int:
        front = self

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {h: self.headers[h] for h in _FORWARDED_HEADERS if self.headers[h]}
                connection = http.client.HTTPConnection("127.0.0.1", front.pick(), timeout=10)
                try:
                    connection.request("POST", self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.getheader("Content-Type") or "")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                finally:
                    connection.close()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Cluster:
    front: RoundRobinFront
    app: LiveApp  # points at the front; signs like Slack with the shared secret
    standin: SlackStandIn

    def slack(self) -> Slack:
        return Slack(self.app, self.standin, f"T{uuid.uuid4().hex[:10].upper()}")


@pytest.fixture(scope="module")
def cluster(standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("scale-out")
    secret = secrets.token_hex(16)
    clock = SharedClock(folder / "clock.json")  # one "now" for every replica
    with fresh_database("postgresql", folder) as url, ExitStack() as stack:
        replicas = [
            stack.enter_context(serve_process(app_env(standin, url, secret), folder, secret, clock))
            for _ in range(REPLICAS)
        ]
        front = RoundRobinFront([r.port for r in replicas])
        port = front.start()
        stack.callback(front.stop)
        front_app = LiveApp(
            replicas[0].process, port, secret, url, clock, directory=standin, env=replicas[0].env
        )
        yield Cluster(front, front_app, standin)


def test_an_event_sent_to_every_replica_publishes_home_once(cluster: Cluster) -> None:
    slack = cluster.slack()
    seen = slack.mark()
    served_before = len(cluster.front.served_by)
    event_id = f"Ev{uuid.uuid4().hex[:10].upper()}"
    for _ in range(REPLICAS):  # Slack's retries, each to the next replica
        assert slack.sender.app_home_opened(REP1, event_id=event_id).status == 200
    assert len(set(cluster.front.served_by[served_before:])) == REPLICAS
    slack.wait(seen, "views.publish", user_id=REP1)
    time.sleep(0.5)
    assert len(slack.since(seen, "views.publish", user_id=REP1)) == 1


def test_a_lost_submission_sent_twice_to_different_replicas_counts_once(cluster: Cluster) -> None:
    slack = cluster.slack()
    slack.setup(channel=WINS)
    view = slack.open_modal("/lost", "Scale deal", REP1)
    seen = slack.mark()
    served_before = len(cluster.front.served_by)
    first = slack.sender.view_submission(view, user_id=REP1, values=lost_values("Scale deal"))
    second = slack.sender.view_submission(view, user_id=REP1, values=lost_values("Scale deal"))
    assert (first.status, second.status) == (200, 200)
    served = cluster.front.served_by[served_before:]
    assert served[0] != served[1]  # two different replicas took the two deliveries
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    time.sleep(0.5)
    assert len(slack.outcomes()) == 1
    assert len(slack.since(seen, "chat.postMessage", channel=DM[REP1])) == 1


def test_slash_commands_spread_over_replicas_are_each_answered_once(cluster: Cluster) -> None:
    slack = cluster.slack()
    seen = slack.mark()
    served_before = len(cluster.front.served_by)
    for _ in range(REPLICAS):
        assert slack.sender.slash_command("/lost", "Spread deal", user_id=REP1).status == 200
    assert len(set(cluster.front.served_by[served_before:])) == REPLICAS
    slack.wait(seen, "views.open", count=REPLICAS)
    time.sleep(0.3)
    assert len(slack.since(seen, "views.open")) == REPLICAS
