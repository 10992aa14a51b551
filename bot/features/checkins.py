"""Weekly check-ins: `/checkin`, the DM's buttons and the answer modal.

Each listener is a module-level function: ack, read the payload, call one use case of
`bot.usecases.checkins` in a unit of work, hand what came back to a pure builder of
`bot.blocks.checkins`. The thank-you for answers is an outbox row written with them; the
replies that answer a request directly (the modal, an ephemeral note, the clicked DM turned
"skipped") go straight back. The scheduled work (time zones, planning, the weekly DMs,
reminders, digests) is in bot.jobs.checkins; `register` is the table of what answers which
request.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.checkins import (
    CHECKIN_CALLBACK_ID,
    OPEN_ACTION_ID,
    SKIP_ACTION_ID,
    already_answered_message,
    answered_message,
    checkin_modal,
    not_paused_message,
    parse_checkin_submission,
    pause_hint,
    pause_problem,
    paused_message,
    resumed_message,
    skipped_message,
)
from bot.domain.checkins import Question
from bot.domain.text import parse_row_id
from bot.features._interactions import RowClick, on_row_click, open_modal
from bot.features._save_before_ack import save_before_ack
from bot.jobs import checkins as jobs
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    post_to_response_url,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.slack_users import fetch_profile
from bot.usecases import checkin_questions, checkin_schedule
from bot.usecases import checkins as uc

log = logging.getLogger(__name__)

SAVE_AGAIN = "Couldn't save just now. Please try Save again."

__all__ = ["open_week_modal", "register", "scheduled_jobs"]


def register(app: App, deps: Deps) -> None:
    """What answers which request (the listeners read `deps` from Bolt's context)."""
    app.command("/checkin")(checkin_command)
    app.action(OPEN_ACTION_ID)(open_clicked)
    app.action(SKIP_ACTION_ID)(skip_clicked)
    app.view(CHECKIN_CALLBACK_ID)(answers_submitted)


scheduled_jobs = jobs.scheduled_jobs


# --- listeners ---------------------------------------------------------------------------------


@tells_user_on_failure
def checkin_command(
    ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    words = (command.get("text") or "").split()
    subcommand = words[0].lower() if words else ""
    if not words:
        ack()  # then the modal at once: the trigger_id lives for 3 seconds
        open_week_modal(client, deps, command)
        return
    if subcommand == "pause":
        try:
            checkin_schedule.parse_pause(" ".join(words[1:]), deps.clock(), "UTC")
        except checkin_schedule.PauseOutOfRange as problem:
            ack(**pause_problem(str(problem)))
            return
        except ValueError:
            ack(**pause_hint())
            return
        ack()
        _pause(client, deps, command, " ".join(words[1:]))
        return
    if subcommand == "resume" and len(words) == 1:
        ack()
        _resume(client, deps, command)
        return
    ack(**pause_hint())


@on_row_click
def open_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    deps, team_id, user_id, checkin_id = click.deps, click.team_id, click.user_id, click.row_id
    tz = _tz_of(client, deps, team_id, user_id)
    with deps.uow() as uow:
        opened = uc.open_by_id(uow, team_id=team_id, user_id=user_id, checkin_id=checkin_id, tz=tz)
    if opened is None:
        _tell_not_yours(client, deps, body, checkin_id)
        return
    _open_modal(client, body["trigger_id"], opened)


@on_row_click
def skip_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    deps, team_id, user_id, checkin_id = click.deps, click.team_id, click.user_id, click.row_id
    with deps.uow() as uow:
        result = uc.skip(uow, team_id=team_id, user_id=user_id, checkin_id=checkin_id)
    if result.not_yours:
        _tell_not_yours(client, deps, body, checkin_id)
        return
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    week = checkin_schedule.week_label(result.week)
    if not result.skipped and result.status != "skipped":
        # Answered already (or being sent this instant): the DM stays as it is.
        if result.status == "answered" and channel:
            try:
                client.chat_postEphemeral(
                    channel=channel, user=user_id, **already_answered_message(week)
                )
            except SlackApiError as error:
                log.warning("already-answered note failed: %s", error.response.get("error"))
        return
    response_url = body.get("response_url")
    if response_url and ts:
        # The direct answer to the click: the clicked DM itself says "skipped", replaced
        # through the click's response_url, not a Web API call outside the outbox ("This
        # response_url can be used to publish new messages. It can also be used to update the
        # original", https://docs.slack.dev/messaging/modifying-messages). The skip is saved
        # either way; refused, the DM keeps its buttons and a second click changes nothing.
        post_to_response_url(response_url, skipped_message(week), replace_original=True)


def answers_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    try:
        checkin_id = parse_row_id(view.get("private_metadata") or "")
    except ValueError:
        ack()
        return
    first_input = next(
        (b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), "checkin"
    )
    try:
        with deps.uow() as uow:
            checkin = uc.checkin_to_answer(
                uow, team_id=team_id, user_id=user_id, checkin_id=checkin_id
            )
    except Exception:  # the database is down: keep the modal and what was written
        log.exception("reading the check-in failed")
        ack(response_action="errors", errors={first_input: SAVE_AGAIN})
        return
    if checkin is None:
        # A forged or misrouted form: say so in the form itself, and save nothing.
        ack(response_action="errors", errors={first_input: NOT_YOURS_ERROR})
        return
    questions = [Question.from_row(row) for row in checkin.questions or []]
    answers, errors = parse_checkin_submission(view["state"]["values"], questions)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    # Saved (with the thank-you queued) before the ack: if it fails, the rep keeps the modal
    # open with everything they wrote.
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: uc.answer(
            uow,
            checkin=checkin,
            answers=answers,
            submission_key=str(view.get("id") or checkin_id),
            thanks=answered_message,
        ),
        error_block=questions[0].key if questions else "checkin",
        message=SAVE_AGAIN,
    )


# --- helpers of the listeners (and of Home's check-in button) ----------------------------------


def _tz_of(client: WebClient, deps: Deps, team_id: str, user_id: str) -> str:
    """The person's time zone; read from Slack the first time we meet them."""
    with deps.uow() as uow:
        tz = uc.known_tz(uow, team_id=team_id, user_id=user_id)
    if tz is not None:
        return tz
    try:
        profile = fetch_profile(client, user_id)
    except Exception:  # Slack unreachable: UTC for now, and the zone is read another time
        log.warning("reading %s's Slack profile failed", user_id, exc_info=True)
        profile = None
    with deps.uow() as uow:
        return uc.remember_tz(uow, team_id=team_id, user_id=user_id, profile=profile)


def _tell_not_yours(client: WebClient, deps: Deps, body: dict[str, Any], checkin_id: int) -> None:
    """Someone clicked another person's check-in button (forwarded, or forged)."""
    with deps.uow() as uow:
        owner = uc.owner_of(uow, team_id=team_id_of(body), checkin_id=checkin_id)
    reply_to_click(client, body, not_yours_message("check-in", owner))


def _open_modal(client: WebClient, trigger_id: str, opened: checkin_questions.OpenCheckIn) -> None:
    view = checkin_modal(
        opened.checkin_id,
        opened.questions,
        opened.answers,
        checkin_schedule.week_label(opened.week),
    )
    open_modal(client, trigger_id, view, what="check-in")


def open_week_modal(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    """This week's check-in in its modal (`/checkin`, and Home's button)."""
    team_id, user_id = command["team_id"], command["user_id"]
    tz = _tz_of(client, deps, team_id, user_id)
    with deps.uow() as uow:
        opened = uc.open_week(uow, team_id=team_id, user_id=user_id, tz=tz)
    _open_modal(client, command["trigger_id"], opened)


def _pause(client: WebClient, deps: Deps, command: dict[str, Any], text: str) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    tz = _tz_of(client, deps, team_id, user_id)
    try:
        until = checkin_schedule.parse_pause(text, deps.clock(), tz)
    except (
        checkin_schedule.PauseOutOfRange
    ) as problem:  # e.g. today's date, already begun where they live
        send_ephemeral(client, command, pause_problem(str(problem)))
        return
    except ValueError:
        send_ephemeral(client, command, pause_hint())
        return
    with deps.uow() as uow:
        paused = uc.pause_until(uow, team_id=team_id, user_id=user_id, until=until, tz=tz)
    send_ephemeral(client, command, paused_message(paused.until_label))


def _resume(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    _tz_of(client, deps, team_id, user_id)
    with deps.uow() as uow:
        resumed = uc.resume_checkins(uow, team_id=team_id, user_id=user_id)
    message = (
        resumed_message(resumed.next_label)
        if resumed.was_paused
        else not_paused_message(resumed.next_label)
    )
    send_ephemeral(client, command, message)
