"""Salesforce closed Opportunities over HTTP: Outbound Messages built in the test in the shape of
Salesforce's outbound messaging WSDL, POSTed to the real `rebound serve`; the owner's email from
the formula field, or read back from the REST stand-in with the message's session; the offer in
the owner's DM from the Slack stand-in; the acknowledgement only once stored.

The message's shape ("Understanding the Outbound Messaging WSDL",
https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html):
a SOAP 1.1 envelope, body `notifications` (namespace http://soap.sforce.com/2005/09/outbound) with
OrganizationId, ActionId, SessionId (xsi:nil when not sent), EnterpriseUrl, PartnerUrl and up
to 100 Notification (Id, sObject xsi:type="sf:Opportunity" with sf: fields, namespace
urn:sobject.enterprise.soap.sforce.com). The acknowledgement: notificationsResponse/Ack true.

Every test is in the bot token's one workspace, so each uses Opportunity ids and names of its
own; the scheduler is this test's (a FakeClock), ticked by hand.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import text

from bot.blocks.crm import DEBRIEF_ACTION_ID
from storage.models import CrmDeal
from testkit.live import LiveApp
from testkit.salesforce_standin import SalesforceStandIn
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.crm import button_value, deal_rows, offers, serve_crm, slack
from tests.support.databases import BACKENDS
from tests.support.slack import ADMIN, REP1, REP2, SlackDriver

__all__ = ["slack"]  # the fixture (tests/support/crm.py)

TOKEN = "kQ7vN2xR9pL4mW8sT1yB6cF3hJ5dG0aZ-e_u"  # as secrets.token_urlsafe makes them
ORG_15 = "00D5e000000KQ2e"  # SALESFORCE_ORG_ID as Setup shows it
ORG_18 = "00D5e000000KQ2eEAG"  # what Salesforce sends in OrganizationId
OTHER_ORG = "00D8a000000XYZ9EAC"
PARTNER_URL = f"https://acme.my.salesforce.com/services/Soap/u/59.0/{ORG_15}"
ENTERPRISE_URL = f"https://acme.my.salesforce.com/services/Soap/c/59.0/{ORG_15}"
LEO, PRIYA = "leo@example.com", "priya@example.com"
_ids = itertools.count(int(time.time()) % 10**6 * 100)


def sf_id(prefix: str) -> str:
    """An 18-character Salesforce id of this test's own (006: Opportunity, 04l: notification)."""
    return f"{prefix}{next(_ids):012d}AAA"


def deal_name(words: str) -> str:
    return f"{words} {uuid.uuid4().hex[:6]}"


# -- Outbound Messages, as Salesforce sends them ------------------------------------------------


def opportunity(
    opportunity_id: str,
    name: str,
    *,
    amount: str | None = "60000.0",
    stage: str = "Closed Lost",
    closed: bool = True,
    won: bool = False,
    owner_email: str | None = LEO,
    currency: str | None = "GBP",
    notification_id: str | None = None,
) -> str:
    """One <Notification> of an Opportunity, its fields as the Outbound Message picked them."""
    fields = [f"<sf:Id>{opportunity_id}</sf:Id>"]
    if amount is not None:
        fields.append(f"<sf:Amount>{amount}</sf:Amount>")
    if currency is not None:
        fields.append(f"<sf:CurrencyIsoCode>{currency}</sf:CurrencyIsoCode>")
    fields += [
        f"<sf:IsClosed>{str(closed).lower()}</sf:IsClosed>",
        f"<sf:IsWon>{str(won).lower()}</sf:IsWon>",
        f"<sf:Name>{escape(name)}</sf:Name>",
    ]
    if owner_email is not None:
        fields.append(f"<sf:Owner_Email__c>{escape(owner_email)}</sf:Owner_Email__c>")
    fields.append(f"<sf:StageName>{escape(stage)}</sf:StageName>")
    return (
        "<Notification>"
        f"<Id>{notification_id or sf_id('04l')}</Id>"
        '<sObject xsi:type="sf:Opportunity" '
        'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">' + "".join(fields) + "</sObject>"
        "</Notification>"
    )


