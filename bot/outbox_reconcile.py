"""Reconciliation: an ``unknown`` row (Slack may have posted it) is looked for in the
conversation it went to (conversations.history with include_all_metadata, for its post key)
before it is ever sent again; found, it is marked sent; not found, it is sent. The reads keep
to Slack's 2025 limit for apps outside the Marketplace, one slot a minute per workspace shared
by every process (storage.models.ApiSlot). A mixin of bot.dispatcher.Dispatcher."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.outbox_results import DELETE_METHOD, SendResults, log
from bot.post_metadata import post_key_of
from bot.slack_clients import TeamClients
from bot.slack_errors import APP_NOT_AUTHORIZED, is_permanent
from storage import outbox_queries
from storage.models import OutboxMessage

# conversations.history for apps outside the Marketplace: 1 request a minute per workspace,
# at most 15 messages a page (the changelog above). Marketplace apps may pass a shorter interval.
HISTORY_INTERVAL = timedelta(minutes=1)
HISTORY_METHOD = "conversations.history"
HISTORY_PAGE = 15
# Look this far before the first attempt (clock skew between us and Slack's ts).
HISTORY_SKEW = timedelta(minutes=1)


class Reconciling(SendResults):
    """Looking for unknown rows in Slack. The state is the dispatcher's."""

    clients: TeamClients
    batch: int
    lease: timedelta
    history_interval: timedelta
    _cursors: dict[int, str]

    def reconcile_due(self, now: datetime) -> int:
        """Look up unknown rows in Slack, at most one conversations.history call per workspace
        per `history_interval`; rows of a workspace whose slot is taken wait for the next one.
        Returns how many rows were settled (found, or handed back to be sent)."""
        with self.uow() as uow:
            busy = outbox_queries.teams_without_api_slot(
                session=uow.session, method=HISTORY_METHOD, now=now
            )
            outbox_queries.expire_leases(session=uow.session, now=now)
            rows = outbox_queries.claim_unknown(
                session=uow.session,
                limit=self.batch,
                now=now,
                worker=self.worker,
                lease=self.lease,
                skip_teams=busy,
            )
        settled = 0
        for row in rows:
            try:
                settled += self._reconcile_one(row, now)
            except Exception:
                log.exception("reconciling outbox row %s (%s) failed", row.id, row.post_key)
        return settled

    def _reconcile_one(self, row: OutboxMessage, now: datetime) -> int:
        assert row.id is not None
        channel = row.attempt_channel
        if row.method == DELETE_METHOD:
            # Nothing to look for: deleting again is harmless (message_not_found is done).
            self._later(row, now, "delete again", uncount=False)
            return 1
        if channel is None or row.first_attempt_at is None:
            # Never left this process (the crash came before the request): just send it.
            self._later(row, now, "never sent", uncount=False)
            return 1
        with self.uow() as uow:
            slot = outbox_queries.take_api_slot(
                session=uow.session,
                team_id=row.team_id,
                method=HISTORY_METHOD,
                now=now,
                interval=self.history_interval,
            )
        if not slot:
            # Another row (of this process or another) has this minute's read.
            self._release_unknown(row, self._next_history_slot(row.team_id))
            return 0
        found, code = self._find_in_history(row, channel)
        if found is not None:
            log.info("outbox row %s (%s) was in Slack after all", row.id, row.post_key)
            self._mark_sent(row, channel, found)
            return 1
        if code == "ratelimited":
            return 0
        if code is not None and not is_permanent(code):
            self._release_unknown(row, self._backoff(1))
            return 0
        if code in APP_NOT_AUTHORIZED:
            # The history can't be read (an install from before the history scopes, say), so
            # whether Slack has it is unknowable: sending again could show it twice. Given up
            # on, loudly; reinstalling the app grants the scopes for the next time.
            log.warning(
                "outbox row %s (%s): can't look for it in Slack (%s); not sent again",
                row.id,
                row.post_key,
                code,
            )
            self._fail(row, f"unverifiable:{code}")
            return 1
        # Not there (or the conversation can't be read, when posting there will fail too).
        self._later(row, now, "not found in history", uncount=False)
        return 1

    def _find_in_history(self, row: OutboxMessage, channel: str) -> tuple[str | None, str | None]:
        """(the message's ts, None) when found; (None, error code or None) otherwise: one page
        (one request). A page that says there is more leaves the row for the next slot, from
        where this page ended."""
        assert row.first_attempt_at is not None and row.id is not None
        oldest = (row.first_attempt_at - HISTORY_SKEW).timestamp()
        with self._lock:
            cursor = self._cursors.pop(row.id, None)
        try:
            answer = self.clients.client_for(row.team_id).conversations_history(
                channel=channel,
                oldest=f"{oldest:.6f}",
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                **({"cursor": cursor} if cursor else {}),
            )
        except SlackApiError as error:
            if error.response.status_code == 429:
                self._hold_history(row.team_id, error)
                self._release_unknown(row, self._next_history_slot(row.team_id))
                return None, "ratelimited"
            return None, error.response.get("error") or "error"
        except Exception as error:
            return None, type(error).__name__
        for message in answer.get("messages") or []:
            if post_key_of(message, row.team_id) == row.post_key:
                return str(message.get("ts")), None
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if answer.get("has_more") and cursor:
            with self._lock:
                self._cursors[row.id] = cursor
            self._release_unknown(row, self._next_history_slot(row.team_id))
            return None, "ratelimited"  # not settled yet: the next page in the next slot
        return None, None

    def _hold_history(self, team_id: str, error: SlackApiError) -> None:
        try:
            seconds = float(error.response.headers.get("Retry-After") or 60)
        except (TypeError, ValueError):
            seconds = 60.0
        until = self.clock() + timedelta(
            seconds=max(seconds, self.history_interval.total_seconds())
        )
        with self.uow() as uow:
            outbox_queries.hold_api_slot(
                session=uow.session, team_id=team_id, method=HISTORY_METHOD, until=until
            )

    def _next_history_slot(self, team_id: str) -> datetime | None:
        with self.uow() as uow:
            return outbox_queries.next_api_slot(
                session=uow.session, team_id=team_id, method=HISTORY_METHOD
            )

    def _release_unknown(self, row: OutboxMessage, not_before: datetime | None) -> None:
        assert row.id is not None
        with self.uow() as uow:
            released = outbox_queries.release_unknown(
                session=uow.session, row_id=row.id, worker=self.worker, not_before=not_before
            )
        if not released:
            log.warning("outbox row %s (%s): reconcile claim lost", row.id, row.post_key)
