"""The rep's say on a public shout-out: their yes or no to a perfect miss or a bounce-back
being shared, and *Take it back*.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.blocks.debriefs import (
    CELEBRATE_YES_ACTION_ID,
    already_taken_back,
    ask_withdrawn_blocks,
    consent_recorded_blocks,
    nothing_to_take_back,
    take_back_lost_track,
    taken_back_blocks,
)
from bot.domain.debriefs import NotYours
from bot.features._debrief_common import _owner_of
from bot.features._interactions import RowClick, on_row_click
from bot.features._removed_outcomes import answer_missing_outcome
from bot.messaging import (
    not_yours_message,
    replace_clicked_message,
    reply_to_click,
)
from bot.usecases import debriefs as usecases
from bot.usecases.debriefs import CelebrationWithdrawn, TakenBack


@on_row_click
def celebration_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    deps, outcome_id = click.deps, click.row_id
    owner = _owner_of(deps, click.team_id, outcome_id)
    if owner is None:
        answer_missing_outcome(client, body, deps, outcome_id)  # removed by its rep: nothing saved
        return
    if owner != click.user_id:
        # Only the rep may say whether their perfect miss or bounce-back is shared.
        reply_to_click(client, body, not_yours_message("choice", owner))
        return
    with deps.uow() as uow:
        state = usecases.record_celebration_choice(
            uow,
            team_id=click.team_id,
            user_id=click.user_id,
            outcome_id=outcome_id,
            consent=click.action_id == CELEBRATE_YES_ACTION_ID,
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


@on_row_click
def take_back_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    """ "Take it back" on a shout-out the rep agreed to (behind Slack's confirm dialog)."""
    with click.deps.uow() as uow:
        result = usecases.take_back_shout_out(
            uow, team_id=click.team_id, user_id=click.user_id, outcome_id=click.row_id
        )
    if result is None:
        # Removed by its rep: its shout-out came down with it.
        answer_missing_outcome(client, body, click.deps, click.row_id)
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
