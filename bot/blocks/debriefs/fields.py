"""The inputs and the parsing the debrief modals share (bot.blocks.debriefs.lost, .won,
.reflection and .calibration): text, amount and choice fields, and the practices checklist
with its explicit "None of these held"."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.blocks.kit import input_block, option, plain, state
from bot.domain import NONE_HELD, NONE_HELD_LABEL, PRACTICE_LABELS, PRACTICES
from bot.domain.text import parse_decimal, saveable_text

MAX_DEAL = 120
MAX_AMOUNT = Decimal("999999999999.99")  # Outcome.amount is Numeric(14, 2)


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
