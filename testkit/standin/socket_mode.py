"""Slack's Socket Mode side of the stand-in: apps.connections.open hands out a ws:// URL on the
same port, where the WebSocket endpoint says hello, sends the envelopes a test asks for and records
the acks (testkit.standin)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from testkit.standin.state import StandInState
from testkit.standin.websocket import (
    _CLOSE_GOING_AWAY,
    _SocketConnection,
    _WebSocketClosed,
    websocket_accept,
)

if TYPE_CHECKING:
    from testkit.standin.server import _StandInRequestHandler


# Socket Mode: the WebSocket path apps.connections.open hands out, and what Slack sends over it.
SOCKET_PATH = "/socket"

SOCKET_ENVELOPE_TYPES = frozenset({"events_api", "slash_commands", "interactive"})


class SocketMode(StandInState):
    def socket_connected(self, timeout: float = 10.0) -> None:
        """Wait until a Socket Mode client is connected and has been sent ``hello``."""
        with self._socket_changed:
            if not self._socket_changed.wait_for(lambda: bool(self._socket_connections), timeout):
                raise AssertionError(
                    f"no Socket Mode client connected within {timeout:.1f}s; "
                    f"{len(self._socket_tickets)} apps.connections.open ticket(s) issued"
                )

    @property
    def socket_connection_count(self) -> int:
        with self._lock:
            return len(self._socket_connections)

    def send_socket_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
    ) -> str:
        """Send Slack's Socket Mode envelope to the newest connected client; its envelope_id."""
        if type_ not in SOCKET_ENVELOPE_TYPES:
            raise ValueError(f"type_ must be one of {sorted(SOCKET_ENVELOPE_TYPES)}, not {type_!r}")
        with self._lock:
            # Slack picks one of the app's connections; the newest is as good as any.
            newest_id = max(self._socket_connections, default=None)
            connection = self._socket_connections.get(newest_id) if newest_id else None
        if connection is None:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = envelope_id or str(uuid.uuid4())
        connection.send_json(
            {
                "envelope_id": envelope_id,
                "type": type_,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        return envelope_id

    @property
    def socket_acks(self) -> list[dict[str, Any]]:
        """Acks received from Socket Mode clients, oldest first: ``{"envelope_id", "payload"?}``."""
        with self._lock:
            return list(self._socket_acks)

    def wait_for_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The ack for ``envelope_id``; AssertionError when none arrives within ``timeout``."""

        def find() -> dict[str, Any] | None:
            return next((a for a in self._socket_acks if a.get("envelope_id") == envelope_id), None)

        with self._socket_changed:
            if not self._socket_changed.wait_for(lambda: find() is not None, timeout):
                seen = [ack.get("envelope_id") for ack in self._socket_acks]
                raise AssertionError(
                    f"no ack for envelope {envelope_id} within {timeout:.1f}s; acks seen: {seen}"
                )
            ack = find()
            assert ack is not None
            return ack

    def _serve_socket(self, request: _StandInRequestHandler) -> None:
        """Upgrade to a WebSocket, say hello, then serve the connection on this thread."""
        request.close_connection = True
        problem = self._websocket_handshake_problem(request)
        if problem is not None:
            status, message = problem
            encoded = message.encode("utf-8")
            request.send_response(status)
            request.send_header("Content-Type", "text/plain; charset=utf-8")
            request.send_header("Content-Length", str(len(encoded)))
            if status == 426:
                request.send_header("Sec-WebSocket-Version", "13")
            request.end_headers()
            request.wfile.write(encoded)
            return
        request.protocol_version = "HTTP/1.1"  # RFC 6455 upgrades an HTTP/1.1 request
        request.send_response(101, "Switching Protocols")
        request.send_header("Upgrade", "websocket")
        request.send_header("Connection", "Upgrade")
        request.send_header(
            "Sec-WebSocket-Accept", websocket_accept(request.headers["Sec-WebSocket-Key"])
        )
        request.end_headers()
        with self._lock:
            connection = _SocketConnection(request, self._next_socket_connection_id)
            self._next_socket_connection_id += 1
        try:
            connection.send_json(
                {
                    "type": "hello",
                    "num_connections": self.socket_connection_count + 1,
                    "debug_info": {
                        "host": "applink-standin",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            with self._socket_changed:
                if self._stopping:
                    connection.send_close(_CLOSE_GOING_AWAY)
                    return
                self._socket_connections[connection.id] = connection
                self._socket_changed.notify_all()
            connection.receive_messages(self._record_socket_message)
        except _WebSocketClosed:
            pass
        finally:
            with self._socket_changed:
                self._socket_connections.pop(connection.id, None)
                self._socket_changed.notify_all()
            connection.finished.set()

    def _websocket_handshake_problem(
        self, request: _StandInRequestHandler
    ) -> tuple[int, str] | None:
        headers = request.headers
        if (headers.get("Upgrade") or "").lower() != "websocket" or "upgrade" not in [
            token.strip().lower() for token in (headers.get("Connection") or "").split(",")
        ]:
            return 400, "expected a WebSocket upgrade"
        if (headers.get("Sec-WebSocket-Version") or "").strip() != "13":
            return 426, "unsupported WebSocket version"
        key = (headers.get("Sec-WebSocket-Key") or "").strip()
        try:
            key_is_valid = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            key_is_valid = False
        if not key_is_valid:
            return 400, "invalid Sec-WebSocket-Key"
        ticket = (parse_qs(urlsplit(request.path).query).get("ticket") or [""])[0]
        with self._lock:
            if ticket not in self._socket_tickets:
                # Slack's URLs carry a ticket from apps.connections.open; nothing else connects.
                return 401, "unknown ticket; call apps.connections.open for a URL"
            if self._stopping:
                return 503, "shutting down"
        return None

    def _record_socket_message(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return  # Slack ignores what it cannot parse; so does the stand-in.
        if isinstance(message, dict) and isinstance(message.get("envelope_id"), str):
            with self._socket_changed:
                self._socket_acks.append(message)
                self._socket_changed.notify_all()

    def _close_socket_connections(self) -> None:
        with self._lock:
            connections = list(self._socket_connections.values())
        for connection in connections:
            connection.send_close(_CLOSE_GOING_AWAY, "server stopping")
        for connection in connections:
            # The slack_sdk client never answers a close frame; don't wait long for it.
            if not connection.finished.wait(0.5):
                connection.abort()
                connection.finished.wait(2.0)

    def _apps_connections_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Shaped like Slack's wss://wss-primary.slack.com/link/?ticket=…&app_id=…
        ticket = str(uuid.uuid4())
        self._socket_tickets.add(ticket)
        return {
            "url": f"ws://{self._host}:{self.port}{SOCKET_PATH}?ticket={ticket}&app_id={self.app_id}"
        }
