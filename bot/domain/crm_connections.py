"""A workspace's own CRM connection, as `/rebound settings` shows and changes it when Rebound
serves many workspaces (OAuth mode). Standard library only, like the rest of the domain.

Secrets never come back out: the status carries only their last four characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Salesforce org ids: 15 case-sensitive characters starting 00D, or the 18-character form
# (the same 15 plus a case-safe suffix), as SALESFORCE_ORG_ID takes them (bot.config).
ORG_ID = re.compile(r"00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")
# A HubSpot portal (account) id is a number ("Hub ID" in the account menu).
PORTAL_ID = re.compile(r"[1-9][0-9]{0,18}")
HINT_LENGTH = 4
# The Opportunity formula field an org's Outbound Message carries the owner's email in: a
# custom field, so its API name is its Field Name and __c. "In the API, the names of custom
# fields are identified by a suffix of two underscores immediately followed by a lowercase "c"
# character ... a custom field labeled "Hire Date" in the user interface is seen as Hire_Date__c"
# (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/
# custom_fields.htm). The Field Name itself "can contain only underscores and alphanumeric
# characters ... It must begin with a letter, not include spaces, not end with an underscore,
# and not contain two consecutive underscores" (Salesforce Help's custom field steps, as quoted
# at https://gyde.ai/kb/create-fields-with-schema-builder). A managed package's field keeps its
# prefix: "namespacePrefix__ComponentName", the prefix "a 1 to 15-character alphanumeric
# identifier" (https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/
# metadata.htm). 80 characters at most, as SALESFORCE_OWNER_EMAIL_FIELD (bot.config).
DEFAULT_OWNER_EMAIL_FIELD = "Owner_Email__c"
OWNER_EMAIL_FIELD = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9]{0,14}__)?[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c"
)
MAX_OWNER_EMAIL_FIELD = 80


def is_owner_email_field(name: str) -> bool:
    """A custom field's API name, as Salesforce allows them (above)."""
    return len(name) <= MAX_OWNER_EMAIL_FIELD and OWNER_EMAIL_FIELD.fullmatch(name) is not None


def hint_of(secret: str) -> str:
    """The last characters of a secret, kept to say which one is connected."""
    return secret[-HINT_LENGTH:]


def canonical_org(org_id: str) -> str:
    """The org id's 15-character form (an 18-character id's first 15 are it)."""
    return org_id[:15]


@dataclass(frozen=True)
class CrmStatus:
    """What the CRM modal shows of a workspace's connection."""

    hubspot_portal_id: str | None = None
    hubspot_token_hint: str | None = None
    hubspot_secret_hint: str | None = None  # None with a portal: HUBSPOT_CLIENT_SECRET signs
    salesforce_org_id: str | None = None
    salesforce_token_hint: str | None = None
    salesforce_owner_email_field: str | None = None  # None: DEFAULT_OWNER_EMAIL_FIELD
    # The deployment's own HUBSPOT_CLIENT_SECRET is set: a portal may leave its secret empty.
    global_hubspot_secret: bool = False

    @property
    def hubspot_connected(self) -> bool:
        return self.hubspot_portal_id is not None

    @property
    def salesforce_connected(self) -> bool:
        return self.salesforce_org_id is not None

    @property
    def owner_email_field(self) -> str:
        return self.salesforce_owner_email_field or DEFAULT_OWNER_EMAIL_FIELD


@dataclass(frozen=True)
class CrmSubmission:
    """The CRM modal, read: what to connect, keep, replace or disconnect."""

    hubspot_portal_id: str | None = None  # None: no HubSpot (disconnected when it was)
    hubspot_token: str | None = None  # None: keep the stored one
    hubspot_secret: str | None = None  # None: keep the stored one
    salesforce_org_id: str | None = None  # the 15-character form; None: no Salesforce
    new_salesforce_token: bool = False  # make a new endpoint URL (the old one stops working)
    salesforce_owner_email_field: str | None = None  # None: DEFAULT_OWNER_EMAIL_FIELD
