"""Each workspace its own Salesforce owner-email field, over HTTP: `rebound serve` in OAuth
mode with Alpha and Beta installed; Alpha's admin connects an org whose formula field is the
default Owner_Email__c, Beta's admin one whose field is Rep_Email__c, both from the CRM modal of
`/rebound settings`. Outbound Messages in the shape of Salesforce's WSDL carry both fields, with
different people in them: the DM reaching the rep named by the workspace's own field (and not
the decoy in the other) shows which field was read.
"""

from __future__ import annotations

import itertools
import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import pytest
from cryptography.fernet import Fernet

from bot.blocks.crm_settings import (
    CRM_SETTINGS_OPEN_ACTION_ID,
    ORG_BLOCK_ID,
    OWNER_FIELD_BLOCK_ID,
)
from bot.clock import FakeClock, utc_now
from storage.models import CrmConnection
from testkit.live import serve_process
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.databases import BACKENDS, fresh_database
from tests.support.oauth_live import oauth_env
from tests.support.slack import ALPHA, BETA, SlackDriver, team_of, text_of

PUBLIC_URL = "https://rebound.example.com"
ADMIN = "U0ADMIN"  # a Slack workspace admin (testkit.live's team), in both workspaces
ORG_A, ORG_B = "00D5e000000FLDAEAG", "00D8a000000FLDBEAC"
_ids = itertools.count(secrets.randbelow(10**9) * 1000 + 1)


def sf_id(prefix: str) -> str:
    return f"{prefix}{next(_ids) % 10**12:012d}AAA"


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str


@dataclass(frozen=True)
class People:
    """Per workspace, the rep its own field names and a decoy the other field names."""

    rep_a: Person
    decoy_a: Person
    rep_b: Person
    decoy_b: Person


def outbound_message(org: str, opportunity_id: str, name: str, fields: dict[str, str]) -> bytes:
    """One closed-lost Opportunity in an Outbound Message, the WSDL's shape
    (https://developer.salesforce.com/docs/platform/api/guide/
    sforce-api-om-outboundmessaging-wsdl.html), with the given custom fields (sent in the
    sObject as <sf:Field__c>, in name order as the WSDL's sequence lists them)."""
    custom = "".join(f"<sf:{k}>{escape(v)}</sf:{k}>" for k, v in sorted(fields.items()))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId><ActionId>04k5e000000CaRkAAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/59.0/{org[:15]}"
        "</EnterpriseUrl>"
        f"<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/{org[:15]}</PartnerUrl>"
        f"<Notification><Id>{sf_id('04l')}</Id>"
        '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>{opportunity_id}</sf:Id><sf:Amount>5000</sf:Amount>"
        "<sf:IsClosed>true</sf:IsClosed><sf:IsWon>false</sf:IsWon>"
        f"<sf:Name>{escape(name)}</sf:Name>{custom}<sf:StageName>Closed Lost</sf:StageName>"
        "</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def salesforce_post(two: SlackDriver, path: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{two.live.base_url}{path}",
        data=body,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# -- the app, two workspaces ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(standin: SlackStandIn) -> People:
    def person(letter: str, name: str) -> Person:
        found = Person(
            user_id=f"U0{letter}" + uuid.uuid4().hex[:8].upper(),
            email=f"{name}-{uuid.uuid4().hex[:6]}@example.com",
        )
        standin.add_user(
            StandInUser(id=found.user_id, name=name, real_name=name.title(), email=found.email)
        )
        return found

    return People(
        rep_a=person("A", "ann"),
        decoy_a=person("C", "cat"),
        rep_b=person("B", "bob"),
        decoy_b=person("D", "dan"),
    )


@pytest.fixture(scope="module", params=BACKENDS)
def two(
    request: pytest.FixtureRequest,
    standin: SlackStandIn,
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SlackDriver]:
    """`rebound serve` in OAuth mode with Alpha and Beta installed."""
    standin.add_team(ALPHA, "Alpha Sales")
    standin.add_team(BETA, "Beta Sales")
    folder = tmp_path_factory.mktemp(f"crm-owner-field-{request.param}")
    key = Fernet.generate_key().decode()
    signing = secrets.token_hex(16)
    with fresh_database(request.param, folder) as url:
        env = oauth_env(standin, url, signing, key)
        env.update(REBOUND_PUBLIC_URL=PUBLIC_URL)
        with serve_process(env, folder, signing) as app:
            app.directory = standin
            driver = SlackDriver.for_app(
                app, standin, ALPHA, oauth_key=key, clock=FakeClock(utc_now()), wait_timeout=15
            )
            try:
                driver.install(ALPHA)
                driver.install(BETA)
                yield driver
            finally:
                driver.close()


def typed(value: str) -> dict[str, Any]:
    return {"value": state_value("plain_text_input", value)}


