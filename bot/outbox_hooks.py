"""What a feature records when one of its outbox rows is sent, refused or given up on.

A small registry keyed by the row's kind. The dispatcher (bot.dispatcher) runs each hook in
the same transaction as its own mark, so the feature's bookkeeping (a debrief's "questions
asked at", a shout-out's "posted at") is recorded exactly when the outbox row is, whatever
crashes. Hooks may queue follow-up rows (bot.uow.add_to_outbox) — a DM that says where a
shout-out went up is queued once the shout-out is in Slack.

Kept apart from the dispatcher so use cases register hooks without importing Slack's client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.models import OutboxMessage

# on_sent(session, row, channel, ts, now): Slack has it (channel and ts as Slack answered).
OnSent = Callable[[Session, OutboxMessage, str | None, str | None, datetime], None]
# on_failed(session, row, error_code, now): it can never be sent (a permanent error).
OnFailed = Callable[[Session, OutboxMessage, str, datetime], None]
# on_refused(session, row, channel, error_code, now): a row for the recognition channel could
# not go now — no channel is set (channel None, code "no_channel") or the bot can't post in it.
# The row stays queued: it goes out once the channel changes (or, refused, a few hours later).
OnRefused = Callable[[Session, OutboxMessage, str | None, str, datetime], None]


@dataclass(frozen=True)
class KindHooks:
    on_sent: OnSent | None = None
    on_failed: OnFailed | None = None
    on_refused: OnRefused | None = None


_HOOKS: dict[str, KindHooks] = {}


def register_hooks(
    kind: str,
    *,
    on_sent: OnSent | None = None,
    on_failed: OnFailed | None = None,
    on_refused: OnRefused | None = None,
) -> None:
    """Register what to record for rows of `kind`; registering a kind again replaces its hooks
    (modules register when imported)."""
    _HOOKS[kind] = KindHooks(on_sent=on_sent, on_failed=on_failed, on_refused=on_refused)


def hooks_for(kind: str) -> KindHooks:
    return _HOOKS.get(kind) or KindHooks()
