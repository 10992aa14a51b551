"""`/kudos`: recognition posted to the recognition channel, DMs to the people recognised, kudos
kept until a channel exists, and the weekly recognition digest."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.kudos import (
    KUDOS_CALLBACK_ID,
    digest_message,
    duplicate_message,
    kudos_dm,
    kudos_modal,
    kudos_post,
    not_posted_message,
    pending_message,
    posted_message,
    problem_message,
    read_kudos_modal,
    unreached_message,
)
from bot.delivery import Delivery
from bot.messaging import send_ephemeral, team_id_of, tells_user_on_failure
from bot.scheduler import ScheduledJob
from bot.slack_users import SlackProfile, SlackUnavailable, is_rebound_admin, lookup_profile
from bot.usecases.kudos import (
    UNAVAILABLE_TEXT,
    KudosDraft,
    Problem,
    SaveResult,
    cap_problem,
    check_draft,
    collect_digest,
    daily_cap,
    daily_cap_reached,
    digest_due,
    digest_timezone,
    digest_window,
    known_timezone,
    may_give_kudos,
    next_digest_after,
    next_dm_step,
    not_allowed_problem,
    parse_kudos_text,
    recipient_problem,
    save_kudos,
    status_after_failed_dm,
)
from bot.usecases.members import remember_profile
from storage import kudos_queries, queries

# Workspaces read per query by the kudos digest job.
DIGEST_BATCH = 500
# How far behind the job's latest run the clock may be before stored digest times are
# cleared (storage.queries.clock_went_back): more than processes' clocks ever differ.
CLOCK_SKEW = timedelta(minutes=1)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Giver:
    user_id: str
    profile: SlackProfile | None
    is_admin: bool

    @property
    def tz(self) -> str:
        return self.profile.tz if self.profile else "UTC"


def register(app: App, deps: Deps) -> None:
    @app.command("/kudos")
    @tells_user_on_failure
    def kudos_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        text = (command.get("text") or "").strip()
        giver_id = command["user_id"]
        if not text:
            ack()
            open_kudos_modal(client, deps, command)
            return
        parsed = parse_kudos_text(text, giver_user_id=giver_id)
        if isinstance(parsed, Problem):
            # Mistakes in what was typed are answered at once, in the ack itself.
            ack(response_type="ephemeral", **problem_message(parsed.text))
            return
        ack()

        def reply(message: dict[str, Any]) -> None:
            send_ephemeral(client, command, message)

        # A slash command's trigger id is unique to that one invocation.
        trigger_id = command.get("trigger_id") or uuid.uuid4().hex
        give_kudos(client, deps, command["team_id"], giver_id, parsed, f"cmd:{trigger_id}", reply)

    @app.view(KUDOS_CALLBACK_ID)
    def kudos_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        team_id = team_id_of(body)
        giver_id = body["user"]["id"]
        modal = read_kudos_modal(view)
        checked = check_draft(
            KudosDraft(recipients=modal.recipients, category=modal.category, message=modal.message),
            giver_user_id=giver_id,
        )
        if isinstance(checked, Problem):
            ack(response_action="errors", errors={checked.field: checked.text})
            return
        # A modal's text arrives raw, as typed: kept as plain text like a command's message
        # (bot.usecases.kudos.message_as_typed) and escaped wherever it meets mrkdwn.
        draft = checked
        # Only what our own tables can tell is checked before ack: Slack wants an answer within
        # 3 seconds, and users.info may be rate limited for longer than that.
        try:
            problem = _problem_known_without_slack(deps, team_id, giver_id)
        except Exception:
            log.exception("checking kudos before ack failed")
            ack(
                response_action="errors",
                errors={"message": "Couldn't save just now. Please press Send again."},
            )
            return
        if problem is not None:
            ack(response_action="errors", errors={problem.field: problem.text})
            return
        ack()
        where = {
            "channel_id": modal.channel_id or giver_id,
            "user_id": giver_id,
            "response_url": modal.response_url,
        }

        def reply(message: dict[str, Any]) -> None:
            send_ephemeral(client, where, message)

        give_kudos(
            client,
            deps,
            team_id,
            giver_id,
            draft,
            f"view:{view['id']}",
            reply,
            from_modal=True,
        )


def open_kudos_modal(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    # The trigger id expires 3 seconds after the command: ask Slack about the giver only when
    # our own tables can't already tell they may give kudos.
    if not _allowed_by_records(deps, team_id, user_id):
        try:
            giver = _load_giver(client, deps, team_id, user_id)
        except SlackUnavailable:
            send_ephemeral(client, command, problem_message(UNAVAILABLE_TEXT))
            return
        if not _allowed(deps, team_id, giver):
            send_ephemeral(client, command, problem_message(not_allowed_problem().text))
            return
    try:
        client.views_open(
            trigger_id=command["trigger_id"],
            view=kudos_modal(
                channel_id=command.get("channel_id"), response_url=command.get("response_url")
            ),
        )
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        send_ephemeral(
            client,
            command,
            problem_message(
                "Slack didn't let me open the kudos form just now. Please run `/kudos` again, "
                "or type it all in one go: `/kudos @name #category message`."
            ),
        )


def give_kudos(
    client: WebClient,
    deps: Deps,
    team_id: str,
    giver_id: str,
    draft: KudosDraft,
    submission_key: str,
    reply: Callable[[dict[str, Any]], None],
    *,
    from_modal: bool = False,
) -> None:
    """After the ack: the checks that need Slack, then save, post and tell the giver.

    Nothing is saved unless every check passed. From a modal (already closed), problems come
    with the giver's own words, so nothing they wrote is lost."""
    your_words = draft.message if from_modal else None
    try:
        giver, problem = _check_giver_and_recipients(client, deps, team_id, giver_id, draft)
    except SlackUnavailable:
        reply(problem_message(UNAVAILABLE_TEXT, your_words=your_words))
        return
    if problem is not None:
        reply(problem_message(problem.text, your_words=your_words))
        return
    try:
        result = _save(deps, team_id, giver, draft, submission_key)
    except Exception:
        log.exception("saving kudos failed")
        reply(
            problem_message(
                "I couldn't save your kudos just now. Please try again in a moment.",
                your_words=your_words,
            )
        )
        return
    if result.cap_reached:
        problem = cap_problem(_daily_cap(deps, team_id), giver.tz)
        reply(problem_message(problem.text, your_words=your_words))
        return
    if result.duplicate or result.kudos is None or result.kudos.id is None:
        if not from_modal:  # Slack re-sending the same modal is no news to the giver
            reply(duplicate_message())
        return
    _deliver_and_tell(client, deps, team_id, result.kudos.id, giver, reply)


