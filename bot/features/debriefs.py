"""`/lost`, `/won`, reflections, perfect-miss consent, and `/rebound lessons`.

Each listener is a module-level function: ack, read the payload, call one use case of
`bot.usecases.debriefs` in a unit of work, hand what came back to a pure builder of
`bot.blocks.debriefs`. Messages the use cases cause (the rep's DM, the manager's note, the
shout-outs) are outbox rows written in the same transaction as the debrief; the dispatcher
sends them (bot.dispatcher), so Slack's retries and double clicks post once. `register` is the
table of what answers which request; the reflection reminders are a job (bot.jobs.debriefs).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.debriefs import (
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    LOST_CALLBACK_ID,
    REFLECT_ACTION_ID,
    REFLECT_CALLBACK_ID,
    WON_CALLBACK_ID,
    already_reflected_modal,
    consent_recorded_blocks,
    lessons_message,
    lost_modal,
    not_your_questions,
    parse_lost_submission,
    parse_reflection_submission,
    parse_won_submission,
    read_crm_offer_id,
    read_reflection_metadata,
    reflection_modal,
    won_modal,
)
from bot.domain.text import parse_row_id
from bot.features._save_before_ack import SAVE_FAILED, save_before_ack
from bot.jobs import debriefs as jobs
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.slack_text import unescape_command_text
from bot.usecases import debriefs as usecases
from bot.usecases.debriefs import NotYours

log = logging.getLogger(__name__)

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
    submission, errors = parse_lost_submission(view["state"]["values"])
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    deps: Deps = context["deps"]
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: usecases.record_loss(
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


def won_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    submission, errors = parse_won_submission(view["state"]["values"])
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    deps: Deps = context["deps"]
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: usecases.record_win(
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
        return
    if isinstance(prompt, NotYours):
        reply_to_click(client, body, not_your_questions(prompt.owner_user_id))
        return
    view = (
        already_reflected_modal(prompt.deal, prompt.answered)
        if prompt.answered
        else reflection_modal(
            prompt.deal, prompt.outcome_id, prompt.commitment, perfect_miss=prompt.perfect_miss
        )
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
    )
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    try:
        owner = _owner_of(deps, team_id, outcome_id)
    except Exception:  # the database is down: keep the modal and what was written
        log.exception("reading the debrief failed")
        ack(response_action="errors", errors={"commitment": SAVE_FAILED})
        return
    if owner != user_id:
        # Another rep's questions (a forged or misrouted form): said in the form, nothing saved.
        ack(response_action="errors", errors={"commitment": NOT_YOURS_ERROR})
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
        error_block="commitment",
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
    if owner is not None and owner != user_id:
        # Only the rep may say whether their perfect miss is celebrated.
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
    if state is None or state.consent is None:
        return
    _replace_consent_buttons(client, body, consent=state.consent is True)


def reply_with_lessons(client: WebClient, deps: Deps, command: dict[str, Any], text: str) -> None:
    """`/rebound lessons [words]`, after the ack: an ephemeral list only the asker sees.

    `text` is as Slack sent it (AT&amp;T); the words are searched, and echoed, as typed."""
    with deps.uow() as uow:
        result = usecases.find_lessons(
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


def _replace_consent_buttons(client: WebClient, body: dict[str, Any], *, consent: bool) -> None:
    message, channel = body.get("message"), (body.get("channel") or {}).get("id")
    if not message or not channel or not message.get("ts"):
        return
    try:
        client.chat_update(
            channel=channel,
            ts=message["ts"],
            text=message.get("text") or "Debrief saved",
            blocks=consent_recorded_blocks(message.get("blocks") or [], consent=consent),
        )
    except SlackApiError as error:
        log.info("could not update the consent message: %s", error.response.get("error"))


def _submission_key(view: dict[str, Any]) -> str:
    # The view id is the same for every submission of one modal, Slack retries included.
    return f"view:{view['id']}"


def _int(value: Any) -> int | None:
    try:
        return parse_row_id(value)
    except ValueError:
        return None
