"""The deal's page in its CRM, over HTTP: a debrief made from a HubSpot or a Salesforce offer
keeps the deal's link, and the manager's note (and the rep's Home) links to it as a mrkdwn link;
a loss logged by hand has none.

HubSpot's link is made from the webhook event's portalId (https://app.hubspot.com/contacts/
{portalId}/record/0-3/{dealId}); Salesforce's from the Outbound Message's PartnerUrl host
(https://<host>/<Opportunity Id>). Both CRMs in the bot token's one workspace, one `rebound
serve`, the scheduler ticked by hand on a FakeClock.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any
from xml.sax.saxutils import escape

from bot.blocks.crm import DEBRIEF_ACTION_ID
from testkit.hubspot_standin import HubSpotStandIn, deal_stage_event, signed_webhook
from testkit.standin import RecordedCall
from tests.support.crm import (
    PUBLIC_URL,
    button_value,
    hubspot_fixture,
    hubspot_live,
    offers,
    salesforce_post,
    slack,
)
from tests.support.factories import lost_values
from tests.support.slack import DM, MANAGER, REP1, SlackDriver, _text

__all__ = ["slack"]  # the fixture (tests/support/crm.py)

HUBSPOT_SECRET = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
SF_TOKEN = "Lm4nB7vC2xZ9qW3eR8tY1uI6oP5aS0dF-g_h"
SF_ORG = "00D5e000000KQ2eEAG"
PARTNER_URL = f"https://acme.my.salesforce.com/services/Soap/u/59.0/{SF_ORG[:15]}"
PORTAL_ID = 4455667
LEO, LEO_OWNER = "leo.links@example.com", "7401"


hubspot = hubspot_fixture((LEO_OWNER, LEO))


live = hubspot_live(
    folder_prefix="links",
    emails={REP1: LEO},
    secret=HUBSPOT_SECRET,
    env={"SALESFORCE_OUTBOUND_TOKEN": SF_TOKEN},
)


def _name(words: str) -> str:
    return f"{words} {uuid.uuid4().hex[:6]}"


def _shown(name: str) -> str:
    """The name as mrkdwn shows it (Slack's three entities)."""
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _offer(slack: SlackDriver, name: str, seen: int) -> RecordedCall:
    assert slack.clock is not None
    slack.tick_at(slack.clock.now)
    slack.settle()
    return offers(slack, REP1, _shown(name), seen)[0]


def _debrief_from_offer(slack: SlackDriver, dm: RecordedCall, name: str) -> RecordedCall:
    """Debrief this → the /lost modal → saved: the manager's note about it."""
    opened = slack.mark()
    slack.click(REP1, DEBRIEF_ACTION_ID, button_value(dm, DEBRIEF_ACTION_ID), message=dm)
    view = slack.wait(opened, "views.open")[0].response["view"]
    return _submit(slack, view, name, opened)


def _submit(slack: SlackDriver, view: dict[str, Any], name: str, seen: int) -> RecordedCall:
    slack.submit(view, REP1, lost_values(name, practices=["discovery"]))
    slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])
    slack.settle()
    return next(
        c
        for c in slack.since(seen, "chat.postMessage", channel=DM[MANAGER])
        if _shown(name) in _text(c)
    )


def _sent_blocks(call: RecordedCall) -> str:
    return json.dumps(call.params["blocks"])


def test_a_hubspot_debrief_links_the_managers_note_to_the_deal(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id, name = str(uuid.uuid4().int % 10**9), _name("Acme renewal")
    hubspot.add_deal(deal_id, name, amount="60000", currency="GBP", owner_id=LEO_OWNER)
    seen = slack.mark()
    body = json.dumps([deal_stage_event(deal_id, portal_id=PORTAL_ID)]).encode()
    reply = signed_webhook(
        f"{slack.live.base_url}/crm/hubspot", f"{PUBLIC_URL}/crm/hubspot", HUBSPOT_SECRET, body
    )
    assert reply.status == 200, reply.body
    note = _debrief_from_offer(slack, _offer(slack, name, seen), name)
    url = f"https://app.hubspot.com/contacts/{PORTAL_ID}/record/0-3/{deal_id}"
    assert f"<{url}|Open in HubSpot>" in _sent_blocks(note)
    [outcome] = [o for o in slack.outcomes() if o.deal == name]
    assert (outcome.crm_source, outcome.crm_deal_id, outcome.crm_link) == ("hubspot", deal_id, url)
    # The rep's Home lists the debrief with the same link.
    assert f"<{url}|Open in HubSpot>" in json.dumps(slack.home(REP1).params["view"])


def test_a_salesforce_debrief_links_the_managers_note_to_the_opportunity(
    slack: SlackDriver,
) -> None:
    opportunity_id = f"006{uuid.uuid4().int % 10**12:012d}AAA"
    name = _name("Globex & Sons")
    message = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{SF_ORG}</OrganizationId><ActionId>04k5e000000CaRkAAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{PARTNER_URL.replace('/u/', '/c/')}</EnterpriseUrl>"
        f"<PartnerUrl>{PARTNER_URL}</PartnerUrl>"
        f"<Notification><Id>04l{secrets.token_hex(6).upper()}AAA</Id>"
        '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>{opportunity_id}</sf:Id><sf:Amount>1500.0</sf:Amount>"
        "<sf:IsClosed>true</sf:IsClosed><sf:IsWon>false</sf:IsWon>"
        f"<sf:Name>{escape(name)}</sf:Name><sf:Owner_Email__c>{LEO}</sf:Owner_Email__c>"
        "<sf:StageName>Closed Lost</sf:StageName></sObject></Notification>"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()
    seen = slack.mark()
    answer = salesforce_post(slack, f"/crm/salesforce/{SF_TOKEN}", message)
    assert answer.status == 200
    note = _debrief_from_offer(slack, _offer(slack, name, seen), name)
    url = f"https://acme.my.salesforce.com/{opportunity_id}"
    assert f"<{url}|Open in Salesforce>" in _sent_blocks(note)
    # The deal's own name is still escaped beside it.
    assert "Globex &amp; Sons" in _sent_blocks(note)
    [outcome] = [o for o in slack.outcomes() if o.deal == name]
    assert (outcome.crm_source, outcome.crm_link) == ("salesforce", url)


def test_a_loss_logged_by_hand_has_no_crm_link(slack: SlackDriver) -> None:
    name = _name("By hand")
    view = slack.open_modal("/lost", name, REP1)
    note = _submit(slack, view, name, slack.mark())
    assert "Open in" not in _sent_blocks(note) and "hubspot.com" not in _sent_blocks(note)
    [outcome] = [o for o in slack.outcomes() if o.deal == name]
    assert (outcome.crm_source, outcome.crm_link) == (None, None)
