"""A minimal RFC 6455 WebSocket: the handshake answer, frames, and one Socket Mode connection
(testkit.standin.socket_mode)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from testkit.standin.server import _StandInRequestHandler


_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3

_OPCODE_CONTINUATION = 0x0

_OPCODE_TEXT = 0x1

_OPCODE_BINARY = 0x2

_OPCODE_CLOSE = 0x8

_OPCODE_PING = 0x9

_OPCODE_PONG = 0xA

_CLOSE_NORMAL = 1000

_CLOSE_GOING_AWAY = 1001

_CLOSE_PROTOCOL_ERROR = 1002

# A message larger than this is a broken client, not a Slack ack; refuse it instead of buffering.
_MAX_SOCKET_MESSAGE = 16 * 1024 * 1024


def websocket_accept(key: str) -> str:
    """The Sec-WebSocket-Accept value answering a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1((key.strip() + _WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_websocket_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One unmasked frame, as a server sends it; 7-, 16- or 64-bit length as the size needs."""
    first = (0x80 if fin else 0x00) | opcode
    length = len(payload)
    if length <= 125:
        header = struct.pack("!BB", first, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


def _apply_mask(payload: bytes, mask: bytes) -> bytes:
    # XOR as one big integer: far faster than a per-byte loop for large acks.
    if not payload:
        return payload
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return masked.to_bytes(len(payload), "big")


class _WebSocketClosed(ConnectionError):
    """The peer went away (EOF or a socket error) in the middle of the conversation."""


class _WebSocketProtocolError(Exception):
    """The client broke RFC 6455; the connection is closed with status 1002."""


@dataclass(frozen=True)
class _Frame:
    fin: bool
    opcode: int
    payload: bytes


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        try:
            chunk = stream.read(size - len(data))
        except OSError as error:
            raise _WebSocketClosed(str(error)) from error
        if not chunk:
            raise _WebSocketClosed("end of stream")
        data += chunk
    return data


def read_websocket_frame(stream: BinaryIO, *, require_mask: bool = True) -> _Frame:
    """Read one frame; client frames must be masked (RFC 6455 section 5.1)."""
    first, second = _read_exact(stream, 2)
    if first & 0x70:
        raise _WebSocketProtocolError("reserved bits set without a negotiated extension")
    opcode = first & 0x0F
    masked = bool(second & 0x80)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exact(stream, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exact(stream, 8))
    if require_mask and not masked:
        raise _WebSocketProtocolError("client frames must be masked")
    if opcode >= _OPCODE_CLOSE and (length > 125 or not first & 0x80):
        raise _WebSocketProtocolError("control frames are at most 125 bytes and never fragmented")
    if length > _MAX_SOCKET_MESSAGE:
        raise _WebSocketProtocolError("frame too large")
    mask = _read_exact(stream, 4) if masked else b""
    payload = _read_exact(stream, length)
    if masked:
        payload = _apply_mask(payload, mask)
    return _Frame(fin=bool(first & 0x80), opcode=opcode, payload=payload)


class _SocketConnection:
    """One Socket Mode client, served on the request-handler thread that accepted it."""

    def __init__(self, request: _StandInRequestHandler, connection_id: int) -> None:
        self.id = connection_id
        self._request = request
        self._send_lock = threading.Lock()
        self._close_sent = False
        self.finished = threading.Event()

    def send_frame(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            if self._close_sent:
                raise _WebSocketClosed("a close frame was already sent")
            if opcode == _OPCODE_CLOSE:
                self._close_sent = True
            try:
                # wfile is unbuffered (StreamRequestHandler.wbufsize == 0): one sendall a frame.
                self._request.wfile.write(encode_websocket_frame(opcode, payload))
            except (OSError, ValueError) as error:  # ValueError: the handler closed the file
                raise _WebSocketClosed(str(error)) from error

    def send_json(self, message: dict[str, Any]) -> None:
        self.send_frame(_OPCODE_TEXT, json.dumps(message).encode("utf-8"))

    def send_close(self, code: int, reason: str = "") -> None:
        with contextlib.suppress(_WebSocketClosed):
            self.send_frame(_OPCODE_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))

    def abort(self) -> None:
        """Cut the TCP connection; the reader thread then sees end of stream and finishes."""
        with contextlib.suppress(OSError):
            self._request.connection.shutdown(socket.SHUT_RDWR)

    def receive_messages(self, on_text: Callable[[str], None]) -> None:
        """Read frames until the client closes: answer pings, reassemble fragmented messages."""
        rfile = self._request.rfile
        parts: list[bytes] = []
        message_opcode: int | None = None
        try:
            while True:
                frame = read_websocket_frame(rfile)
                if frame.opcode == _OPCODE_PING:
                    self.send_frame(_OPCODE_PONG, frame.payload)
                    continue
                if frame.opcode == _OPCODE_PONG:
                    continue
                if frame.opcode == _OPCODE_CLOSE:
                    # Echo the status code, as RFC 6455 section 5.5.1 asks, then hang up.
                    self.send_close(
                        struct.unpack("!H", frame.payload[:2])[0]
                        if len(frame.payload) >= 2
                        else _CLOSE_NORMAL
                    )
                    return
                if frame.opcode in (_OPCODE_TEXT, _OPCODE_BINARY):
                    if message_opcode is not None:
                        raise _WebSocketProtocolError("a new message began inside a fragmented one")
                    message_opcode, parts = frame.opcode, [frame.payload]
                elif frame.opcode == _OPCODE_CONTINUATION:
                    if message_opcode is None:
                        raise _WebSocketProtocolError("continuation frame without a message")
                    parts.append(frame.payload)
                else:
                    raise _WebSocketProtocolError(f"unknown opcode {frame.opcode:#x}")
                if sum(len(part) for part in parts) > _MAX_SOCKET_MESSAGE:
                    raise _WebSocketProtocolError("message too large")
                if frame.fin:
                    data, opcode = b"".join(parts), message_opcode
                    message_opcode, parts = None, []
                    if opcode == _OPCODE_TEXT:
                        try:
                            text = data.decode("utf-8")
                        except UnicodeDecodeError as error:
                            raise _WebSocketProtocolError("text is not UTF-8") from error
                        on_text(text)
        except _WebSocketProtocolError as error:
            self.send_close(_CLOSE_PROTOCOL_ERROR, str(error)[:100])
        except _WebSocketClosed:
            return
