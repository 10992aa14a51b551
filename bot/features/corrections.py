"""A rep corrects or removes an outcome they logged in the last 7 days, from their Home.

*Correct* opens the /lost or /won form filled in with what was saved (views.open, the direct
answer to the click); submitting it saves the correction before the ack (a failure keeps the
form open with everything in it) and publishes the rep's Home again, the answer they are
looking at. *Remove* (after Slack's confirm dialog) deletes the outcome and publishes the Home.
The messages already posted about the outcome follow (the manager's note, the rep's DMs, a
shout-out): the use case queues their updates in the same unit of work
(bot.usecases.correction_updates).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.corrections import (
    CORRECT_ACTION_ID,
    CORRECT_LOST_CALLBACK_ID,
    CORRECT_WON_CALLBACK_ID,
    REFUSALS,
    REMOVE_ACTION_ID,
    correction_modal,
    read_correction_metadata,
    refused_message,
)
from bot.blocks.debriefs import parse_lost_submission, parse_won_submission
from bot.features._interactions import RowClick, form_row_and_answers, on_row_click, open_modal
from bot.features._save_before_ack import SAVE_FAILED
from bot.features.home import publish_home
from bot.messaging import reply_to_click, team_id_of
from bot.usecases import corrections as usecases

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    app.action(CORRECT_ACTION_ID)(correct_clicked)
    app.action(REMOVE_ACTION_ID)(remove_clicked)
    app.view(CORRECT_LOST_CALLBACK_ID)(correction_submitted)
    app.view(CORRECT_WON_CALLBACK_ID)(correction_submitted)


@on_row_click
def correct_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    with click.deps.uow() as uow:
        prompt = usecases.correction_prompt(
            uow, team_id=click.team_id, user_id=click.user_id, outcome_id=click.row_id
        )
    if isinstance(prompt, usecases.Refused):
        reply_to_click(client, body, refused_message(prompt.why))
        return
    open_modal(client, body["trigger_id"], correction_modal(prompt), what="a correction")


@on_row_click
def remove_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    with click.deps.uow() as uow:
        result = usecases.remove_outcome(
            uow, team_id=click.team_id, user_id=click.user_id, outcome_id=click.row_id
        )
    if isinstance(result, usecases.Refused) and result.why != "gone":
        reply_to_click(client, body, refused_message(result.why))
        return
    publish_home(client, click.deps, team_id=click.team_id, user_id=click.user_id)


def correction_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    loss = view.get("callback_id") == CORRECT_LOST_CALLBACK_ID
    parse = parse_lost_submission if loss else parse_won_submission
    form = form_row_and_answers(ack, view, read_correction_metadata, parse)
    if form is None:
        return
    outcome_id, submission = form
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    try:
        with deps.uow() as uow:
            correct = usecases.correct_loss if loss else usecases.correct_win
            result = correct(
                uow,
                team_id=team_id,
                user_id=user_id,
                outcome_id=outcome_id,
                submission=submission,  # type: ignore[arg-type]
            )
    except Exception:  # the database is down: keep the form and what was typed
        log.exception("saving a correction failed")
        ack(response_action="errors", errors={"deal": SAVE_FAILED})
        return
    if isinstance(result, usecases.Refused):
        # Said under the form's first field; nothing was saved.
        ack(response_action="errors", errors={"deal": REFUSALS.get(result.why, SAVE_FAILED)})
        return
    ack()
    publish_home(client, deps, team_id=team_id, user_id=user_id)
