"""`/lost`, `/won`, reflections, consent to a shout-out (a perfect miss, a bounce-back) and
taking it back, a manager's calibration, sharing a win's lesson, and `/rebound lessons`.


Each listener is a module-level function: ack, read the payload, call one use case of
`bot.usecases.debriefs` in a unit of work, hand what came back to a pure builder of
`bot.blocks.debriefs`. Messages the use cases cause (the rep's DM, the manager's note, the
shout-outs) are outbox rows written in the same transaction as the debrief; the dispatcher
sends them (bot.dispatcher), so Slack's retries and double clicks post once. `register` is the
table of what answers which request; the reflection reminders are a job (bot.jobs.debriefs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.correction_updates import OUTCOME_GONE_ERROR, outcome_gone_message
from bot.blocks.debriefs import (
    ALREADY_CALIBRATED,
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_CALLBACK_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    LOST_CALLBACK_ID,
    NO_SUCH_OUTCOME,
    NOT_THE_MANAGER,
    OWN_OUTCOME,
    REFLECT_ACTION_ID,
    REFLECT_CALLBACK_ID,
    SHARE_LESSON_ACTION_ID,
    TAKE_BACK_ACTION_ID,
    UNSHARE_LESSON_ACTION_ID,
    WON_CALLBACK_ID,
    already_reflected_modal,
    already_taken_back,
    ask_withdrawn_blocks,
    calibration_modal,
    consent_recorded_blocks,
    lessons_message,
    lost_modal,
    not_your_questions,
    nothing_to_take_back,
    parse_calibration_submission,
    parse_lost_submission,
    parse_reflection_submission,
    parse_won_submission,
    read_calibration_metadata,
    read_crm_offer_id,
    read_reflection_metadata,
    reflection_modal,
    take_back_lost_track,
    taken_back_blocks,
    win_lesson_modal,
    win_lesson_saved_dm,
    won_modal,
)
from bot.blocks.kit import message
from bot.domain.calibration import CalibrationSubmission
from bot.domain.debriefs import WIN_LESSON_KEY, NotYours, OutcomeFacts
from bot.domain.text import parse_row_id
from bot.features._save_before_ack import SAVE_FAILED, save_before_ack
from bot.jobs import debriefs as jobs
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    post_to_response_url,
    replace_clicked_message,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.slack_text import unescape_command_text
from bot.slack_users import SlackUnavailable, is_rebound_admin, lookup_profile
from bot.usecases import calibration as calibrations
from bot.usecases import debriefs as usecases
from bot.usecases import lessons
from bot.usecases.calibration import Calibrated, Refusal
from bot.usecases.debriefs import CelebrationWithdrawn, SavedOutcome, TakenBack

log = logging.getLogger(__name__)
T = TypeVar("T")
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


# --- listeners ---------------------------------------------------------------------------------


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


def reflect_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    outcome_id = _int(action.get("value"))
    if outcome_id is None:
        return
    deps: Deps = context["deps"]
    with deps.uow() as uow:
        prompt = usecases.reflection_prompt(
            session=uow.session,
            team_id=team_id_of(body),
            user_id=body["user"]["id"],
            outcome_id=outcome_id,
        )
    if prompt is None:
        # Removed by its rep since this message was posted (a stale button): nothing to answer.
        reply_to_click(client, body, outcome_gone_message())
        return
    if isinstance(prompt, NotYours):
        reply_to_click(client, body, not_your_questions(prompt.owner_user_id))
        return
    if prompt.answered:
        view = already_reflected_modal(prompt.deal, prompt.answered)
    elif prompt.win:
        view = win_lesson_modal(prompt.deal, prompt.outcome_id)
    else:
        view = reflection_modal(
            prompt.deal, prompt.outcome_id, prompt.commitment, perfect_miss=prompt.perfect_miss
        )
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("views.open for reflections failed: %s", error.response.get("error"))


def reflections_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    ids = read_reflection_metadata(view.get("private_metadata", ""))
    if ids is None:
        ack()
        return
    outcome_id, commitment_id = ids.outcome_id, ids.commitment_id
    # The metadata says whether this modal asked "did you do it?" (then it's required).
    submission, errors = parse_reflection_submission(
        view["state"]["values"],
        asks_follow_up=commitment_id is not None,
        perfect_miss=ids.perfect_miss,
        win=ids.win,
    )
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    # The errors go under the modal's one required field.
    error_block = WIN_LESSON_KEY if ids.win else "commitment"
    try:
        owner = _owner_of(deps, team_id, outcome_id)
    except Exception:  # the database is down: keep the modal and what was written
        log.exception("reading the debrief failed")
        ack(response_action="errors", errors={error_block: SAVE_FAILED})
        return
    if owner is None:
        # Removed by its rep while the form was open: said in the form, nothing saved.
        ack(response_action="errors", errors={error_block: OUTCOME_GONE_ERROR})
        return
    if owner != user_id:
        # Another rep's questions (a forged or misrouted form): said in the form, nothing saved.
        ack(response_action="errors", errors={error_block: NOT_YOURS_ERROR})
        return
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: usecases.record_reflections(
            uow,
            team_id=team_id,
            user_id=user_id,
            outcome_id=outcome_id,
            commitment_id=commitment_id,
            submission=submission,
        ),
        error_block=error_block,
    )


def celebration_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    outcome_id = _int(action.get("value"))
    if outcome_id is None:
        return
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    owner = _owner_of(deps, team_id, outcome_id)
    if owner is None:
        reply_to_click(client, body, outcome_gone_message())  # removed by its rep: nothing saved
        return
    if owner != user_id:
        # Only the rep may say whether their perfect miss or bounce-back is shared.
        reply_to_click(client, body, not_yours_message("choice", owner))
        return
    with deps.uow() as uow:
        state = usecases.record_celebration_choice(
            uow,
            team_id=team_id,
            user_id=user_id,
            outcome_id=outcome_id,
            consent=action.get("action_id") == CELEBRATE_YES_ACTION_ID,
        )
    if isinstance(state, CelebrationWithdrawn):
        # The manager calibrated it out of a perfect miss: nothing was recorded, and the
        # buttons give way to why (the outbox's update of this DM may not have landed yet).
        manager = state.manager_user_id
        replace_clicked_message(
            body, lambda blocks: ask_withdrawn_blocks(blocks, manager_user_id=manager)
        )
        return
    if state is None or state.consent is None:
        return
    replace_clicked_message(
        body,
        lambda blocks: consent_recorded_blocks(
            blocks,
            consent=state.consent is True,
            bounce_back=state.bounce_back,
            outcome_id=state.facts.id,
        ),
    )


def take_back_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """ "Take it back" on a shout-out the rep agreed to (behind Slack's confirm dialog)."""
    ack()
    outcome_id = _int(action.get("value"))
    if outcome_id is None:
        return
    deps: Deps = context["deps"]
    with deps.uow() as uow:
        result = usecases.take_back_shout_out(
            uow, team_id=team_id_of(body), user_id=body["user"]["id"], outcome_id=outcome_id
        )
    if result is None:
        # Removed by its rep: its shout-out came down with it.
        reply_to_click(client, body, outcome_gone_message())
        return
    if isinstance(result, NotYours):
        # Only the rep a shout-out is about may take it back (checked in the use case).
        reply_to_click(client, body, not_yours_message("shout-out", result.owner_user_id))
        return
    if result.taken_back is TakenBack.ALREADY:
        reply_to_click(client, body, already_taken_back())
    elif result.taken_back is TakenBack.NOTHING:
        reply_to_click(client, body, nothing_to_take_back())
    elif result.taken_back is TakenBack.LOST_TRACK:
        reply_to_click(client, body, take_back_lost_track())
    else:
        never_posted = result.taken_back is TakenBack.NEVER_POSTED
        replace_clicked_message(
            body, lambda blocks: taken_back_blocks(blocks, never_posted=never_posted)
        )


# --- a manager's calibration of the rep's score (issue 12) ---------------------------------------

REFUSALS: dict[Refusal, str] = {
    Refusal.NO_SUCH_OUTCOME: NO_SUCH_OUTCOME,
    Refusal.NOT_THE_MANAGER: NOT_THE_MANAGER,
    Refusal.OWN_OUTCOME: OWN_OUTCOME,
    Refusal.ALREADY_CALIBRATED: ALREADY_CALIBRATED,
}
AGREE_FAILED = "Couldn't save your agreement just now. Please click *Agree* again in a minute."
CANNOT_CHECK = (
    "I couldn't check with Slack who may calibrate this just now. Please try again in a moment."
)


def calibration_agreed(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """*Agree* on the manager's note: saved at once (the note is updated through the outbox)."""
    ack()
    outcome_id = _int(action.get("value"))
    if outcome_id is None:
        return
    try:
        result = _calibrate(client, context["deps"], team_id_of(body), body, outcome_id, None)
    except SlackUnavailable:
        reply_to_click(client, body, message(CANNOT_CHECK))
        return
    except Exception:  # the database is down: nothing was saved, and they are told so
        log.exception("saving an agreement failed")
        reply_to_click(client, body, message(AGREE_FAILED))
        return
    if isinstance(result, Refusal):
        reply_to_click(client, body, message(REFUSALS[result]))


def calibrate_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """*I see it differently*: the modal, for whoever may calibrate (checked again at submit)."""
    ack()
    outcome_id = _int(action.get("value"))
    if outcome_id is None:
        return
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]

    def target(is_admin: bool) -> OutcomeFacts | Refusal:
        with deps.uow() as uow:
            return calibrations.calibration_target(
                uow, team_id=team_id, outcome_id=outcome_id, user_id=user_id, is_admin=is_admin
            )

    try:
        facts = _as_manager_or_admin(client, deps, user_id, target)
    except SlackUnavailable:
        reply_to_click(client, body, message(CANNOT_CHECK))
        return
    if isinstance(facts, Refusal):
        reply_to_click(client, body, message(REFUSALS[facts]))
        return
    try:
        client.views_open(trigger_id=body["trigger_id"], view=calibration_modal(facts))
    except SlackApiError as error:
        log.warning("views.open for a calibration failed: %s", error.response.get("error"))
        reply_to_click(
            client,
            body,
            message("Slack didn't let me open the form just now. Please click again."),
        )


def calibration_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The manager's view: field errors keep the modal open; who may calibrate is checked here,
    in the unit of work that saves it, and a refusal is said under the sentence."""
    outcome_id = read_calibration_metadata(view.get("private_metadata", ""))
    if outcome_id is None:
        ack()
        return
    submission, errors = parse_calibration_submission(view["state"]["values"])
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        result = _calibrate(client, context["deps"], team_id_of(body), body, outcome_id, submission)
    except SlackUnavailable:
        ack(response_action="errors", errors={"note": CANNOT_CHECK})
        return
    except Exception:  # the database is down: keep the modal and what was written
        log.exception("saving a calibration failed")
        ack(response_action="errors", errors={"note": SAVE_FAILED})
        return
    if isinstance(result, Refusal):
        ack(response_action="errors", errors={"note": REFUSALS[result]})
        return
    ack()


def _calibrate(
    client: WebClient,
    deps: Deps,
    team_id: str,
    body: dict[str, Any],
    outcome_id: int,
    submission: CalibrationSubmission | None,
) -> Calibrated | Refusal:
    user_id = body["user"]["id"]

    def save(is_admin: bool) -> Calibrated | Refusal:
        with deps.uow() as uow:
            return calibrations.record_calibration(
                uow,
                team_id=team_id,
                outcome_id=outcome_id,
                user_id=user_id,
                is_admin=is_admin,
                submission=submission,
            )

    return _as_manager_or_admin(client, deps, user_id, save)


def _as_manager_or_admin(
    client: WebClient, deps: Deps, user_id: str, act: Callable[[bool], T]
) -> T:
    """`act(is_admin)` as the rep's manager (our records), and only when that is refused, as
    a workspace admin if Slack says they are one (users.info; raises SlackUnavailable when
    Slack didn't answer). A refusal wrote nothing, so asking again is safe."""
    configured = user_id in deps.settings.admins
    result = act(configured)
    if result is not Refusal.NOT_THE_MANAGER or configured:
        return result
    profile = lookup_profile(client, user_id)
    if not is_rebound_admin(profile, user_id, deps.settings.admins):
        return result
    return act(True)


def lesson_share_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """ "Share with my team" / "Make it private again" on a win's lesson: only its rep decides.
    The answer replaces the message clicked (through the click's response_url), so its button
    always says what the next click does."""
    ack()
    reflection_id = _int(action.get("value"))
    if reflection_id is None:
        return
    deps: Deps = context["deps"]
    with deps.uow() as uow:
        state = lessons.share_lesson(
            uow,
            team_id=team_id_of(body),
            user_id=body["user"]["id"],
            reflection_id=reflection_id,
            share=action.get("action_id") == SHARE_LESSON_ACTION_ID,
        )
    if state is None:
        return
    if isinstance(state, NotYours):
        reply_to_click(client, body, not_yours_message("lesson", state.owner_user_id))
        return
    response_url = body.get("response_url")
    if response_url:
        post_to_response_url(response_url, win_lesson_saved_dm(state), replace_original=True)


def reply_with_lessons(client: WebClient, deps: Deps, command: dict[str, Any], text: str) -> None:
    """`/rebound lessons [words]`, after the ack: an ephemeral list only the asker sees.

    `text` is as Slack sent it (AT&amp;T); the words are searched, and echoed, as typed."""
    with deps.uow() as uow:
        result = lessons.find_lessons(
            session=uow.session,
            team_id=command["team_id"],
            user_id=command["user_id"],
            text=unescape_command_text(text),
        )
    send_ephemeral(client, command, lessons_message(result))


# --- plumbing ------------------------------------------------------------------------------------


def _owner_of(deps: Deps, team_id: str, outcome_id: int) -> str | None:
    """Whose debrief `outcome_id` is in this workspace (None when there is no such debrief)."""
    with deps.uow() as uow:
        return usecases.debrief_owner(uow, team_id=team_id, outcome_id=outcome_id)


def _open_modal(client: WebClient, command: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
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


def _int(value: Any) -> int | None:
    try:
        return parse_row_id(value)
    except ValueError:
        return None
