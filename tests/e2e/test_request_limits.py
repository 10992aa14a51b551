"""Oversized bodies: refused with a 413 before they are buffered, with or without a secret."""

from __future__ import annotations

import io
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.server import MAX_BODY_BYTES, make_wsgi_app
from testkit.live import LiveApp
from testkit.simulator import slack_signature

HUNDRED_MB = 100 * 1024 * 1024
CHUNK = 64 * 1024


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def _body(total: int) -> Iterator[bytes]:
    """`total` bytes, made as they are sent (the test never holds the whole body)."""
    block = b"x" * CHUNK
    for _ in range(total // CHUNK):
        yield block
    if total % CHUNK:
        yield block[: total % CHUNK]


def _status_of(sock: socket.socket) -> int:
    reply = b""
    while b"\r\n" not in reply:
        data = sock.recv(4096)
        if not data:
            break
        reply += data
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


def _post_unsigned(port: int, total: int, *, chunked: bool) -> tuple[int, int]:
    """POST `total` bytes of unsigned junk to /slack/events, streamed, stopping as soon as the
    server answers or hangs up, as a client would. Returns (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0=00\r\n"
        f"{framing}\r\n\r\n"
    )
    sent = 0
    try:
        sock.sendall(head.encode())
        wait = 1.0  # a server that judges by Content-Length answers before the body
        for block in _body(total):
            readable, _, _ = select.select([sock], [], [], wait)
            wait = 0.0
            if readable:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            sent += len(block)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        return _status_of(sock), sent
    except (BrokenPipeError, ConnectionResetError):
        return _status_of(sock), sent
    finally:
        sock.close()


def test_four_concurrent_100_mb_unsigned_bodies_are_refused_without_buffering(
    live: LiveApp,
) -> None:
    pid = live.process.pid
    before = _rss_kib(pid)
    results: list[tuple[int, int]] = []
    lock = threading.Lock()
    peak = [before]
    done = threading.Event()

    def watch() -> None:  # the peak matters: a body read whole is freed again right after
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_kib(pid))

    watcher = threading.Thread(target=watch)
    watcher.start()

    def send(chunked: bool) -> None:
        outcome = _post_unsigned(live.port, HUNDRED_MB, chunked=chunked)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=send, args=(False,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    watcher.join()
    grown_mb = (max(peak[0], _rss_kib(pid)) - before) / 1024
    assert grown_mb < 50, f"the server grew by {grown_mb:.0f} MB"
    assert [status for status, _ in results] == [413] * 4, results
    # And it is still healthy for real requests.
    assert live.sender().slash_command("/rebound", "help", user_id="U0REP1").status == 200


def test_a_chunked_body_over_the_cap_is_refused(live: LiveApp) -> None:
    status, sent = _post_unsigned(live.port, HUNDRED_MB, chunked=True)
    assert status == 413
    assert sent < HUNDRED_MB  # the server answered long before the body ended


def test_a_signed_body_of_exactly_the_cap_is_still_read(live: LiveApp) -> None:
    # A body of exactly MAX_BODY_BYTES is judged on its signature and content, not refused.
    start = urlencode(live.sender().slash_command_fields("/rebound", "help", user_id="U0REP1"))
    body = (start + "&padding=").encode()
    body += b"a" * (MAX_BODY_BYTES - len(body))
    assert len(body) == MAX_BODY_BYTES
    reply = live.sender().post(body, "application/x-www-form-urlencoded")
    assert reply.status == 200 and "/lost" in reply.body
    assert _post_unsigned(live.port, MAX_BODY_BYTES + 1, chunked=False)[0] == 413
    assert _post_unsigned(live.port, MAX_BODY_BYTES + 1, chunked=True)[0] == 413


class _NoEngine:
    """make_wsgi_app touches the engine only for /healthz."""


def _wsgi_without_a_server_cap(body: bytes) -> tuple[list[str], bytes, io.BytesIO]:
    """Call the WSGI app as a server would that passes a body without Content-Length and has
    no cap of its own; a tiny Bolt app answers /ping with "pong"."""
    from slack_bolt import App
    from slack_bolt.authorization import AuthorizeResult

    def authorize(**_: Any) -> AuthorizeResult:  # no auth.test: nothing here talks to Slack
        return AuthorizeResult(enterprise_id=None, team_id="T0REBOUND", bot_token="xoxb-x")

    app = App(signing_secret="s", authorize=authorize)
    app.command("/ping")(lambda ack: ack("pong"))
    wsgi = make_wsgi_app(app, _NoEngine(), "s")  # type: ignore[arg-type]
    stream = io.BytesIO(body)
    statuses: list[str] = []

    def start_response(status: str, headers: Any, *rest: Any) -> None:
        statuses.append(status)

    ts = str(int(time.time()))
    environ = {
        "PATH_INFO": "/slack/events",
        "REQUEST_METHOD": "POST",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts,
        "HTTP_X_SLACK_SIGNATURE": slack_signature("s", ts, body),
        "wsgi.input": stream,
    }
    answer = b"".join(wsgi(environ, start_response))  # type: ignore[arg-type]
    return statuses, answer, stream


def test_without_content_length_the_app_reads_at_most_one_byte_past_the_cap() -> None:
    statuses, _, stream = _wsgi_without_a_server_cap(b"x" * (MAX_BODY_BYTES * 3))
    assert statuses == ["413 Content Too Large"]
    assert stream.tell() == MAX_BODY_BYTES + 1


def test_without_content_length_a_body_under_the_cap_reaches_bolt_whole() -> None:
    fields = {
        "command": "/ping",
        "text": "",
        "team_id": "T0REBOUND",
        "user_id": "U0REP1",
        "channel_id": "C0GENERAL",
        "trigger_id": "1.2.abc",
    }
    statuses, answer, _ = _wsgi_without_a_server_cap(urlencode(fields).encode())
    assert statuses and statuses[0].startswith("200"), (statuses, answer)
    assert b"pong" in answer