# --- checks -----------------------------------------------------------------------------------


def _load_giver(client: WebClient, deps: Deps, team_id: str, user_id: str) -> Giver:
    """The giver as Slack knows them; raises SlackUnavailable when Slack didn't answer."""
    profile = lookup_profile(client, user_id)
    if profile is not None:
        with deps.session_factory() as session:
            remember_profile(session=session, team_id=team_id, profile=profile, now=deps.clock())
            session.commit()
    return Giver(
        user_id=user_id,
        profile=profile,
        is_admin=is_rebound_admin(profile, user_id, deps.settings.admins),
    )


def _allowed_by_records(deps: Deps, team_id: str, user_id: str) -> bool:
    """True when our tables alone show the person may give kudos (policy, manager, configured
    admin); False means "ask Slack whether they are a workspace admin"."""
    with deps.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
        session.commit()
    return may_give_kudos(
        workspace.kudos_policy,
        is_manager=bool(member and member.is_manager and not member.deleted),
        is_admin=user_id in deps.settings.admins,
    )


def _allowed(deps: Deps, team_id: str, giver: Giver) -> bool:
    return giver.is_admin or _allowed_by_records(deps, team_id, giver.user_id)


def _problem_known_without_slack(deps: Deps, team_id: str, giver_id: str) -> Problem | None:
    """The daily cap, counted in the giver's last known time zone. Saving checks it again
    (locked, in their current zone), so this only spares a closed modal in the common case."""
    with deps.session_factory() as session:
        tz = known_timezone(session=session, team_id=team_id, user_id=giver_id)
        reached = daily_cap_reached(
            session=session, team_id=team_id, giver_user_id=giver_id, giver_tz=tz, now=deps.clock()
        )
        cap = daily_cap(session=session, team_id=team_id)
        session.commit()
    return cap_problem(cap, tz) if reached else None


