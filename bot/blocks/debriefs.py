"""Block Kit for `/lost`, `/won`, reflections and lessons (pure builders and parsers).

The words come from the seed texts: the reflection questions from 000/001 ("A lost opportunity is
a form of negative feedback. There's a lesson in there for you somewhere."), the four outcomes
and "go out and do exactly what you did again" from 002, the "tip of the hat" for a bounce-back
from 003.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from bot.domain import (
    CLASSIFICATION_LABELS,
    CLASSIFICATION_SUMMARIES,
    COACHING_MESSAGES,
    LUCK_LABELS,
    LUCK_LEVELS,
    PRACTICE_LABELS,
    PRACTICES,
    Classification,
    format_duration,
)
from bot.slack_text import escape_mrkdwn, plural, truncate
from bot.usecases.text import parse_decimal, parse_row_id, saveable_text

LOST_CALLBACK_ID = "debrief_lost"
WON_CALLBACK_ID = "debrief_won"
REFLECT_CALLBACK_ID = "debrief_reflect"
REFLECT_ACTION_ID = "debrief_reflect_open"
CELEBRATE_YES_ACTION_ID = "debrief_celebrate_yes"
CELEBRATE_NO_ACTION_ID = "debrief_celebrate_no"
CELEBRATE_BLOCK_ID = "debrief_celebrate"

STAGES: dict[str, str] = {
    "prospecting": "Prospecting",
    "discovery": "Discovery",
    "evaluation": "Demo / evaluation",
    "proposal": "Proposal",
    "negotiation": "Negotiation",
    "closing": "Closing / legal",
}
REASONS: dict[str, str] = {
    "price": "Price",
    "competitor": "Competitor",
    "no_decision": "No decision",
    "timing": "Timing",
    "product_fit": "Product fit",
    "champion_left": "Champion left",
    "other": "Other",
}

# Seeds 000/001. The last question is the commitment that check-ins and the next debrief
# follow up on (Reflection.is_commitment).
COMMITMENT_KEY = "commitment"
REFLECTION_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("learned", "What did you learn from this opportunity?"),
    ("feedback_lesson", "What lesson is in the feedback you got?"),
    ("in_control", "What was in your control?"),
    (COMMITMENT_KEY, "One thing I will do differently"),
)
# Seed 002: after a perfect miss nothing needs to change ("go out and do exactly what you did
# again"), so the commitment is what to keep; it is followed up on all the same.
KEEP_DOING_QUESTION = "One thing I'll keep doing exactly the same"
FOLLOW_UP_BLOCK_ID = "followed_up"

MAX_DEAL = 120
MAX_COMPETITOR = 80
MAX_FEEDBACK = 1500
MAX_ANSWER = 1000
MAX_COMMITMENT = 300
MAX_AMOUNT = Decimal("999999999999.99")  # Outcome.amount is Numeric(14, 2)
LESSON_SNIPPET = 280


# --- what the modals submit --------------------------------------------------------------------


@dataclass(frozen=True)
class LossSubmission:
    deal: str
    amount: float | None
    stage: str
    reason: str
    competitor: str | None
    practices: dict[str, bool]
    buyer_feedback: str | None


@dataclass(frozen=True)
class WinSubmission:
    deal: str
    amount: float | None
    practices: dict[str, bool]
    luck: int


@dataclass(frozen=True)
class ReflectionSubmission:
    answers: dict[str, str]  # question key -> answer; unanswered optional questions left out
    followed_up: bool | None  # the answer to "did you do it?", when it was asked


@dataclass(frozen=True)
class ReflectionIds:
    """What the reflection modal carries in its private_metadata."""

    outcome_id: int
    commitment_id: int | None  # the earlier commitment it asks "did you do it?" about
    perfect_miss: bool = False


class ShoutOut(Enum):
    """Where a consented shout-out stands after trying to post it."""

    POSTED = "posted"
    NO_CHANNEL = "no-channel"  # no recognition channel set yet
    CHANNEL_FAILED = "channel-failed"  # the bot can't post in the channel that is set
    LATER = "later"  # Slack failed for now; the scheduler tries again


# --- what messages are built from ----------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeFacts:
    id: int
    user_id: str
    kind: str  # "win" | "loss"
    deal: str
    classification: Classification
    practices: dict[str, bool]
    occurred_at: datetime
    amount: float | None = None
    stage: str | None = None
    reason: str | None = None
    competitor: str | None = None
    buyer_feedback: str | None = None
    luck: int | None = None
    bounce_back_losses: int | None = None
    bounce_back_recovery: timedelta | None = None


@dataclass(frozen=True)
class ResilienceLine:
    bounce_backs: int
    median_recovery: timedelta | None


@dataclass(frozen=True)
class Commitment:
    reflection_id: int
    text: str
    deal: str


@dataclass(frozen=True)
class Lesson:
    user_id: str
    deal: str
    kind: str
    reason: str | None
    question: str
    answer: str
    answered_at: datetime
    is_commitment: bool = False
    followed_up: bool | None = None


@dataclass(frozen=True)
class LessonsResult:
    viewer_id: str
    words: list[str]  # searched for: lower-cased
    lessons: list[Lesson] = field(default_factory=list)
    is_manager: bool = False
    typed_words: list[str] | None = None  # the same words as typed (AT&T), to echo back


# --- small helpers -------------------------------------------------------------------------------


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _mrkdwn_section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}, **extra}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def _text_input(
    block_id: str,
    label: str,
    *,
    max_length: int,
    optional: bool = False,
    multiline: bool = False,
    initial: str = "",
    placeholder: str = "",
    hint: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": max_length,
        "multiline": multiline,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label),
        "element": element,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _static_select(block_id: str, label: str, choices: Mapping[str, str]) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {
            "type": "static_select",
            "action_id": "value",
            "placeholder": _plain("Choose one"),
            "options": [_option(text, value) for value, text in choices.items()],
        },
    }


def _amount_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "amount",
        "optional": True,
        "label": _plain("Amount"),
        "hint": _plain("Only you and your manager see it; never posted in a channel."),
        "element": {
            "type": "number_input",
            "action_id": "value",
            "is_decimal_allowed": True,
            "min_value": "0",
        },
    }


def _practices_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "practices",
        "optional": True,
        "label": _plain("Which of these held on this deal?"),
        "hint": _plain("Be honest: this is how Rebound tells bad luck from a process to fix."),
        "element": {
            "type": "checkboxes",
            "action_id": "value",
            "options": [_option(PRACTICE_LABELS[p], p) for p in PRACTICES],
        },
    }


def _deal_input(deal: str) -> dict[str, Any]:
    return _text_input(
        "deal", "Deal", max_length=MAX_DEAL, initial=deal.strip(), placeholder="e.g. Acme renewal"
    )


# --- the /lost and /won modals -------------------------------------------------------------------


def lost_modal(deal: str = "") -> dict[str, Any]:
    blocks = [
        _context("A lost opportunity is feedback — there's a lesson in it somewhere. ~1 minute."),
        _deal_input(deal),
        _amount_input(),
        _static_select("stage", "Stage where it was lost", STAGES),
        _static_select("reason", "Main reason", REASONS),
        _text_input("competitor", "Competitor", max_length=MAX_COMPETITOR, optional=True),
        _practices_input(),
        _text_input(
            "buyer_feedback",
            "What feedback did the buyer give you?",
            max_length=MAX_FEEDBACK,
            optional=True,
            multiline=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": LOST_CALLBACK_ID,
        "title": _plain("Loss debrief"),
        "submit": _plain("Save debrief"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def won_modal(deal: str = "") -> dict[str, Any]:
    blocks = [
        _context("Log the win, and be honest about how much of it was process."),
        _deal_input(deal),
        _amount_input(),
        _practices_input(),
        _static_select("luck", "How much of it was luck?", LUCK_LABELS),
    ]
    return {
        "type": "modal",
        "callback_id": WON_CALLBACK_ID,
        "title": _plain("Log a win"),
        "submit": _plain("Log win"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _state(values: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    return (values.get(block_id) or {}).get("value") or {}


def _text(
    values: Mapping[str, Any],
    block_id: str,
    label: str,
    max_length: int,
    errors: dict[str, str],
    *,
    required: bool,
) -> str | None:
    text, error = saveable_text(
        _state(values, block_id).get("value"), label=label, max_length=max_length, required=required
    )
    if error:
        errors[block_id] = error
    return text


def _amount(values: Mapping[str, Any], errors: dict[str, str]) -> float | None:
    raw = _state(values, "amount").get("value")
    if raw is None or str(raw).strip() == "":
        return None
    amount = parse_decimal(str(raw), minimum=Decimal(0), maximum=MAX_AMOUNT, places=2)
    if amount == "too precise":
        errors["amount"] = "Use at most 2 decimals, e.g. 1200.50."
        return None
    if not isinstance(amount, Decimal):
        errors["amount"] = f"Enter an amount from 0 to {MAX_AMOUNT:,.2f}, or leave it empty."
        return None
    return float(amount)


def _choice(
    values: Mapping[str, Any],
    block_id: str,
    allowed: Mapping[str, str],
    message: str,
    errors: dict[str, str],
) -> str | None:
    value = (_state(values, block_id).get("selected_option") or {}).get("value")
    if value not in allowed:
        errors[block_id] = message
        return None
    return str(value)


def _practices(values: Mapping[str, Any]) -> dict[str, bool]:
    selected = {
        option.get("value") for option in _state(values, "practices").get("selected_options") or []
    }
    return {practice: practice in selected for practice in PRACTICES}


def parse_lost_submission(
    values: Mapping[str, Any],
) -> tuple[LossSubmission | None, dict[str, str]]:
    """Read the /lost modal's state: the loss, or field errors keyed by block_id."""
    errors: dict[str, str] = {}
    deal = _text(values, "deal", "the deal", MAX_DEAL, errors, required=True)
    amount = _amount(values, errors)
    stage = _choice(values, "stage", STAGES, "Pick the stage where it was lost.", errors)
    reason = _choice(values, "reason", REASONS, "Pick the main reason.", errors)
    competitor = _text(
        values, "competitor", "the competitor", MAX_COMPETITOR, errors, required=False
    )
    feedback = _text(
        values, "buyer_feedback", "the buyer's feedback", MAX_FEEDBACK, errors, required=False
    )
    if errors:
        return None, errors
    assert deal is not None and stage is not None and reason is not None
    return (
        LossSubmission(
            deal=deal,
            amount=amount,
            stage=stage,
            reason=reason,
            competitor=competitor,
            practices=_practices(values),
            buyer_feedback=feedback,
        ),
        {},
    )


