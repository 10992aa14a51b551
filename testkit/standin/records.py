"""The data the stand-in keeps and hands to tests: users, recorded calls, response_url posts,
channels, faults, rate-limit buckets, API error answers (testkit.standin)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StandInUser:
    id: str
    name: str
    real_name: str
    tz: str = "America/New_York"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    # profile.email, which Slack shows apps with users:read.email (users.lookupByEmail finds it).
    email: str | None = None


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the stand-in saw it, with the answer it gave."""

    method: str
    params: dict[str, Any]
    token: str | None
    ok: bool
    error: str | None
    at: float
    # The JSON body answered; handy to learn assigned ids (view ids, message ts).
    response: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # time.perf_counter() when the request's body had arrived, before any checking: benches
    # in the same process time "sent -> Slack received it" against it (`at` is wall-clock
    # time taken after answering, for people reading a log).
    received: float = field(default=0.0, compare=False, repr=False)
    # What the client was told when that differs from what happened: a call that posted its
    # message but was answered 502 (or not at all) is ok=True (Slack has it), answered=502
    # (or 0 for a hang), so duplicates show up in counts of posts.
    answered: int = field(default=200, compare=False)

    @property
    def conversation(self) -> str | None:
        """The conversation the call was addressed to: its `channel`, a user id read as that
        user's DM (chat.postMessage takes one: SlackStandIn._chat_post_message)."""
        channel = self.params.get("channel")
        if not isinstance(channel, str):
            return None
        return _dm_channel_id(channel) if channel[:1] in ("U", "W") else channel


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST to a response_url, with the answer the stand-in gave."""

    path: str  # e.g. /commands/T0REBOUND/1700000000000.1/abc
    body: dict[str, Any]
    status: int
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _ChannelInfo:
    """What the stand-in knows of a channel beyond its name, to model who can post there.

    `members` None means everyone in the workspace is in it (a public channel's default)."""

    private: bool = False
    members: frozenset[str] | None = None
    bot_is_member: bool = True


@dataclass
class _Fault:
    status: int
    retry_after: int
    remaining: int
    # "refuse": answer `status` without acting (429, or a 5xx before Slack did anything);
    # "accept": act (a message IS posted), then answer `status` (a 5xx after the fact);
    # "hang": act, then hold the answer `hang_seconds` (past the client's timeout).
    mode: str = "refuse"
    hang_seconds: float = 0.0
    error: str | None = None  # "refuse" with HTTP 200: this ok=false error
    # Only calls addressed to this user (a DM, by U- or D- id, or conversations.open's users)
    # or channel meet the fault; None: any call to the method.
    to: str | None = None


@dataclass
class _TokenBucket:
    per_second: float
    tokens: float
    refilled_at: float

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_second)

    def take(self, now: float) -> int | None:
        """Take one token; None when allowed, else the whole seconds to wait."""
        elapsed = max(0.0, now - self.refilled_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.refilled_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self.tokens) / self.per_second))


class SlackApiErrorAnswer(Exception):
    """An API error answer: ``{"ok": false, "error": error, **extra}`` with HTTP 200."""

    def __init__(self, error: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra or {}


def _workspace_domain(team_name: str) -> str:
    return "-".join(team_name.lower().split()) or "workspace"


def _dm_channel_id(user_id: str) -> str:
    """Stable DM channel id of a user: "D" + the user id without its leading "U"."""
    return "D" + (user_id[1:] if user_id.startswith("U") else user_id)