def outbound_message(
    *notifications: str, org: str = ORG_18, session_id: str | None = None, prolog: str = ""
) -> bytes:
    session = (
        f"<SessionId>{escape(session_id)}</SessionId>"
        if session_id
        else '<SessionId xsi:nil="true"/>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        + prolog
        + '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body>"
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId>"
        "<ActionId>04k5e000000CaRkAAK</ActionId>"
        f"{session}"
        f"<EnterpriseUrl>{ENTERPRISE_URL}</EnterpriseUrl>"
        f"<PartnerUrl>{PARTNER_URL}</PartnerUrl>" + "".join(notifications) + "</notifications>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str
    seconds: float

    @property
    def acked(self) -> bool:
        """The acknowledgement Salesforce waits for: notificationsResponse with Ack true."""
        if self.status != 200 or not self.content_type.startswith("text/xml"):
            return False
        root = ElementTree.fromstring(self.body)
        ack = root.find(
            "{http://schemas.xmlsoap.org/soap/envelope/}Body/"
            "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
            "{http://soap.sforce.com/2005/09/outbound}Ack"
        )
        return ack is not None and ack.text == "true"


def post(app: LiveApp, body: bytes, *, token: str = TOKEN) -> Reply:
    request = urllib.request.Request(
        f"{app.base_url}/crm/salesforce/{token}",
        data=body,
        # Salesforce's Outbound Messages: SOAP 1.1, an empty SOAPAction.
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
                time.perf_counter() - started,
            )
    except urllib.error.HTTPError as error:
        return Reply(
            error.code,
            error.headers.get("Content-Type", ""),
            error.read().decode(),
            time.perf_counter() - started,
        )


# -- the app ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def salesforce() -> Iterator[SalesforceStandIn]:
    server = SalesforceStandIn().start()
    # The job runs in this process (the test's ticker): it trusts the stand-in's certificate.
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = server.ca_bundle
    try:
        yield server
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before
        server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest,
    standin: SlackStandIn,
    salesforce: SalesforceStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveApp]:
    """`rebound serve` taking Salesforce's Outbound Messages, on each backend."""
    with serve_crm(
        request,
        standin,
        tmp_path_factory,
        folder_prefix="sfdc",
        emails={REP1: LEO, REP2: PRIYA},
        env={
            "SALESFORCE_OUTBOUND_TOKEN": TOKEN,
            "SALESFORCE_ORG_ID": ORG_15,
            "SALESFORCE_API_URL": salesforce.url,
            "REQUESTS_CA_BUNDLE": salesforce.ca_bundle,
        },
    ) as app:
        yield app


def tick(slack: SlackDriver, at: datetime | None = None) -> list[RecordedCall]:
    assert slack.clock is not None
    return slack.tick_at(at or slack.clock.now)


# -- the offer ----------------------------------------------------------------------------------


def test_a_closed_lost_opportunity_is_acked_once_stored_and_becomes_one_offer(
    slack: SlackDriver, salesforce: SalesforceStandIn
) -> None:
    opp, name = sf_id("006"), deal_name("Acme renewal")
    notification = sf_id("04l")
    body = outbound_message(opportunity(opp, name, notification_id=notification))
    seen = slack.mark()
    reply = post(slack.live, body)
    assert reply.acked and reply.seconds < 2
    # Acknowledged means stored: the row is there before any job has run.
    stored = deal_rows(slack, opp)
    assert [(r.state, r.event_key, r.name, r.won) for r in stored] == [
        ("received", notification, name, False)
    ]
    assert stored[0].owner_email == LEO and stored[0].api_session is None
    assert stored[0].link == f"https://acme.my.salesforce.com/{opp}"
    tick(slack)
    dms = offers(slack, REP1, name, seen)
    assert len(dms) == 1
    assert dms[0].params["text"] == (
        "When you lose an opportunity, it hurts. "
        f"Salesforce marked *{name}* (£60,000) closed lost. Debrief it while it's fresh?"
    )
    # The owner's email came from the formula field: Salesforce's API was not called.
    assert [c for c in salesforce.calls if opp in c.soql] == []

    # Salesforce re-sends the message (same notification Id): acked again, no second effect;
    # and another notification of the same Opportunity closing is one offer still.
    assert post(slack.live, body).acked
    assert post(slack.live, outbound_message(opportunity(opp, name))).acked
    tick(slack)
    tick(slack)
    assert len(offers(slack, REP1, name, seen)) == 1
    assert [r.state for r in deal_rows(slack, opp)] == ["offered", "duplicate"]

    # Debrief this opens /lost with the deal and the amount.
    opened = slack.mark()
    slack.click(REP1, DEBRIEF_ACTION_ID, button_value(dms[0], DEBRIEF_ACTION_ID), message=dms[0])
    view = slack.wait(opened, "views.open")[0].response["view"]
    assert view["callback_id"] == "debrief_lost"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == name
    assert blocks["amount"]["element"]["initial_value"] == "60000.00"


