"""Lessons: sharing a win's lesson with the team (or making it private again), and
`/rebound lessons [words]`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.debriefs import (
    SHARE_LESSON_ACTION_ID,
    lessons_message,
    win_lesson_saved_dm,
)
from bot.domain.debriefs import NotYours
from bot.features._interactions import RowClick, on_row_click
from bot.messaging import (
    not_yours_message,
    post_to_response_url,
    reply_to_click,
    send_ephemeral,
)
from bot.slack_text import unescape_command_text
from bot.usecases import lessons


@on_row_click
def lesson_share_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    """ "Share with my team" / "Make it private again" on a win's lesson: only its rep decides.
    The answer replaces the message clicked (through the click's response_url), so its button
    always says what the next click does."""
    with click.deps.uow() as uow:
        state = lessons.share_lesson(
            uow,
            team_id=click.team_id,
            user_id=click.user_id,
            reflection_id=click.row_id,
            share=click.action_id == SHARE_LESSON_ACTION_ID,
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
