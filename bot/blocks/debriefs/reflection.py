"""The reflection modals (a loss's questions, with the last commitment's follow-up; a
win's one question), the one shown when the lessons are kept already, the ids they carry in
their private_metadata, and the parsing of what they submit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.debriefs.fields import _choice, _text, _text_input
from bot.blocks.kit import context, escape_mrkdwn, input_block, modal, option, section
from bot.domain.debriefs import (
    COMMITMENT_KEY,
    REFLECTION_QUESTIONS,
    WIN_LESSON_KEY,
    WIN_QUESTION,
    Commitment,
    ReflectionSubmission,
    reflection_questions,
)
from bot.domain.text import parse_row_id

REFLECT_CALLBACK_ID = "debrief_reflect"
FOLLOW_UP_BLOCK_ID = "followed_up"

MAX_ANSWER = 1000
MAX_COMMITMENT = 300


@dataclass(frozen=True)
class ReflectionIds:
    """What the reflection modal carries in its private_metadata."""

    outcome_id: int
    commitment_id: int | None  # the earlier commitment it asks "did you do it?" about
    perfect_miss: bool = False
    win: bool = False  # a win's one question (what worked)


def reflection_metadata(ids: ReflectionIds) -> str:
    return json.dumps(
        {
            "outcome_id": ids.outcome_id,
            "commitment_id": ids.commitment_id,
            "perfect_miss": ids.perfect_miss,
            "win": ids.win,
        }
    )


def read_reflection_metadata(private_metadata: str) -> ReflectionIds | None:
    try:
        data = json.loads(private_metadata or "")
        outcome_id = parse_row_id(data["outcome_id"])
        commitment = data.get("commitment_id")
        return ReflectionIds(
            outcome_id=outcome_id,
            commitment_id=parse_row_id(commitment) if commitment is not None else None,
            perfect_miss=data.get("perfect_miss") is True,
            win=data.get("win") is True,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def win_lesson_modal(deal: str, outcome_id: int) -> dict[str, Any]:
    """A win's one question (seed 004): what worked, kept as a lesson the rep may share."""
    blocks = [
        context(
            f"What worked on *{escape_mrkdwn(deal)}*? Only you and your manager can read it, "
            "unless you share it with your team afterwards."
        ),
        _text_input(
            WIN_LESSON_KEY,
            WIN_QUESTION,
            max_length=MAX_ANSWER,
            multiline=True,
            placeholder="e.g. I asked about budget on the first call",
        ),
    ]
    ids = ReflectionIds(outcome_id=outcome_id, commitment_id=None, win=True)
    return modal(
        "Your lesson",
        blocks,
        callback_id=REFLECT_CALLBACK_ID,
        private_metadata=reflection_metadata(ids),
        submit="Keep my lesson",
        close="Later",
    )


def reflection_modal(
    deal: str, outcome_id: int, commitment: Commitment | None, *, perfect_miss: bool = False
) -> dict[str, Any]:
    """The seed's questions; with the last commitment's follow-up first when there is one."""
    blocks: list[dict[str, Any]] = [
        context(f"Lessons from *{escape_mrkdwn(deal)}* — only you and your manager can read them."),
    ]
    if commitment is not None:
        blocks.append(
            section(
                f"Last time (after *{escape_mrkdwn(commitment.deal)}*) you committed to:\n"
                f"> {escape_mrkdwn(commitment.text)}"
            )
        )
        radio = {
            "type": "radio_buttons",
            "action_id": "value",
            "options": [option("Yes, I did", "yes"), option("Not yet", "no")],
        }
        blocks.append(input_block(FOLLOW_UP_BLOCK_ID, "Did you do it?", radio))
    for key, question in reflection_questions(perfect_miss=perfect_miss):
        is_commitment = key == COMMITMENT_KEY
        blocks.append(
            _text_input(
                key,
                question,
                max_length=MAX_COMMITMENT if is_commitment else MAX_ANSWER,
                optional=not is_commitment,
                multiline=not is_commitment,
                hint="Your next check-in will ask how it went." if is_commitment else "",
            )
        )
    ids = ReflectionIds(
        outcome_id=outcome_id,
        commitment_id=commitment.reflection_id if commitment else None,
        perfect_miss=perfect_miss,
    )
    return modal(
        "Your lessons",
        blocks,
        callback_id=REFLECT_CALLBACK_ID,
        private_metadata=reflection_metadata(ids),
        submit="Keep my lessons",
        close="Later",
    )


def already_reflected_modal(deal: str, answers: Sequence[tuple[str, str]]) -> dict[str, Any]:
    lines = (
        "\n".join(f"*{escape_mrkdwn(q)}*\n{escape_mrkdwn(a)}" for q, a in answers)
        or "_No answers._"
    )
    blocks = [
        context(f"You already kept your lessons from *{escape_mrkdwn(deal)}*:"),
        section(lines),
    ]
    return modal("Your lessons", blocks, close="Close")


def parse_reflection_submission(
    values: Mapping[str, Any],
    *,
    asks_follow_up: bool,
    perfect_miss: bool = False,
    win: bool = False,
) -> tuple[ReflectionSubmission | None, dict[str, str]]:
    errors: dict[str, str] = {}
    answers: dict[str, str] = {}
    if win:
        worked = _text(values, WIN_LESSON_KEY, "what worked", MAX_ANSWER, errors, required=True)
        if errors or worked is None:
            return None, errors
        return ReflectionSubmission(answers={WIN_LESSON_KEY: worked}, followed_up=None), {}
    commitment_label = (
        "the one thing you'll keep doing"
        if perfect_miss
        else "the one thing you will do differently"
    )
    for key, _question in REFLECTION_QUESTIONS:
        is_commitment = key == COMMITMENT_KEY
        answer = _text(
            values,
            key,
            commitment_label if is_commitment else "this answer",
            MAX_COMMITMENT if is_commitment else MAX_ANSWER,
            errors,
            required=is_commitment,
        )
        if answer is not None:
            answers[key] = answer
    followed_up: bool | None = None
    if asks_follow_up:
        choice = _choice(
            values,
            FOLLOW_UP_BLOCK_ID,
            {"yes": "", "no": ""},
            "Did you do what you committed to? Pick one.",
            errors,
        )
        followed_up = None if choice is None else choice == "yes"
    if errors:
        return None, errors
    return ReflectionSubmission(answers=answers, followed_up=followed_up), {}
