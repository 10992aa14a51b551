"""What the dispatcher does with each answer from Slack: sent, later (a backoff, a 429's
Retry-After, a refused recognition channel), unknown (looked for before any resend), or failed.
Every write is conditional on the row's claim (storage.outbox_queries). A mixin of
bot.dispatcher.Dispatcher, which holds the state named below."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.clock import Clock
from bot.metrics import Metrics, count_post
from bot.outbox_hooks import hooks_for
from bot.pacing import TokenBuckets
from bot.slack_errors import CHANNEL_REFUSED, is_permanent
from bot.uow import UnitOfWork
from bot.uploads import UPLOAD_METHOD
from storage import outbox_queries
from storage.models import OutboxMessage

log = logging.getLogger("bot.dispatcher")

# A definite error that may go away (internal_error, a refused connection): tried again after
# 30 s, 1 min, 2 min … at most an hour apart, and given up on after this many attempts.
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 20
# What may have happened when its answer is lost, and can be looked for before a resend: a
# message (its post key in the conversation's history) and an upload's share (its files,
# with files.info). Outbox.reconcile_due (bot.outbox_reconcile) does the looking.
RECONCILED_METHODS = frozenset({"chat.postMessage", UPLOAD_METHOD})
# A row for the recognition channel after the bot was refused there: looked at again this long
# after (saving another channel wakes such rows at once).
REFUSED_CHANNEL_RETRY = timedelta(hours=6)


# Deleting a message already sent (a shout-out its rep took back): a row with target kind
# "sent_post" (bot.dispatcher). chat.delete answers message_not_found when "no message exists
# with the requested timestamp" (https://docs.slack.dev/reference/methods/chat.delete): gone
# already (an earlier attempt whose answer was lost, or someone removed it), so it is done.
DELETE_METHOD = "chat.delete"
# Updating a message already sent (a manager's note once calibrated, a message about an outcome
# its rep corrected or removed). Slack answers message_not_found ("No message exists with the
# requested timestamp") when the message is gone (deleted by someone), cant_update_message when
# it isn't the bot's ("Only messages posted by the authenticated user are able to be updated
# using this method ... Bot users may also update the messages they post. Attempting to update
# other message types will return a cant_update_message error",
# https://docs.slack.dev/reference/methods/chat.update) and edit_window_closed ("The message
# cannot be edited due to the team message edit settings", the method's error list:
# https://api.slack.com/methods/chat.update): sending it again can't help.
UPDATE_METHOD = "chat.update"
UPDATE_REFUSED = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class _Outcome:
    """How one send ended (see Dispatcher._send_one)."""

    SENT, LATER, UNKNOWN, FAILED = "sent", "later", "unknown", "failed"


def _retry_after(error: SlackApiError) -> float:
    """A 429's Retry-After in seconds (https://docs.slack.dev/apis/web-api/rate-limits)."""
    try:
        return float(error.response.headers.get("Retry-After") or 1)
    except (TypeError, ValueError):
        return 1.0


