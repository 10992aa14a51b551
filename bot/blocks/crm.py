"""What a rep sees when their CRM closes a deal: the offer to debrief it, its one reminder, the
answer to *Not now*; and the admins' line about deals nobody in Slack could be offered.

Seed 000: "A lost opportunity is a form of negative feedback. There's a lesson in there for you
somewhere", and the lesson is easiest to find while the loss is fresh (the issue's 48 hours), so
the offer comes the moment the CRM says so, and says which deal in the CRM's own name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.blocks.kit import actions, button, escape_mrkdwn, section
from bot.domain.crm import CRM_NAMES
from bot.domain.money import format_money
from bot.slack_text import plural

DEBRIEF_ACTION_ID = "crm_debrief_open"
NOT_NOW_ACTION_ID = "crm_debrief_not_now"
OFFER_BLOCK_ID = "crm_debrief_offer"


def crm_deal_link(url: str, source: str | None) -> str:
    """`<url|Open in HubSpot>`: the deal's page in its CRM as a mrkdwn link. Slack's control
    characters in the URL are escaped as its formatting reference says ("Slack uses &, <, and >
    as control characters for special parsing in text objects, so they must be converted to
    HTML entities": https://api.slack.com/reference/surfaces/formatting#escaping), and a `|`,
    which would end the URL inside `<…|…>`, is percent-encoded, as it would be in a URL."""
    label = f"Open in {CRM_NAMES.get(source or '', 'the CRM')}"
    return f"<{escape_mrkdwn(url.replace('|', '%7C'))}|{label}>"


@dataclass(frozen=True)
class DealOffer:
    """A closed deal as its offer shows it (storage's CrmDeal row, read by the use case)."""

    row_id: int
    source: str
    name: str
    won: bool
    amount: float | None = None
    currency: str | None = None


def _deal_words(offer: DealOffer) -> str:
    name = f"*{escape_mrkdwn(offer.name)}*"
    if offer.amount is None:
        return name
    return f"{name} ({escape_mrkdwn(format_money(offer.amount, offer.currency))})"


def _closed(offer: DealOffer) -> str:
    return "closed won" if offer.won else "closed lost"


def _buttons(offer: DealOffer) -> dict[str, Any]:
    value = str(offer.row_id)
    return actions(
        button("Debrief this", DEBRIEF_ACTION_ID, value=value, style="primary"),
        button("Not now", NOT_NOW_ACTION_ID, value=value),
        block_id=OFFER_BLOCK_ID,
    )


# Seed 000: "When you lose an opportunity, it hurts." Issue 12 §3: every loss message opens
# with that, before the deal's facts and the ask; a won deal needs no comfort.
LOSS_ACKNOWLEDGEMENT = "When you lose an opportunity, it hurts."


def debrief_offer_dm(offer: DealOffer) -> dict[str, Any]:
    """ "When you lose an opportunity, it hurts. HubSpot marked *Acme renewal* (£60,000) closed
    lost. Debrief it while it's fresh?" (a won deal: the second and third sentences only)."""
    crm = CRM_NAMES.get(offer.source, offer.source)
    closed = f"{crm} marked {_deal_words(offer)} {_closed(offer)}. Debrief it while it's fresh?"
    text = closed if offer.won else f"{LOSS_ACKNOWLEDGEMENT} {closed}"
    return {"text": text, "blocks": [section(text), _buttons(offer)]}


def debrief_offer_reminder_dm(offer: DealOffer) -> dict[str, Any]:
    """The one reminder. After a loss: that it hurts and that taking time is fine, then seed
    000's question ("What did you learn from the last opportunity you lost?") asked of this
    deal; after a win, what worked."""
    if offer.won:
        text = (
            f"{_deal_words(offer)} is still waiting for its debrief. What worked, and how much "
            "of it was process? Two minutes is enough."
        )
    else:
        deal = f"*{escape_mrkdwn(offer.name)}*"
        text = (
            "When you lose an opportunity, it hurts, and taking your time is fine. What did you "
            f"learn from losing {deal}? Its debrief is still waiting for you; two minutes is "
            "enough."
        )
    return {"text": text, "blocks": [section(text), _buttons(offer)]}


def not_now_reply(offer: DealOffer) -> dict[str, Any]:
    """What replaces the offer when the rep clicks *Not now*."""
    text = (
        f"Okay, not now. I'll remind you about {_deal_words(offer)} once; or type "
        f"`{'/won' if offer.won else '/lost'}` whenever you're ready."
    )
    return {"text": text, "blocks": [section(text)]}


def already_debriefed_reply(offer: DealOffer) -> dict[str, Any]:
    """*Debrief this* on a deal whose debrief is saved: one debrief a deal."""
    text = (
        f"You've debriefed {_deal_words(offer)} already. Your lessons from it are in "
        "`/rebound lessons`."
    )
    return {"text": text, "blocks": [section(text)]}


def unmatched_deals_text(count: int) -> str:
    """The admins' Home line: closed deals Rebound kept but could offer to nobody yet."""
    deals = plural(count, "closed deal", "closed deals")
    return (
        f"*{deals} couldn't be matched to a person in Slack.* "
        "Rebound keeps them and tries again: check that each deal has an owner in the CRM whose "
        "email is the one they use in Slack."
    )
