"""The Slack stand-in's Socket Mode: the ticketed URL, the WebSocket handshake and frames (with
a raw socket), and slack_sdk's SocketModeClient round trip."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from testkit.standin import SlackStandIn
from tests.support.standin_client import client_for, standin

__all__ = ["standin"]  # the fixtures (tests/support/standin_client.py)

APP_TOKEN = "xapp-1-A0REBOUND-1-standin"


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
