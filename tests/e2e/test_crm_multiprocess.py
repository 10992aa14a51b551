"""Three app processes tick at the same instant on one PostgreSQL while HubSpot and Salesforce
answer slowly: each deal is read from its CRM exactly once (the jobs claim the rows they read,
`FOR UPDATE SKIP LOCKED`), and each owner gets exactly one offer.

The notifications arrive through the real endpoints of one `rebound serve` (HubSpot webhooks
signed as HubSpot signs them, a Salesforce Outbound Message in the WSDL's shape); then three
`rebound tick` processes, as three replicas' cron, read the deals. The stand-ins record which
deal each read asked for. SKIP LOCKED is PostgreSQL's, so this runs on PostgreSQL only.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlmodel import col, select

from bot.clock import utc_now
from storage.db import make_engine, make_session_factory
from storage.models import CrmDeal, OutboxMessage
from testkit.hubspot_standin import HubSpotStandIn, deal_stage_event, signed_webhook
from testkit.live import app_env, run_ticks, serve_process
from testkit.salesforce_standin import SalesforceStandIn
from testkit.standin import SlackStandIn
from tests.support.crm import PUBLIC_URL, SALESFORCE_HEADERS, post
from tests.support.databases import fresh_database
from tests.support.slack import DM, REP1

ROOT = Path(__file__).resolve().parents[2]
HUBSPOT_SECRET = "9f8e7d6c-5b4a-3f2e-1d0c-b9a8f7e6d5c4"
SF_TOKEN = "Xq3vB8nR2kL7mW1sT6yC9fH4jD5gP0aZ-u_e"
SF_ORG = "00D5e000000KQ2eEAG"
LEO, LEO_OWNER = "leo.multi@example.com", "7301"
PROCESSES = 3
HUBSPOT_DEALS, SALESFORCE_DEALS = 30, 12


def _outbound_message(opportunities: list[tuple[str, str]], session_id: str) -> bytes:
    """An Outbound Message as Salesforce sends one ("Understanding the Outbound Messaging WSDL",
    https://developer.salesforce.com/docs/platform/api/guide/
    sforce-api-om-outboundmessaging-wsdl.html): no owner-email field, so the owner is read back
    through the REST API with the message's session."""
    notes = "".join(
        "<Notification>"
        f"<Id>04l{secrets.token_hex(6).upper()}AAA</Id>"
        '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>{opportunity_id}</sf:Id><sf:Amount>5000.0</sf:Amount>"
        "<sf:IsClosed>true</sf:IsClosed><sf:IsWon>false</sf:IsWon>"
        f"<sf:Name>{escape(name)}</sf:Name><sf:StageName>Closed Lost</sf:StageName>"
        "</sObject></Notification>"
        for opportunity_id, name in opportunities
    )
    partner = f"https://acme.my.salesforce.com/services/Soap/u/59.0/{SF_ORG[:15]}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{SF_ORG}</OrganizationId><ActionId>04k5e000000CaRkAAK</ActionId>"
        f"<SessionId>{escape(session_id)}</SessionId>"
        f"<EnterpriseUrl>{partner.replace('/u/', '/c/')}</EnterpriseUrl>"
        f"<PartnerUrl>{partner}</PartnerUrl>{notes}</notifications>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.fixture
def crms() -> Iterator[tuple[HubSpotStandIn, SalesforceStandIn]]:
    hubspot, salesforce = HubSpotStandIn().start(), SalesforceStandIn().start()
    hubspot.add_owner(LEO_OWNER, LEO)
    # Slow CRMs: every process's pass is still reading when the others start theirs.
    hubspot.read_delay, salesforce.read_delay = 3.0, 0.4
    try:
        yield hubspot, salesforce
    finally:
        hubspot.stop()
        salesforce.stop()


def test_three_processes_read_each_deal_from_its_crm_once(
    standin: SlackStandIn,
    crms: tuple[HubSpotStandIn, SalesforceStandIn],
    tmp_path: Path,
) -> None:
    hubspot, salesforce = crms
    standin.add_user(dataclasses.replace(standin.users[REP1], email=LEO))
    tag = uuid.uuid4().hex[:6]
    hub_ids = [str(880000 + i) for i in range(HUBSPOT_DEALS)]
    for deal_id in hub_ids:
        hubspot.add_deal(deal_id, f"Hub {deal_id} {tag}", amount="900", owner_id=LEO_OWNER)
    sf_ids = [f"006{i:012d}AAA" for i in range(SALESFORCE_DEALS)]
    for opportunity_id in sf_ids:
        salesforce.add_opportunity(opportunity_id, LEO)

    with fresh_database("postgresql", tmp_path) as url:
        env = app_env(standin, url, secrets.token_hex(16)) | {
            "REBOUND_PUBLIC_URL": PUBLIC_URL,
            "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
            "HUBSPOT_ACCESS_TOKEN": hubspot.access_token,
            "HUBSPOT_API_URL": hubspot.url,
            "SALESFORCE_OUTBOUND_TOKEN": SF_TOKEN,
            "SALESFORCE_API_URL": salesforce.url,
            "REQUESTS_CA_BUNDLE": salesforce.ca_bundle,
        }
        with serve_process(env, tmp_path, env["SLACK_SIGNING_SECRET"]) as app:
            body = json.dumps([deal_stage_event(d) for d in hub_ids]).encode()
            reply = signed_webhook(
                f"{app.base_url}/crm/hubspot", f"{PUBLIC_URL}/crm/hubspot", HUBSPOT_SECRET, body
            )
            assert reply.status == 200, reply.body
            message = _outbound_message(
                [(o, f"Sf {o} {tag}") for o in sf_ids], salesforce.session_id
            )
            answer = post(f"{app.base_url}/crm/salesforce/{SF_TOKEN}", message, SALESFORCE_HEADERS)
            assert answer.status == 200 and "<Ack>true</Ack>" in answer.body

        seen = len(standin.calls)
        ticks = run_ticks(env | {"PYTHONPATH": str(ROOT)}, utc_now(), tmp_path, PROCESSES)
        assert [code for code, _ in ticks] == [0] * PROCESSES, [out for _, out in ticks]
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            states = Counter(session.exec(select(CrmDeal.state)).all())
            offers = Counter(
                session.exec(
                    select(OutboxMessage.post_key).where(
                        col(OutboxMessage.post_key).like("crm:%:offer")
                    )
                ).all()
            )
        engine.dispose()

    # Each deal asked of HubSpot once, each Opportunity's owner asked of Salesforce once.
    assert Counter(hubspot.deals_read()) == Counter({d: 1 for d in hub_ids})
    assert Counter(salesforce.opportunities_read()) == Counter({o: 1 for o in sf_ids})
    # Each deal is one offer to Leo, queued once (sent at Slack's pace, one DM a second).
    assert states == Counter({"offered": HUBSPOT_DEALS + SALESFORCE_DEALS})
    keys = [f"crm:hubspot:{d}:offer" for d in hub_ids] + [
        f"crm:salesforce:{o}:offer" for o in sf_ids
    ]
    assert offers == Counter({key: 1 for key in keys})
    sent = Counter(
        str(call.params.get("text", "")).split("*")[1]
        for call in standin.calls[seen:]
        if call.method == "chat.postMessage"
        and call.ok
        and call.conversation == DM[REP1]
        and tag in str(call.params.get("text", ""))
    )
    assert sent and set(sent.values()) == {1}
