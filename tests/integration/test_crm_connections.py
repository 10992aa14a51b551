"""Each workspace's CRM connection through the use case, on both databases: secrets stored
encrypted (and the endpoint token as its digest), a portal or org taken by one workspace only,
webhooks routed to the right one, a new endpoint token retiring the old, disconnecting, and
the same notification id in two workspaces stored twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from bot.clock import FakeClock
from bot.domain.crm import StageChange
from bot.domain.crm_connections import CrmSubmission
from bot.uow import UnitOfWork
from bot.usecases import crm
from bot.usecases.crm_connections import (
    Saved,
    Taken,
    hubspot_access_token,
    hubspot_routes,
    make_cipher,
    salesforce_route,
    save_crm_connection,
)
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import CrmConnection, CrmDeal

ALPHA, BETA = "T0CONNA", "T0CONNB"
ORG_A = "00D5e000000AAAA"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def uow(database_url: str) -> Iterator[UnitOfWork]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield UnitOfWork(
        make_session_factory(engine), clock=FakeClock(datetime(2026, 12, 3, 9, tzinfo=UTC))
    )
    engine.dispose()


def save(uow: UnitOfWork, team_id: str, submission: CrmSubmission) -> Saved | Taken:
    with uow:
        return save_crm_connection(
            uow,
            team_id=team_id,
            admin_user_id="U0ADMIN",
            submission=submission,
            cipher=make_cipher(KEY),
            global_hubspot_secret=False,
        )


def test_a_connection_is_stored_encrypted_and_routes_its_webhooks(uow: UnitOfWork) -> None:
    saved = save(
        uow,
        ALPHA,
        CrmSubmission(
            hubspot_portal_id="111",
            hubspot_token="pat-na1-alpha-token",
            hubspot_secret="alpha-secret",
            salesforce_org_id=ORG_A,
        ),
    )
    assert isinstance(saved, Saved) and saved.salesforce_endpoint is not None
    token = saved.salesforce_endpoint.rsplit("/", 1)[1]
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    assert saved.status.hubspot_token_hint == "oken" and saved.status.salesforce_token_hint
    with uow:
        row = uow.session.get(CrmConnection, ALPHA)
        assert row is not None
        stored = " ".join(str(v) for v in row.model_dump().values())
        assert "pat-na1-alpha-token" not in stored and "alpha-secret" not in stored
        assert token not in stored
        routes = hubspot_routes(uow, {"111", "222"}, cipher=make_cipher(KEY))
        assert {p: (r.team_id, r.client_secret) for p, r in routes.items()} == {
            "111": (ALPHA, "alpha-secret")
        }
        route = salesforce_route(uow, token)
        assert route is not None and (route.team_id, route.org_id) == (ALPHA, ORG_A)
        assert salesforce_route(uow, token + "x") is None and salesforce_route(uow, "") is None
        assert (
            hubspot_access_token(uow, team_id=ALPHA, cipher=make_cipher(KEY))
            == "pat-na1-alpha-token"
        )
        # Another key can't read them (a row copied elsewhere is of no use).
        other = make_cipher(Fernet.generate_key().decode())
        assert hubspot_access_token(uow, team_id=ALPHA, cipher=other) is None

    # Saved again unchanged: the same endpoint token; asked for, a new one, the old one gone.
    again = save(uow, ALPHA, CrmSubmission(hubspot_portal_id="111", salesforce_org_id=ORG_A))
    assert isinstance(again, Saved) and again.salesforce_endpoint is None
    renewed = save(
        uow,
        ALPHA,
        CrmSubmission(hubspot_portal_id="111", salesforce_org_id=ORG_A, new_salesforce_token=True),
    )
    assert isinstance(renewed, Saved) and renewed.salesforce_endpoint is not None
    with uow:
        assert salesforce_route(uow, token) is None
        assert salesforce_route(uow, renewed.salesforce_endpoint.rsplit("/", 1)[1]) is not None
        # The token and secret were kept.
        assert hubspot_routes(uow, {"111"}, cipher=make_cipher(KEY))["111"].client_secret == (
            "alpha-secret"
        )


def test_a_portal_or_org_belongs_to_one_workspace(uow: UnitOfWork) -> None:
    save(
        uow,
        ALPHA,
        CrmSubmission(
            hubspot_portal_id="333", hubspot_token="t", hubspot_secret="s", salesforce_org_id=ORG_A
        ),
    )
    taken = save(
        uow, BETA, CrmSubmission(hubspot_portal_id="333", hubspot_token="t2", hubspot_secret="s2")
    )
    assert taken == Taken("hubspot")
    assert save(uow, BETA, CrmSubmission(salesforce_org_id=ORG_A)) == Taken("salesforce")
    with uow:
        assert uow.session.get(CrmConnection, BETA) is None  # nothing half-saved
    # Disconnected, the portal is free for another workspace.
    assert isinstance(save(uow, ALPHA, CrmSubmission()), Saved)
    assert isinstance(
        save(
            uow,
            BETA,
            CrmSubmission(hubspot_portal_id="333", hubspot_token="t2", hubspot_secret="s2"),
        ),
        Saved,
    )
    with uow:
        row = uow.session.get(CrmConnection, ALPHA)
        assert row is not None and row.hubspot_access_token is None
        assert row.salesforce_token_hash is None


def test_one_notification_id_in_two_workspaces_is_stored_for_each(uow: UnitOfWork) -> None:
    changes = [
        StageChange(source="hubspot", team_id=team, event_key="777", deal_id="9", stage="x")
        for team in (ALPHA, BETA)
    ]
    with uow:
        stored = crm.store_stage_changes(uow, changes)
    assert (stored.new, stored.replayed) == (2, 0)
    with uow:
        again = crm.store_stage_changes(uow, changes[:1])
        assert (again.new, again.replayed) == (0, 1)
        found = uow.session.exec(select(CrmDeal).where(CrmDeal.event_key == "777")).all()
        teams = {r.team_id for r in found}
    assert teams == {ALPHA, BETA}


def test_each_org_has_its_own_owner_email_field(uow: UnitOfWork) -> None:
    org_b = "00D8a000000BBBB"
    saved_a = save(uow, ALPHA, CrmSubmission(salesforce_org_id=ORG_A))
    saved_b = save(
        uow,
        BETA,
        CrmSubmission(salesforce_org_id=org_b, salesforce_owner_email_field="Rep_Email__c"),
    )
    assert isinstance(saved_a, Saved) and isinstance(saved_b, Saved)
    assert saved_a.salesforce_endpoint and saved_b.salesforce_endpoint
    assert saved_b.status.owner_email_field == "Rep_Email__c"
    assert saved_a.status.owner_email_field == "Owner_Email__c"  # none given: the default
    token_a, token_b = (s.salesforce_endpoint.rsplit("/", 1)[1] for s in (saved_a, saved_b))
    with uow:
        route_a, route_b = salesforce_route(uow, token_a), salesforce_route(uow, token_b)
    assert route_a is not None and route_a.owner_email_field == "Owner_Email__c"
    assert route_b is not None and route_b.owner_email_field == "Rep_Email__c"
    # Changed, it is used from the next message on; disconnected, it goes with the org.
    save(uow, BETA, CrmSubmission(salesforce_org_id=org_b, salesforce_owner_email_field="X__c"))
    with uow:
        route_b = salesforce_route(uow, token_b)
    assert route_b is not None and route_b.owner_email_field == "X__c"
    save(uow, BETA, CrmSubmission())
    with uow:
        row = uow.session.get(CrmConnection, BETA)
        assert row is not None and row.salesforce_owner_email_field is None
