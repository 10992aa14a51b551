"""The /lost, /won and reflection modals, and the parsing of what they submit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.blocks.kit import context, escape_mrkdwn, input_block, modal, option, plain, section, state
from bot.domain import (
    LUCK_LABELS,
    LUCK_LEVELS,
    NONE_HELD,
    NONE_HELD_LABEL,
    PRACTICE_LABELS,
    PRACTICES,
    claims_process_without_practice,
)
from bot.domain.debriefs import (
    COMMITMENT_KEY,
    IN_CONTROL_REASONS,
    OUTSIDE_REASONS,
    REASONS,
    REFLECTION_QUESTIONS,
    STAGES,
    UNSURE_REASONS,
    WIN_LESSON_KEY,
    WIN_QUESTION,
    Commitment,
    LossSubmission,
    ReflectionSubmission,
    WinSubmission,
    reflection_questions,
)
from bot.domain.text import parse_decimal, parse_row_id, saveable_text

LOST_CALLBACK_ID = "debrief_lost"
WON_CALLBACK_ID = "debrief_won"
REFLECT_CALLBACK_ID = "debrief_reflect"
FOLLOW_UP_BLOCK_ID = "followed_up"

MAX_DEAL = 120
MAX_COMPETITOR = 80
MAX_FEEDBACK = 1500
MAX_ANSWER = 1000
MAX_COMMITMENT = 300
MAX_AMOUNT = Decimal("999999999999.99")  # Outcome.amount is Numeric(14, 2)


@dataclass(frozen=True)
class ReflectionIds:
    """What the reflection modal carries in its private_metadata."""

    outcome_id: int
    commitment_id: int | None  # the earlier commitment it asks "did you do it?" about
    perfect_miss: bool = False
    win: bool = False  # a win's one question (what worked)


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
        element["placeholder"] = plain(placeholder)
    return input_block(block_id, label, element, optional=optional, hint=hint or None)


def _static_select(block_id: str, label: str, choices: Mapping[str, str]) -> dict[str, Any]:
    element = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain("Choose one"),
        "options": [option(text, value) for value, text in choices.items()],
    }
    return input_block(block_id, label, element)


REASON_GROUPS: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("In my control", IN_CONTROL_REASONS),
    ("Outside my control", OUTSIDE_REASONS),
    ("Can't say yet", UNSURE_REASONS),
)


def _reason_select(initial: str | None = None) -> dict[str, Any]:
    """The main reason, the causes a rep can own first (seed 000), then the outside ones;
    `initial` (a reason key) chosen already, as a CRM's reason maps onto it."""
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain("Choose one"),
        "option_groups": [
            {"label": plain(label), "options": [option(text, v) for v, text in choices.items()]}
            for label, choices in REASON_GROUPS
        ],
    }
    if initial in REASONS:
        element["initial_option"] = option(REASONS[initial], initial)
    return input_block("reason", "Main reason", element)


def _amount_input(initial: float | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": True,
        "min_value": "0",
    }
    if initial is not None and 0 <= initial <= MAX_AMOUNT:
        element["initial_value"] = f"{Decimal(str(initial)).quantize(Decimal('0.01')):f}"
    return input_block(
        "amount",
        "Amount",
        element,
        optional=True,
        hint="Only you and your manager see it; never posted in a channel.",
    )


PRACTICES_HINT = (
    "Tick what held, or “None of these held”. Be honest: this is how Rebound tells bad "
    "luck from a process to fix."
)