def test_a_won_opportunity_is_offered_as_won(slack: SlackDriver) -> None:
    opp, name = sf_id("006"), deal_name("Soylent")
    seen = slack.mark()
    note = opportunity(
        opp, name, amount="1200.5", currency="EUR", stage="Closed Won", won=True, owner_email=PRIYA
    )
    assert post(slack.live, outbound_message(note)).acked
    tick(slack)
    dms = offers(slack, REP2, name, seen)
    assert len(dms) == 1
    assert dms[0].params["text"].startswith(f"Salesforce marked *{name}* (€1,200.50) closed won.")


def test_a_stage_that_is_not_closed_is_acked_and_ignored(slack: SlackDriver) -> None:
    opp, name = sf_id("006"), deal_name("Initech")
    seen = slack.mark()
    note = opportunity(opp, name, stage="Negotiation/Review", closed=False)
    assert post(slack.live, outbound_message(note)).acked
    tick(slack)
    assert offers(slack, REP1, name, seen) == []
    assert [r.state for r in deal_rows(slack, opp)] == ["ignored"]


def test_the_owner_email_is_read_back_through_the_rest_api_when_the_field_is_absent(
    slack: SlackDriver, salesforce: SalesforceStandIn
) -> None:
    opp, name = sf_id("006"), deal_name("Globex")
    salesforce.add_opportunity(opp, LEO)
    seen = slack.mark()
    note = opportunity(opp, name, owner_email=None)
    reply = post(slack.live, outbound_message(note, session_id=salesforce.session_id))
    # The ack does not wait for Salesforce's API: the job reads it.
    assert reply.acked
    assert [c for c in salesforce.calls if opp in c.soql] == []
    stored = deal_rows(slack, opp)[0]
    assert stored.owner_email is None and stored.api_session
    # Stored encrypted: the database alone holds no usable session.
    assert salesforce.session_id not in stored.api_session
    tick(slack)
    calls = [c for c in salesforce.calls if opp in c.soql]
    assert [(c.authorization, c.status) for c in calls] == [
        (f"Bearer {salesforce.session_id}", 200)
    ]
    assert len(offers(slack, REP1, name, seen)) == 1
    row = deal_rows(slack, opp)[0]
    assert (row.state, row.owner_email) == ("offered", LEO)
    # The session is not kept once used.
    assert (row.api_session, row.api_url) == (None, None)


def test_salesforce_down_then_back_and_an_expired_session_are_kept_not_lost(
    slack: SlackDriver, salesforce: SalesforceStandIn
) -> None:
    opp, name = sf_id("006"), deal_name("Hooli")
    expired_opp, expired_name = sf_id("006"), deal_name("Stark")
    salesforce.add_opportunity(opp, PRIYA)
    salesforce.add_opportunity(expired_opp, PRIYA)
    seen = slack.mark()
    salesforce.down = True
    try:
        message = outbound_message(
            opportunity(opp, name, owner_email=None), session_id=salesforce.session_id
        )
        assert post(slack.live, message).acked
        tick(slack)
    finally:
        salesforce.down = False
    assert [r.state for r in deal_rows(slack, opp)] == ["error"]
    assert offers(slack, REP2, name, seen) == []
    assert slack.clock is not None
    tick(slack, slack.clock.now + timedelta(minutes=6))
    assert len(offers(slack, REP2, name, seen)) == 1

    expired = outbound_message(
        opportunity(expired_opp, expired_name, owner_email=None), session_id="00Dexpired!AQ0"
    )
    assert post(slack.live, expired).acked
    tick(slack)
    row = deal_rows(slack, expired_opp)[0]
    assert (row.state, row.last_error, row.api_session) == ("unmatched", "no owner", None)
    assert offers(slack, REP2, expired_name, seen) == []
    # Kept, and the admins are told.
    assert "1 closed deal couldn't be matched to a person in Slack" in json.dumps(
        slack.home(ADMIN).params["view"]
    )
    with slack.session_factory() as session:  # leave the admins' count as this test found it
        kept = session.get(CrmDeal, row.id)
        assert kept is not None
        kept.state = "ignored"
        session.add(kept)
        session.commit()


