"""Each workspace its own CRM, over HTTP: `rebound serve` in OAuth mode with Alpha and Beta
installed through the OAuth flow; each admin connects their own HubSpot portal and Salesforce
org from `/rebound settings` (the *Connect a CRM* button, the pushed CRM modal, its
submission); webhooks signed in the test as HubSpot signs them (v3, from HubSpot's documented
algorithm, with each portal's own private-app client secret) and Outbound Messages in the shape
of Salesforce's WSDL are sent to the real endpoints; the offers' DMs are read from the Slack
stand-in with the token each call used.

What can differ is checked: which workspace's bot token each Slack call used, which HubSpot
account's token read each deal, the rows each workspace has. Where a test looks for the
absence of something, the same request is shown to work in its own workspace.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.blocks.crm_settings import (
    NEW_URL_BLOCK_ID,
    ORG_BLOCK_ID,
    PORTAL_BLOCK_ID,
    SECRET_BLOCK_ID,
    TOKEN_BLOCK_ID,
)
from storage.models import CrmConnection
from testkit.hubspot_standin import HubSpotStandIn, deal_stage_event
from testkit.simulator import state_value
from testkit.standin import SlackStandIn, StandInUser
from tests.support.crm import (
    PUBLIC_URL,
    Reply,
    crm_modal,
    deal_rows,
    endpoint_path,
    offers_about,
    outbound_message,
    post,
    salesforce_post,
    serve_two,
    sf_id,
    submit_crm,
    typed,
)
from tests.support.databases import BACKENDS
from tests.support.slack import ALPHA, BETA, SlackDriver, team_of

HUBSPOT_URI = f"{PUBLIC_URL}/crm/hubspot"
PORTAL_A, PORTAL_B = "62515", "73626"
SECRET_A = "a1b2c3d4-e5f6-7a8b-9c0d-alpha0000001"
SECRET_B = "b1b2c3d4-e5f6-7a8b-9c0d-beta00000002"
ORG_A, ORG_B = "00D5e000000AAAAEAG", "00D8a000000BBBBEAC"
OWNER_A, OWNER_B = "8001", "8002"
_ids = itertools.count(secrets.randbelow(10**9) * 1000 + 1)


def new_id() -> str:
    return str(next(_ids))


def deal_name(words: str) -> str:
    return f"{words} {uuid.uuid4().hex[:6]}"


# -- requests as HubSpot and Salesforce send them ------------------------------------------------


def v3_signature(secret: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature, from its docs (https://developers.hubspot.com/docs/apps/
    developer-platform/build-apps/authentication/request-validation): base64 of HMAC-SHA256,
    keyed with the app's client secret, over method + URI + body + timestamp."""
    source = ("POST" + HUBSPOT_URI).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def hubspot_post(two: SlackDriver, secret: str, *events: dict[str, Any]) -> Reply:
    body = json.dumps(list(events)).encode()
    timestamp = str(int(time.time() * 1000))
    return post(
        f"{two.live.base_url}/crm/hubspot",
        body,
        {
            "Content-Type": "application/json",
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": v3_signature(secret, body, timestamp),
            "X-HubSpot-Signature-Version": "v3",
        },
    )


def closed_lost(org: str, opportunity_id: str, name: str, owner_email: str) -> bytes:
    """The Outbound Message of one closed-lost Opportunity owned by `owner_email` (the default
    Owner_Email__c formula field)."""
    return outbound_message(org, opportunity_id, name, {"Owner_Email__c": owner_email})


# -- the app, two workspaces, two HubSpot accounts -----------------------------------------------


@dataclass
class People:
    """A rep of each workspace, known to Slack and to their HubSpot account by email."""

    rep_a: str
    email_a: str
    rep_b: str
    email_b: str


@pytest.fixture(scope="module")
def hubspot() -> Iterator[HubSpotStandIn]:
    server = HubSpotStandIn().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def accounts(hubspot: HubSpotStandIn) -> tuple[HubSpotStandIn, HubSpotStandIn]:
    return (
        hubspot.add_account(f"pat-na1-alpha-{secrets.token_hex(8)}"),
        hubspot.add_account(f"pat-na1-beta-{secrets.token_hex(8)}"),
    )