def practices_input(
    label: str = "Which of these held on this deal?",
    *,
    hint: str = PRACTICES_HINT,
    initial: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """The practices checklist, with its explicit "None of these held"; `initial` ticks the
    answers given before (a manager calibrating starts from the rep's own)."""
    options = [
        *(option(PRACTICE_LABELS[p], p) for p in PRACTICES),
        option(NONE_HELD_LABEL, NONE_HELD),
    ]
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": options}
    if initial is not None:
        held = [p for p in PRACTICES if initial.get(p)]
        element["initial_options"] = [o for o in options if o["value"] in (held or [NONE_HELD])]
    return input_block("practices", label, element, optional=False, hint=hint)


def _deal_input(deal: str) -> dict[str, Any]:
    return _text_input(
        "deal", "Deal", max_length=MAX_DEAL, initial=deal.strip(), placeholder="e.g. Acme renewal"
    )


# --- the /lost and /won modals -------------------------------------------------------------------


@dataclass(frozen=True)
class CrmPrefill:
    """What a CRM said about the deal a *Debrief this* button opens the modal for."""

    offer_id: int  # the offer (storage's crm_deals row) the debrief is linked to
    crm: str  # "HubSpot"
    amount: float | None = None
    reason: str | None = None  # Rebound's reason key the CRM's reason maps onto
    crm_reason: str | None = None  # the CRM's own words


def crm_metadata(prefill: CrmPrefill | None) -> str | None:
    return json.dumps({"crm_offer": prefill.offer_id}) if prefill is not None else None


def read_crm_offer_id(private_metadata: str | None) -> int | None:
    """The offer a /lost or /won modal was opened from (None: typed by hand). Only a hint: the
    use case checks the offer is the submitter's before linking anything to it."""
    try:
        data = json.loads(private_metadata or "")
        return parse_row_id(data["crm_offer"])
    except (ValueError, KeyError, TypeError):
        return None


def _crm_context(prefill: CrmPrefill) -> dict[str, Any]:
    said = (
        f" {prefill.crm} gave the reason as “{escape_mrkdwn(prefill.crm_reason)}”."
        if prefill.crm_reason
        else ""
    )
    return context(f"From {prefill.crm}, filled in where it could be.{said}")


def lost_modal(deal: str = "", prefill: CrmPrefill | None = None) -> dict[str, Any]:
    blocks = [
        context(
            "When you lose an opportunity, it hurts. It's also feedback: there's a lesson in it "
            "somewhere. ~1 minute."
        ),
        *([_crm_context(prefill)] if prefill is not None else []),
        _deal_input(deal),
        _amount_input(prefill.amount if prefill else None),
        _static_select("stage", "Stage where it was lost", STAGES),
        _reason_select(prefill.reason if prefill else None),
        _text_input("competitor", "Competitor", max_length=MAX_COMPETITOR, optional=True),
        practices_input(),
        _text_input(
            "buyer_feedback",
            "What feedback did the buyer give you?",
            max_length=MAX_FEEDBACK,
            optional=True,
            multiline=True,
        ),
    ]
    return modal(
        "Loss debrief",
        blocks,
        callback_id=LOST_CALLBACK_ID,
        submit="Save debrief",
        close="Cancel",
        private_metadata=crm_metadata(prefill),
    )


def won_modal(deal: str = "", prefill: CrmPrefill | None = None) -> dict[str, Any]:
    blocks = [
        context("Log the win, and be honest about how much of it was process."),
        *([_crm_context(prefill)] if prefill is not None else []),
        _deal_input(deal),
        _amount_input(prefill.amount if prefill else None),
        practices_input(),
        _static_select("luck", "How much of it was luck?", LUCK_LABELS),
    ]
    return modal(
        "Log a win",
        blocks,
        callback_id=WON_CALLBACK_ID,
        submit="Log win",
        close="Cancel",
        private_metadata=crm_metadata(prefill),
    )


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
        state(values, block_id).get("value"), label=label, max_length=max_length, required=required
    )
    if error:
        errors[block_id] = error
    return text


def _amount(values: Mapping[str, Any], errors: dict[str, str]) -> float | None:
    raw = state(values, "amount").get("value")
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
    value = (state(values, block_id).get("selected_option") or {}).get("value")
    if value not in allowed:
        errors[block_id] = message
        return None
    return str(value)


PRACTICES_MISSING = "Tick the practices that held on this deal, or “None of these held”."
PRACTICES_CONTRADICT = (
    "“None of these held” can't go with a practice that held. Untick one or the other."
)
PROCESS_WITHOUT_PRACTICE = (
    "You said none of it was luck, but that none of the practices held. If it was the "
    "process, tick the practices that held; if not, say how much was luck."
)


def parse_practices(values: Mapping[str, Any], errors: dict[str, str]) -> dict[str, bool]:
    """The practices that held. The rep must answer: nothing ticked, or "None of these held"
    ticked with a practice, is a field error (skipping is not the same as "none held")."""
    selected = {
        option.get("value") for option in state(values, "practices").get("selected_options") or []
    }
    held = {practice: practice in selected for practice in PRACTICES}
    if NONE_HELD in selected and any(held.values()):
        errors["practices"] = PRACTICES_CONTRADICT
    elif NONE_HELD not in selected and not any(held.values()):
        errors["practices"] = PRACTICES_MISSING
    return held


def parse_lost_submission(
    values: Mapping[str, Any],
) -> tuple[LossSubmission | None, dict[str, str]]:
    """Read the /lost modal's state: the loss, or field errors keyed by block_id."""
    errors: dict[str, str] = {}
    deal = _text(values, "deal", "the deal", MAX_DEAL, errors, required=True)
    amount = _amount(values, errors)
    stage = _choice(values, "stage", STAGES, "Pick the stage where it was lost.", errors)
    reason = _choice(values, "reason", REASONS, "Pick the main reason.", errors)
    practices = parse_practices(values, errors)
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
            practices=practices,
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
    practices = parse_practices(values, errors)
    luck = _choice(values, "luck", LUCK_LEVELS, "How much of it was luck? Pick one.", errors)
    if (
        luck is not None
        and "practices" not in errors
        and claims_process_without_practice(practices, LUCK_LEVELS[luck])
    ):
        errors["luck"] = PROCESS_WITHOUT_PRACTICE
    if errors:
        return None, errors
    assert deal is not None and luck is not None
    return (
        WinSubmission(deal=deal, amount=amount, practices=practices, luck=LUCK_LEVELS[luck]),
        {},
    )


# --- reflections ---------------------------------------------------------------------------------


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
