"""A deal a CRM marked closed, as Rebound reads it, whichever CRM it came from.

HubSpot's webhooks (bot.crm.hubspot) and Salesforce's Outbound Messages (bot.crm.salesforce)
each turn what they receive into `ClosedDeal`s; one use case (bot.usecases.crm) stores them and
offers the owner a debrief. Standard library only, like the rest of the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CRM_SOURCES = ("hubspot", "salesforce")


@dataclass(frozen=True)
class ClosedDeal:
    """One closed deal from one notification.

    `event_key` names the notification (HubSpot's eventId, Salesforce's notification Id): a
    redelivery of it has no second effect. `deal_id` names the deal in its CRM: one deal
    closing has one effect, however many notifications say so (a stage flipped twice)."""

    source: str  # CRM_SOURCES
    team_id: str
    event_key: str
    deal_id: str
    won: bool
    name: str
    amount: Decimal | None = None
    currency: str | None = None  # ISO 4217, as the CRM gave it
    crm_reason: str | None = None  # the CRM's own words for why it was lost
    owner_email: str | None = None
    link: str | None = None  # the deal's page in the CRM


@dataclass(frozen=True)
class StageChange:
    """A webhook's word that a deal moved stage, stored before the CRM is read (HubSpot sends
    only the deal id and the new stage; the deal itself is read afterwards, off the request)."""

    source: str
    team_id: str
    event_key: str
    deal_id: str
    stage: str
    link: str | None = None  # the deal's page in HubSpot, from the event's portalId


# What became of a closed deal that arrived (storage.models.CrmDeal.state).
RECEIVED = "received"  # stored as the webhook said; the CRM not read yet (HubSpot)
IGNORED = "ignored"  # not a closing after all (a stage that is not closed won or lost)
OFFERED = "offered"  # its owner has the debrief offer in their DM
UNMATCHED = "unmatched"  # no owner, or no one in Slack with the owner's email: tried again
ERROR = "error"  # the CRM could not be read: tried again
DEBRIEFED = "debriefed"  # debriefed (by hand before the offer, or from it)
DUPLICATE = "duplicate"  # another notification of the same deal closing had the effect
CRM_DEAL_STATES = (RECEIVED, IGNORED, OFFERED, UNMATCHED, ERROR, DEBRIEFED, DUPLICATE)
# The ones an admin is shown on their Home: kept, but nobody in Slack has been offered them.
NEEDS_A_PERSON = (UNMATCHED, ERROR)

CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}

# A CRM's own words for why a deal was lost, mapped onto Rebound's reasons
# (bot.domain.debriefs.REASONS) where the words say it plainly. Anything else is left for the
# rep to choose: a wrong guess in the form would be worse than none.
_REASON_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("competitor", ("competitor", "competition", "went with", "chose another", "lost to")),
    ("price", ("price", "pricing", "too expensive", "cost", "budget")),
    ("no_decision", ("no decision", "went dark", "no response", "unresponsive", "ghost")),
    ("timing", ("timing", "not now", "next year", "next quarter", "later", "postpone")),
    ("product_fit", ("product fit", "missing feature", "feature", "fit", "requirement")),
    ("champion_left", ("champion left", "champion", "contact left", "left the company")),
    ("no_decision_maker", ("decision maker", "economic buyer")),
    ("real_need", ("no need", "real need", "pain")),
    ("next_steps", ("next step",)),
    ("follow_up", ("follow up", "follow-up", "followup")),
)


def rebound_reason(crm_reason: str | None) -> str | None:
    """The key of Rebound's loss reason the CRM's reason names, or None when it names none."""
    words = " ".join((crm_reason or "").lower().replace("_", " ").split())
    if not words:
        return None
    for key, phrases in _REASON_WORDS:
        if any(phrase in words for phrase in phrases):
            return key
    return None


def same_deal_name(a: str, b: str) -> bool:
    """Whether two deal names are the same deal as people type them (case and spaces aside)."""
    return " ".join(a.lower().split()) == " ".join(b.lower().split())