@pytest.fixture(scope="module")
def people(standin: SlackStandIn, accounts: tuple[HubSpotStandIn, HubSpotStandIn]) -> People:
    found = People(
        rep_a="U0A" + uuid.uuid4().hex[:8].upper(),
        email_a=f"ann-{uuid.uuid4().hex[:6]}@alpha.example",
        rep_b="U0B" + uuid.uuid4().hex[:8].upper(),
        email_b=f"bob-{uuid.uuid4().hex[:6]}@beta.example",
    )
    standin.add_user(StandInUser(id=found.rep_a, name="ann", real_name="Ann", email=found.email_a))
    standin.add_user(StandInUser(id=found.rep_b, name="bob", real_name="Bob", email=found.email_b))
    account_a, account_b = accounts
    account_a.add_owner(OWNER_A, found.email_a, "Ann")
    account_b.add_owner(OWNER_B, found.email_b, "Bob")
    # The same owner id in both accounts, each with its own person: a portal's deal read
    # with the other's token would name the wrong rep.
    account_a.add_owner(OWNER_B, found.email_a, "Ann")
    account_b.add_owner(OWNER_A, found.email_b, "Bob")
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def two(
    request: pytest.FixtureRequest,
    standin: SlackStandIn,
    hubspot: HubSpotStandIn,
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SlackDriver]:
    """`rebound serve` in OAuth mode, Alpha and Beta installed, each with its CRM connected
    through its own `/rebound settings`."""
    with serve_two(
        request,
        standin,
        tmp_path_factory,
        folder_prefix="crm-workspaces",
        env={"HUBSPOT_API_URL": hubspot.url},
    ) as driver:
        yield driver


@pytest.fixture(scope="module")
def connected(two: SlackDriver, accounts: tuple[HubSpotStandIn, HubSpotStandIn]) -> dict[str, str]:
    """Both workspaces connect HubSpot and Salesforce; each one's endpoint path, shown once."""
    paths = {}
    for team_id, account, portal, secret, org in (
        (ALPHA, accounts[0], PORTAL_A, SECRET_A, ORG_A),
        (BETA, accounts[1], PORTAL_B, SECRET_B, ORG_B),
    ):
        saved = submit_crm(
            two.workspace(team_id),
            {
                PORTAL_BLOCK_ID: typed(portal),
                TOKEN_BLOCK_ID: typed(account.access_token),
                SECRET_BLOCK_ID: typed(secret),
                ORG_BLOCK_ID: typed(org),
            },
        )
        assert saved["response_action"] == "update", saved
        paths[team_id] = endpoint_path(saved["view"])
    return paths


# -- helpers ----------------------------------------------------------------------------------


def tick(two: SlackDriver) -> None:
    assert two.clock is not None
    two.tick_at(two.clock.now)
    two.settle()


# -- connecting ---------------------------------------------------------------------------------


def test_secrets_are_stored_encrypted_and_only_their_endings_shown_again(
    two: SlackDriver, connected: dict[str, str], accounts: tuple[HubSpotStandIn, HubSpotStandIn]
) -> None:
    token_a = accounts[0].access_token
    with two.session_factory() as session:
        row = session.get(CrmConnection, ALPHA)
        assert row is not None and row.hubspot_portal_id == PORTAL_A
        stored = json.dumps(row.model_dump(), default=str)
    # Neither the token, the secret nor the endpoint's token is in the row as given.
    for secret in (token_a, SECRET_A, connected[ALPHA].rsplit("/", 1)[1]):
        assert secret not in stored
    assert Fernet(two.oauth_key.encode()).decrypt(row.hubspot_access_token.encode()).decode() == (
        token_a
    )
    # Opened again: the endings, never the secrets, and no endpoint URL.
    shown = json.dumps(crm_modal(two), ensure_ascii=False)
    assert f"ending …{token_a[-4:]}" in shown and f"ending …{SECRET_A[-4:]}" in shown
    assert token_a not in shown and SECRET_A not in shown
    assert connected[ALPHA] not in shown and "/crm/salesforce/" not in shown


