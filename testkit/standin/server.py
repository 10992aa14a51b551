"""The stand-in's HTTP side: the server and request handler, reading a request (form, JSON,
multipart, basic auth), faults and rate limits, the answer and its record, response_urls and
the upload URLs (testkit.standin)."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from email.parser import BytesParser
from email.policy import default as default_email_policy
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from testkit.local_http import LocalHTTPServer
from testkit.standin.records import RecordedCall, ResponseUrlPost, SlackApiErrorAnswer, _Fault
from testkit.standin.socket_mode import SOCKET_PATH
from testkit.standin.state import StandInState

if TYPE_CHECKING:
    from testkit.standin.core import SlackStandIn


# Parameters Slack accepts as JSON strings inside form bodies; recorded decoded.
# metadata: chat.postMessage's message metadata, a JSON object sent form-encoded as a string
# (https://docs.slack.dev/reference/methods/chat.postMessage, "metadata").
_JSON_ENCODED_PARAMS = ("blocks", "view", "attachments", "files", "metadata")

# A response_url takes "up to 5 times within 30 minutes of the user's invocation" (slash
# commands: https://docs.slack.dev/interactivity/implementing-slash-commands, "Delayed
# responses and multiple responses"; clicks: https://api.slack.com/interactivity/handling
# #message_responses).
RESPONSE_URL_MAX_USES = 5

RESPONSE_URL_LIFETIME_SECONDS = 30 * 60

# The paths the simulator builds its response_urls on, like hooks.slack.com/commands/… and
# hooks.slack.com/actions/…: /<kind>/<team id>/<issued ms>.<n>/<token>.
RESPONSE_URL_KINDS = ("commands", "actions")

# Methods that authenticate with something other than a Web API token.
_TOKENLESS_METHODS = frozenset({"oauth.v2.access"})

_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=default_email_policy).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            params[str(name)] = payload
        else:
            params[str(name)] = payload.decode("utf-8", errors="replace")
    return params


def _decode_json_params(params: dict[str, Any]) -> None:
    for name in _JSON_ENCODED_PARAMS:
        value = params.get(name)
        if isinstance(value, str):
            # Undecodable values stay strings; the method answers invalid_blocks_format & co.
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)


class _StandInHTTPServer(LocalHTTPServer):
    stand_in: SlackStandIn


class _StandInRequestHandler(BaseHTTPRequestHandler):
    server: _StandInHTTPServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path == SOCKET_PATH:
            self.server.stand_in._serve_socket(self)
            return
        self.server.stand_in._serve(self)

    def do_POST(self) -> None:
        self.server.stand_in._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        return  # Tests and the demo read recorded calls, not access logs.


class Serving(StandInState):
    def _serve(self, request: _StandInRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length > 0 else b""
        received = time.perf_counter()
        if parts.path.startswith("/upload/") and request.command == "POST":
            self._serve_upload(request, parts.path.removeprefix("/upload/"), body)
            return
        if parts.path.split("/")[1] in RESPONSE_URL_KINDS and request.command == "POST":
            self._serve_response_url(request, parts.path, body)
            return
        if not parts.path.startswith("/api/"):
            self._send(request, 404, {"ok": False, "error": "unknown_method"})
            return
        method = parts.path.removeprefix("/api/").strip("/")
        status, payload, headers = self._answer_api_call(
            method,
            query=parts.query,
            body=body,
            content_type=request.headers.get("Content-Type") or "",
            authorization=request.headers.get("Authorization") or "",
            received=received,
        )
        self._send(request, status, payload, headers)

    @staticmethod
    def _send(
        request: _StandInRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        encoded = json.dumps(payload).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(encoded)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        # A client that gave up (accept_then_hang) has closed the connection by now.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            request.end_headers()
            request.wfile.write(encoded)

    def _serve_response_url(self, request: _StandInRequestHandler, path: str, body: bytes) -> None:
        """A POST to a response_url (JSON: text, blocks, response_type, replace_original,
        delete_original). Slack takes each at most 5 times within 30 minutes; past that the
        stand-in answers 404 expired_url (Slack documents the limit, not the wording; this
        is the incoming-webhooks style of a plain-text error with a 4xx status)."""
        status, error = 200, None
        try:
            decoded = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            decoded = None
        payload: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
        segments = path.strip("/").split("/")
        issued = segments[2].split(".", 1)[0] if len(segments) == 4 else ""
        with self._lock:
            uses = sum(1 for p in self._response_posts if p.path == path and p.ok)
        if len(segments) != 4 or not issued.isdigit():
            status, error = 404, "invalid_url"
        elif (
            time.time() - int(issued) / 1000 > RESPONSE_URL_LIFETIME_SECONDS
            or uses >= RESPONSE_URL_MAX_USES
        ):
            status, error = 404, "expired_url"
        elif not isinstance(decoded, dict) or payload.get("response_type") not in (
            None,
            "ephemeral",
            "in_channel",
        ):
            status, error = 400, "invalid_payload"
        elif not payload.get("delete_original"):
            try:
                self._validate_message_content(payload)
            except SlackApiErrorAnswer as answer:
                status, error = 400, answer.error
        post = ResponseUrlPost(path=path, body=payload, status=status, error=error, at=time.time())
        with self._lock:
            self._response_posts.append(post)
        answer = (error or "ok").encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/plain; charset=utf-8")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def _serve_upload(self, request: _StandInRequestHandler, file_id: str, body: bytes) -> None:
        with self._lock:
            stored = self._files.get(file_id)
            if stored is not None:
                stored.content = body
        if stored is None:
            answer, status = b"Not Found", 404
        else:
            answer, status = f"OK - {len(body)}".encode(), 200
        request.send_response(status)
        request.send_header("Content-Type", "text/plain; charset=utf-8")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def _parse_params(self, query: str, body: bytes, content_type: str) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        media_type = content_type.split(";")[0].strip().lower()
        if body:
            if media_type == "application/json":
                decoded = json.loads(body.decode("utf-8"))
                if not isinstance(decoded, dict):
                    raise ValueError("a JSON body must be an object")
                params.update(decoded)
            elif media_type == "multipart/form-data":
                params.update(_parse_multipart(content_type, body))
            else:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        _decode_json_params(params)
        return params

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        payload: dict[str, Any],
        received: float | None = None,
        *,
        answered: int = 200,
    ) -> None:
        call = RecordedCall(
            method=method,
            params=params,
            token=token,
            ok=bool(payload.get("ok")),
            error=payload.get("error"),
            at=time.time(),
            response=payload,
            received=time.perf_counter() if received is None else received,
            answered=answered,
        )
        trigger_id = params.get("trigger_id")
        with self._lock:
            self._calls.append(call)
            if isinstance(trigger_id, str) and trigger_id:
                self._calls_by_trigger.setdefault(trigger_id, []).append(call)

    def _addressed_to(self, params: dict[str, Any], to: str) -> bool:
        if params.get("users") == to:
            return True
        channel = params.get("channel")
        return isinstance(channel, str) and (
            self._resolve_channel_id(channel) == self._resolve_channel_id(to)
        )

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        """The fault this call meets, else None."""
        with self._lock:
            queue = self._faults.get(method) or []
            for index, fault in enumerate(queue):
                if fault.to is not None and not self._addressed_to(params, fault.to):
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(index)
                return fault
            bucket = self._buckets.get(method)
            if bucket is not None:
                wait_seconds = bucket.take(self.monotonic())
                if wait_seconds is not None:
                    return _Fault(status=429, retry_after=wait_seconds, remaining=0)
        return None

    def _answer_api_call(
        self,
        method: str,
        *,
        query: str,
        body: bytes,
        content_type: str,
        authorization: str,
        received: float | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        received = time.perf_counter() if received is None else received
        try:
            params = self._parse_params(query, body, content_type)
        except (ValueError, UnicodeDecodeError):
            payload = {"ok": False, "error": "invalid_json"}
            self._record(method, {}, None, payload, received)
            return 200, payload, {}
        token = params.pop("token", None)
        if authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip() or token
        elif authorization.startswith("Basic "):
            self._merge_basic_auth(params, authorization)

        fault = self._take_fault(method, params)
        if fault is not None and fault.mode == "refuse":
            status, retry_after = fault.status, fault.retry_after
            if fault.error is not None:
                payload = {"ok": False, "error": fault.error}
                self._record(method, params, token, payload, received)
                return 200, payload, {}
            if status == 429:
                payload = {"ok": False, "error": "ratelimited"}
                self._record(method, params, token, payload, received)
                return 429, payload, {"Retry-After": str(retry_after)}
            payload = {"ok": False, "error": "fatal_error"}
            self._record(method, params, token, payload, received)
            return status, payload, {}

        handler = self._handlers.get(method)
        if handler is None:
            payload = {"ok": False, "error": "unknown_method"}
            self._record(method, params, token, payload, received)
            return 404, payload, {}

        try:
            self._check_token(method, token)
            with self._lock:
                result = handler(params, token)
            payload = {"ok": True, **result}
        except SlackApiErrorAnswer as answer:
            payload = {"ok": False, "error": answer.error, **answer.extra}
        if fault is not None and fault.mode == "accept":
            self._record(method, params, token, payload, received, answered=fault.status)
            return fault.status, {"ok": False, "error": "fatal_error"}, {}
        if fault is not None and fault.mode == "hang":
            self._record(method, params, token, payload, received, answered=0)
            time.sleep(fault.hang_seconds)
            return 200, payload, {}
        self._record(method, params, token, payload, received)
        return 200, payload, {}

    @staticmethod
    def _merge_basic_auth(params: dict[str, Any], authorization: str) -> None:
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
        except ValueError:
            return
        client_id, _, client_secret = decoded.partition(":")
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", client_secret)

    def _check_token(self, method: str, token: str | None) -> None:
        if method in _TOKENLESS_METHODS:
            return
        if not token:
            raise SlackApiErrorAnswer("not_authed")
        if method in _APP_TOKEN_METHODS:
            if not token.startswith("xapp-"):
                raise SlackApiErrorAnswer("not_allowed_token_type")
            return
        if token.startswith("xapp-"):
            raise SlackApiErrorAnswer("not_allowed_token_type")
        if token != self.bot_token and not token.startswith(("xoxb-", "xoxp-")):
            raise SlackApiErrorAnswer("invalid_auth")
