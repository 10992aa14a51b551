"""The /lost modal and the parsing of what it submits."""

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
    _text_input,
    parse_practices,
    practices_input,
)
from bot.blocks.kit import context, input_block, modal, option, plain
from bot.domain.debriefs import (
    IN_CONTROL_REASONS,
    OUTSIDE_REASONS,
    REASONS,
    STAGES,
    UNSURE_REASONS,
    LossSubmission,
)

LOST_CALLBACK_ID = "debrief_lost"

MAX_COMPETITOR = 80
MAX_FEEDBACK = 1500


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
