"""A CRM's odd amount never costs a deal, over HTTP, on both databases.

Salesforce's Opportunity.Amount holds 18 digits, 2 after the point ("Amount | Amount | currency |
18 | 2": https://developer.salesforce.com/docs/platform/field-reference/references/field-reference/
salesforce-field-reference-opportunity.html); Rebound keeps amounts in Numeric(14, 2), which
PostgreSQL refuses to overflow. One huge amount in an Outbound Message used to fail the whole
store (a 503 SOAP fault: Salesforce re-sends for 24 hours, then drops the message, with up to 100
deals in it). Now a figure too big to keep, or a negative one, is left out: the message is
acknowledged and every deal offered, that one without an amount (bot.domain.money.crm_amount).

The Outbound Message is built in the shape of Salesforce's outbound messaging WSDL ("Understanding
the Outbound Messaging WSDL", https://developer.salesforce.com/docs/platform/api/guide/
sforce-api-om-outboundmessaging-wsdl.html): a SOAP 1.1 envelope, body `notifications`
(http://soap.sforce.com/2005/09/outbound) with OrganizationId, ActionId, SessionId, EnterpriseUrl,
PartnerUrl and the Notification elements, each an Id and an sObject of sf: fields.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from xml.sax.saxutils import escape

import pytest
from sqlmodel import col, select

from storage.models import CrmDeal
from testkit.live import LiveApp
from testkit.standin import SlackStandIn
from tests.support.crm import offers, salesforce_post, serve_crm, slack
from tests.support.databases import BACKENDS
from tests.support.slack import REP1, SlackDriver

__all__ = ["slack"]  # the fixture (tests/support/crm.py)

TOKEN = "pX3vB8nQ1zL6mR4sW9yC2fT7hK5dJ0aG-u_e"
ORG_15, ORG_18 = "00D5e000000AMT1", "00D5e000000AMT1EAC"
PARTNER_URL = f"https://acme.my.salesforce.com/services/Soap/u/59.0/{ORG_15}"
LEO = "leo.amounts@example.com"


def _sf_id(prefix: str) -> str:
    """An 18-character Salesforce id of this test's own (006: Opportunity, 04l: notification)."""
    return f"{prefix}{secrets.randbelow(10**12):012d}AAA"


def _notification(opportunity_id: str, name: str, amount: str) -> str:
    fields = (
        f"<sf:Id>{opportunity_id}</sf:Id><sf:Amount>{amount}</sf:Amount>"
        "<sf:CurrencyIsoCode>GBP</sf:CurrencyIsoCode><sf:IsClosed>true</sf:IsClosed>"
        f"<sf:IsWon>false</sf:IsWon><sf:Name>{escape(name)}</sf:Name>"
        f"<sf:Owner_Email__c>{LEO}</sf:Owner_Email__c><sf:StageName>Closed Lost</sf:StageName>"
    )
    return (
        f"<Notification><Id>{_sf_id('04l')}</Id>"
        '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{fields}</sObject></Notification>"
    )


def _message(*notifications: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{ORG_18}</OrganizationId><ActionId>04k5e000000CaRkAAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{PARTNER_URL}</EnterpriseUrl><PartnerUrl>{PARTNER_URL}</PartnerUrl>"
        + "".join(notifications)
        + "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApp]:
    with serve_crm(
        request,
        standin,
        tmp_path_factory,
        folder_prefix="amounts",
        emails={REP1: LEO},
        env={"SALESFORCE_OUTBOUND_TOKEN": TOKEN, "SALESFORCE_ORG_ID": ORG_15},
    ) as app:
        yield app


def test_an_amount_too_big_or_negative_is_left_out_and_the_message_is_kept(
    slack: SlackDriver,
) -> None:
    tag = uuid.uuid4().hex[:6]
    deals = {
        "huge": (_sf_id("006"), f"Whale {tag}", "5000000000000"),
        "negative": (_sf_id("006"), f"Credit note {tag}", "-5000"),
        "fine": (_sf_id("006"), f"Acme {tag}", "60000.0"),
    }
    seen = slack.mark()
    status, body = salesforce_post(
        slack, f"/crm/salesforce/{TOKEN}", _message(*(_notification(*d) for d in deals.values()))
    )
    # Acknowledged (Salesforce's notificationsResponse / Ack true): all three are stored.
    assert status == 200 and "<Ack>true</Ack>" in body, body
    with slack.session_factory() as session:
        stored = session.exec(
            select(CrmDeal.deal_id, CrmDeal.amount).where(
                col(CrmDeal.deal_id).in_([d[0] for d in deals.values()])
            )
        ).all()
    assert dict(stored) == {
        deals["huge"][0]: None,
        deals["negative"][0]: None,
        deals["fine"][0]: 60000.0,
    }
    assert slack.clock is not None
    slack.tick_at(slack.clock.now)
    slack.settle()
    texts = {
        key: [str(c.params["text"]) for c in offers(slack, REP1, name, seen)]
        for key, (_, name, _) in deals.items()
    }
    # Every deal is offered; the one odd figure without an amount, the others as they were.
    assert {key: len(found) for key, found in texts.items()} == {
        "huge": 1,
        "negative": 1,
        "fine": 1,
    }
    assert f"*Whale {tag}* closed lost." in texts["huge"][0]
    assert f"*Credit note {tag}* closed lost." in texts["negative"][0]
    assert f"*Acme {tag}* (£60,000) closed lost." in texts["fine"][0]
