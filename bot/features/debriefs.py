"""`/lost`, `/won`, reflections, consent to a shout-out (a perfect miss, a bounce-back) and
taking it back, a manager's calibration, sharing a win's lesson, and `/rebound lessons`.

Each listener is a module-level function: ack, read the payload, call one use case of
`bot.usecases.debriefs` in a unit of work, hand what came back to a pure builder of
`bot.blocks.debriefs`. Messages the use cases cause (the rep's DM, the manager's note, the
shout-outs) are outbox rows written in the same transaction as the debrief; the dispatcher
sends them (bot.dispatcher), so Slack's retries and double clicks post once. `register` is the
table of what answers which request; the reflection reminders are a job (bot.jobs.debriefs).

This module holds `/lost` and `/won` (their modals share one save-before-ack path); the other
listeners are in the sibling modules by what they answer: debrief_reflections,
debrief_shout_outs (consent and take-back), debrief_calibration and debrief_lessons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.debriefs import (
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_CALLBACK_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    LOST_CALLBACK_ID,
    REFLECT_ACTION_ID,
    REFLECT_CALLBACK_ID,
    SHARE_LESSON_ACTION_ID,
    TAKE_BACK_ACTION_ID,
    UNSHARE_LESSON_ACTION_ID,
    WON_CALLBACK_ID,
    lost_modal,
    parse_lost_submission,
    parse_won_submission,
    read_crm_offer_id,
    won_modal,
)
from bot.features._interactions import open_modal
from bot.features._save_before_ack import SAVE_FAILED, save_before_ack
from bot.features.debrief_calibration import (
    calibrate_clicked,
    calibration_agreed,
    calibration_submitted,
)
from bot.features.debrief_lessons import lesson_share_clicked, reply_with_lessons
from bot.features.debrief_reflections import reflect_clicked, reflections_submitted
from bot.features.debrief_shout_outs import celebration_clicked, take_back_clicked
from bot.jobs import debriefs as jobs
from bot.messaging import (
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.slack_text import unescape_command_text
from bot.usecases import debriefs as usecases
from bot.usecases.debriefs import SavedOutcome

S = TypeVar("S")  # what a modal's parser reads: a LossSubmission or a WinSubmission


__all__ = ["SAVE_FAILED", "register", "reply_with_lessons", "scheduled_jobs"]


def register(app: App, deps: Deps) -> None:
    """What answers which request (the listeners read `deps` from Bolt's context)."""
    app.command("/lost")(lost_command)
    app.command("/won")(won_command)
    app.view(LOST_CALLBACK_ID)(lost_submitted)
    app.view(WON_CALLBACK_ID)(won_submitted)
    app.action(REFLECT_ACTION_ID)(reflect_clicked)
    app.view(REFLECT_CALLBACK_ID)(reflections_submitted)
    app.action(CELEBRATE_YES_ACTION_ID)(celebration_clicked)
    app.action(CELEBRATE_NO_ACTION_ID)(celebration_clicked)
    app.action(CALIBRATE_AGREE_ACTION_ID)(calibration_agreed)
    app.action(CALIBRATE_DIFFER_ACTION_ID)(calibrate_clicked)
    app.view(CALIBRATE_CALLBACK_ID)(calibration_submitted)
    app.action(TAKE_BACK_ACTION_ID)(take_back_clicked)
    app.action(SHARE_LESSON_ACTION_ID)(lesson_share_clicked)
    app.action(UNSHARE_LESSON_ACTION_ID)(lesson_share_clicked)


scheduled_jobs = jobs.scheduled_jobs


@tells_user_on_failure
def lost_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
    ack()
    _open_modal(client, command, lost_modal(unescape_command_text(command.get("text") or "")))


@tells_user_on_failure
def won_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
    ack()
    _open_modal(client, command, won_modal(unescape_command_text(command.get("text") or "")))


def lost_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    _outcome_submitted(ack, body, view, context, parse_lost_submission, usecases.record_loss)


def won_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    _outcome_submitted(ack, body, view, context, parse_won_submission, usecases.record_win)


def _outcome_submitted(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    context: BoltContext,
    parse: Callable[[dict[str, Any]], tuple[S | None, dict[str, str]]],
    record: Callable[..., SavedOutcome | None],
) -> None:
    """The /lost and /won modals' one path: field errors keep the modal open; else the outcome
    is saved (record_loss or record_win) before the ack (bot.features._save_before_ack)."""
    submission, errors = parse(view["state"]["values"])
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    deps: Deps = context["deps"]
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: record(
            uow,
            team_id=team_id_of(body),
            user_id=body["user"]["id"],
            submission=submission,
            submission_key=_submission_key(view),
            # Opened from a CRM's *Debrief this*: the debrief keeps that deal's CRM id.
            crm_offer_id=read_crm_offer_id(view.get("private_metadata")),
        ),
        error_block="deal",
    )


def _open_modal(client: WebClient, command: dict[str, Any], view: dict[str, Any]) -> None:
    if not open_modal(client, command["trigger_id"], view, what=command["command"]):
        send_ephemeral(
            client,
            command,
            {
                "text": "Slack didn't let me open the form just now. "
                f"Please run `{command['command']}` again."
            },
        )


def _submission_key(view: dict[str, Any]) -> str:
    # The view id is the same for every submission of one modal, Slack retries included.
    return f"view:{view['id']}"
