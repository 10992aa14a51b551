"""A win's lesson question: "Skip this one" (no reminder follows) — ack, one use case
(bot.usecases.lesson_reminders), and the win DM updated to say so. The reminder itself is the
debrief job's (bot.jobs.debriefs), sent through the outbox."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.debriefs import (
    LESSON_NOT_NOW_ACTION_ID,
    lesson_not_now_blocks,
    lesson_not_now_not_yours,
)
from bot.domain.debriefs import NotYours
from bot.features._interactions import RowClick, on_row_click
from bot.messaging import replace_clicked_message, reply_to_click
from bot.usecases import lesson_reminders as usecases


def register(app: App, deps: Deps) -> None:
    app.action(LESSON_NOT_NOW_ACTION_ID)(not_now_clicked)


@on_row_click
def not_now_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    outcome_id = click.row_id
    with click.deps.uow() as uow:
        result = usecases.lesson_not_now(
            uow, team_id=click.team_id, user_id=click.user_id, outcome_id=outcome_id
        )
    if result is None:
        return
    if isinstance(result, NotYours):
        # Someone else's win DM (forwarded, or a forged click): only they are told, nothing changed.
        reply_to_click(client, body, lesson_not_now_not_yours(result.owner_user_id))
        return
    # The direct answer to the click, so not through the outbox (as for the consent buttons).
    replace_clicked_message(body, lambda blocks: lesson_not_now_blocks(blocks, outcome_id))
