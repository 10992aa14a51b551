"""`/kudos`: recognition posted to the recognition channel, DMs to the people recognised, kudos
kept until a channel exists; the weekly digest is queued by bot.jobs.kudos.

Each listener is a module-level function: ack, parse, the checks only Slack can answer, one use
case (`bot.usecases.kudos_sending.give_kudos`) in a unit of work, and a pure builder of
`bot.blocks.kudos` for the answer. The kudos' post and DMs are outbox rows written with it and
sent by the dispatcher (bot.dispatcher); only the giver's answer (an ephemeral message) is sent
from here, once the post is up or known to wait, so it can say where it went and who heard
about it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps, make_web_client
from bot.blocks.kudos import (
    KUDOS_CALLBACK_ID,
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
from bot.features._interactions import open_modal
from bot.messaging import send_ephemeral, team_id_of, tells_user_on_failure
from bot.scheduler import ScheduledJob
from bot.slack_clients import TeamClients
from bot.slack_users import SlackProfile, SlackUnavailable, is_rebound_admin, lookup_profile
from bot.usecases import kudos as usecases
from bot.usecases import kudos_sending as sending
from bot.usecases.kudos import (
    UNAVAILABLE_TEXT,
    KudosDraft,
    Problem,
    cap_problem,
    check_draft,
    not_allowed_problem,
    parse_kudos_text,
    recipient_problem,
)
from bot.usecases.kudos_sending import KudosMessages, KudosNews, PermalinkReader
from bot.usecases.members import remember_profile

log = logging.getLogger(__name__)

# How long the giver's answer waits for the dispatcher (woken by the save's commit) to put the
# post up, and then for each recipient's first DM try. Past that, they are told it comes later.
POST_WAIT_SECONDS = 8.0
DM_WAIT_SECONDS = 8.0
# A send under way when the wait ends finishes within its request's timeout (bot.app's
# clients: 10 s); until then the post's kind (who tells the giver) can't change.
IN_FLIGHT_WAIT_SECONDS = 12.0
POLL_SECONDS = 0.05
CANNOT_OPEN_FORM = (
    "Slack didn't let me open the kudos form just now. Please run `/kudos` again, "
    "or type it all in one go: `/kudos @name #category message`."
)
SAVE_FAILED = "I couldn't save your kudos just now. Please try again in a moment."

Reply = Callable[[dict[str, Any]], None]
# What kudos' outbox rows are made of (the use cases never import Block Kit).
MESSAGES = KudosMessages(
    post=kudos_post, dm=kudos_dm, posted=posted_message, unreached=unreached_message
)


def register(app: App, deps: Deps) -> None:
    """What answers which request (the listeners read `deps` from Bolt's context)."""
    install_hooks(deps)
    app.command("/kudos")(kudos_command)
    app.view(KUDOS_CALLBACK_ID)(kudos_submitted)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    """build_ticker's hook: the kudos jobs (bot.jobs.kudos), with the kudos outbox hooks
    installed for the tick's dispatcher."""
    from bot.jobs import kudos as jobs

    # The tick's dispatcher runs the kudos hooks too.
    install_hooks(deps)
    return jobs.scheduled_jobs(deps, MESSAGES)


# --- listeners ---------------------------------------------------------------------------------


@tells_user_on_failure
def kudos_command(
    ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    text = (command.get("text") or "").strip()
    if not text:
        ack()
        open_kudos_modal(client, deps, command)
        return
    giver_id = command["user_id"]
    parsed = parse_kudos_text(text, giver_user_id=giver_id)
    if isinstance(parsed, Problem):
        # Mistakes in what was typed are answered at once, in the ack itself.
        ack(response_type="ephemeral", **problem_message(parsed.text))
        return
    ack()
    # A slash command's trigger id is unique to that one invocation.
    trigger_id = command.get("trigger_id") or uuid.uuid4().hex
    give_kudos(
        client,
        deps,
        Submission(command["team_id"], giver_id, parsed, f"cmd:{trigger_id}"),
        lambda message: send_ephemeral(client, command, message),
    )


def kudos_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    team_id, giver_id = team_id_of(body), body["user"]["id"]
    modal = read_kudos_modal(view)
    # A modal's text arrives raw, as typed: kept as plain text like a command's message
    # (bot.usecases.kudos.message_as_typed) and escaped wherever it meets mrkdwn.
    checked = check_draft(
        KudosDraft(recipients=modal.recipients, category=modal.category, message=modal.message),
        giver_user_id=giver_id,
    )
    if isinstance(checked, Problem):
        ack(response_action="errors", errors={checked.field: checked.text})
        return
    # Only what our own tables can tell is checked before ack: Slack wants an answer within
    # 3 seconds, and users.info may be rate limited for longer than that.
    try:
        with deps.uow() as uow:
            problem = usecases.cap_problem_known(
                session=uow.session, team_id=team_id, giver_user_id=giver_id, now=uow.now()
            )
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
    give_kudos(
        client,
        deps,
        Submission(team_id, giver_id, checked, f"view:{view['id']}", from_modal=True),
        lambda message: send_ephemeral(client, where, message),
    )


# --- what the listeners share ------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    team_id: str
    giver_id: str
    draft: KudosDraft
    submission_key: str
    from_modal: bool = False


@dataclass(frozen=True)
class Giver:
    user_id: str
    profile: SlackProfile | None
    is_admin: bool

    @property
    def tz(self) -> str:
        return self.profile.tz if self.profile else "UTC"


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
    view = kudos_modal(
        channel_id=command.get("channel_id"), response_url=command.get("response_url")
    )
    if not open_modal(client, command["trigger_id"], view, what="/kudos"):
        send_ephemeral(client, command, problem_message(CANNOT_OPEN_FORM))


def give_kudos(client: WebClient, deps: Deps, submission: Submission, reply: Reply) -> None:
    """After the ack: the checks that need Slack, then save (with its post queued), then tell
    the giver how it went.

    Nothing is saved unless every check passed. From a modal (already closed), problems come
    with the giver's own words, so nothing they wrote is lost."""
    team_id, draft = submission.team_id, submission.draft
    your_words = draft.message if submission.from_modal else None
    try:
        giver, problem = _check_giver_and_recipients(client, deps, submission)
    except SlackUnavailable:
        reply(problem_message(UNAVAILABLE_TEXT, your_words=your_words))
        return
    if problem is not None:
        reply(problem_message(problem.text, your_words=your_words))
        return
    try:
        with deps.uow() as uow:
            given = sending.give_kudos(
                uow,
                team_id=team_id,
                giver_user_id=giver.user_id,
                giver_tz=giver.tz,
                draft=draft,
                submission_key=submission.submission_key,
                messages=MESSAGES,
            )
            cap = usecases.daily_cap(session=uow.session, team_id=team_id)
    except Exception:
        log.exception("saving kudos failed")
        reply(problem_message(SAVE_FAILED, your_words=your_words))
        return
    result = given.result
    if result.cap_reached:
        reply(problem_message(cap_problem(cap, giver.tz).text, your_words=your_words))
        return
    if result.duplicate or result.kudos is None or result.kudos.id is None:
        if not submission.from_modal:  # Slack re-sending the same modal is no news to the giver
            reply(duplicate_message())
        return
    if given.channel_id is None:
        reply(pending_message(is_admin=giver.is_admin))
        return
    news = await_news(deps, team_id, result.kudos.id)
    if news.state != "up" or news.channel_id is None:
        # Slack's reasons go to the log (the dispatcher's), never to the giver.
        reply(not_posted_message(channel_id=given.channel_id))
        return
    reply(
        posted_message(
            channel_id=news.channel_id,
            recipients=news.recipients,
            permalink=_permalink(client, news.channel_id, news.ts),
            unreached=news.unreached,
        )
    )


def await_news(deps: Deps, team_id: str, kudos_id: int) -> KudosNews:
    """Wait (bounded) for the dispatcher to put the kudos up and try each DM once. When it is
    not up in time, the post's kind is changed so its hook DMs the giver once it is: the giver
    is told either here or there, never both (bot.usecases.kudos_sending.tell_giver_when_up)."""

    def read() -> KudosNews:
        with deps.uow() as uow:
            return sending.kudos_news(session=uow.session, team_id=team_id, kudos_id=kudos_id)

    def hand_over() -> bool:
        with deps.uow() as uow:
            return sending.tell_giver_when_up(uow, team_id=team_id, kudos_id=kudos_id)

    news = _poll(read, lambda n: n.state == "waiting", POST_WAIT_SECONDS)
    if news.state != "up":
        if hand_over():
            return news
        # A dispatcher holds the post right now: its request ends within its timeout.
        deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
        while news.state != "up" and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            news = read()
            if news.state != "up" and hand_over():
                return news
        if news.state != "up":
            log.warning("kudos %s: still being sent; the giver is told it comes later", kudos_id)
            return news
    return _poll(read, lambda n: not n.dms_tried, DM_WAIT_SECONDS, first=news)


def _poll(
    read: Callable[[], KudosNews],
    waiting: Callable[[KudosNews], bool],
    seconds: float,
    *,
    first: KudosNews | None = None,
) -> KudosNews:
    news = first if first is not None else read()
    deadline = time.monotonic() + seconds
    while waiting(news) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        news = read()
    return news


# --- checks ------------------------------------------------------------------------------------


def _load_giver(client: WebClient, deps: Deps, team_id: str, user_id: str) -> Giver:
    """The giver as Slack knows them; raises SlackUnavailable when Slack didn't answer."""
    profile = lookup_profile(client, user_id)
    if profile is not None:
        with deps.uow() as uow:
            remember_profile(session=uow.session, team_id=team_id, profile=profile, now=uow.now())
    return Giver(
        user_id=user_id,
        profile=profile,
        is_admin=is_rebound_admin(profile, user_id, deps.settings.admins),
    )


def _allowed_by_records(deps: Deps, team_id: str, user_id: str) -> bool:
    """True when our tables alone show the person may give kudos (policy, manager, configured
    admin); False means "ask Slack whether they are a workspace admin"."""
    with deps.uow() as uow:
        return usecases.allowed_by_records(
            session=uow.session, team_id=team_id, user_id=user_id, admins=deps.settings.admins
        )


def _allowed(deps: Deps, team_id: str, giver: Giver) -> bool:
    return giver.is_admin or _allowed_by_records(deps, team_id, giver.user_id)


def _check_giver_and_recipients(
    client: WebClient, deps: Deps, submission: Submission
) -> tuple[Giver, Problem | None]:
    """Raises SlackUnavailable when Slack didn't answer about the giver or a recipient."""
    giver = _load_giver(client, deps, submission.team_id, submission.giver_id)
    if not _allowed(deps, submission.team_id, giver):
        return giver, not_allowed_problem()
    for user_id in submission.draft.recipients:
        problem = recipient_problem(user_id, lookup_profile(client, user_id))
        if problem is not None:
            return giver, problem
    return giver, None


# --- links -------------------------------------------------------------------------------------


def _permalink(client: WebClient, channel_id: str, ts: str | None) -> str | None:
    if ts is None:
        return None
    try:
        return client.chat_getPermalink(channel=channel_id, message_ts=ts).get("permalink")
    except SlackApiError as error:
        log.warning("chat.getPermalink failed: %s", error.response.get("error"))
        return None


def install_hooks(deps: Deps) -> None:
    """The kudos outbox hooks of this process, with links read with `deps`' tokens."""
    sending.install_hooks(MESSAGES, permalink_reader(deps))


def permalink_reader(deps: Deps) -> PermalinkReader:
    """chat.getPermalink (a read) with each workspace's own token, for the kudos hooks."""
    clients = TeamClients(
        make_web_client(deps.settings, metrics=deps.metrics),
        deps.oauth.bot_token_for if deps.oauth is not None else None,
    )

    def read(team_id: str, channel: str, ts: str) -> str | None:
        return _permalink(clients.client_for(team_id), channel, ts)

    return read
