"""Correcting or removing a recent outcome, as pure Block Kit builders: the rep's Home section
listing what they logged in the last 7 days (with *Correct* and *Remove*), the correction form
(the /lost or /won form, filled in with what was saved), and the answers to a refused change."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.blocks.crm import crm_deal_link
from bot.blocks.debriefs import lost_modal, won_modal
from bot.blocks.kit import (
    actions,
    button,
    confirm,
    context,
    escape_mrkdwn,
    message,
    option,
    section,
)
from bot.domain import (
    CLASSIFICATION_LABELS,
    LUCK_LABELS,
    LUCK_LEVELS,
    NONE_HELD,
    NONE_HELD_LABEL,
    PRACTICE_LABELS,
    PRACTICES,
    format_duration,
)
from bot.domain.debriefs import REASONS, STAGES, OutcomeFacts
from bot.domain.text import parse_row_id

CORRECT_ACTION_ID = "outcome_correct"
REMOVE_ACTION_ID = "outcome_remove"
CORRECT_LOST_CALLBACK_ID = "outcome_correct_lost"
CORRECT_WON_CALLBACK_ID = "outcome_correct_won"


def _ago(moment: datetime, now: datetime) -> str:
    return f"{format_duration(max(now - moment, timedelta(0)))} ago"


def recent_outcomes_blocks(
    outcomes: Sequence[OutcomeFacts], *, now: datetime
) -> list[dict[str, Any]]:
    """The rep's outcomes of the last 7 days, each with *Correct* and *Remove*."""
    if not outcomes:
        return []
    blocks: list[dict[str, Any]] = [
        section(
            "*Logged in the last 7 days*\nGot something wrong? Correct or remove it: its "
            "classification and your figures follow."
        )
    ]
    for facts in outcomes:
        what = "Lost" if facts.kind == "loss" else "Won"
        # A debrief made from a CRM's offer links to the deal there.
        link = f" · {crm_deal_link(facts.crm_link, facts.crm_source)}" if facts.crm_link else ""
        blocks.append(
            section(
                f"{what} *{escape_mrkdwn(facts.deal)}* · "
                f"{CLASSIFICATION_LABELS[facts.classification]} · {_ago(facts.occurred_at, now)}"
                + link
            )
        )
        blocks.append(
            actions(
                button("Correct", CORRECT_ACTION_ID, value=str(facts.id)),
                button(
                    "Remove",
                    REMOVE_ACTION_ID,
                    value=str(facts.id),
                    style="danger",
                    confirm=confirm(
                        "Remove this outcome?",
                        "It goes from your record with its reflections; your figures follow. "
                        "My messages about it (your manager's note too) say it was removed, "
                        "and a shout-out about it comes down.",
                        ok="Remove",
                        deny="Keep it",
                        style="danger",
                    ),
                ),
                block_id=f"outcome_{facts.id}",
            )
        )
    return blocks


def _number(amount: float) -> str:
    """An amount as number_input's initial_value: plain digits, never "1e+06"."""
    return format(Decimal(str(amount)).normalize(), "f")


def _initial_option(labels: dict[str, str], value: str | None) -> dict[str, Any] | None:
    if value is None or value not in labels:
        return None
    return option(labels[value], value)


def correction_modal(facts: OutcomeFacts) -> dict[str, Any]:
    """The /lost or /won form with what was saved filled in; submitting it corrects `facts`."""
    loss = facts.kind == "loss"
    view = copy.deepcopy(lost_modal(facts.deal) if loss else won_modal(facts.deal))
    held = [p for p in PRACTICES if facts.practices.get(p)]
    luck = next((k for k, v in LUCK_LEVELS.items() if v == facts.luck), None)
    initial: dict[str, dict[str, Any] | None] = {
        "amount": {"initial_value": _number(facts.amount)} if facts.amount is not None else None,
        "stage": {"initial_option": _initial_option(dict(STAGES), facts.stage)},
        "reason": {"initial_option": _initial_option(dict(REASONS), facts.reason)},
        "competitor": {"initial_value": facts.competitor} if facts.competitor else None,
        "buyer_feedback": {"initial_value": facts.buyer_feedback} if facts.buyer_feedback else None,
        "practices": {
            "initial_options": [option(PRACTICE_LABELS[p], p) for p in held]
            or [option(NONE_HELD_LABEL, NONE_HELD)]
        },
        "luck": {"initial_option": _initial_option(LUCK_LABELS, luck)},
    }
    for block in view["blocks"]:
        extra = initial.get(block.get("block_id", ""))
        if extra:
            block["element"].update({k: v for k, v in extra.items() if v is not None})
    view["blocks"][0] = context("Correct what you logged; the classification is worked out again.")
    view["title"]["text"] = "Correct a loss" if loss else "Correct a win"
    view["submit"]["text"] = "Save correction"
    view["callback_id"] = CORRECT_LOST_CALLBACK_ID if loss else CORRECT_WON_CALLBACK_ID
    view["private_metadata"] = json.dumps({"outcome_id": facts.id})
    return view


def read_correction_metadata(private_metadata: str) -> int | None:
    try:
        return parse_row_id(json.loads(private_metadata or "{}").get("outcome_id"))
    except (ValueError, AttributeError):
        return None


REFUSALS = {
    "gone": "That outcome isn't in your record any more, so there was nothing to change.",
    "not_yours": "That outcome is someone else's, so I left it as it was.",
    "too_old": "Outcomes can be corrected or removed for 7 days after they're logged; this one "
    "is older, so I left it as it was.",
    "kind": "That form doesn't match the outcome, so nothing was saved.",
}


def refused_message(why: str) -> dict[str, Any]:
    return message(REFUSALS.get(why, REFUSALS["gone"]))
