"""What a CRM said about a deal, filled into the /lost and /won modals a *Debrief this*
button opens, and the offer id the modal carries back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.blocks.kit import context, escape_mrkdwn
from bot.domain.text import parse_row_id


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
