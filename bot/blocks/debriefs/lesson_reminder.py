"""A win's lesson question, followed up: the rep's "Skip this one" beside it (no reminder then), the
one gentle reminder when it waited the workspace's reflection-reminder hours unanswered, and
the win DM as it reads after "Skip this one".

Seed 004: "when one of your sales reps lands a big account, it's important to recognize their
success and share what they did well with the rest of the team as a learning opportunity" —
the reminder asks once, gently, and a "Skip this one" is respected: no reminder follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks.kit import actions, button, context, escape_mrkdwn, section
from bot.domain.debriefs import WIN_QUESTION, OutcomeFacts

# The block holding the win DM's "Answer the question" (and "Skip this one"): the same id as a loss
# DM's reflect button, so every reflect button reads alike to the listeners.
REFLECT_BLOCK_ID = "debrief_reflect"
REFLECT_ACTION_ID = "debrief_reflect_open"
# "Skip this one", not "Not now": the CRM offer's "Not now" means "remind me later", this one
# means no reminder, so the two must not read alike.
LESSON_NOT_NOW_ACTION_ID = "lesson_not_now"
NOT_NOW_NOTE = "No reminder for this one. The question stays here if you want it later."


def _answer_button(outcome_id: int, text: str) -> dict[str, Any]:
    return button(text, REFLECT_ACTION_ID, style="primary", value=str(outcome_id))


def win_question_actions(outcome_id: int) -> dict[str, Any]:
    """The win DM's buttons under its one question: answer it, or say not now (no reminder)."""
    return actions(
        _answer_button(outcome_id, "Answer the question"),
        button("Skip this one", LESSON_NOT_NOW_ACTION_ID, value=str(outcome_id)),
        block_id=REFLECT_BLOCK_ID,
    )


def win_lesson_reminder_dm(facts: OutcomeFacts) -> dict[str, Any]:
    """The one reminder of a win's lesson question (an outbox DM): gentle, the question itself,
    and why it is worth a minute."""
    deal = escape_mrkdwn(facts.deal)
    text = (
        f"A gentle nudge about your win on *{deal}*: *{WIN_QUESTION}* "
        "One line is enough — it's how a win becomes something you can repeat, and maybe "
        "something a teammate can learn from."
    )
    return {
        "text": f"What worked on {deal}? Your lesson from the win is still waiting.",
        "blocks": [
            section(text),
            actions(_answer_button(facts.id, "Answer now"), block_id=REFLECT_BLOCK_ID),
            context("Private to you and your manager, unless you choose to share it."),
        ],
    }


def lesson_not_now_blocks(
    message_blocks: Sequence[dict[str, Any]], outcome_id: int
) -> list[dict[str, Any]]:
    """The win DM's blocks after "Skip this one": the question keeps its answer button (the rep may
    still answer it any time) and says no reminder will come; the rest as it was."""
    blocks: list[dict[str, Any]] = []
    for block in message_blocks:
        if block.get("block_id") != REFLECT_BLOCK_ID:
            blocks.append(dict(block))
            continue
        blocks.append(
            actions(_answer_button(outcome_id, "Answer the question"), block_id=REFLECT_BLOCK_ID)
        )
        blocks.append(context(NOT_NOW_NOTE))
    return blocks


def lesson_not_now_not_yours(owner_user_id: str) -> dict[str, Any]:
    """Ephemeral answer to someone clicking another rep's "Skip this one": nothing changed."""
    return {"text": f"That question is for <@{owner_user_id}>, so I left it as it was."}