def _check_giver_and_recipients(
    client: WebClient, deps: Deps, team_id: str, giver_id: str, draft: KudosDraft
) -> tuple[Giver, Problem | None]:
    """Raises SlackUnavailable when Slack didn't answer about the giver or a recipient."""
    giver = _load_giver(client, deps, team_id, giver_id)
    if not _allowed(deps, team_id, giver):
        return giver, not_allowed_problem()
    for user_id in draft.recipients:
        problem = recipient_problem(user_id, lookup_profile(client, user_id))
        if problem is not None:
            return giver, problem
    return giver, None


def _daily_cap(deps: Deps, team_id: str) -> int:
    with deps.session_factory() as session:
        return daily_cap(session=session, team_id=team_id)


def _save(
    deps: Deps, team_id: str, giver: Giver, draft: KudosDraft, submission_key: str
) -> SaveResult:
    with deps.session_factory() as session:
        result = save_kudos(
            session=session,
            team_id=team_id,
            giver_user_id=giver.user_id,
            giver_tz=giver.tz,
            draft=draft,
            submission_key=submission_key,
            now=deps.clock(),
        )
        session.commit()
    return result


# --- posting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """What one delivery run did: the post is up; who got their DM; who didn't."""

    team_id: str
    kudos_id: int
    giver_user_id: str
    channel_id: str
    permalink: str | None
    recipients: list[str]
    posted_now: bool  # this run put the channel post up (not an earlier one)
    retry_later: tuple[str, ...]  # DM failed in this run; the scheduler tries once more
    gave_up: tuple[str, ...]  # DM failed in this run for the last time


def deliver_kudos(
    client: WebClient, deps: Deps, delivery: Delivery, kudos_id: int
) -> Delivered | None:
    """Post a saved kudos to the recognition channel (once), then DM each recipient: one try,
    and one retry by the scheduler if that fails.

    Raises the Slack error when the channel post fails (nothing is posted; tried again later).
    None when there is no channel yet, the kudos is done, or another process is posting it
    right now. It stays "pending" until every recipient's DM is sent or given up on."""
    with deps.session_factory() as session:
        kudos = kudos_queries.get_kudos(session=session, kudos_id=kudos_id)
        if kudos is None or kudos.status == "posted":
            return None
        workspace = queries.get_or_create_workspace(session=session, team_id=kudos.team_id)
        recipients = kudos_queries.recipients_of(session=session, kudos_id=kudos_id)
        session.commit()
    channel = workspace.recognition_channel_id
    if channel is None:
        return None
    team_id, post_key = kudos.team_id, f"kudos:{kudos_id}"
    sent = delivery.post(
        team_id=team_id,
        post_key=post_key,
        kind="kudos",
        channel=channel,
        message=kudos_post(
            giver_user_id=kudos.giver_user_id,
            recipients=recipients,
            category=kudos.category,
            message=kudos.message,
        ),
    )
    if sent is not None:
        channel_id, ts = sent.channel, sent.ts
        with deps.session_factory() as session:
            kudos_queries.record_kudos_post(
                session=session, kudos_id=kudos_id, channel_id=channel_id, message_ts=ts
            )
            session.commit()
    else:
        with deps.session_factory() as session:
            post = queries.get_post(session=session, team_id=team_id, post_key=post_key)
        if post is None or post.status != "sent" or not post.channel_id or not post.message_ts:
            return None  # claimed by another process that is sending it now
        channel_id, ts = post.channel_id, post.message_ts
    # The workspace's own client (in OAuth mode the scheduler's `client` has no token).
    permalink = _permalink(delivery.client_for(team_id), channel_id, ts)
    dm = kudos_dm(
        giver_user_id=kudos.giver_user_id,
        category=kudos.category,
        message=kudos.message,
        permalink=permalink,
    )
    retry_later, gave_up = _dm_recipients(deps, delivery, team_id, kudos_id, dm)
    return Delivered(
        team_id=team_id,
        kudos_id=kudos_id,
        giver_user_id=kudos.giver_user_id,
        channel_id=channel_id,
        permalink=permalink,
        recipients=recipients,
        posted_now=sent is not None,
        retry_later=tuple(retry_later),
        gave_up=tuple(gave_up),
    )


