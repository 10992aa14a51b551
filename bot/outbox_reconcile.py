"""Reconciliation: an ``unknown`` row (Slack may have posted it) is looked for in the
conversation it went to (conversations.history with include_all_metadata, for its post key)
before it is ever sent again; found, it is marked sent; not found, it is sent. The reads keep
to Slack's 2025 limit for apps outside the Marketplace, one slot a minute per workspace shared
by every process (storage.models.ApiSlot). A mixin of bot.dispatcher.Dispatcher."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.outbox_results import DELETE_METHOD, SendResults, _retry_after, log
from bot.pacing import MAX_INLINE_WAIT_SECONDS
from bot.post_metadata import post_key_of
from bot.slack_clients import TeamClients
from bot.slack_errors import APP_NOT_AUTHORIZED, is_permanent
from bot.uploads import UPLOAD_METHOD
from storage import outbox_queries
from storage.models import OutboxMessage

# conversations.history for apps outside the Marketplace: 1 request a minute per workspace,
# at most 15 messages a page (the changelog above). Marketplace apps may pass a shorter interval.
HISTORY_INTERVAL = timedelta(minutes=1)
HISTORY_METHOD = "conversations.history"
HISTORY_PAGE = 15
# Look this far before the first attempt (clock skew between us and Slack's ts).
HISTORY_SKEW = timedelta(minutes=1)
# A DM channel id never changes for one person and app; conversations.open is asked once a day.
DM_CACHE_SECONDS = 24 * 60 * 60.0


def _shared_in(file: dict[str, Any], channel: str) -> tuple[bool, str | None]:
    """(whether a file object says it is shared in `channel`, the share's ts if it says)."""
    shares = file.get("shares") or {}
    for kind in ("public", "private"):
        for share in (shares.get(kind) or {}).get(channel) or []:
            return True, str(share.get("ts")) if share.get("ts") else None
    listed = [*file.get("channels", []), *file.get("groups", []), *file.get("ims", [])]
    return channel in listed, None


class Reconciling(SendResults):
    """Looking for unknown rows in Slack. The state is the dispatcher's."""

    clients: TeamClients
    batch: int
    lease: timedelta
    history_interval: timedelta
    method_per_minute: dict[str, float]
    _dm_channels: dict[tuple[str, str], tuple[float, str]]  # (team, user) -> (until, channel)
    _sleep: Callable[[float], None]

    def _cached_dm(self, team_id: str, user_id: str) -> str | None:
        with self._lock:
            cached = self._dm_channels.get((team_id, user_id))
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    def _open_dm_wait(self, team_id: str) -> float:
        """Seconds until this process may call conversations.open for the workspace (taken)."""
        per_minute = self.method_per_minute["conversations.open"]
        return self._buckets.wait((team_id, "conversations.open"), per_minute, per_minute)

    def _open_dm(self, team_id: str, user_id: str) -> str:
        """The app's DM with the user, opened (idempotent: opening an open DM returns the same
        channel) and kept for DM_CACHE_SECONDS. Raises what slack-sdk raises."""
        opened = self.clients.client_for(team_id).conversations_open(users=user_id)
        channel = str(opened["channel"]["id"])
        with self._lock:
            self._dm_channels[(team_id, user_id)] = (time.monotonic() + DM_CACHE_SECONDS, channel)
        return channel

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
        if row.method == UPLOAD_METHOD:
            return self._reconcile_upload(row, channel, now)
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
        if channel[:1] in ("U", "W"):
            # Posted by user id (chat.postMessage opens the DM itself): the history is the DM's.
            dm = self._dm_for_history(row, channel, now)
            if dm is None:
                return 0
            channel = dm
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

    def _reconcile_upload(self, row: OutboxMessage, channel: str, now: datetime) -> int:
        """An upload whose share's answer was lost: files.info on each attempt's first file
        (newest first) says where it is shared — the file object's `shares` (by channel, with
        the share's ts) and its `channels` / `groups` / `ims` lists
        (https://docs.slack.dev/reference/objects/file-object). files.info is Tier 4 (100+ a
        minute, https://docs.slack.dev/reference/methods/files.info), so no history slot is
        taken. Shared: marked sent; not shared by any attempt: uploaded again."""
        client = self.clients.client_for(row.team_id)
        for file_id in reversed([f for f in (row.attempt_files or "").split(",") if f]):
            try:
                file = client.files_info(file=file_id).get("file") or {}
            except SlackApiError as error:
                code = error.response.get("error") or f"http_{error.response.status_code}"
                if error.response.status_code == 429:
                    self._release_unknown(row, now + timedelta(seconds=_retry_after(error)))
                    return 0
                if code in ("file_not_found", "file_deleted"):
                    continue  # never completed (or since deleted): not shown by this attempt
                if code in APP_NOT_AUTHORIZED:
                    # An install from before files:read can't look: sharing again could show
                    # the file twice. Given up on, loudly, as for an unreadable history.
                    log.warning(
                        "outbox row %s (%s): can't look for its upload (%s); not sent again",
                        row.id,
                        row.post_key,
                        code,
                    )
                    self._fail(row, f"unverifiable:{code}")
                    return 1
                self._release_unknown(row, self._backoff(1))
                return 0
            except Exception:
                self._release_unknown(row, self._backoff(1))
                return 0
            shared, ts = _shared_in(file, channel)
            if shared:
                log.info(
                    "outbox row %s (%s): its upload was shared after all", row.id, row.post_key
                )
                self._mark_sent(row, channel, ts)
                return 1
        self._later(row, now, "upload not shared", uncount=False)
        return 1

    def _dm_for_history(self, row: OutboxMessage, user_id: str, now: datetime) -> str | None:
        """The DM's own id for a row sent to a user id (conversations.history wants a
        conversation id); None when the row was handed back to be looked for later."""
        cached = self._cached_dm(row.team_id, user_id)
        if cached is not None:
            return cached
        wait = self._open_dm_wait(row.team_id)
        if wait > MAX_INLINE_WAIT_SECONDS:
            self._release_unknown(row, now + timedelta(seconds=wait))
            return None
        if wait > 0:
            self._sleep(wait)
        try:
            return self._open_dm(row.team_id, user_id)
        except SlackApiError as error:
            if error.response.status_code == 429:
                self._release_unknown(row, now + timedelta(seconds=_retry_after(error) or 60))
                return None
            code = error.response.get("error") or "error"
            if is_permanent(code):
                # No DM with this person can be opened: Slack can't have the message either.
                self._later(row, now, f"dm not openable: {code}", uncount=False)
                return None
            self._release_unknown(row, self._backoff(1))
            return None
        except Exception:
            self._release_unknown(row, self._backoff(1))
            return None

    def _find_in_history(self, row: OutboxMessage, channel: str) -> tuple[str | None, str | None]:
        """(the message's ts, None) when found; (None, error code or None) otherwise: one page
        (one request). A page that says there is more leaves the row for the next slot, from
        where this page ended."""
        assert row.first_attempt_at is not None and row.id is not None
        oldest = (row.first_attempt_at - HISTORY_SKEW).timestamp()
        cursor = row.history_cursor
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
            # Not settled yet: the next page in the next slot, by whichever process takes it.
            self._release_unknown(row, self._next_history_slot(row.team_id), history_cursor=cursor)
            return None, "ratelimited"
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

    def _release_unknown(
        self, row: OutboxMessage, not_before: datetime | None, *, history_cursor: str | None = None
    ) -> None:
        assert row.id is not None
        with self.uow() as uow:
            released = outbox_queries.release_unknown(
                session=uow.session,
                row_id=row.id,
                worker=self.worker,
                not_before=not_before,
                history_cursor=history_cursor,
            )
        if not released:
            log.warning("outbox row %s (%s): reconcile claim lost", row.id, row.post_key)
