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