class SendResults:
    """Recording how a send ended. The state is the dispatcher's (bot.dispatcher.Dispatcher)."""

    clock: Clock
    worker: str
    metrics: Metrics | None
    reconcile_delay: timedelta
    _lock: threading.Lock
    _holds: dict[tuple[str, str], datetime]
    _buckets: TokenBuckets

    def uow(self) -> UnitOfWork:
        raise NotImplementedError

    def _after_error(
        self, row: OutboxMessage, error: SlackApiError, attempts: int, channel: str | None
    ) -> str:
        status = error.response.status_code
        code = error.response.get("error") or f"http_{status}"
        if status == 429:
            self._after_429(row, error, row.method, uncount=True)
            return _Outcome.LATER
        if status >= 500:
            return self._unknown_or_later(row, f"http_{status}", attempts)
        if row.target_kind == "recognition_channel" and code in CHANNEL_REFUSED:
            # The bot can't post in the workspace's recognition channel: kept until an admin
            # picks another (storage.queries.update_workspace_settings wakes the row) or, in
            # case someone invited the bot meanwhile, for another try hours later.
            self._refused(row, channel, code, self.clock() + REFUSED_CHANNEL_RETRY)
            return _Outcome.LATER
        if row.method == DELETE_METHOD and code == "message_not_found":
            self._mark_sent(row, channel, None)
            return _Outcome.SENT
        if is_permanent(code) or (row.method == UPDATE_METHOD and code in UPDATE_REFUSED):
            self._fail(row, code)
            return _Outcome.FAILED
        return self._retry(row, code, attempts)

    def _after_exception(self, row: OutboxMessage, error: Exception, attempts: int) -> str:
        reason = getattr(error, "reason", None)
        if isinstance(error, ConnectionRefusedError) or isinstance(reason, ConnectionRefusedError):
            # Refused before any byte left: Slack has nothing; try again later.
            return self._retry(row, "connection_refused", attempts)
        # Raised inside slack-sdk, once everything of ours was done (_prepare): a network error
        # (the connection broke, timed out, the answer was lost) or anything else after the
        # request may have left. Looked for before it is sent again.
        return self._unknown_or_later(row, type(error).__name__, attempts)

    def _retry(self, row: OutboxMessage, error: str, attempts: int) -> str:
        """A definite failure to send that may go away: again after a backoff, or given up on
        once MAX_ATTEMPTS attempts were made."""
        if attempts >= MAX_ATTEMPTS:
            self._fail(row, f"gave_up:{error}")
            return _Outcome.FAILED
        self._later(row, self._backoff(attempts), error, uncount=False)
        return _Outcome.LATER

    def _unknown_or_later(self, row: OutboxMessage, error: str, attempts: int) -> str:
        """No definite answer. A message may have been posted, an upload shared: look before
        sending again. Other methods (views.publish, chat.update) are idempotent or checked by
        their feature: tried again after a backoff. Every such attempt counts: a row found not sent
        after its MAX_ATTEMPTS-th is given up on before it would go again (_send_one)."""
        assert row.id is not None
        if row.method not in RECONCILED_METHODS:
            return self._retry(row, error, attempts)
        with self.uow() as uow:
            marked = outbox_queries.mark_unknown(
                session=uow.session,
                row_id=row.id,
                worker=self.worker,
                error=error,
                check_at=self.clock() + self.reconcile_delay,
            )
        if not marked:
            # The lease ran out meanwhile: the row is already unknown (or another's).
            log.warning(
                "outbox row %s (%s): claim lost before its outcome (%s)",
                row.id,
                row.post_key,
                error,
            )
        else:
            log.warning("outbox row %s (%s): outcome unknown (%s)", row.id, row.post_key, error)
        return _Outcome.UNKNOWN

    def _after_429(
        self, row: OutboxMessage, error: SlackApiError, method: str, *, uncount: bool
    ) -> None:
        """Slack's 429 carries Retry-After in seconds (https://docs.slack.dev/apis/web-api/
        rate-limits: "a Retry-After HTTP header containing the number of seconds until you can
        retry"); the workspace+method is held that long, and the row waits as long."""
        seconds = _retry_after(error)
        until = self.clock() + timedelta(seconds=seconds)
        with self._lock:
            key = (row.team_id, method)
            self._holds[key] = max(self._holds.get(key, until), until)
        self._buckets.hold((row.team_id, method), seconds)
        self._later(row, until, "ratelimited", uncount=uncount)

    def _backoff(self, attempts: int) -> datetime:
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** max(0, attempts - 1)))
        return self.clock() + delay

    def _later(
        self, row: OutboxMessage, not_before: datetime, error: str, *, uncount: bool
    ) -> None:
        assert row.id is not None
        with self.uow() as uow:
            outbox_queries.reschedule(
                session=uow.session,
                row_id=row.id,
                worker=self.worker,
                not_before=not_before,
                error=error,
                uncount_attempt=uncount,
            )

    def _refused(
        self, row: OutboxMessage, channel: str | None, code: str, not_before: datetime
    ) -> None:
        assert row.id is not None
        with self.uow() as uow:
            if outbox_queries.reschedule(
                session=uow.session,
                row_id=row.id,
                worker=self.worker,
                not_before=not_before,
                error=code,
            ):
                on_refused = hooks_for(row.kind).on_refused
                if on_refused is not None:
                    on_refused(uow.session, row, channel, code, uow.now())

    def _fail(self, row: OutboxMessage, code: str) -> None:
        assert row.id is not None
        with self.uow() as uow:
            failed = outbox_queries.mark_failed(
                session=uow.session, row_id=row.id, worker=self.worker, error=code, now=self.clock()
            )
            if failed:
                on_failed = hooks_for(row.kind).on_failed
                if on_failed is not None:
                    on_failed(uow.session, row, code, uow.now())
        if failed:
            log.info("outbox row %s (%s) can never be sent: %s", row.id, row.post_key, code)
        else:
            log.warning(
                "outbox row %s (%s): not marked failed (%s): the claim was lost, left to its "
                "new owner",
                row.id,
                row.post_key,
                code,
            )

    def _record_sent(
        self, session: Session, row_id: int, channel: str | None, ts: str | None
    ) -> bool:
        """Mark the row sent where Slack put it, if this worker still holds it."""
        return outbox_queries.mark_sent(
            session=session,
            row_id=row_id,
            worker=self.worker,
            channel=channel,
            ts=ts,
            now=self.clock(),
        )

    def _mark_sent(self, row: OutboxMessage, channel: str | None, ts: str | None) -> None:
        assert row.id is not None
        marked = False
        try:
            with self.uow() as uow:
                marked = self._record_sent(uow.session, row.id, channel, ts)
                if marked:
                    on_sent = hooks_for(row.kind).on_sent
                    if on_sent is not None:
                        on_sent(uow.session, row, channel, ts, uow.now())
        except Exception:
            # Slack has the message: a feature's hook that fails must not roll back "sent",
            # or the row would go unknown, be found again, fail again — forever. The mark
            # goes in alone (a database that is down fails here too, and the lease decides).
            log.exception("on_sent of outbox row %s (%s) failed", row.id, row.post_key)
            with self.uow() as uow:
                marked = self._record_sent(uow.session, row.id, channel, ts)
        if not marked:
            # Our lease ran out and another process holds the row (or settled it): its
            # result stands; it finds this message in the conversation's history.
            log.warning(
                "outbox row %s (%s): Slack has it (ts %s) but the claim was lost; not marked here",
                row.id,
                row.post_key,
                ts,
            )
            return
        count_post(self.metrics, row.kind)
