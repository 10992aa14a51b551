"""The CRM e2e tests' harness (tests/e2e/test_crm_*.py): `rebound serve` started with a CRM's
stand-in (`serve_crm`, on one backend per module param) or in OAuth mode with two workspaces
(`serve_two`), a HubSpot stand-in with owners (`hubspot_with`), the `slack` fixture driving the
module's `live` app, the deal's stored rows and its offers and their buttons, Salesforce Outbound
Messages as Salesforce sends them, and the CRM modal of `/rebound settings`."""

from __future__ import annotations

import dataclasses
import itertools
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import pytest
from cryptography.fernet import Fernet
from sqlmodel import col, select

from bot.blocks.crm_settings import CRM_SETTINGS_OPEN_ACTION_ID
from bot.clock import FakeClock, utc_now
from storage.models import CrmDeal
from testkit.hubspot_standin import HubSpotStandIn
from testkit.live import LiveApp, app_env, serve_process
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.databases import BACKENDS, fresh_database
from tests.support.oauth_live import oauth_env
from tests.support.slack import ALPHA, BETA, DEFAULT_TEAM, DM, SlackDriver, _text, team_of, text_of

__all__ = ["slack"]


@contextmanager
def hubspot_with(*owners: tuple[str, ...]) -> Iterator[HubSpotStandIn]:
    """A started HubSpot stand-in knowing `owners` (owner id, email[, first name])."""
    server = HubSpotStandIn().start()
    for owner in owners:
        server.add_owner(*owner)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve_crm(
    request: pytest.FixtureRequest,
    standin: SlackStandIn,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    folder_prefix: str,
    emails: Mapping[str, str],
    env: Mapping[str, str],
) -> Iterator[LiveApp]:
    """`rebound serve` on the backend `request.param` names, with `env` added to the app's; the
    users in `emails` are known to Slack by those emails (the CRM's owners are matched by them)."""
    for user_id, email in emails.items():
        standin.add_user(dataclasses.replace(standin.users[user_id], email=email))
    folder = tmp_path_factory.mktemp(f"{folder_prefix}-{request.param}")
    with fresh_database(request.param, folder) as url:
        secret = secrets.token_hex(16)
        with serve_process(app_env(standin, url, secret) | dict(env), folder, secret) as app:
            app.directory = standin
            yield app


def hubspot_fixture(*owners: tuple[str, ...]) -> Any:
    """A module's `hubspot` fixture: a HubSpot stand-in knowing `owners` (see hubspot_with)."""

    @pytest.fixture(scope="module")
    def hubspot() -> Iterator[HubSpotStandIn]:
        with hubspot_with(*owners) as server:
            yield server

    return hubspot


def hubspot_live(
    *,
    folder_prefix: str,
    emails: Mapping[str, str],
    secret: str,
    env: Mapping[str, str] | None = None,
) -> Any:
    """A module's `live` fixture: `rebound serve` on each backend with HubSpot connected (the
    module's `hubspot` stand-in, webhooks signed with `secret`), and `env` besides."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def live(
        request: pytest.FixtureRequest,
        standin: SlackStandIn,
        hubspot: HubSpotStandIn,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[LiveApp]:
        hubspot_env = {
            "REBOUND_PUBLIC_URL": PUBLIC_URL,
            "HUBSPOT_CLIENT_SECRET": secret,
            "HUBSPOT_ACCESS_TOKEN": hubspot.access_token,
            "HUBSPOT_API_URL": hubspot.url,
        }
        with serve_crm(
            request,
            standin,
            tmp_path_factory,
            folder_prefix=folder_prefix,
            emails=emails,
            env=hubspot_env | dict(env or {}),
        ) as app:
            yield app

    return live


@pytest.fixture
def slack(live: LiveApp, standin: SlackStandIn) -> Iterator[SlackDriver]:
    """A driver of the module's `live` app in the default workspace, at the real now."""
    driver = SlackDriver.for_app(live, standin, DEFAULT_TEAM, clock=FakeClock(utc_now()))
    driver.setup()
    yield driver
    driver.close()


# -- what the app stored and offered ------------------------------------------------------------


def deal_rows(driver: SlackDriver, deal_id: str) -> list[CrmDeal]:
    """The stored CRM rows of the deal (a HubSpot deal id or a Salesforce Opportunity id), in
    the order they were stored, whichever workspace they are of."""
    with driver.session_factory() as session:
        statement = select(CrmDeal).where(CrmDeal.deal_id == deal_id).order_by(col(CrmDeal.id))
        return list(session.exec(statement).all())