def test_bad_input_gets_field_errors_and_nothing_is_saved(
    two: SlackDriver, connected: dict[str, str]
) -> None:
    beta = two.workspace(BETA)
    answer = submit_crm(
        beta,
        {
            PORTAL_BLOCK_ID: typed("not-a-number"),
            TOKEN_BLOCK_ID: typed("pat-na1-x"),
            ORG_BLOCK_ID: typed("00X-bad"),
        },
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {PORTAL_BLOCK_ID, ORG_BLOCK_ID}
    # A new portal without its token, and Alpha's portal taken by Beta: refused too.
    answer = submit_crm(beta, {PORTAL_BLOCK_ID: typed("99999")})
    assert set(answer["errors"]) == {TOKEN_BLOCK_ID, SECRET_BLOCK_ID}
    answer = submit_crm(
        beta,
        {
            PORTAL_BLOCK_ID: typed(PORTAL_A),
            TOKEN_BLOCK_ID: typed("pat-na1-taken"),
            SECRET_BLOCK_ID: typed("taken-secret"),
            ORG_BLOCK_ID: typed(ORG_B),
        },
    )
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {PORTAL_BLOCK_ID}
    with two.session_factory() as session:
        row = session.get(CrmConnection, BETA)
        assert row is not None and row.hubspot_portal_id == PORTAL_B


def test_only_admins_change_the_crm_connection(
    two: SlackDriver, connected: dict[str, str], people: People
) -> None:
    # A rep submits the CRM modal (a forgery: they were never shown it).
    view = crm_modal(two)
    answer = submit_crm(
        two,
        {
            PORTAL_BLOCK_ID: typed("55555"),
            TOKEN_BLOCK_ID: typed("pat-na1-rogue"),
            SECRET_BLOCK_ID: typed("rogue-secret"),
        },
        user_id=people.rep_a,
        view=view,
    )
    assert answer["response_action"] == "errors"
    assert "Only Rebound admins" in answer["errors"][PORTAL_BLOCK_ID]
    with two.session_factory() as session:
        row = session.get(CrmConnection, ALPHA)
        assert row is not None and row.hubspot_portal_id == PORTAL_A


# -- HubSpot, routed by portalId ---------------------------------------------------------------


def test_a_portals_closed_deal_reaches_only_its_workspace(
    two: SlackDriver,
    connected: dict[str, str],
    accounts: tuple[HubSpotStandIn, HubSpotStandIn],
    people: People,
) -> None:
    account_a, account_b = accounts
    deal_a, name_a = new_id(), deal_name("Acme")
    account_a.add_deal(deal_a, name_a, amount="60000", owner_id=OWNER_A)
    # The same deal id in Beta's portal is another deal, of Beta's rep.
    name_b = deal_name("Globex")
    account_b.add_deal(deal_a, name_b, amount="1000", owner_id=OWNER_A)
    seen = two.mark()
    reads_a, reads_b = (len(a.calls_to("/crm/v3/objects/deals")) for a in accounts)
    reply = hubspot_post(two, SECRET_A, deal_stage_event(deal_a, portal_id=int(PORTAL_A)))
    assert reply.status == 200, reply.body
    tick(two)
    (offer,) = offers_about(two, seen, name_a)
    assert team_of(offer) == ALPHA and offer.conversation == "D" + people.rep_a[1:]
    # Read with Alpha's token only; Beta's workspace and account saw nothing of it.
    assert len(account_b.calls_to("/crm/v3/objects/deals")) == reads_b
    assert len(account_a.calls_to("/crm/v3/objects/deals")) > reads_a
    assert [c for c in two.since(seen) if team_of(c) == BETA] == []
    assert offers_about(two, seen, name_b) == []
    assert {r.team_id for r in deal_rows(two, deal_a)} == {ALPHA}

    # The same from Beta's portal: Beta's rep, Beta's token.
    seen = two.mark()
    reply = hubspot_post(two, SECRET_B, deal_stage_event(deal_a, portal_id=int(PORTAL_B)))
    assert reply.status == 200, reply.body
    tick(two)
    (offer,) = offers_about(two, seen, name_b)
    assert team_of(offer) == BETA and offer.conversation == "D" + people.rep_b[1:]
    assert [c for c in two.since(seen) if team_of(c) == ALPHA] == []


def test_one_event_id_in_two_portals_is_two_events(
    two: SlackDriver,
    connected: dict[str, str],
    accounts: tuple[HubSpotStandIn, HubSpotStandIn],
) -> None:
    event_id = int(new_id())
    deal_a, deal_b = new_id(), new_id()
    name_a, name_b = deal_name("Initech"), deal_name("Umbrella")
    accounts[0].add_deal(deal_a, name_a, owner_id=OWNER_A)
    accounts[1].add_deal(deal_b, name_b, owner_id=OWNER_B)
    seen = two.mark()
    for secret, deal, portal in ((SECRET_A, deal_a, PORTAL_A), (SECRET_B, deal_b, PORTAL_B)):
        event = deal_stage_event(deal, event_id=event_id, portal_id=int(portal))
        reply = hubspot_post(two, secret, event)
        assert reply.status == 200 and json.loads(reply.body)["stored"] == 1, reply.body
    tick(two)
    assert [team_of(c) for c in offers_about(two, seen, name_a)] == [ALPHA]
    assert [team_of(c) for c in offers_about(two, seen, name_b)] == [BETA]


def test_webhooks_of_an_unknown_portal_or_signed_with_another_portals_secret_are_refused(
    two: SlackDriver, connected: dict[str, str], accounts: tuple[HubSpotStandIn, HubSpotStandIn]
) -> None:
    deal = new_id()
    accounts[0].add_deal(deal, deal_name("Forged"), owner_id=OWNER_A)
    calls = len(accounts[0].calls)
    # Beta's secret can't speak for Alpha's portal, nor a secret for a portal nobody connected.
    for secret, portal in ((SECRET_B, PORTAL_A), (SECRET_A, "11111"), ("guess", PORTAL_A)):
        reply = hubspot_post(two, secret, deal_stage_event(deal, portal_id=int(portal)))
        assert reply.status == 401, reply.body
    # A batch mixing Alpha's portal with another (Beta's, or nobody's), signed with Alpha's
    # secret: refused whole (a private app's batch holds its own portal's events only).
    for other in (PORTAL_B, "11111"):
        reply = hubspot_post(
            two,
            SECRET_A,
            deal_stage_event(deal, portal_id=int(PORTAL_A)),
            deal_stage_event(deal, portal_id=int(other)),
        )
        assert reply.status == 401
    tick(two)
    assert deal_rows(two, deal) == []
    assert len(accounts[0].calls) == calls  # nothing was read from HubSpot


# -- Salesforce, routed by the path's token and the OrganizationId ------------------------------


def test_an_orgs_outbound_message_reaches_only_its_workspace(
    two: SlackDriver, connected: dict[str, str], people: People
) -> None:
    opportunity, name = sf_id("006"), deal_name("Hooli")
    seen = two.mark()
    reply = salesforce_post(
        two, connected[ALPHA], closed_lost(ORG_A, opportunity, name, people.email_a)
    )
    assert reply.status == 200 and "<Ack>true</Ack>" in reply.body, reply.body
    tick(two)
    (offer,) = offers_about(two, seen, name)
    assert team_of(offer) == ALPHA and offer.conversation == "D" + people.rep_a[1:]
    assert [c for c in two.since(seen) if team_of(c) == BETA] == []
    assert {r.team_id for r in deal_rows(two, opportunity)} == {ALPHA}


def test_a_message_with_one_workspaces_token_and_anothers_org_is_refused(
    two: SlackDriver, connected: dict[str, str], people: People
) -> None:
    opportunity, name = sf_id("006"), deal_name("Pied Piper")
    # Alpha's token with Beta's org, and Beta's org's message at a token nobody has.
    reply = salesforce_post(
        two, connected[ALPHA], closed_lost(ORG_B, opportunity, name, people.email_b)
    )
    assert reply.status == 403
    reply = salesforce_post(
        two,
        "/crm/salesforce/" + secrets.token_urlsafe(32),
        closed_lost(ORG_B, opportunity, name, people.email_b),
    )
    assert reply.status == 404
    tick(two)
    assert deal_rows(two, opportunity) == []


def test_a_new_endpoint_url_replaces_the_old_one(
    two: SlackDriver, connected: dict[str, str], people: People
) -> None:
    beta = two.workspace(BETA)
    modal = crm_modal(beta)
    saved = submit_crm(
        beta,
        {
            PORTAL_BLOCK_ID: typed(PORTAL_B),
            ORG_BLOCK_ID: typed(ORG_B),
            NEW_URL_BLOCK_ID: {"value": state_value("checkboxes", ["new"])},
        },
        view=modal,
    )
    assert saved["response_action"] == "update", saved
    new_path = endpoint_path(saved["view"])
    assert new_path != connected[BETA]
    old = salesforce_post(
        two, connected[BETA], closed_lost(ORG_B, sf_id("006"), "x", people.email_b)
    )
    assert old.status == 404
    opportunity, name = sf_id("006"), deal_name("Vandelay")
    seen = two.mark()
    reply = salesforce_post(two, new_path, closed_lost(ORG_B, opportunity, name, people.email_b))
    assert reply.status == 200, reply.body
    tick(two)
    assert [team_of(c) for c in offers_about(two, seen, name)] == [BETA]
    connected[BETA] = new_path
