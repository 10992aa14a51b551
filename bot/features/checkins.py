"""Weekly check-ins: `/checkin`, the DM's buttons, the answer modal, and the scheduled jobs
(read time zones, plan, send, remind, digest).

Scheduled sends are exactly-once across processes: a check-in row is claimed in the database
(`storage.checkins_queries.claim_due_checkins`, `FOR UPDATE SKIP LOCKED` plus a compare-and-set,
with a `claimed_at` lease that another process takes over when the claimer died), and every
message goes through `Delivery` with a stable post key. Fan-out is paced per process (a token
bucket, held by a 429's `Retry-After`); 5xx answers are retried with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler, default_interval_calculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.app import Deps
from bot.blocks.checkins import (
    CHECKIN_CALLBACK_ID,
    OPEN_ACTION_ID,
    SKIP_ACTION_ID,
    already_answered_message,
    answered_message,
    checkin_message,
    checkin_modal,
    digest_message,
    not_paused_message,
    parse_checkin_submission,
    pause_hint,
    pause_problem,
    paused_message,
    reminder_message,
    resumed_message,
    skipped_message,
)
from bot.delivery import DEFAULT_LEASE, Delivery
from bot.domain.checkins import Question
from bot.domain.text import parse_row_id
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.scheduler import ScheduledJob
from bot.slack_errors import UNREACHABLE_PERSON
from bot.slack_users import fetch_profile, profile_from_user
from bot.usecases import checkins as uc
from bot.usecases.members import remember_profile
from storage import checkins_queries as cq
from storage import queries
from storage.models import CheckIn, Member, Workspace

log = logging.getLogger(__name__)

# Per process, per second. Slack allows about one message a second per channel with short
# bursts, and each DM is its own channel; workspace-wide limits are higher but unpublished.
CLAIM_BATCH = 20
SEND_THREADS = 4
TZ_REFRESH_BATCH = 100
REMINDER_BATCH = 500
# Members read per query by the digest job (see CheckinJobs.digests).
DIGEST_BATCH = 500
# A time zone read that failed waits this long in this process before it is tried again, so
# members whose reads keep failing do not take every batch and starve the others. Slack saying
# the person is gone (a permanent error) waits a day.
TZ_RETRY_AFTER = timedelta(minutes=10)
TZ_RETRY_AFTER_PERMANENT = timedelta(days=1)
# Delivery's claim on a post (DEFAULT_LEASE, 5 minutes) must outlive the send, retries
# included: if one chat.postMessage kept retrying past it (8 × a long Retry-After could), another
# process would take the claim over and send the same check-in again. So one call stops
# retrying once this much time has gone by since its first failure, or when the next wait
# would go past it: the call fails, Delivery releases the claim, the check-in goes back to
# pending and the next tick sends it. One call then lasts at most its first attempt + this
# budget + its last attempt (each bounded by the client timeout): well under the lease.
SEND_RETRY_BUDGET_SECONDS = 60.0
# Slack errors after which sending again cannot help: the person is gone (the one list of
# such errors is bot.slack_errors).
PERMANENT_ERRORS = UNREACHABLE_PERSON


# --- pacing ----------------------------------------------------------------------------------


class SendPacer:
    """A thread-safe token bucket (burst of one: sends are spread evenly) that can be held."""

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.per_second = per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = 1.0
        self._refilled_at = monotonic()
        self._held_until = 0.0
        self.holds = 0

    def wait_turn(self) -> None:
        """Block until this process may send one more message."""
        while True:
            with self._lock:
                now = self._monotonic()
                if now < self._held_until:
                    wait = self._held_until - now
                else:
                    elapsed = max(0.0, now - self._refilled_at)
                    self._tokens = min(1.0, self._tokens + elapsed * self.per_second)
                    self._refilled_at = now
                    # A hair under one token counts as one: float rounding must not make a
                    # caller sleep for a few attoseconds, forever.
                    if self._tokens >= 1.0 - 1e-9:
                        self._tokens = max(0.0, self._tokens - 1.0)
                        return
                    wait = (1.0 - self._tokens) / self.per_second
            self._sleep(wait)

    def hold(self, seconds: float) -> None:
        """Slack answered 429: nobody in this process sends for `seconds`."""
        with self._lock:
            now = self._monotonic()
            self._held_until = max(self._held_until, now + seconds)
            self._tokens = 0.0
            self._refilled_at = self._held_until
            self.holds += 1


class RetryBudget:
    """The total time one API call may spend retrying, shared by its retry handlers (see
    SEND_RETRY_BUDGET_SECONDS). The call's RetryState carries when its first failure came."""

    def __init__(self, seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic

    def allows(self, state: RetryState, next_wait: float = 0.0) -> bool:
        if state.custom_values is None:
            state.custom_values = {}
        started = state.custom_values.setdefault("retry_budget_started", self._monotonic())
        return self._monotonic() - started + next_wait <= self.seconds


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            with contextlib.suppress(ValueError):
                return float(values[0])
    return 1.0


class PacedRateLimitHandler(RateLimitErrorRetryHandler):
    """Retries a 429 after its `Retry-After`, holding the whole process's pacer meanwhile."""

    def __init__(
        self, pacer: SendPacer, max_retry_count: int = 8, budget: RetryBudget | None = None
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        wait = _retry_after(response) if response is not None else 0.0
        return self.budget is None or self.budget.allows(state, wait)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        retry_after = _retry_after(response)
        # A little jitter, so processes held by the same 429 do not all come back at once.
        self.pacer.hold(retry_after + random.uniform(0.0, 0.25))
        self.pacer.wait_turn()
        state.next_attempt_requested = True
        state.increment_current_attempt()


class AnyServerErrorRetryHandler(RetryHandler):
    """Retries every 5xx (the built-in handler knows only 500 and 503), with backoff."""

    def __init__(
        self,
        max_retry_count: int = 1,
        interval_calculator: RetryIntervalCalculator = default_interval_calculator,
        budget: RetryBudget | None = None,
    ) -> None:
        super().__init__(max_retry_count, interval_calculator)
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        server_error = response is not None and 500 <= response.status_code < 600
        return server_error and (self.budget is None or self.budget.allows(state))


class BudgetedConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """The built-in connection-error retries, within the call's retry budget."""

    def __init__(
        self,
        max_retry_count: int = 1,
        interval_calculator: RetryIntervalCalculator = default_interval_calculator,
        budget: RetryBudget | None = None,
    ) -> None:
        super().__init__(max_retry_count, interval_calculator)
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return self.budget is None or self.budget.allows(state)


def fanout_client(
    template: WebClient,
    pacer: SendPacer,
    *,
    budget: RetryBudget | None = None,
    retry_interval: RetryIntervalCalculator = default_interval_calculator,
) -> WebClient:
    """A client like `template` (same token and API URL) for paced fan-out sends; each call
    retries within `budget` (default SEND_RETRY_BUDGET_SECONDS). `retry_interval` spaces
    retries of connection errors and 5xx (tests pass a zero interval)."""
    budget = budget or RetryBudget(SEND_RETRY_BUDGET_SECONDS)
    return WebClient(
        token=template.token,
        base_url=template.base_url,
        timeout=template.timeout,
        retry_handlers=[
            BudgetedConnectionErrorRetryHandler(3, retry_interval, budget),
            PacedRateLimitHandler(pacer, max_retry_count=8, budget=budget),
            AnyServerErrorRetryHandler(4, retry_interval, budget),
        ],
    )


# --- listeners -------------------------------------------------------------------------------


def _member_tz(client: WebClient, deps: Deps, team_id: str, user_id: str) -> str:
    """The person's time zone; read from Slack the first time we meet them."""
    with deps.session_factory() as session:
        member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
        if member is not None and member.tz_refreshed_at is not None:
            return uc.safe_tz(member.tz)
    try:
        profile = fetch_profile(client, user_id)
    except Exception:  # Slack unreachable: UTC for now, and the zone is read another time
        log.warning("reading %s's Slack profile failed", user_id, exc_info=True)
        profile = None
    with deps.session_factory() as session:
        if profile is not None:
            member = remember_profile(
                session=session, team_id=team_id, profile=profile, now=deps.clock()
            )
        else:
            member = queries.upsert_member(session=session, team_id=team_id, user_id=user_id)
        session.commit()
        return uc.safe_tz(member.tz)


def register(app: App, deps: Deps) -> None:
    @app.command("/checkin")
    @tells_user_on_failure
    def checkin_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        words = (command.get("text") or "").split()
        subcommand = words[0].lower() if words else ""
        if not words:
            ack()  # then the modal at once: the trigger_id lives for 3 seconds
            open_week_modal(client, deps, command)
            return
        if subcommand == "pause":
            try:
                uc.parse_pause(" ".join(words[1:]), deps.clock(), "UTC")
            except uc.PauseOutOfRange as problem:
                ack(**pause_problem(str(problem)))
                return
            except ValueError:
                ack(**pause_hint())
                return
            ack()
            pause_checkins(client, deps, command, " ".join(words[1:]))
            return
        if subcommand == "resume" and len(words) == 1:
            ack()
            resume_checkins(client, deps, command)
            return
        ack(**pause_hint())

    @app.action(OPEN_ACTION_ID)
    def open_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        team_id, user_id = team_id_of(body), body["user"]["id"]
        try:
            checkin_id = parse_row_id(action.get("value") or "")
        except ValueError:
            return
        tz = _member_tz(client, deps, team_id, user_id)
        with deps.session_factory() as session:
            opened = uc.open_checkin_by_id(
                session=session,
                team_id=team_id,
                user_id=user_id,
                checkin_id=checkin_id,
                tz=tz,
                now=deps.clock(),
            )
            session.commit()
        if opened is None:
            _tell_not_yours(client, deps, body, checkin_id)
            return
        _open_modal(client, body["trigger_id"], opened)

    @app.action(SKIP_ACTION_ID)
    def skip_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        team_id, user_id = team_id_of(body), body["user"]["id"]
        try:
            checkin_id = parse_row_id(action.get("value") or "")
        except ValueError:
            return
        with deps.session_factory() as session:
            checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
            if checkin is None or (checkin.team_id, checkin.user_id) != (team_id, user_id):
                session.rollback()
                _tell_not_yours(client, deps, body, checkin_id)
                return
            skipped = cq.skip_checkin(session=session, checkin_id=checkin_id)
            session.commit()
            if not skipped:
                checkin = cq.get_checkin(session=session, checkin_id=checkin_id) or checkin
        container = body.get("container") or {}
        if not skipped and checkin.status != "skipped":
            # Answered already (or being sent this instant): the DM stays as it is.
            if checkin.status == "answered" and container.get("channel_id"):
                try:
                    client.chat_postEphemeral(
                        channel=container["channel_id"],
                        user=user_id,
                        **already_answered_message(uc.week_label(checkin.week_key)),
                    )
                except SlackApiError as error:
                    log.warning("already-answered note failed: %s", error.response.get("error"))
            return
        if container.get("channel_id") and container.get("message_ts"):
            try:
                client.chat_update(
                    channel=container["channel_id"],
                    ts=container["message_ts"],
                    **skipped_message(uc.week_label(checkin.week_key)),
                )
            except SlackApiError as error:
                log.warning("chat.update after skip failed: %s", error.response.get("error"))

    @app.view(CHECKIN_CALLBACK_ID)
    def answers_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        team_id, user_id = team_id_of(body), body["user"]["id"]
        try:
            checkin_id = parse_row_id(view.get("private_metadata") or "")
        except ValueError:
            ack()
            return
        try:
            with deps.session_factory() as session:
                checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
        except Exception:  # the database is down: keep the modal and what was written
            log.exception("reading the check-in failed")
            first_input = next(
                (b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"),
                "checkin",
            )
            ack(
                response_action="errors",
                errors={first_input: "Couldn't save just now. Please try Save again."},
            )
            return
        if checkin is None or (checkin.team_id, checkin.user_id) != (team_id, user_id):
            # A forged or misrouted form: say so in the form itself, and save nothing.
            first_input = next(
                (b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"),
                "checkin",
            )
            ack(response_action="errors", errors={first_input: NOT_YOURS_ERROR})
            return
        questions = [Question.from_row(row) for row in checkin.questions or []]
        answers, errors = parse_checkin_submission(view["state"]["values"], questions)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        # Saved before ack on purpose: a short local write, and if it fails the rep keeps the
        # modal open with everything they wrote.
        try:
            with deps.session_factory() as session:
                uc.save_checkin_answers(
                    session=session, checkin=checkin, answers=answers, now=deps.clock()
                )
                session.commit()
        except Exception:
            log.exception("saving check-in answers failed")
            first = questions[0].key if questions else "checkin"
            ack(
                response_action="errors",
                errors={first: "Couldn't save just now. Please try Save again."},
            )
            return
        ack()
        # One thank-you per submitted view: Slack's retries and double clicks post once.
        Delivery(deps.session_factory, client, deps.clock).post(
            team_id=team_id,
            post_key=f"checkin-answered:{view.get('id') or checkin_id}",
            kind="checkin_answered",
            channel=user_id,
            message=answered_message(uc.week_label(checkin.week_key)),
        )


def _tell_not_yours(client: WebClient, deps: Deps, body: dict[str, Any], checkin_id: int) -> None:
    """Someone clicked another person's check-in button (forwarded, or forged)."""
    team_id = team_id_of(body)
    with deps.session_factory() as session:
        checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
        owner = checkin.user_id if checkin is not None and checkin.team_id == team_id else None
    reply_to_click(client, body, not_yours_message("check-in", owner))


def _open_modal(client: WebClient, trigger_id: str, opened: uc.OpenCheckIn) -> None:
    view = checkin_modal(
        opened.checkin_id, opened.questions, opened.answers, uc.week_label(opened.week)
    )
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        log.warning("views.open for check-in failed: %s", error.response.get("error"))


def open_week_modal(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    tz = _member_tz(client, deps, team_id, user_id)
    with deps.session_factory() as session:
        opened = uc.open_week_checkin(
            session=session, team_id=team_id, user_id=user_id, tz=tz, now=deps.clock()
        )
        session.commit()
    _open_modal(client, command["trigger_id"], opened)


def pause_checkins(client: WebClient, deps: Deps, command: dict[str, Any], text: str) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    tz = _member_tz(client, deps, team_id, user_id)
    now = deps.clock()
    try:
        until = uc.parse_pause(text, now, tz)
    except uc.PauseOutOfRange as problem:  # e.g. today's date, already begun where they live
        send_ephemeral(client, command, pause_problem(str(problem)))
        return
    except ValueError:
        send_ephemeral(client, command, pause_hint())
        return
    with deps.session_factory() as session:
        uc.pause(session=session, team_id=team_id, user_id=user_id, until=until)
        session.commit()
    send_ephemeral(client, command, paused_message(uc.local_label(until, tz)))


def resume_checkins(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    _member_tz(client, deps, team_id, user_id)
    now = deps.clock()
    with deps.session_factory() as session:
        member, was_paused = uc.resume(session=session, team_id=team_id, user_id=user_id, now=now)
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        label = uc.next_checkin_label(workspace=workspace, member=member, now=now)
        session.commit()
    message = resumed_message(label) if was_paused else not_paused_message(label)
    send_ephemeral(client, command, message)


# --- scheduled jobs --------------------------------------------------------------------------


class CheckinJobs:
    """The check-in jobs of one process; each runs on the scheduler's thread."""

    def __init__(
        self,
        deps: Deps,
        delivery: Delivery,
        pacer: SendPacer,
        *,
        retry_interval: RetryIntervalCalculator = default_interval_calculator,
    ) -> None:
        self.deps = deps
        self.pacer = pacer
        self.client = fanout_client(delivery.client, pacer, retry_interval=retry_interval)
        self.delivery = Delivery(
            deps.session_factory,
            self.client,
            deps.clock,
            worker=delivery.worker,
            token_for_team=delivery.token_for_team,
        )
        self.worker = delivery.worker
        self.lease = DEFAULT_LEASE
        self.reminder_batch = REMINDER_BATCH
        # member id -> when this process may try reading their time zone again.
        self._tz_retry_at: dict[int, datetime] = {}

    def refresh_timezones(self, now: datetime) -> None:
        """Read Slack time zones weekly (and for people never read), one process per person.

        ``tz_refreshed_at`` is set only by a successful read, so a member whose zone was never
        read is never planned with a guessed one. A failed read (any error: Slack's, or the
        network's) puts the previous read time back and waits TZ_RETRY_AFTER in this process.
        """
        self._tz_retry_at = {k: at for k, at in self._tz_retry_at.items() if at > now}
        with self.deps.session_factory() as session:
            stale = cq.members_needing_tz_refresh(
                session=session,
                stale_before=now - uc.TZ_REFRESH_EVERY,
                limit=TZ_REFRESH_BATCH,
                exclude_ids=self._tz_retry_at,
            )
        for member in stale:
            assert member.id is not None
            previous = member.tz_refreshed_at
            if previous is not None:
                with self.deps.session_factory() as session:
                    won = cq.take_tz_refresh(
                        session=session, member_id=member.id, previous=previous, now=now
                    )
                    session.commit()
                if not won:
                    continue
            try:
                client = self.delivery.client_for(member.team_id)
                user = client.users_info(user=member.user_id)["user"]
            except Exception as error:
                permanent = (
                    isinstance(error, SlackApiError)
                    and error.response.get("error") in PERMANENT_ERRORS
                )
                log.warning("time zone of %s not read: %r", member.user_id, error)
                wait = TZ_RETRY_AFTER_PERMANENT if permanent else TZ_RETRY_AFTER
                self._tz_retry_at[member.id] = now + wait
                if previous is not None and not permanent:  # permanent: again in a week
                    with self.deps.session_factory() as session:
                        cq.release_tz_refresh(
                            session=session, member_id=member.id, taken_at=now, previous=previous
                        )
                        session.commit()
                continue
            with self.deps.session_factory() as session:
                remember_profile(
                    session=session,
                    team_id=member.team_id,
                    profile=profile_from_user(user),
                    now=now,
                )
                session.commit()

    def plan(self, now: datetime) -> None:
        with self.deps.session_factory() as session:
            created = uc.plan_due_checkins(session=session, now=now)
            session.commit()
        if created:
            log.info("planned %d check-ins", created)

    def send_due(self, now: datetime) -> None:
        """Claim due check-ins in small batches and send them, until none are left."""
        failed: set[int] = set()
        while True:
            with self.deps.session_factory() as session:
                claimed = cq.claim_due_checkins(
                    session=session,
                    now=self.deps.clock(),
                    lease=self.lease,
                    claimed_by=self.worker,
                    limit=CLAIM_BATCH,
                    exclude_ids=failed,
                )
                session.commit()
            if not claimed:
                return
            ids = [c.id for c in claimed if c.id is not None]
            # A few sends in flight: each waits mostly on database commits and HTTP, and the
            # pacer keeps the process's total rate where it should be.
            with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
                for checkin_id, done in zip(ids, pool.map(self._send_one, ids), strict=True):
                    if not done:
                        failed.add(checkin_id)

    def _finish(self, checkin_id: int, status: str, **sent: Any) -> None:
        with self.deps.session_factory() as session:
            cq.finish_claim(
                session=session,
                checkin_id=checkin_id,
                claimed_by=self.worker,
                status=status,
                now=self.deps.clock(),
                **sent,
            )
            session.commit()

    def _send_one(self, checkin_id: int) -> bool:
        """Send one claimed check-in; False when it must be tried again later."""
        now = self.deps.clock()
        with self.deps.session_factory() as session:
            checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
            if checkin is None:
                return True
            member = queries.get_member(
                session=session, team_id=checkin.team_id, user_id=checkin.user_id
            )
            gone = member is None or member.deleted or member.is_bot
            if gone or uc.is_paused(member, checkin.due_at) or now > checkin.due_at + uc.SEND_GRACE:  # type: ignore[arg-type]
                session.rollback()
                self._finish(checkin_id, "skipped")
                return True
            assert member is not None
            questions = uc.ensure_questions(session=session, checkin=checkin, tz=member.tz, now=now)
            session.commit()
        message = checkin_message(checkin_id, questions, uc.week_label(checkin.week_key))
        post_key = f"checkin:{checkin_id}"
        self.pacer.wait_turn()
        try:
            sent = self.delivery.post(
                team_id=checkin.team_id,
                post_key=post_key,
                kind="checkin",
                channel=checkin.user_id,
                message=message,
            )
        except SlackApiError as error:
            code = error.response.get("error")
            if code in PERMANENT_ERRORS:
                self._finish(checkin_id, "skipped")
                return True
            log.warning("check-in %s not sent (%s); retrying later", checkin_id, code)
            self._finish(checkin_id, "pending")
            return False
        except Exception:
            log.exception("check-in %s not sent; retrying later", checkin_id)
            self._finish(checkin_id, "pending")
            return False
        if sent is not None:
            self._finish(checkin_id, "sent", channel_id=sent.channel, message_ts=sent.ts)
            return True
        # Already posted: a process sent it and died before recording that. Record it now.
        with self.deps.session_factory() as session:
            post = queries.get_post(session=session, team_id=checkin.team_id, post_key=post_key)
        if post is not None and post.status == "sent":
            self._finish(checkin_id, "sent", channel_id=post.channel_id, message_ts=post.message_ts)
            return True
        self._finish(checkin_id, "pending")  # another process is mid-send; its lease decides
        return False

    def remind(self, now: datetime) -> None:
        """Remind each unanswered check-in once, batch after batch until none are due."""
        seen: set[int] = set()
        while True:
            with self.deps.session_factory() as session:
                due = cq.reminders_due(
                    session=session,
                    now=now,
                    grace=uc.REMINDER_GRACE,
                    limit=self.reminder_batch,
                    exclude_ids=seen,
                )
                paused = {
                    (c.team_id, c.user_id)
                    for c, _ in due
                    if (
                        m := queries.get_member(
                            session=session, team_id=c.team_id, user_id=c.user_id
                        )
                    )
                    is not None
                    and uc.is_paused(m, now)
                }
            if not due:
                return
            for checkin, _hours in due:
                assert checkin.id is not None
                seen.add(checkin.id)
                if (checkin.team_id, checkin.user_id) not in paused:
                    self._remind_one(checkin, now)

    def _remind_one(self, checkin: CheckIn, now: datetime) -> None:
        assert checkin.id is not None
        post_key = f"checkin-reminder:{checkin.id}"
        if self.delivery.already_sent(team_id=checkin.team_id, post_key=post_key):
            self._mark_reminded(checkin.id, now)
            return
        self.pacer.wait_turn()
        try:
            self.delivery.post(
                team_id=checkin.team_id,
                post_key=post_key,
                kind="checkin_reminder",
                channel=checkin.user_id,
                message=reminder_message(checkin.id, uc.week_label(checkin.week_key)),
            )
        except SlackApiError as error:
            log.warning("reminder %s not sent: %s", checkin.id, error.response.get("error"))
            return
        self._mark_reminded(checkin.id, now)

    def _mark_reminded(self, checkin_id: int, now: datetime) -> None:
        with self.deps.session_factory() as session:
            cq.mark_reminded(session=session, checkin_id=checkin_id, now=now)
            session.commit()

    def digests(self, now: datetime) -> None:
        """Each manager's digest, at its time. Only members whose stored digest time has come
        are read; each gets its next time stored, except a manager whose digest must be tried
        again on the next tick (a Slack error, or another process mid-send)."""
        with self.deps.session_factory() as session:
            if queries.clock_went_back(
                session=session, name="checkins.digest", now=now, tolerance=uc.CLOCK_SKEW
            ):
                cq.clear_next_digests(session=session)
            session.commit()
        looked_at: set[int] = set()
        while True:
            with self.deps.session_factory() as session:
                due = cq.members_due_for_digest(
                    session=session, now=now, limit=DIGEST_BATCH, exclude_ids=looked_at
                )
                if not due:
                    return
                managers = cq.who_has_reports(session=session, members=due)
                workspaces = {
                    m.team_id: queries.get_or_create_workspace(session=session, team_id=m.team_id)
                    for m in due
                    if (m.team_id, m.user_id) in managers and not m.deleted
                }
                for m in due:
                    if m.team_id not in workspaces:
                        found = queries.get_workspace(session=session, team_id=m.team_id)
                        if found is not None:
                            workspaces[m.team_id] = found
                session.commit()
            next_at: dict[int, datetime] = {}
            try:
                for member in due:
                    assert member.id is not None
                    workspace = workspaces.get(member.team_id)
                    if workspace is None:
                        next_at[member.id] = now + uc.PLAN_RECHECK  # no settings, no digest
                        continue
                    is_manager = (member.team_id, member.user_id) in managers
                    if (
                        is_manager
                        and not member.deleted
                        and not self._digest(member, workspace, now)
                    ):
                        continue  # tried again next tick
                    next_at[member.id] = uc.next_digest_after(workspace, member.tz, now)
            finally:
                with self.deps.session_factory() as session:
                    cq.set_next_digests(session=session, next_at=next_at)
                    session.commit()
            # Those to try again next tick stay due: not read again in this one.
            looked_at.update(m.id for m in due if m.id is not None and m.id not in next_at)
            if len(due) < DIGEST_BATCH:
                return

    def _digest(self, manager: Member, workspace: Workspace, now: datetime) -> bool:
        """Send the manager's due digests; False if one must be tried again."""
        done = True
        for week in uc.digest_weeks_due(workspace, manager.tz, now):
            post_key = f"checkin-digest:{manager.user_id}:{week}"
            if self.delivery.already_sent(team_id=manager.team_id, post_key=post_key):
                continue
            with self.deps.session_factory() as session:
                reps = uc.team_week(session=session, manager=manager, week=week, now=now)
            if all(r.status in ("none", "paused") for r in reps):
                continue  # nobody was asked this week: nothing to tell
            self.pacer.wait_turn()
            try:
                sent = self.delivery.post(
                    team_id=manager.team_id,
                    post_key=post_key,
                    kind="checkin_digest",
                    channel=manager.user_id,
                    message=digest_message(uc.week_label(week), reps),
                )
            except SlackApiError as error:
                log.warning("digest %s not sent: %s", post_key, error.response.get("error"))
                done = False
                continue
            if sent is None and self.delivery.is_installed(manager.team_id):
                # Another process holds the claim (or one died holding it): look again next
                # tick. An uninstalled workspace has no one to tell.
                done = False
        return done


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, ScheduledJob]]:
    jobs = CheckinJobs(deps, delivery, SendPacer(deps.settings.send_rate_per_second))
    # In this order on every tick: time zones before planning, planning before sending.
    return [
        ("checkins.refresh_timezones", jobs.refresh_timezones),
        ("checkins.plan", jobs.plan),
        ("checkins.send", jobs.send_due),
        ("checkins.remind", jobs.remind),
        ("checkins.digest", jobs.digests),
    ]


__all__ = [
    "CheckinJobs",
    "SendPacer",
    "fanout_client",
    "register",
    "scheduled_jobs",
]
