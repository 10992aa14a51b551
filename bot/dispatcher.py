"""The one way out to Slack for everything that is not the direct answer to a request.

Features write outbox rows in their unit of work (bot.uow); one `Dispatcher` per process
sends them: woken after each commit that queued a row (`wake`) and by every scheduler tick
(`run_once`), it claims due rows in batches (storage.outbox_queries.claim_due: `FOR UPDATE
SKIP LOCKED` on PostgreSQL), sends each, and records the result in the same transaction as
the feature's own bookkeeping (the `on_sent` / `on_failed` hooks, by kind):

- sent: ``sent`` with the channel and ts; the kind's ``on_sent(session, row, channel, ts)``.
- 429: the workspace+method is held for Retry-After and the row waits as long; not an attempt.
- a permanent error (bot.slack_errors): ``failed``; the kind's ``on_failed(session, row, code)``.
- another definite error (Slack answered ok=false): tried again with exponential backoff.
- no definite answer (a 5xx, a timeout, a reset connection — Slack may have posted it — or a
  process that died between Slack's answer and the mark): ``unknown``. An unknown row is never
  simply sent again: the conversation it went to is read first (conversations.history with
  include_all_metadata) for the post key every message carries in its metadata; found, it is
  marked sent; not found, it is sent. Those reads have their own pacer, per workspace and
shared by every process (a slot in the database: storage.models.ApiSlot), under
  Slack's 2025 limit for apps outside the Marketplace (1 request a minute, 15 messages a page:
  https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps/),
  so they queue without ever holding up other sends.

Sending is paced per process: per workspace and method at the method's documented tier, and
chat.postMessage at about one message a second per channel ("Web API Special Tier …
chat.postMessage generally allows posting one message per second per channel, while also
maintaining a workspace-wide limit": https://docs.slack.dev/apis/web-api/rate-limits).

This module holds the claiming, the loop and the pacing; the rest of `Dispatcher` is in mixins,
one a part: where a row goes (bot.outbox_targets), the request per method
(bot.outbox_requests), recording Slack's answer (bot.outbox_results) and looking for unknown
rows (bot.outbox_reconcile).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.metrics import Metrics
from bot.outbox_hooks import register_hooks
from bot.outbox_reconcile import HISTORY_INTERVAL
from bot.outbox_requests import NothingShared, Requests
from bot.outbox_results import (
    MAX_ATTEMPTS,
    _Outcome,
    _retry_after,
)
from bot.pacing import MAX_INLINE_WAIT_SECONDS, TokenBuckets
from bot.post_metadata import (
    METADATA_EVENT_TYPE,
    MetadataRefused,
    Unrenderable,
    post_key_of,
    with_post_key,
)
from bot.slack_clients import TeamClients, TokenForTeam
from bot.uow import UnitOfWork
from bot.uploads import UPLOAD_METHOD
from storage import outbox_queries
from storage.db import SessionFactory
from storage.models import OutboxMessage

__all__ = [
    "MAX_ATTEMPTS",
    "METADATA_EVENT_TYPE",
    "Dispatcher",
    "MetadataRefused",
    "Unrenderable",
    "post_key_of",
    "register_hooks",
    "with_post_key",
]

log = logging.getLogger(__name__)


DEFAULT_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 10
# A claimed row is only sent while this much of its lease is left: the request (bounded by the
# client's timeout) must end before another dispatcher may take the row for unknown.
LEASE_MARGIN = timedelta(seconds=30)
# An unknown row is looked for in Slack no sooner than this after the attempt: a request Slack
# is still working on (our client gave up first) has landed by then.
RECONCILE_DELAY = timedelta(seconds=30)

# Requests per minute per workspace, by method, from each method's reference page
# (https://docs.slack.dev/reference/methods/<method>, "Rate limits"): Tier 2 20+, Tier 3 50+,
# Tier 4 100+ per minute (https://docs.slack.dev/apis/web-api/rate-limits). chat.postMessage's
# workspace-wide limit is unpublished; its per-channel rule is paced separately.
METHOD_PER_MINUTE: dict[str, float] = {
    "conversations.open": 50.0,  # Tier 3
    "views.publish": 100.0,  # Tier 4
    "files.getUploadURLExternal": 100.0,  # Tier 4
    "files.completeUploadExternal": 100.0,  # Tier 4
    "chat.update": 50.0,  # Tier 3
    "chat.delete": 50.0,  # Tier 3 (https://docs.slack.dev/reference/methods/chat.delete)
    # One upload is a getUploadURLExternal and a completeUploadExternal, both Tier 4.
    UPLOAD_METHOD: 100.0,
}
POST_PER_CHANNEL_SECONDS = 1.0
# chat.postMessage per workspace per process (REBOUND_SEND_RATE, bot.config): Slack's
# workspace-wide limit for it is unpublished ("maintaining a workspace-wide limit", the rate-limits
# page above), so a scheduled fan-out (every rep's check-in at once) is spread at this rate.
POST_PER_WORKSPACE_SECOND = 10.0
# A 429 whose Retry-After is this short (Slack asks "1" for chat.postMessage bursts) is waited
# out inline and the same claimed row sent again — a 429 means Slack did not post it — as long
# as the whole send, its retries and one more request (the client's timeout) end within the
# LEASE_MARGIN that record_attempt made sure was left. Longer ones put the row back.
INLINE_429_SECONDS = 2.0


def _inline_key(row: OutboxMessage) -> tuple[str, ...]:
    """The bucket a short 429 holds in this process (real seconds): the workspace's
    chat.postMessage pace, or the method's tier bucket. Longer holds are on the app's clock
    (Dispatcher._holds)."""
    if row.method == "chat.postMessage":
        return (row.team_id, "chat.postMessage", "*workspace*")
    return (row.team_id, row.method)


# Recording Slack's answer (the mark, the kind's hook) must fit in the lease too.
RECORD_MARGIN = timedelta(seconds=10)


def _lease_left(client: WebClient) -> timedelta:
    """How much of its lease a claim must have left for a request to go: the request (the
    client's timeout, slack-sdk's default 30 s when unset; short 429s are waited out within
    LEASE_MARGIN) and recording its answer. A lease that still runs out (a stalled answer, a
    paused process) sends the row to be looked for in Slack, never straight to a resend
    (outbox_queries.expire_leases)."""
    timeout = timedelta(seconds=float(client.timeout or 30))
    return max(LEASE_MARGIN, timeout) + RECORD_MARGIN


def worker_name() -> str:
    """This process's name in claims (``claimed_by``): host and pid, unique among replicas."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Dispatcher(Requests):
    def __init__(
        self,
        session_factory: SessionFactory,
        client: WebClient,
        clock: Clock,
        *,
        worker: str | None = None,
        token_for_team: TokenForTeam | None = None,
        metrics: Metrics | None = None,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = CLAIM_BATCH,
        history_interval: timedelta = HISTORY_INTERVAL,
        reconcile_delay: timedelta = RECONCILE_DELAY,
        method_per_minute: Mapping[str, float] | None = None,
        post_per_channel_seconds: float = POST_PER_CHANNEL_SECONDS,
        post_per_workspace_second: float = POST_PER_WORKSPACE_SECOND,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`client` carries the API URL and timeout; it should have no retry handlers that
        re-send (bot.app.make_dispatch_client): the dispatcher decides what is sent again."""
        self.session_factory = session_factory
        self.clock = clock
        self.worker = worker or worker_name()
        self.clients = TeamClients(client, token_for_team)
        self.metrics = metrics
        if lease <= _lease_left(client):
            # Every record_attempt would be refused: nothing could ever be sent.
            raise ValueError(f"lease {lease} must be longer than {_lease_left(client)}")
        self.lease = lease
        self.batch = batch
        self.history_interval = history_interval
        self.reconcile_delay = reconcile_delay
        self.method_per_minute = dict(METHOD_PER_MINUTE, **(method_per_minute or {}))
        self.post_per_channel_seconds = post_per_channel_seconds
        self.post_per_workspace_second = post_per_workspace_second
        self._sleep = sleep
        # Pacing runs on real seconds; a test hands its own clock's (with `sleep` moving it).
        self._buckets = TokenBuckets(monotonic)
        # App-clock holds: (team, method) -> until (a 429's Retry-After). Each workspace's next
        # conversations.history slot is in the database (storage.models.ApiSlot): every
        # process shares Slack's one request a minute.
        self._holds: dict[tuple[str, str], datetime] = {}
        self._dm_channels: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()
        # One event per background thread: a wake reaches both.
        self._wakes: list[threading.Event] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ running

    def uow(self) -> UnitOfWork:
        """A unit of work whose commit wakes this dispatcher."""
        return UnitOfWork(self.session_factory, clock=self.clock, on_commit=self.wake)

    def wake(self) -> None:
        """Something was queued: send it soon. Never blocks."""
        for event in self._wakes:
            event.set()

    def start(self, *, idle_seconds: float | None = None) -> None:
        """Send in two background threads until `stop`, each time `wake` is called: one for
        sends, one for reconciling unknown rows (its slow, rare reads never hold up a send).
        Rows that fall due later (a backoff, a Retry-After) are sent by the scheduler's tick
        (`run_once`) in some process, or every `idle_seconds` when given."""
        if self._threads:
            return
        self._stop.clear()
        for name, step in (("send", self.send_due), ("reconcile", self.reconcile_due)):
            event = threading.Event()
            self._wakes.append(event)
            thread = threading.Thread(
                target=self._loop,
                args=(step, event, idle_seconds),
                name=f"outbox-{name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=15)
        self._threads.clear()
        self._wakes.clear()

    def _loop(
        self, step: Callable[[datetime], int], event: threading.Event, idle: float | None
    ) -> None:
        while not self._stop.is_set():
            event.wait(idle)
            event.clear()
            try:
                while step(self.clock()) and not self._stop.is_set():
                    pass
            except Exception:  # the database is down, say: logged, tried on the next wake
                log.exception("outbox dispatch failed")

    def run_once(self, now: datetime) -> int:
        """Reconcile what is due for it, then send every due row (batch after batch) as of
        `now`; the scheduler's tick and tests call this. Returns how many rows were handled."""
        handled = self.reconcile_due(now)
        while True:
            sent = self.send_due(now)
            handled += sent
            if not sent:
                return handled

    # ------------------------------------------------------------------ sending

    def _held_teams(self, now: datetime) -> list[str]:
        with self._lock:
            return sorted({team for (team, _), until in self._holds.items() if until > now})

    def send_due(self, now: datetime) -> int:
        """Claim one batch of due rows and send them; the number claimed."""
        with self.uow() as uow:
            # A lease that ran out mid-send goes to be looked for, after reconcile_delay.
            outbox_queries.expire_leases(session=uow.session, now=now, recheck=self.reconcile_delay)
            rows = outbox_queries.claim_due(
                session=uow.session,
                limit=self.batch,
                now=now,
                worker=self.worker,
                lease=self.lease,
                skip_teams=self._held_teams(now),
            )
        for row in rows:
            try:
                self._send_one(row)
            except Exception:  # one row's trouble (the database, a bug) never stops the rest
                log.exception("sending outbox row %s (%s) failed", row.id, row.post_key)
        return len(rows)

    def _send_one(self, row: OutboxMessage) -> str:
        assert row.id is not None
        now = self.clock()
        if not self.clients.is_installed(row.team_id):
            # Uninstalled: its data waits for deletion; nothing can be sent there.
            self._fail(row, "not_installed")
            return _Outcome.FAILED
        hold = self._hold_of(row.team_id, row.method, now)
        if hold is not None:
            self._later(row, hold, "held after a 429", uncount=False)
            return _Outcome.LATER
        channel = self._channel_for(row, now)
        if channel is None:
            return _Outcome.LATER  # _channel_for already put it back (or failed it)
        if not self._wait_turn(row, channel, now):
            return _Outcome.LATER
        if row.attempts >= MAX_ATTEMPTS:
            # Every attempt so far failed for sure, or (an unknown one) was looked for in Slack
            # and not found: given up on rather than sent again.
            self._fail(row, f"gave_up:{row.last_error or 'unknown'}")
            return _Outcome.FAILED
        client = self.clients.client_for(row.team_id)
        with self.uow() as uow:
            # Where it goes, written before it leaves: the place to look if the answer is lost.
            allowed = outbox_queries.record_attempt(
                session=uow.session,
                row_id=row.id,
                worker=self.worker,
                channel=channel,
                now=self.clock(),
                lease_left=_lease_left(client),
            )
        if not allowed:
            # Nothing left: either another process holds the row now (its claim stands; the
            # write below matches nothing) or too little of our lease is left for a request
            # (pacing took it): then the row goes back to pending at once, as it was, instead
            # of sitting "sending" until the lease runs out and being looked for in Slack.
            self._later(row, now, row.last_error or "lease ran short", uncount=False)
            log.info("outbox row %s: lease lost or too short before sending; not sent", row.id)
            return _Outcome.LATER
        attempts = row.attempts + 1
        try:
            request = self._prepare(row, channel)
        except Unrenderable as error:
            self._fail(row, str(error))
            return _Outcome.FAILED
        except Exception as error:
            # Raised before the request could leave (a bug in rendering or building the
            # payload): Slack has nothing, so it is a definite failure to send — tried again
            # after a backoff, counted, given up on after MAX_ATTEMPTS — never an unknown to
            # look for.
            log.error(
                "outbox row %s (%s): not sent (%s)", row.id, row.post_key, error, exc_info=error
            )
            return self._retry(row, type(error).__name__, attempts)
        started = time.monotonic()
        while True:
            try:
                response = request(client)
            except SlackApiError as error:
                seconds = _retry_after(error) if error.response.status_code == 429 else None
                budget = LEASE_MARGIN.total_seconds() - float(client.timeout or 30)
                if (
                    seconds is not None
                    and seconds <= INLINE_429_SECONDS
                    and time.monotonic() - started + seconds <= budget
                ):
                    # Not posted: wait it out (the whole workspace+method waits with it, in
                    # this process) and send the same row again under the same claim.
                    # A little jitter: processes held by the same 429 don't all come back at once.
                    self._buckets.hold(_inline_key(row), seconds + random.uniform(0, 0.25))
                    if self._wait_turn(row, channel, now, put_back=False):
                        continue
                return self._after_error(row, error, attempts, channel)
            except NothingShared as error:
                return self._retry(row, error.code, attempts)
            except Exception as error:
                return self._after_exception(row, error, attempts)
            break
        data = response.data if isinstance(response.data, dict) else {}
        self._mark_sent(row, data.get("channel") or channel, data.get("ts"))
        return _Outcome.SENT

    def _wait_turn(
        self, row: OutboxMessage, channel: str | None, now: datetime, *, put_back: bool = True
    ) -> bool:
        """Sleep until the row's buckets let it go (True); when that is more than
        MAX_INLINE_WAIT_SECONDS away, False, and the row is put back until then."""
        while (wait := self._pace(row, channel)) > 0:
            if wait > MAX_INLINE_WAIT_SECONDS:
                if put_back:
                    self._later(row, now + timedelta(seconds=wait), "paced", uncount=False)
                return False
            self._sleep(wait)
        return True

    def _pace(self, row: OutboxMessage, channel: str | None) -> float:
        if row.method == "chat.postMessage":
            return self._buckets.wait_all(
                [
                    (
                        (row.team_id, "chat.postMessage", channel or ""),
                        60.0 / self.post_per_channel_seconds,
                        1.0,
                    ),
                    # Burst of one: a fan-out is spread evenly, not sent in bursts.
                    (_inline_key(row), 60.0 * self.post_per_workspace_second, 1.0),
                ]
            )
        per_minute = self.method_per_minute.get(row.method)
        if per_minute is None:
            return 0.0
        return self._buckets.wait((row.team_id, row.method), per_minute, per_minute)

    def _hold_of(self, team_id: str, method: str, now: datetime) -> datetime | None:
        with self._lock:
            until = self._holds.get((team_id, method))
        return until if until is not None and until > now else None
