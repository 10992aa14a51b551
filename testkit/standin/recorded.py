"""What the stand-in saw, for tests to read: the Web API calls, messages, Home views, files
and response_url posts, and waiting for them (testkit.standin)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from testkit.standin.chat import _MESSAGE_METHODS
from testkit.standin.records import RecordedCall, ResponseUrlPost
from testkit.standin.state import StandInState


class Recorded(StandInState):
    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method and (call.ok or not ok_only)]

    def calls_with_trigger(self, trigger_id: str) -> list[RecordedCall]:
        """The calls (views.open, views.push) that used `trigger_id`, oldest first."""
        with self._lock:
            return list(self._calls_by_trigger.get(trigger_id, ()))

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._calls_by_trigger.clear()

    def messages_to(self, channel: str, *, ok_only: bool = True) -> list[RecordedCall]:
        """chat.postMessage/postEphemeral calls to a channel, or to a DM by D- or U- id."""
        wanted = self._resolve_channel_id(channel)
        return [
            call
            for call in self.calls
            if call.method in _MESSAGE_METHODS
            and (call.ok or not ok_only)
            and isinstance(call.params.get("channel"), str)
            and self._resolve_channel_id(call.params["channel"]) == wanted
        ]

    def has_message(self, channel: str, ts: str) -> bool:
        """Whether the conversation still holds the message (not deleted)."""
        with self._lock:
            return (channel, ts) in self._messages

    def message_at(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as the conversation holds it now (after any chat.update); None once
        deleted or never posted."""
        with self._lock:
            stored = self._messages.get((channel, ts))
            return json.loads(json.dumps(stored)) if stored is not None else None

    def add_message_by_someone_else(self, channel: str, text: str) -> str:
        """A message a person (not the bot) posted in `channel`; its ts."""
        with self._lock:
            ts = self._new_ts()
            self._messages[(channel, ts)] = {
                "type": "message",
                "user": "U0SOMEONE",
                "text": text,
                "ts": ts,
            }
        return ts

    def published_home(self, user_id: str) -> dict[str, Any] | None:
        """The Home view currently published for `user_id` (with its `hash`), as Slack puts it
        in app_home_opened; None before the first views.publish."""
        with self._lock:
            view_id = self._home_view_ids.get(user_id)
            view = self._views.get(view_id) if view_id else None
            return json.loads(json.dumps(view)) if view is not None else None

    def uploaded_file(self, file_id: str) -> bytes | None:
        """The bytes uploaded for a file id, or None when nothing was uploaded."""
        with self._lock:
            stored = self._files.get(file_id)
            return stored.content if stored is not None else None

    def uploaded_alt_txt(self, file_id: str) -> str | None:
        """The `alt_txt` a file was announced with (files.getUploadURLExternal), or None."""
        with self._lock:
            stored = self._files.get(file_id)
            return stored.alt_txt if stored is not None else None

    @property
    def response_url_posts(self) -> list[ResponseUrlPost]:
        """Every POST to a response_url, oldest first (accepted and refused)."""
        with self._lock:
            return list(self._response_posts)

    def responses_to(self, response_url: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        """The JSON bodies the app sent to `response_url` (a full URL or its path)."""
        path = urlsplit(response_url).path
        return [p.body for p in self.response_url_posts if p.path == path and (p.ok or not ok_only)]

    def wait_for_responses(
        self, response_url: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until `count` accepted responses reached `response_url`; AssertionError after
        `timeout`, naming what did arrive there and the Web API calls made meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.responses_to(response_url)
            if len(bodies) >= count:
                return bodies
            if time.monotonic() >= deadline:
                refused = [
                    (p.status, p.error)
                    for p in self.response_url_posts
                    if p.path == urlsplit(response_url).path and not p.ok
                ]
                raise AssertionError(
                    f"{len(bodies)} of {count} response(s) to {response_url} within "
                    f"{timeout:.1f}s; refused: {refused}; calls:\n{self._summarize(self.calls)}"
                )
            time.sleep(0.02)

    def wait_for(
        self, predicate: Callable[[list[RecordedCall]], bool], timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Poll the recorded calls until ``predicate`` holds; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls
            if predicate(calls):
                return calls
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"condition not met within {timeout:.1f}s; "
                    f"{len(calls)} call(s) seen:\n{self._summarize(calls)}"
                )
            time.sleep(0.02)

    @staticmethod
    def _summarize(calls: list[RecordedCall]) -> str:
        if not calls:
            return "  (none)"
        lines = []
        for call in calls:
            outcome = "ok" if call.ok else f"error={call.error}"
            details = []
            for name in ("channel", "user", "user_id", "trigger_id", "view_id"):
                if name in call.params:
                    details.append(f"{name}={call.params[name]}")
            text = call.params.get("text")
            if isinstance(text, str) and text:
                details.append(f"text={text[:60]!r}")
            lines.append(f"  {call.method} {outcome} {' '.join(details)}".rstrip())
        return "\n".join(lines)
