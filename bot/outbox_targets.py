"""Where each outbox row goes, resolved when it is sent: a channel as written; the
workspace's recognition channel as it is set now (none set: the row waits); a person's DM
(chat.postMessage and views.publish take the user id itself, an upload needs the DM opened with
conversations.open, paced and cached); or, for a chat.update or chat.delete of a message already
sent, the channel that message went to. A mixin of bot.dispatcher.Dispatcher."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.outbox_reconcile import Reconciling
from bot.outbox_results import DELETE_METHOD, UPDATE_METHOD
from bot.pacing import MAX_INLINE_WAIT_SECONDS
from bot.post_metadata import Unrenderable
from bot.slack_errors import is_permanent
from bot.uploads import UPLOAD_METHOD
from storage import outbox_queries, queries
from storage.models import OutboxMessage

# A row for the recognition channel while none is set, or after the bot was refused there:
# looked at again this long after (saving another channel wakes such rows at once).
NO_CHANNEL_RECHECK = timedelta(hours=1)

# Methods sent to a person's DM opened with conversations.open when the row's target is a user.
# chat.postMessage is not one: it takes the user id as `channel` and posts to the app's DM with
# them, opening it if need be ("provide the user's ID as the channel value and a direct message
# conversation will be opened if it isn't open already",
# docs.slack.dev/reference/methods/chat.postMessage), so a fan-out to every rep is paced by
# chat.postMessage alone, not by conversations.open's Tier 3 (50 a minute). Its answer names the
# DM's own id, which is recorded. views.publish takes the user id too.
DM_METHODS = frozenset({UPLOAD_METHOD})


class Targets(Reconciling):
    """Resolving the conversation a row goes to. The state is the dispatcher's."""

    def _channel_for(self, row: OutboxMessage, now: datetime) -> str | None:
        """The conversation to send to now; None when the row was put back or failed."""
        if row.target_kind == "channel":
            return row.target_id
        if row.target_kind == "sent_post":
            return self._sent_post_channel(row, now)
        if row.target_kind == "recognition_channel":
            with self.uow() as uow:
                workspace = queries.get_workspace(session=uow.session, team_id=row.team_id)
                channel = workspace.recognition_channel_id if workspace is not None else None
            if channel is None:
                self._refused(row, None, "no_channel", now + NO_CHANNEL_RECHECK)
            return channel
        if row.method not in DM_METHODS:
            return row.target_id  # chat.postMessage and views.publish take the user id itself
        assert row.target_id is not None
        return self._dm_channel(row, row.target_id, now)

    def _sent_post(self, row: OutboxMessage) -> OutboxMessage:
        """The row whose message a "sent_post" row (a chat.delete) is about, as it is now."""
        assert row.target_id is not None
        with self.uow() as uow:
            original = outbox_queries.get(
                session=uow.session, team_id=row.team_id, post_key=row.target_id
            )
            if original is None:
                raise Unrenderable("nothing_to_delete")
            uow.session.expunge(original)
            return original

    def _sent_post_channel(self, row: OutboxMessage, now: datetime) -> str | None:
        """Where a chat.delete or chat.update goes: the channel its post was sent to. A post not
        sent yet is called off instead of deleted (it is never sent); an update waits for it.
        One still being sent, or unknown, is waited for; one that never went out leaves nothing
        to delete or update."""
        try:
            original = self._sent_post(row)
        except Unrenderable as error:
            self._fail(row, str(error))
            return None
        if original.state == "sent" and original.sent_channel and original.sent_ts:
            return original.sent_channel
        if original.state == "pending" and row.method == UPDATE_METHOD:
            # Not sent yet (it went back to pending after an attempt Slack refused for now):
            # the update waits for it, so it lands on the message once it is there.
            wait_until = max(now + self.reconcile_delay, original.not_before)
            self._later(row, wait_until, "post not sent yet", uncount=False)
            return None
        if original.state == "pending":
            with self.uow() as uow:
                called_off = outbox_queries.cancel_pending(
                    session=uow.session,
                    team_id=row.team_id,
                    post_key=original.post_key,
                    reason="taken_back",
                )
            if called_off:
                self._fail(row, "never_posted")
            else:  # claimed meanwhile: wait for its answer
                self._later(row, now + self.reconcile_delay, "post in flight", uncount=False)
            return None
        if original.state in ("sending", "unknown"):
            self._later(row, now + self.reconcile_delay, "post in flight", uncount=False)
            return None
        # Failed, or sent without a ts: nothing in Slack to delete or update.
        self._fail(row, "nothing_to_delete" if row.method == DELETE_METHOD else "nothing_to_update")
        return None

    def _dm_channel(self, row: OutboxMessage, user_id: str, now: datetime) -> str | None:
        cached = self._cached_dm(row.team_id, user_id)
        if cached is not None:
            return cached
        wait = self._open_dm_wait(row.team_id)
        if wait > MAX_INLINE_WAIT_SECONDS:
            self._later(row, now + timedelta(seconds=wait), "paced", uncount=False)
            return None
        if wait > 0:
            self._sleep(wait)
        try:
            return self._open_dm(row.team_id, user_id)
        except SlackApiError as error:
            code = error.response.get("error") or "error"
            if error.response.status_code == 429:
                self._after_429(row, error, "conversations.open", uncount=False)
            elif is_permanent(code):
                self._fail(row, code)
            else:
                self._later(row, self._backoff(row.attempts + 1), code, uncount=False)
            return None
        except Exception as error:
            self._later(row, self._backoff(row.attempts + 1), type(error).__name__, uncount=False)
            return None
