"""Salesforce Outbound Messages: the SOAP message a record-triggered Flow (or workflow rule)
sends when an Opportunity closes, parsed safely, and the acknowledgement Salesforce waits for.

The message's shape is the outbound messaging WSDL's ("Understanding the Outbound Messaging
WSDL", https://developer.salesforce.com/docs/platform/api/guide/
sforce-api-om-outboundmessaging-wsdl.html): a SOAP 1.1 envelope whose body is
`notifications` in the namespace http://soap.sforce.com/2005/09/outbound, holding
OrganizationId, ActionId, SessionId (nillable: only when "Send Session ID" is ticked),
EnterpriseUrl, PartnerUrl and up to 100 (`maxOccurs="100"`) `Notification`s, each with its own
`Id` (the notification's) and an `sObject` of `xsi:type="sf:Opportunity"` whose fields (the ones
picked for the message) are in the namespace urn:sobject.enterprise.soap.sforce.com.

"Understanding Notifications" (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
sforce_api_om_outboundmessaging_notifications.htm): an unacknowledged message is re-sent, with
growing intervals, for 24 hours; a message can arrive more than once, so notification Ids are
checked before processing. The answer is `notificationsResponse` with `<Ack>true</Ack>` (same
WSDL page), sent only once the notifications are stored (bot.server).

The body comes from the internet: it is parsed with defusedxml, which refuses any DTD (so
entity expansion, "billion laughs", and external entities, XXE, never run), and checked against
the WSDL before anything is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlparse
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.domain.money import crm_amount

SOURCE = "salesforce"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs="100"
DEFAULT_OWNER_EMAIL_FIELD = "Owner_Email__c"
# The WSDL's ent:ID is 18 alphanumerics; a 15-character id (case-sensitive) is its short form.
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
# Hosts a message's PartnerUrl may name for reading back through the REST API: Salesforce's
# own domains (My Domain, instances, sandboxes, Government Cloud). Anything else is not trusted
# with a session id, nor linked to from Slack.
SALESFORCE_HOST_SUFFIXES = (
    ".salesforce.com",
    ".force.com",
    ".cloudforce.com",
    ".salesforce.mil",
)

# SOAP 1.1 answers (content type text/xml, https://www.w3.org/TR/2000/NOTE-SOAP-20000508/).
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
).encode()


def fault(code: str, message: str) -> bytes:
    """A SOAP 1.1 Fault (faultcode soapenv:Client or soapenv:Server): Salesforce keeps the
    message and re-sends it; the text is Rebound's own, never the request's."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:{code}</faultcode><faultstring>{message}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def is_token_valid(expected: str, given: str) -> bool:
    """The path's token against SALESFORCE_OUTBOUND_TOKEN, in constant time."""
    return bool(expected) and hmac.compare_digest(
        expected.encode(), given.encode("utf-8", "replace")
    )


def token_digest(token: str) -> str:
    """How a workspace's endpoint token is stored (many workspaces, bot.usecases.
    crm_connections): its SHA-256, hex. The token is 32 random bytes, so the digest can't be
    turned back into it, and a copy of the database can't be used to post deals."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def same_org(expected: str, given: str) -> bool:
    """Org ids match: an 18-character id's first 15 characters are its 15-character form."""
    return hmac.compare_digest(expected[:15].encode(), given[:15].encode("utf-8", "replace"))


class BadMessage(ValueError):
    """Not an Outbound Message Salesforce sends (a 400, said in one log line)."""


@dataclass(frozen=True)
class OpportunityNotification:
    notification_id: str
    opportunity_id: str
    name: str
    stage: str | None
    closed: bool
    won: bool
    amount: Decimal | None
    currency: str | None  # CurrencyIsoCode, in multi-currency orgs that send it
    owner_email: str | None  # the formula field's value, when the message carries it


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    session_id: str | None
    partner_url: str | None  # or the EnterpriseUrl, when the partner one is missing
    notifications: list[OpportunityNotification]
    other_objects: int  # notifications of objects other than Opportunity: ignored

    def instance_url(self) -> str | None:
        """https://<host> of the org, from PartnerUrl, when it is one of Salesforce's hosts."""
        return salesforce_origin(self.partner_url)


