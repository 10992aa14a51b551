"""The /won modal and the parsing of what it submits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.blocks.debriefs.crm_prefill import CrmPrefill, _crm_context, crm_metadata
from bot.blocks.debriefs.fields import (
    MAX_DEAL,
    _amount,
    _amount_input,
    _choice,
    _deal_input,
    _static_select,
    _text,
    parse_practices,
    practices_input,
)
from bot.blocks.kit import context, modal
from bot.domain import LUCK_LABELS, LUCK_LEVELS, claims_process_without_practice
from bot.domain.debriefs import WinSubmission

WON_CALLBACK_ID = "debrief_won"


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


PROCESS_WITHOUT_PRACTICE = (
    "You said none of it was luck, but that none of the practices held. If it was the "
    "process, tick the practices that held; if not, say how much was luck."
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