def _dm_recipients(
    deps: Deps, delivery: Delivery, team_id: str, kudos_id: int, message: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """Try each recipient's DM that is due a try; mark the kudos posted once every DM is
    settled. Returns (recipients to retry later, recipients given up on) from this run."""
    retry_later: list[str] = []
    gave_up: list[str] = []
    with deps.session_factory() as session:
        rows = kudos_queries.recipient_rows(session=session, kudos_id=kudos_id)
        session.expunge_all()
    for row in rows:
        if row.id is None:
            continue
        now = deps.clock()
        step = next_dm_step(
            status=row.dm_status,
            attempts=row.dm_attempts,
            attempted_at=row.dm_attempted_at,
            now=now,
        )
        if step != "try":
            continue
        with deps.session_factory() as session:
            attempts = kudos_queries.claim_dm_attempt(session=session, recipient=row, now=now)
            session.commit()
        if attempts is None:
            continue  # another process took this try
        post_key = f"kudos:{kudos_id}:dm:{row.user_id}"
        try:
            delivery.dm(
                team_id=team_id,
                post_key=post_key,
                kind="kudos-dm",
                user_id=row.user_id,
                message=message,
            )
        except (SlackApiError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("kudos %s: DM to %s failed: %s", kudos_id, row.user_id, reason)
            status = status_after_failed_dm(attempts)
            (retry_later if status == "retry" else gave_up).append(row.user_id)
        else:
            if not delivery.already_sent(team_id=team_id, post_key=post_key):
                continue  # another process holds that DM's claim and is sending it
            status = "sent"
        with deps.session_factory() as session:
            kudos_queries.set_dm_status(session=session, recipient_id=row.id, status=status)
            session.commit()
    _mark_posted_when_settled(deps, kudos_id)
    return retry_later, gave_up


def _mark_posted_when_settled(deps: Deps, kudos_id: int) -> None:
    with deps.session_factory() as session:
        now = deps.clock()
        rows = kudos_queries.recipient_rows(session=session, kudos_id=kudos_id)
        settled = all(
            next_dm_step(
                status=r.dm_status, attempts=r.dm_attempts, attempted_at=r.dm_attempted_at, now=now
            )
            == "done"
            for r in rows
        )
        if settled:
            kudos = kudos_queries.get_kudos(session=session, kudos_id=kudos_id)
            if kudos is not None:
                kudos_queries.mark_kudos_posted(
                    session=session,
                    kudos_id=kudos_id,
                    channel_id=kudos.channel_id,
                    message_ts=kudos.message_ts,
                )
        session.commit()


def _permalink(client: WebClient, channel_id: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel_id, message_ts=ts).get("permalink")
    except SlackApiError as error:
        log.warning("chat.getPermalink failed: %s", error.response.get("error"))
        return None


def _deliver_and_tell(
    client: WebClient,
    deps: Deps,
    team_id: str,
    kudos_id: int,
    giver: Giver,
    reply: Callable[[dict[str, Any]], None],
) -> None:
    with deps.session_factory() as session:
        channel = queries.get_or_create_workspace(
            session=session, team_id=team_id
        ).recognition_channel_id
        session.commit()
    if channel is None:
        reply(pending_message(is_admin=giver.is_admin))
        return
    delivery = Delivery(deps.session_factory, client, deps.clock)
    try:
        delivered = deliver_kudos(client, deps, delivery, kudos_id)
    except (SlackApiError, OSError) as error:
        # Only the channel post raises here (DM failures are settled per recipient). Slack's
        # error code goes to the log, never to the giver.
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        log.warning("posting kudos %s failed: %s", kudos_id, reason)
        reply(not_posted_message(channel_id=channel))
        return
    if delivered is not None:
        reply(
            posted_message(
                channel_id=delivered.channel_id,
                recipients=delivered.recipients,
                permalink=delivered.permalink,
                unreached=delivered.retry_later + delivered.gave_up,
            )
        )


# --- scheduled work ---------------------------------------------------------------------------


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, ScheduledJob]]:
    def post_pending_kudos(now: datetime) -> None:
        """Kudos kept while there was no recognition channel (or whose post failed) go up now;
        a recipient DM that failed gets its one retry."""
        with deps.session_factory() as session:
            pending = kudos_queries.pending_kudos_ids(session=session)
        for kudos_id in pending:
            try:
                delivered = deliver_kudos(delivery.client, deps, delivery, kudos_id)
                if delivered is not None:
                    tell_giver_after_retry(delivery, delivered)
            except (SlackApiError, OSError) as error:
                reason = error.response.get("error") if isinstance(error, SlackApiError) else error
                log.warning("pending kudos %s not posted: %s", kudos_id, reason)

    def post_weekly_digests(now: datetime) -> None:
        """Only workspaces whose stored digest time has come are read; each gets its next
        time stored, except one whose digest must be tried again on the next tick."""
        with deps.session_factory() as session:
            if queries.clock_went_back(
                session=session, name="kudos.digest", now=now, tolerance=CLOCK_SKEW
            ):
                kudos_queries.clear_next_digests(session=session)
            session.commit()
        looked_at: set[str] = set()
        while True:
            with deps.session_factory() as session:
                due = kudos_queries.workspaces_due_for_digest(
                    session=session, now=now, limit=DIGEST_BATCH, exclude=looked_at
                )
            if not due:
                return
            next_at: dict[str, datetime] = {}
            try:
                for team_id in due:
                    # One workspace's trouble (channel archived, bot removed, Slack down for
                    # that token) must not keep the digest from every workspace after it.
                    try:
                        later = post_digest(deps, delivery, team_id, now)
                    except Exception:
                        log.exception("weekly digest for %s failed", team_id)
                        continue
                    if later is not None:
                        next_at[team_id] = later
            finally:
                with deps.session_factory() as session:
                    kudos_queries.set_next_digests(session=session, next_at=next_at)
                    session.commit()
            # Those to try again next tick stay due: not read again in this one.
            looked_at.update(team_id for team_id in due if team_id not in next_at)
            if len(due) < DIGEST_BATCH:
                return

    return [("kudos-pending", post_pending_kudos), ("kudos-digest", post_weekly_digests)]