def salesforce_origin(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme != "https" or not host.endswith(SALESFORCE_HOST_SUFFIXES):
        return None
    return f"https://{parsed.netloc.lower()}"


def opportunity_link(origin: str | None, opportunity_id: str) -> str | None:
    """The Opportunity's record page: https://<the org's host>/<Id>, the host taken from the
    message's PartnerUrl (salesforce_origin: Salesforce's own domains only).

    Salesforce has two record URL forms: Classic's "/{Id}" on the instance or My Domain host,
    and Lightning's "https://{mydomain}.lightning.force.com/lightning/r/{Object}/{Id}/view"
    ("Classic URLs use /{id} directly", "Lightning URLs use /lightning/r/{object}/{id}/view
    pattern": https://urleditor.online/guides/salesforce; "https://[instance].salesforce.com/
    [recordID]": http://salesforceconcepts.blogspot.com/2014/03/salesforces-url-structure.html).
    The Classic form is the one whose host the message gives exactly (PartnerUrl names the
    instance or My Domain host, never the lightning.force.com one), and a Lightning user who
    opens it is taken to the record's Lightning page."""
    return f"{origin}/{opportunity_id}" if origin else None


def parse_message(body: bytes, *, owner_email_field: str) -> OutboundMessage:
    """The Opportunity notifications of an Outbound Message; BadMessage for anything else,
    DTDs and entities included (defusedxml refuses them before any expansion)."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise BadMessage(f"refused XML: {type(error).__name__}") from error
    except (ParseError, ValueError) as error:
        raise BadMessage("not XML") from error
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise BadMessage("not a SOAP 1.1 envelope")
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications")
    if found is None:
        raise BadMessage("no notifications")
    organization_id = _text(found, "OrganizationId")
    if organization_id is None or not _ID.fullmatch(organization_id):
        raise BadMessage("no OrganizationId")
    items = found.findall(f"{{{OUTBOUND}}}Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise BadMessage(f"{len(items)} notifications; Salesforce sends at most 100")
    notifications: list[OpportunityNotification] = []
    others = 0
    for item in items:
        notification_id = _text(item, "Id")
        record = item.find(f"{{{OUTBOUND}}}sObject")
        if notification_id is None or not _ID.fullmatch(notification_id) or record is None:
            raise BadMessage("a Notification without Id or sObject")
        # xsi:type="sf:Opportunity": the prefix is the sender's, the local name is the type.
        if record.get(f"{{{XSI}}}type", "").rpartition(":")[2] != "Opportunity":
            others += 1
            continue
        notifications.append(_opportunity(notification_id, record, owner_email_field))
    session_id = _text(found, "SessionId")
    return OutboundMessage(
        organization_id=organization_id,
        session_id=session_id if session_id and len(session_id) <= 500 else None,
        partner_url=_text(found, "PartnerUrl") or _text(found, "EnterpriseUrl"),
        notifications=notifications,
        other_objects=others,
    )


def _opportunity(
    notification_id: str, record: Element, owner_email_field: str
) -> OpportunityNotification:
    opportunity_id = _field(record, "Id")
    if opportunity_id is None or not _ID.fullmatch(opportunity_id):
        raise BadMessage("an Opportunity without its Id")
    email = _field(record, owner_email_field) if _FIELD.fullmatch(owner_email_field) else None
    currency = _field(record, "CurrencyIsoCode")
    return OpportunityNotification(
        notification_id=notification_id,
        opportunity_id=opportunity_id,
        name=_field(record, "Name") or "",
        stage=(_field(record, "StageName") or None),
        closed=_field(record, "IsClosed") == "true",
        won=_field(record, "IsWon") == "true",
        # Opportunity.Amount is a currency field of 18 digits, 2 after the point ("Amount |
        # Amount | currency | 18 | 2", https://developer.salesforce.com/docs/platform/
        # field-reference/references/field-reference/salesforce-field-reference-opportunity.html):
        # more than Rebound keeps, so the shared rule leaves a figure too big to store out.
        amount=crm_amount(_field(record, "Amount")),
        currency=currency.upper() if currency and re.fullmatch(r"[A-Za-z]{3}", currency) else None,
        owner_email=email if email and "@" in email and len(email) <= 254 else None,
    )


def _text(parent: Element, name: str) -> str | None:
    node = parent.find(f"{{{OUTBOUND}}}{name}")
    return _value(node)


def _field(record: Element, name: str) -> str | None:
    return _value(record.find(f"{{{SOBJECT}}}{name}"))


def _value(node: Element | None) -> str | None:
    if node is None or node.get(f"{{{XSI}}}nil") == "true":
        return None
    text = (node.text or "").strip()
    return text or None
