"""The rep's "I'd like to talk" on their losing streak's private DM (seed 003).

The DM and the manager's prompt are queued with the loss that completed the streak (bot.
usecases.debriefs.record_loss → bot.usecases.resilience); this listener only answers the click:
ack, call one use case (which queues the manager's note in the outbox), and tell the rep,
privately, what happened.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.resilience import (
    TALK_ACTION_ID,
    no_manager_reply,
    streak_gone_reply,
    talk_requested_reply,
)
from bot.features._interactions import RowClick, on_row_click
from bot.messaging import not_yours_message, reply_to_click
from bot.usecases import resilience as usecases


def register(app: App, deps: Deps) -> None:
    app.action(TALK_ACTION_ID)(talk_clicked)


@on_row_click
def talk_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    with click.deps.uow() as uow:
        result = usecases.record_talk_request(
            uow, team_id=click.team_id, user_id=click.user_id, first_loss_id=click.row_id
        )
    if isinstance(result, usecases.NotTheirStreak):
        reply_to_click(client, body, not_yours_message("note", result.owner_user_id))
    elif isinstance(result, usecases.NoManager):
        reply_to_click(client, body, no_manager_reply())
    elif isinstance(result, usecases.StreakGone):
        reply_to_click(client, body, streak_gone_reply())
    else:
        reply_to_click(
            client, body, talk_requested_reply(result.manager_user_id, first_time=result.first_time)
        )
