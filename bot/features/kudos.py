"""`/kudos`: recognition posted to the recognition channel, DMs to the people recognised, kudos
kept until a channel exists, and the weekly recognition digest."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
)
from bot.delivery import Delivery
from bot.messaging import send_ephemeral
from bot.scheduler import ScheduledJob
from bot.slack_users import SlackProfile, fetch_profile, is_rebound_admin
from bot.usecases.kudos import (
    KudosDraft,
    Problem,
    SaveResult,
    cap_problem,
    check_draft,
    collect_digest,
    digest_due,
    digest_timezone,
    digest_window,
    may_give_kudos,
    not_allowed_problem,
    parse_kudos_text,
    recipient_problem,
    save_kudos,
)
from bot.usecases.members import remember_profile
from storage import kudos_queries, queries

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

        give_kudos_from_command(client, deps, command, parsed, reply)

    @app.view(KUDOS_CALLBACK_ID)
    def kudos_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        team_id = _team_id(body)
        giver_id = body["user"]["id"]
        modal = read_kudos_modal(view)
        checked = check_draft(
            KudosDraft(recipients=modal.recipients, category=modal.category, message=modal.message),
            giver_user_id=giver_id,
        )
        if isinstance(checked, Problem):
            ack(response_action="errors", errors={checked.field: checked.text})
            return
        giver, problem = _check_giver_and_recipients(client, deps, team_id, giver_id, checked)
        if problem is not None:
            ack(response_action="errors", errors={problem.field: problem.text})
            return
        # Saved before ack: if the write fails, the giver keeps the modal and their words.
        try:
            result = _save(deps, team_id, giver, checked, f"view:{view['id']}")
        except Exception:
            log.exception("saving kudos failed")
            ack(
                response_action="errors",
                errors={"message": "Couldn't save just now. Please press Send again."},
            )
            return
        if result.cap_reached:
            problem = cap_problem(_daily_cap(deps, team_id), giver.tz)
            ack(response_action="errors", errors={problem.field: problem.text})
            return
        ack()
        where = {"channel_id": modal.channel_id or giver_id, "user_id": giver_id}

        def reply(message: dict[str, Any]) -> None:
            send_ephemeral(client, where, message)

        if result.duplicate or result.kudos is None or result.kudos.id is None:
            return  # the first submission is posting it
        _deliver_and_tell(client, deps, team_id, result.kudos.id, giver, reply)


def open_kudos_modal(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    giver = _load_giver(client, deps, command["team_id"], command["user_id"])
    if not _allowed(deps, command["team_id"], giver):
        send_ephemeral(client, command, problem_message(not_allowed_problem().text))
        return
    try:
        client.views_open(
            trigger_id=command["trigger_id"], view=kudos_modal(channel_id=command.get("channel_id"))
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


def give_kudos_from_command(
    client: WebClient,
    deps: Deps,
    command: dict[str, Any],
    draft: KudosDraft,
    reply: Callable[[dict[str, Any]], None],
) -> None:
    team_id, giver_id = command["team_id"], command["user_id"]
    giver, problem = _check_giver_and_recipients(client, deps, team_id, giver_id, draft)
    if problem is not None:
        reply(problem_message(problem.text))
        return
    # A slash command's trigger id is unique to that one invocation.
    trigger_id = command.get("trigger_id") or uuid.uuid4().hex
    result = _save(deps, team_id, giver, draft, f"cmd:{trigger_id}")
    if result.cap_reached:
        reply(problem_message(cap_problem(_daily_cap(deps, team_id), giver.tz).text))
        return
    if result.duplicate or result.kudos is None or result.kudos.id is None:
        reply(duplicate_message())
        return
    _deliver_and_tell(client, deps, team_id, result.kudos.id, giver, reply)


# --- checks -----------------------------------------------------------------------------------


def _load_giver(client: WebClient, deps: Deps, team_id: str, user_id: str) -> Giver:
    profile = fetch_profile(client, user_id)
    if profile is not None:
        with deps.session_factory() as session:
            remember_profile(session=session, team_id=team_id, profile=profile, now=deps.clock())
            session.commit()
    return Giver(
        user_id=user_id,
        profile=profile,
        is_admin=is_rebound_admin(profile, user_id, deps.settings.admins),
    )


def _allowed(deps: Deps, team_id: str, giver: Giver) -> bool:
    with deps.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        member = queries.get_member(session=session, team_id=team_id, user_id=giver.user_id)
        session.commit()
    return may_give_kudos(
        workspace.kudos_policy,
        is_manager=bool(member and member.is_manager and not member.deleted),
        is_admin=giver.is_admin,
    )


def _check_giver_and_recipients(
    client: WebClient, deps: Deps, team_id: str, giver_id: str, draft: KudosDraft
) -> tuple[Giver, Problem | None]:
    giver = _load_giver(client, deps, team_id, giver_id)
    if not _allowed(deps, team_id, giver):
        return giver, not_allowed_problem()
    for user_id in draft.recipients:
        problem = recipient_problem(user_id, fetch_profile(client, user_id))
        if problem is not None:
            return giver, problem
    return giver, None


def _daily_cap(deps: Deps, team_id: str) -> int:
    with deps.session_factory() as session:
        return queries.get_or_create_workspace(session=session, team_id=team_id).kudos_daily_cap


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
class Posted:
    team_id: str
    kudos_id: int
    giver_user_id: str
    channel_id: str
    permalink: str | None
    recipients: list[str]


def deliver_kudos(
    client: WebClient, deps: Deps, delivery: Delivery, kudos_id: int
) -> Posted | None:
    """Post a saved kudos to the recognition channel and DM its recipients, each exactly once.

    None when there is no channel yet, or another process is posting it right now. Marked
    "posted" only after the DMs, so a process that dies midway leaves it for the next tick,
    which finds the post and DMs already sent and finishes the rest."""
    with deps.session_factory() as session:
        kudos = kudos_queries.get_kudos(session=session, kudos_id=kudos_id)
        if kudos is None:
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
    else:
        with deps.session_factory() as session:
            post = queries.get_post(session=session, team_id=team_id, post_key=post_key)
        if post is None or post.status != "sent" or not post.channel_id or not post.message_ts:
            return None  # claimed by another process that is sending it now
        channel_id, ts = post.channel_id, post.message_ts
    # The workspace's own client (in OAuth mode the scheduler's `client` has no token).
    permalink = _permalink(delivery.client_for(team_id), channel_id, ts)
    for user_id in recipients:
        delivery.dm(
            team_id=team_id,
            post_key=f"{post_key}:dm:{user_id}",
            kind="kudos-dm",
            user_id=user_id,
            message=kudos_dm(
                giver_user_id=kudos.giver_user_id,
                category=kudos.category,
                message=kudos.message,
                permalink=permalink,
            ),
        )
    with deps.session_factory() as session:
        kudos_queries.mark_kudos_posted(
            session=session, kudos_id=kudos_id, channel_id=channel_id, message_ts=ts
        )
        session.commit()
    return Posted(
        team_id=team_id,
        kudos_id=kudos_id,
        giver_user_id=kudos.giver_user_id,
        channel_id=channel_id,
        permalink=permalink,
        recipients=recipients,
    )


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
        posted = deliver_kudos(client, deps, delivery, kudos_id)
    except SlackApiError as error:
        log.warning("posting kudos %s failed: %s", kudos_id, error.response.get("error"))
        reply(not_posted_message(channel_id=channel, error=str(error.response.get("error"))))
        return
    if posted is not None:
        reply(
            posted_message(
                channel_id=posted.channel_id,
                recipients=posted.recipients,
                permalink=posted.permalink,
            )
        )


# --- scheduled work ---------------------------------------------------------------------------


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, ScheduledJob]]:
    def post_pending_kudos(now: datetime) -> None:
        """Kudos kept while there was no recognition channel (or a post failed) go up now."""
        with deps.session_factory() as session:
            pending = kudos_queries.pending_kudos_ids(session=session)
        for kudos_id in pending:
            try:
                posted = deliver_kudos(delivery.client, deps, delivery, kudos_id)
                if posted is not None:
                    # The giver was told it would go up later: tell them it has.
                    delivery.dm(
                        team_id=posted.team_id,
                        post_key=f"kudos:{kudos_id}:giver",
                        kind="kudos-giver",
                        user_id=posted.giver_user_id,
                        message=posted_message(
                            channel_id=posted.channel_id,
                            recipients=posted.recipients,
                            permalink=posted.permalink,
                        ),
                    )
            except SlackApiError as error:
                log.warning(
                    "pending kudos %s not posted: %s", kudos_id, error.response.get("error")
                )

    def post_weekly_digests(now: datetime) -> None:
        with deps.session_factory() as session:
            workspaces = kudos_queries.digest_workspaces(session=session)
        for workspace in workspaces:
            post_digest(deps, delivery, workspace.team_id, now)

    return [("kudos-pending", post_pending_kudos), ("kudos-digest", post_weekly_digests)]


def post_digest(deps: Deps, delivery: Delivery, team_id: str, now: datetime) -> bool:
    """Post the workspace's weekly digest if it is due and not yet posted; True if posted here."""
    with deps.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        if not workspace.digest_enabled or workspace.recognition_channel_id is None:
            return False
        tz = digest_timezone(session=session, team_id=team_id, admin_user_ids=deps.settings.admins)
        due = digest_due(now, tz, workspace.checkin_weekday, workspace.checkin_hour)
        if due is None:
            return False
        week, due_at = due
        post_key = f"digest:{week}"
        already = queries.get_post(session=session, team_id=team_id, post_key=post_key)
        if already is not None:
            return False
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
    return sent is not None


def _team_id(body: dict[str, Any]) -> str:
    return (body.get("team") or {}).get("id") or body.get("team_id") or body["user"]["team_id"]