def post_digest(deps: Deps, delivery: Delivery, team_id: str, now: datetime) -> datetime | None:
    """Post the workspace's weekly digest if it is due and not yet posted. Returns when to
    look at this workspace's digest again, or None to look on the next tick (the post did not
    go through: another process holds its claim)."""
    with deps.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        tz = digest_timezone(session=session, team_id=team_id, admin_user_ids=deps.settings.admins)
        later = next_digest_after(now, tz, workspace.checkin_weekday, workspace.checkin_hour)
        if not workspace.digest_enabled or workspace.recognition_channel_id is None:
            return later  # switching it on (or picking a channel) clears the stored time
        due = digest_due(now, tz, workspace.checkin_weekday, workspace.checkin_hour)
        if due is None:
            return later
        week, due_at = due
        post_key = f"digest:{week}"
        # Only a sent digest ends it here; a claim (even one left by a process that died) is
        # Delivery's to judge: it takes over a claim whose lease ran out.
        if delivery.already_sent(team_id=team_id, post_key=post_key):
            return later
        start, end = digest_window(due_at)
        facts = collect_digest(session=session, team_id=team_id, week=week, start=start, end=end)
        session.commit()
    sent = delivery.post(
        team_id=team_id,
        post_key=post_key,
        kind="digest",
        channel=workspace.recognition_channel_id,
        message=digest_message(facts),
    )
    if sent is None and delivery.is_installed(team_id):
        return None
    return later


def tell_giver_after_retry(delivery: Delivery, delivered: Delivered) -> None:
    """The scheduler's news for the giver, each at most once: the kudos went up (they were
    told it would, later), or someone still couldn't be reached after the retry."""
    if delivered.posted_now:
        delivery.dm(
            team_id=delivered.team_id,
            post_key=f"kudos:{delivered.kudos_id}:giver",
            kind="kudos-giver",
            user_id=delivered.giver_user_id,
            message=posted_message(
                channel_id=delivered.channel_id,
                recipients=delivered.recipients,
                permalink=delivered.permalink,
                unreached=delivered.retry_later + delivered.gave_up,
            ),
        )
    elif delivered.gave_up:
        delivery.dm(
            team_id=delivered.team_id,
            post_key=f"kudos:{delivered.kudos_id}:giver:unreached",
            kind="kudos-giver",
            user_id=delivered.giver_user_id,
            message=unreached_message(
                channel_id=delivered.channel_id,
                unreached=delivered.gave_up,
                permalink=delivered.permalink,
            ),
        )
