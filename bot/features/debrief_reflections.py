"""The reflection questions of a debrief: *Reflect* opens them (a loss's four, a win's one),
and the modal's answers are saved before the ack (bot.features._save_before_ack).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.debriefs import (
    already_reflected_modal,
    not_your_questions,
    parse_reflection_submission,
    read_reflection_metadata,
    reflection_modal,
    win_lesson_modal,
)
from bot.domain.debriefs import WIN_LESSON_KEY, NotYours
from bot.features._debrief_common import _owner_of
from bot.features._interactions import RowClick, on_row_click, open_modal
from bot.features._removed_outcomes import answer_missing_outcome, missing_outcome_error
from bot.features._save_before_ack import SAVE_FAILED, save_before_ack
from bot.messaging import (
    NOT_YOURS_ERROR,
    reply_to_click,
    team_id_of,
)
from bot.usecases import debriefs as usecases

log = logging.getLogger(__name__)


@on_row_click
def reflect_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    with click.deps.uow() as uow:
        prompt = usecases.reflection_prompt(
            session=uow.session,
            team_id=click.team_id,
            user_id=click.user_id,
            outcome_id=click.row_id,
        )
    if prompt is None:
        # Removed by its rep since this message was posted (a stale button): nothing to answer.
        answer_missing_outcome(client, body, click.deps, click.row_id)
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
    open_modal(client, body["trigger_id"], view, what="reflections")


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
        # Removed by its rep while the form was open (else not of this workspace: not
        # theirs): said in the form, nothing saved.
        ack(
            response_action="errors",
            errors={error_block: missing_outcome_error(deps, body, outcome_id)},
        )
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