def offers(driver: SlackDriver, user_id: str, words: str, seen: int = 0) -> list[RecordedCall]:
    """The offers to debrief a deal that mentions `words` DMed to `user_id` since `seen`."""
    return [
        c
        for c in driver.since(seen, "chat.postMessage", channel=DM[user_id])
        if words in _text(c) and "Debrief it while it's fresh?" in (c.params.get("text") or "")
    ]


def button_value(dm: RecordedCall, action_id: str) -> str:
    """The value of the DM's button `action_id` (an offer's Debrief this or Not now)."""
    for block in dm.params["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


# -- two workspaces in OAuth mode, each connecting its CRM in /rebound settings -----------------

PUBLIC_URL = "https://rebound.example.com"
ADMIN = "U0ADMIN"  # a Slack workspace admin (testkit.live's team), in both workspaces


@contextmanager
def serve_two(
    request: pytest.FixtureRequest,
    standin: SlackStandIn,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    folder_prefix: str,
    env: Mapping[str, str] | None = None,
) -> Iterator[SlackDriver]:
    """`rebound serve` in OAuth mode at PUBLIC_URL with Alpha and Beta installed, on the backend
    `request.param` names; a driver of Alpha (`.workspace(BETA)` for Beta)."""
    standin.add_team(ALPHA, "Alpha Sales")
    standin.add_team(BETA, "Beta Sales")
    folder = tmp_path_factory.mktemp(f"{folder_prefix}-{request.param}")
    key = Fernet.generate_key().decode()
    signing = secrets.token_hex(16)
    with fresh_database(request.param, folder) as url:
        app_env = oauth_env(standin, url, signing, key)
        app_env.update(REBOUND_PUBLIC_URL=PUBLIC_URL, **(env or {}))
        with serve_process(app_env, folder, signing) as app:
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
    """A text input's state, by its action_id ("value"), as `view.state.values` holds it."""
    return {"value": state_value("plain_text_input", value)}


def crm_modal(ws: SlackDriver, user_id: str = ADMIN) -> dict[str, Any]:
    """`/rebound settings`, then *Connect a CRM*: the CRM modal Slack pushed."""
    settings_view = ws.open_modal("/rebound", "settings", user_id)
    seen = ws.mark()
    clicked = ws.sender.block_actions(
        user_id=user_id,
        actions=[{"action_id": CRM_SETTINGS_OPEN_ACTION_ID, "value": "open"}],
        view=settings_view,
    )
    assert clicked.status == 200, clicked.body
    (pushed,) = ws.wait(seen, "views.push")
    assert team_of(pushed) == ws.team_id  # pushed with this workspace's own token
    return pushed.response["view"]


def submit_crm(
    ws: SlackDriver,
    values: dict[str, Any],
    user_id: str = ADMIN,
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    reply = ws.submit(view or crm_modal(ws), user_id, values)
    return json.loads(reply.body) if reply.body else {}


def endpoint_path(view: dict[str, Any]) -> str:
    """The endpoint URL the saved view shows (once), as a path."""
    shown = json.dumps(view, ensure_ascii=False)
    start = shown.index(f"{PUBLIC_URL}/crm/salesforce/") + len(PUBLIC_URL)
    end = shown.index("`", start)
    return shown[start:end]


def offers_about(two: SlackDriver, seen: int, words: str) -> list[RecordedCall]:
    return [c for c in two.since(seen, "chat.postMessage") if words in text_of(c)]


# -- requests as Salesforce sends them -----------------------------------------------------------

_ids = itertools.count(secrets.randbelow(10**9) * 1000 + 1)


def sf_id(prefix: str) -> str:
    """An 18-character Salesforce id of this run's own (006: Opportunity, 04l: notification)."""
    return f"{prefix}{next(_ids) % 10**12:012d}AAA"


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


class Reply(NamedTuple):
    status: int
    body: str


def post(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    """POST `body`; the status and body of the answer, an error status too."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode())


# Salesforce's Outbound Messages: SOAP 1.1, an empty SOAPAction.
SALESFORCE_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def salesforce_post(driver: SlackDriver, path: str, body: bytes) -> Reply:
    """An Outbound Message POSTed to the driven app's `path` as Salesforce sends one."""
    return post(f"{driver.live.base_url}{path}", body, SALESFORCE_HEADERS)