def parse_won_submission(
    values: Mapping[str, Any],
) -> tuple[WinSubmission | None, dict[str, str]]:
    """Read the /won modal's state: the win, or field errors keyed by block_id."""
    errors: dict[str, str] = {}
    deal = _text(values, "deal", "the deal", MAX_DEAL, errors, required=True)
    amount = _amount(values, errors)
    luck = _choice(values, "luck", LUCK_LEVELS, "How much of it was luck? Pick one.", errors)
    if errors:
        return None, errors
    assert deal is not None and luck is not None
    return (
        WinSubmission(
            deal=deal, amount=amount, practices=_practices(values), luck=LUCK_LEVELS[luck]
        ),
        {},
    )


# --- reflections ---------------------------------------------------------------------------------


def reflection_questions(*, perfect_miss: bool) -> tuple[tuple[str, str], ...]:
    """The questions after a loss: (key, question). After a perfect miss the commitment is
    the one thing to keep doing, not to change."""
    if not perfect_miss:
        return REFLECTION_QUESTIONS
    return tuple(
        (key, KEEP_DOING_QUESTION if key == COMMITMENT_KEY else question)
        for key, question in REFLECTION_QUESTIONS
    )


def reflection_metadata(ids: ReflectionIds) -> str:
    return json.dumps(
        {
            "outcome_id": ids.outcome_id,
            "commitment_id": ids.commitment_id,
            "perfect_miss": ids.perfect_miss,
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
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def reflection_modal(
    deal: str, outcome_id: int, commitment: Commitment | None, *, perfect_miss: bool = False
) -> dict[str, Any]:
    """The seed's questions; with the last commitment's follow-up first when there is one."""
    blocks: list[dict[str, Any]] = [
        _context(
            f"Lessons from *{escape_mrkdwn(deal)}* — only you and your manager can read them."
        ),
    ]
    if commitment is not None:
        blocks.append(
            _mrkdwn_section(
                f"Last time (after *{escape_mrkdwn(commitment.deal)}*) you committed to:\n"
                f"> {escape_mrkdwn(commitment.text)}"
            )
        )
        blocks.append(
            {
                "type": "input",
                "block_id": FOLLOW_UP_BLOCK_ID,
                "label": _plain("Did you do it?"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "value",
                    "options": [_option("Yes, I did", "yes"), _option("Not yet", "no")],
                },
            }
        )
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
    return {
        "type": "modal",
        "callback_id": REFLECT_CALLBACK_ID,
        "private_metadata": reflection_metadata(
            ReflectionIds(
                outcome_id=outcome_id,
                commitment_id=commitment.reflection_id if commitment else None,
                perfect_miss=perfect_miss,
            )
        ),
        "title": _plain("Your lessons"),
        "submit": _plain("Keep my lessons"),
        "close": _plain("Later"),
        "blocks": blocks,
    }


def already_reflected_modal(deal: str, answers: Sequence[tuple[str, str]]) -> dict[str, Any]:
    lines = (
        "\n".join(f"*{escape_mrkdwn(q)}*\n{escape_mrkdwn(a)}" for q, a in answers)
        or "_No answers._"
    )
    return {
        "type": "modal",
        "title": _plain("Your lessons"),
        "close": _plain("Close"),
        "blocks": [
            _context(f"You already kept your lessons from *{escape_mrkdwn(deal)}*:"),
            _mrkdwn_section(lines),
        ],
    }


def parse_reflection_submission(
    values: Mapping[str, Any], *, asks_follow_up: bool, perfect_miss: bool = False
) -> tuple[ReflectionSubmission | None, dict[str, str]]:
    errors: dict[str, str] = {}
    answers: dict[str, str] = {}
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


# --- messages to the rep -------------------------------------------------------------------------


def _held(facts: OutcomeFacts) -> list[str]:
    return [PRACTICE_LABELS[p] for p in PRACTICES if facts.practices.get(p)]


def _slipped(facts: OutcomeFacts) -> list[str]:
    return [PRACTICE_LABELS[p] for p in PRACTICES if not facts.practices.get(p)]


def _verdict(classification: Classification) -> str:
    return f"*{CLASSIFICATION_LABELS[classification]}* — {CLASSIFICATION_SUMMARIES[classification]}"


def _questions_list(classification: Classification) -> str:
    questions = reflection_questions(perfect_miss=classification is Classification.PERFECT_MISS)
    return "\n".join(f"• {question}" for _, question in questions)


def _reflect_button(outcome_id: int, text: str = "Answer the questions") -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "debrief_reflect",
        "elements": [
            {
                "type": "button",
                "action_id": REFLECT_ACTION_ID,
                "text": _plain(text),
                "style": "primary",
                "value": str(outcome_id),
            }
        ],
    }


def loss_debrief_dm(facts: OutcomeFacts, *, recognition_channel_id: str | None) -> dict[str, Any]:
    """The rep's DM after /lost: the verdict, coaching, reflection questions, and for a perfect
    miss the question whether to celebrate it."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(truncate(f"Debrief saved: {facts.deal}", 150))},
        _mrkdwn_section(
            f"{_verdict(facts.classification)}\n{COACHING_MESSAGES[facts.classification]}"
        ),
    ]
    if facts.classification is Classification.PERFECT_MISS:
        where = f"<#{recognition_channel_id}>" if recognition_channel_id else "the team channel"
        blocks.append(
            _mrkdwn_section(
                f"Celebrate the perfect miss? I'd post a shout-out in {where} naming what you "
                "did right. The amount is never shared. Your call."
            )
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": CELEBRATE_BLOCK_ID,
                "elements": [
                    {
                        "type": "button",
                        "action_id": CELEBRATE_YES_ACTION_ID,
                        "text": _plain("Yes, celebrate it"),
                        "style": "primary",
                        "value": str(facts.id),
                    },
                    {
                        "type": "button",
                        "action_id": CELEBRATE_NO_ACTION_ID,
                        "text": _plain("Keep it private"),
                        "value": str(facts.id),
                    },
                ],
            }
        )
    elif facts.classification is Classification.SYSTEM_MISS and _slipped(facts):
        blocks.append(_context("Slipped this time: " + ", ".join(_slipped(facts)).lower() + "."))
    blocks.append({"type": "divider"})
    blocks.append(
        _mrkdwn_section(
            "A lost opportunity is a form of negative feedback. There's a lesson in there for "
            "you somewhere. Two minutes now, while it's fresh:\n"
            + _questions_list(facts.classification)
        )
    )
    blocks.append(_reflect_button(facts.id))
    return {
        "text": (
            f"Debrief saved: {escape_mrkdwn(facts.deal)} — "
            f"{CLASSIFICATION_LABELS[facts.classification]}"
        ),
        "blocks": blocks,
    }


def reflection_reminder_dm(facts: OutcomeFacts) -> dict[str, Any]:
    if facts.classification is Classification.PERFECT_MISS:
        # Seed 002: nothing to fix after a perfect miss, so no "what do you need to change?".
        nudge = "You did it right — what's the one thing you'll keep doing exactly the same?"
    else:
        nudge = "Now you know what doesn't work — what do you need to change?"
    text = (
        f"A gentle nudge: your lessons from *{escape_mrkdwn(facts.deal)}* are still waiting. "
        f"{nudge} Two minutes is enough."
    )
    return {
        "text": f"Your lessons from {escape_mrkdwn(facts.deal)} are still waiting.",
        "blocks": [_mrkdwn_section(text), _reflect_button(facts.id, "Answer now")],
    }


def reflection_saved_dm(
    deal: str, commitment: str | None, followed_up: bool | None, *, perfect_miss: bool = False
) -> dict[str, Any]:
    lines = [
        f"Kept as your lessons from *{escape_mrkdwn(deal)}*. "
        "Find them any time: `/rebound lessons`."
    ]
    if followed_up is True:
        lines.append(
            "And you did what you committed to last time. That's the feedback loop, closed."
        )
    elif followed_up is False:
        lines.append(
            "Last time's commitment isn't done yet — no judgement, it's still worth doing."
        )
    if commitment:
        one_thing = "to keep doing exactly the same" if perfect_miss else "to do differently"
        lines.append(
            f"Your one thing {one_thing}: _{escape_mrkdwn(commitment)}_. "
            "Your next check-in will ask how it went."
        )
    return {
        "text": f"Lessons kept: {escape_mrkdwn(deal)}",
        "blocks": [_mrkdwn_section("\n".join(lines))],
    }


def celebration_choice_dm(
    *, consent: bool, channel_id: str | None, shout_out: ShoutOut
) -> dict[str, Any]:
    if not consent:
        text = "Kept private. You did great anyway — go out and do exactly what you did again."
    elif shout_out is ShoutOut.POSTED and channel_id:
        text = f"Done — your perfect miss is celebrated in <#{channel_id}>. :tada:"
    elif shout_out is ShoutOut.CHANNEL_FAILED and channel_id:
        text = (
            f"Thank you! I couldn't post in <#{channel_id}>: an admin needs to invite @Rebound "
            "there or pick another channel in `/rebound settings`. I'll post your shout-out "
            "as soon as they do."
        )
    elif shout_out is ShoutOut.LATER and channel_id:
        text = f"Thank you! I'll post your shout-out in <#{channel_id}> in a few minutes."
    else:
        text = (
            "Thank you! There's no recognition channel set yet, so I'll post your shout-out as "
            "soon as an admin picks one in `/rebound settings`."
        )
    return {"text": text, "blocks": [_mrkdwn_section(text)]}


def not_your_questions(owner_user_id: str) -> dict[str, Any]:
    """Ephemeral answer to someone clicking another rep's "Answer the questions"."""
    text = f"These questions are for <@{owner_user_id}>."
    return {"text": text, "blocks": [_mrkdwn_section(text)]}


def consent_recorded_blocks(
    message_blocks: Sequence[dict[str, Any]], *, consent: bool
) -> list[dict[str, Any]]:
    """The DM's blocks with the consent buttons replaced by the choice, so they can't be
    clicked again."""
    choice = "You chose to celebrate it. :tada:" if consent else "You chose to keep it private."
    return [
        _context(choice) if block.get("block_id") == CELEBRATE_BLOCK_ID else dict(block)
        for block in message_blocks
    ]


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _bounce_phrase(losses: int, recovery: timedelta) -> str:
    return f"bounced back after {plural(losses, 'loss', 'losses')} in {format_duration(recovery)}"


WIN_COACHING: dict[Classification, str] = {
    Classification.SYSTEM_HIT: "A deserved win: the system worked. Keep running it.",
    Classification.LUCKY_HIT: (
        "Enjoy it — then look at the pipeline and the fundamentals. Sales lightning can and "
        "will strike, but rarely 2, 3, or 4 times in a row."
    ),
}


def win_logged_dm(
    facts: OutcomeFacts, resilience: ResilienceLine | None, *, shout_out_channel: str | None
) -> dict[str, Any]:
    lines = [
        f"*Win logged: {escape_mrkdwn(facts.deal)}* :trophy:",
        _verdict(facts.classification),
        WIN_COACHING.get(facts.classification, COACHING_MESSAGES[facts.classification]),
    ]
    blocks = [_mrkdwn_section("\n".join(lines))]
    if facts.bounce_back_losses and facts.bounce_back_recovery is not None:
        bounce = (
            "And it's a bounce-back: you "
            f"{_bounce_phrase(facts.bounce_back_losses, facts.bounce_back_recovery)}. "
            "Resilience is a skill, and you just used it."
        )
        if resilience is not None and resilience.bounce_backs:
            bounce += f"\nYour {_ordinal(resilience.bounce_backs)} bounce-back"
            if resilience.median_recovery is not None:
                bounce += f"; median recovery {format_duration(resilience.median_recovery)}"
            bounce += "."
        if shout_out_channel:
            bounce += f"\nI tipped my hat in <#{shout_out_channel}>."
        blocks.append(_mrkdwn_section(bounce))
    return {"text": f"Win logged: {escape_mrkdwn(facts.deal)}", "blocks": blocks}


# --- channel shout-outs (never amounts, never reflections) ----------------------------------------


def perfect_miss_shout_out(facts: OutcomeFacts) -> dict[str, Any]:
    held = "\n".join(f"• {label}" for label in _held(facts))
    text = (
        f":dart: *Celebrating a perfect miss.* <@{facts.user_id}> lost "
        f"*{escape_mrkdwn(facts.deal)}* — "
        f"and did it right:\n{held}\n"
        "A win, masquerading as a loss. Being unlucky happens; go out and do exactly what "
        "you did again."
    )
    return {
        "text": f"Celebrating a perfect miss by <@{facts.user_id}>",
        "blocks": [_mrkdwn_section(text)],
    }


def bounce_back_shout_out(facts: OutcomeFacts) -> dict[str, Any]:
    assert facts.bounce_back_losses and facts.bounce_back_recovery is not None
    phrase = _bounce_phrase(facts.bounce_back_losses, facts.bounce_back_recovery)
    text = (
        f":arrows_counterclockwise: *Bounce-back!* <@{facts.user_id}> won "
        f"*{escape_mrkdwn(facts.deal)}* and {phrase}. "
        "Resilience is a skill — a tip of the hat. :tophat:"
    )
    return {"text": f"Bounce-back: <@{facts.user_id}> {phrase}", "blocks": [_mrkdwn_section(text)]}


# --- private notes to the manager ------------------------------------------------------------


MANAGER_ADVICE: dict[Classification, str] = {
    Classification.PERFECT_MISS: (
        "Their process held. Don't invent fixes or ghost-feedback after a perfect miss — the "
        "process and pitch need no change. Encourage them to repeat exactly the same thing; "
        "performance shakes out statistically."
    ),
    Classification.SYSTEM_MISS: (
        "The miss matches the process. Help them pick the one practice that slipped first and "
        "make it their focus — coaching, not criticism."
    ),
    Classification.LUCKY_HIT: (
        "A loss, masquerading as a win: the result came in, the process behind it didn't. "
        "Celebrate it with them, then look at the fundamentals together."
    ),
}


def coaching_question(facts: OutcomeFacts) -> str:
    if facts.classification is Classification.PERFECT_MISS:
        return "What did you do on this deal that you want to do exactly the same way next time?"
    if facts.classification is Classification.LUCKY_HIT:
        return (
            "If this deal hadn't landed, what would your pipeline look like — and what will you "
            "do this week to fill it?"
        )
    slipped = ", ".join(_slipped(facts)).lower() or "the five practices"
    return f"Looking back, which slipped first — {slipped}? What would have helped it hold?"


def _money(amount: float) -> str:
    return f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"


def manager_note(facts: OutcomeFacts) -> dict[str, Any]:
    """The private DM to the rep's manager about a loss or a lucky hit."""
    what = "lost" if facts.kind == "loss" else "won"
    details = [f"Deal: *{escape_mrkdwn(facts.deal)}*"]
    if facts.amount is not None:
        details.append(f"Amount: {_money(facts.amount)}")
    if facts.stage:
        details.append(f"Stage: {STAGES.get(facts.stage, facts.stage)}")
    if facts.reason:
        reason = REASONS.get(facts.reason, facts.reason)
        if facts.competitor:
            reason += f" ({escape_mrkdwn(facts.competitor)})"
        details.append(f"Reason: {reason}")
    if facts.luck is not None and facts.kind == "win":
        details.append(f"Luck (their estimate): {facts.luck}%")
    held = ", ".join(_held(facts)).lower() or "none of the five"
    text = (
        f"*<@{facts.user_id}> {what} a deal* — just for you.\n"
        + " · ".join(details)
        + f"\n{_verdict(facts.classification)}\nPractices that held: {held}."
    )
    blocks = [
        _mrkdwn_section(text),
        _mrkdwn_section(MANAGER_ADVICE.get(facts.classification, "")),
        _mrkdwn_section(f"*One question to ask:* {coaching_question(facts)}"),
    ]
    return {
        "text": (
            f"<@{facts.user_id}> {what} {escape_mrkdwn(facts.deal)}: "
            f"{CLASSIFICATION_LABELS[facts.classification]}"
        ),
        "blocks": blocks,
    }


# --- lessons -------------------------------------------------------------------------------------


def _snippet(text: str) -> str:
    return truncate(" ".join(text.split()), LESSON_SNIPPET)


def _date(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%b %d, %Y}>"


def lessons_message(result: LessonsResult) -> dict[str, Any]:
    searched = " ".join(result.words if result.typed_words is None else result.typed_words)
    if not result.lessons:
        if searched:
            text = (
                f"No lessons match “{escape_mrkdwn(searched)}” yet. Try fewer or other words, or "
                "`/rebound lessons` for the newest."
            )
        else:
            text = (
                "No lessons yet. After your next `/lost`, the answers to the reflection "
                "questions are kept here — a lost deal has a lesson in it somewhere."
            )
        return {"text": text, "blocks": [_mrkdwn_section(text)]}
    whose = "your team's" if result.is_manager else "your"
    title = (
        f"Lessons matching “{escape_mrkdwn(searched)}”"
        if searched
        else f"The newest of {whose} lessons"
    )
    blocks: list[dict[str, Any]] = [_mrkdwn_section(f"*{title}*")]
    for lesson in result.lessons:
        where = "Win" if lesson.kind == "win" else REASONS.get(lesson.reason or "", "Loss")
        by = "" if lesson.user_id == result.viewer_id else f" · <@{lesson.user_id}>"
        done = ""
        if lesson.is_commitment and lesson.followed_up is not None:
            done = " (done ✓)" if lesson.followed_up else " (not done yet)"
        blocks.append(
            _mrkdwn_section(
                f"*{escape_mrkdwn(lesson.deal)}* · {where} · {_date(lesson.answered_at)}{by}\n"
                f"_{escape_mrkdwn(lesson.question)}_{done}\n"
                f"> {escape_mrkdwn(_snippet(lesson.answer))}"
            )
        )
    return {"text": title, "blocks": blocks[:50]}