def test_hostile_names_reach_slack_as_text(slack: SlackDriver) -> None:
    opp, tag = sf_id("006"), uuid.uuid4().hex[:6]
    name = f"<!channel> R&D *bold* <https://evil.example|sso> {tag}"
    seen = slack.mark()
    assert post(slack.live, outbound_message(opportunity(opp, name, currency="USD"))).acked
    tick(slack)
    dms = offers(slack, REP1, tag, seen)
    assert len(dms) == 1
    text_ = dms[0].params["text"]
    assert "<!channel>" not in text_ and "<https://evil" not in text_
    assert "&lt;!channel&gt; R&amp;D *bold* &lt;https://evil.example|sso&gt;" in text_
    assert "&lt;!channel&gt;" in json.dumps(dms[0].params["blocks"])


# -- messages Salesforce never sends, or not to us ----------------------------------------------

BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
    '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
    '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
    '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
    '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>'
)
EXTERNAL_ENTITY = '<!DOCTYPE n [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
DTD_ONLY = '<!DOCTYPE soapenv:Envelope SYSTEM "https://evil.example/soap.dtd">'


@pytest.mark.parametrize(
    ("case", "prolog", "name"),
    [
        ("billion laughs", BILLION_LAUGHS, "&lol9;"),
        ("external entity", EXTERNAL_ENTITY, "&xxe;"),
        ("dtd", DTD_ONLY, "Plain"),
    ],
)
def test_hostile_xml_is_refused_at_once_and_nothing_is_stored(
    slack: SlackDriver, case: str, prolog: str, name: str
) -> None:
    opp = sf_id("006")
    body = outbound_message(opportunity(opp, "placeholder"), prolog=prolog)
    body = body.replace(b"<sf:Name>placeholder</sf:Name>", f"<sf:Name>{name}</sf:Name>".encode())
    reply = post(slack.live, body)
    assert reply.status == 400, case
    assert not reply.acked and "Fault" in reply.body
    assert reply.seconds < 2
    assert deal_rows(slack, opp) == []


def test_a_wrong_token_is_404_and_the_message_is_not_looked_at(slack: SlackDriver) -> None:
    opp = sf_id("006")
    good = outbound_message(opportunity(opp, deal_name("Wrong door")))
    for token in (TOKEN[:-1] + "x", TOKEN + "x", TOKEN[:-1], "", "../hubspot"):
        assert post(slack.live, good, token=token).status == 404
    # Not parsed either: hostile XML behind a wrong token is a 404, not a 400.
    hostile = outbound_message(opportunity(opp, "x"), prolog=BILLION_LAUGHS)
    assert post(slack.live, hostile, token="not-the-token").status == 404
    assert deal_rows(slack, opp) == []


def test_a_message_from_another_org_is_refused(slack: SlackDriver) -> None:
    opp = sf_id("006")
    reply = post(slack.live, outbound_message(opportunity(opp, "Other org"), org=OTHER_ORG))
    assert reply.status == 403 and not reply.acked
    assert deal_rows(slack, opp) == []


def test_more_than_100_notifications_are_refused_and_100_are_taken(slack: SlackDriver) -> None:
    too_many = [sf_id("006") for _ in range(101)]
    notes = [opportunity(o, "Batch", closed=False) for o in too_many]
    assert post(slack.live, outbound_message(*notes)).status == 400
    assert all(deal_rows(slack, o) == [] for o in too_many[:3])
    reply = post(slack.live, outbound_message(*notes[:100]))
    assert reply.acked
    assert [r.state for r in deal_rows(slack, too_many[99])] == ["ignored"]
    assert deal_rows(slack, too_many[100]) == []


def test_no_ack_while_the_database_cannot_store_so_salesforce_sends_it_again(
    slack: SlackDriver,
) -> None:
    opp, name = sf_id("006"), deal_name("Outage")
    body = outbound_message(opportunity(opp, name))
    with slack.session_factory() as session:
        session.execute(text("ALTER TABLE crm_deals RENAME TO crm_deals_away"))
        session.commit()
    try:
        reply = post(slack.live, body)
    finally:
        with slack.session_factory() as session:
            session.execute(text("ALTER TABLE crm_deals_away RENAME TO crm_deals"))
            session.commit()
    assert reply.status >= 500 and not reply.acked
    assert "Fault" in reply.body
    assert deal_rows(slack, opp) == []
    # Salesforce re-sends it: stored, acked, one offer.
    seen = slack.mark()
    assert post(slack.live, body).acked
    tick(slack)
    assert len(offers(slack, REP1, name, seen)) == 1