def crm_modal(ws: SlackDriver) -> dict[str, Any]:
    """`/rebound settings`, then the CRM line's button: the CRM modal Slack pushed."""
    settings_view = ws.open_modal("/rebound", "settings", ADMIN)
    seen = ws.mark()
    clicked = ws.sender.block_actions(
        user_id=ADMIN,
        actions=[{"action_id": CRM_SETTINGS_OPEN_ACTION_ID, "value": "open"}],
        view=settings_view,
    )
    assert clicked.status == 200, clicked.body
    (pushed,) = ws.wait(seen, "views.push")
    return pushed.response["view"]


def submit_crm(ws: SlackDriver, values: dict[str, Any]) -> dict[str, Any]:
    reply = ws.submit(crm_modal(ws), ADMIN, values)
    return json.loads(reply.body) if reply.body else {}


def endpoint_path(view: dict[str, Any]) -> str:
    """The endpoint URL the saved view shows (once), as a path."""
    shown = json.dumps(view, ensure_ascii=False)
    start = shown.index(f"{PUBLIC_URL}/crm/salesforce/") + len(PUBLIC_URL)
    return shown[start : shown.index("`", start)]


@pytest.fixture(scope="module")
def connected(two: SlackDriver) -> dict[str, str]:
    """Alpha's org with the default field (the box left empty), Beta's with Rep_Email__c; each
    one's endpoint path, shown once."""
    paths = {}
    for team_id, values in (
        (ALPHA, {ORG_BLOCK_ID: typed(ORG_A)}),
        (BETA, {ORG_BLOCK_ID: typed(ORG_B), OWNER_FIELD_BLOCK_ID: typed("Rep_Email__c")}),
    ):
        saved = submit_crm(two.workspace(team_id), values)
        assert saved["response_action"] == "update", saved
        paths[team_id] = endpoint_path(saved["view"])
    return paths


def offers_about(two: SlackDriver, seen: int, words: str) -> list[RecordedCall]:
    return [c for c in two.since(seen, "chat.postMessage") if words in text_of(c)]


# -- the tests ------------------------------------------------------------------------------------


def test_each_workspaces_message_is_read_with_its_own_field(
    two: SlackDriver, connected: dict[str, str], people: People
) -> None:
    name_a, name_b = f"Acme {uuid.uuid4().hex[:6]}", f"Globex {uuid.uuid4().hex[:6]}"
    opp_a, opp_b = sf_id("006"), sf_id("006")
    seen = two.mark()
    # Both messages carry both fields, naming different people.
    for path, org, opportunity, name, fields in (
        (
            connected[ALPHA],
            ORG_A,
            opp_a,
            name_a,
            {"Owner_Email__c": people.rep_a.email, "Rep_Email__c": people.decoy_a.email},
        ),
        (
            connected[BETA],
            ORG_B,
            opp_b,
            name_b,
            {"Owner_Email__c": people.decoy_b.email, "Rep_Email__c": people.rep_b.email},
        ),
    ):
        status, body = salesforce_post(two, path, outbound_message(org, opportunity, name, fields))
        assert status == 200 and "<Ack>true</Ack>" in body, body
    assert two.clock is not None
    two.tick_at(two.clock.now)
    two.settle()
    (offer_a,) = offers_about(two, seen, name_a)
    assert team_of(offer_a) == ALPHA and offer_a.conversation == "D" + people.rep_a.user_id[1:]
    (offer_b,) = offers_about(two, seen, name_b)
    assert team_of(offer_b) == BETA and offer_b.conversation == "D" + people.rep_b.user_id[1:]
    decoys = {"D" + p.user_id[1:] for p in (people.decoy_a, people.decoy_b)}
    assert [c for c in two.since(seen, "chat.postMessage") if c.conversation in decoys] == []


def test_the_field_is_shown_on_the_crm_line_and_a_bad_one_is_a_field_error(
    two: SlackDriver, connected: dict[str, str]
) -> None:
    beta = two.workspace(BETA)
    shown = json.dumps(beta.open_modal("/rebound", "settings", ADMIN), ensure_ascii=False)
    assert "owner email field `Rep_Email__c`" in shown
    alpha_shown = json.dumps(two.open_modal("/rebound", "settings", ADMIN), ensure_ascii=False)
    assert "owner email field `Owner_Email__c`" in alpha_shown
    answer = submit_crm(
        beta, {ORG_BLOCK_ID: typed(ORG_B), OWNER_FIELD_BLOCK_ID: typed("Owner.Email")}
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {OWNER_FIELD_BLOCK_ID}
    with two.session_factory() as session:
        row = session.get(CrmConnection, BETA)
        assert row is not None and row.salesforce_owner_email_field == "Rep_Email__c"
