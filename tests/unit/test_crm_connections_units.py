"""Each workspace its own CRM, without a server: the CRM modal's fields read into a submission
or field errors, what the modal and its saved view show (endings, never secrets; the endpoint
URL only once), and HubSpot events routed by `portalId`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.blocks.crm_settings import (
    NEW_URL_BLOCK_ID,
    ORG_BLOCK_ID,
    PORTAL_BLOCK_ID,
    SECRET_BLOCK_ID,
    TOKEN_BLOCK_ID,
    crm_saved_view,
    crm_settings_entry,
    crm_settings_modal,
    parse_crm_submission,
)
from bot.crm.hubspot import parse_batch, portals_in
from bot.crm.salesforce import token_digest
from bot.domain.crm_connections import CrmStatus
from testkit.simulator import state_value
from testkit.standin import BlockKitChecker

CONNECTED = CrmStatus(
    hubspot_portal_id="62515",
    hubspot_token_hint="wxyz",
    hubspot_secret_hint="9876",
    salesforce_org_id="00D5e000000KQ2e",
    salesforce_token_hint="Ab_-",
)


def values(**fields: str | list[str]) -> dict[str, Any]:
    blocks = {
        "portal": PORTAL_BLOCK_ID,
        "token": TOKEN_BLOCK_ID,
        "secret": SECRET_BLOCK_ID,
        "org": ORG_BLOCK_ID,
    }
    found: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "new_url":
            found[NEW_URL_BLOCK_ID] = {"value": state_value("checkboxes", value)}
        else:
            found[blocks[name]] = {"value": state_value("plain_text_input", value)}
    return found


def test_a_first_connection_needs_the_portal_its_token_and_its_secret() -> None:
    submission, errors = parse_crm_submission(
        values(portal="62515", token="pat-na1-abc", secret="s3cr3t", org="00D5e000000KQ2eEAG"),
        CrmStatus(),
    )
    assert errors == {}
    assert submission.hubspot_portal_id == "62515" and submission.hubspot_token == "pat-na1-abc"
    assert submission.salesforce_org_id == "00D5e000000KQ2e"  # kept in its 15-character form

    _, errors = parse_crm_submission(values(portal="62515"), CrmStatus())
    assert set(errors) == {TOKEN_BLOCK_ID, SECRET_BLOCK_ID}
    # The deployment's own app's secret (HUBSPOT_CLIENT_SECRET) may sign instead.
    _, errors = parse_crm_submission(
        values(portal="62515", token="pat-na1-abc"), CrmStatus(global_hubspot_secret=True)
    )
    assert errors == {}


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"portal": "62515a", "token": "pat-x", "secret": "s"}, {PORTAL_BLOCK_ID}),
        ({"portal": "0", "token": "pat-x", "secret": "s"}, {PORTAL_BLOCK_ID}),
        ({"token": "pat-x"}, {PORTAL_BLOCK_ID}),
        ({"portal": "1", "token": "pat x", "secret": "s"}, {TOKEN_BLOCK_ID}),
        ({"org": "00X5e000000KQ2e"}, {ORG_BLOCK_ID}),
        ({"org": "00D5e000000KQ2"}, {ORG_BLOCK_ID}),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_to_save(
    fields: dict[str, str], where: set[str]
) -> None:
    submission, errors = parse_crm_submission(values(**fields), CrmStatus())
    assert set(errors) == where
    assert submission.hubspot_portal_id is None and submission.salesforce_org_id is None


def test_a_connected_portal_keeps_its_secrets_unless_a_new_portal_is_named() -> None:
    submission, errors = parse_crm_submission(
        values(portal="62515", org="00D5e000000KQ2e"), CONNECTED
    )
    assert errors == {} and submission.hubspot_token is None and submission.hubspot_secret is None
    assert not submission.new_salesforce_token
    # Another portal is another private app: its own token and secret.
    _, errors = parse_crm_submission(values(portal="73626"), CONNECTED)
    assert set(errors) == {TOKEN_BLOCK_ID, SECRET_BLOCK_ID}
    submission, _ = parse_crm_submission(
        values(portal="62515", org="00D5e000000KQ2e", new_url=["new"]), CONNECTED
    )
    assert submission.new_salesforce_token
    # Emptied: disconnected.
    submission, errors = parse_crm_submission(values(), CONNECTED)
    assert errors == {} and submission.hubspot_portal_id is None
    assert submission.salesforce_org_id is None


def test_the_modal_shows_endings_never_secrets_and_is_valid_block_kit() -> None:
    modal = crm_settings_modal(CONNECTED)
    shown = json.dumps(modal, ensure_ascii=False)
    assert "ending …wxyz" in shown and "ending …9876" in shown and "ending …Ab_-" in shown
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    # Secret fields are always empty; the ids are filled in.
    assert "initial_value" not in inputs[TOKEN_BLOCK_ID]["element"]
    assert "initial_value" not in inputs[SECRET_BLOCK_ID]["element"]
    assert inputs[PORTAL_BLOCK_ID]["element"]["initial_value"] == "62515"
    assert NEW_URL_BLOCK_ID in inputs and NEW_URL_BLOCK_ID not in {
        b.get("block_id") for b in crm_settings_modal(CrmStatus())["blocks"]
    }
    checker = BlockKitChecker()
    checker.check_view(modal)
    checker.check_view(crm_saved_view(CONNECTED, public_url=None, salesforce_endpoint="/x/y"))
    for block in crm_settings_entry(CONNECTED):
        assert "connected ✓" in block["text"]["text"]
    assert checker.problems == []


def test_the_endpoint_url_is_in_the_saved_view_only_when_new() -> None:
    with_url = crm_saved_view(
        CONNECTED,
        public_url="https://rebound.example.com",
        salesforce_endpoint="/crm/salesforce/tok_EN-123",
    )
    assert "`https://rebound.example.com/crm/salesforce/tok_EN-123`" in json.dumps(with_url)
    without = json.dumps(
        crm_saved_view(
            CONNECTED, public_url="https://rebound.example.com", salesforce_endpoint=None
        )
    )
    assert "/crm/salesforce/" not in without


def test_the_endpoint_token_is_kept_as_a_digest() -> None:
    assert token_digest("abc") != "abc" and len(token_digest("abc")) == 64
    assert token_digest("abc") == token_digest("abc") != token_digest("abd")


def _event(portal: int | str, deal: int, event_id: int) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "portalId": portal,
        "objectId": deal,
        "subscriptionType": "deal.propertyChange",
        "propertyName": "dealstage",
        "propertyValue": "closedlost",
    }


def test_events_are_routed_by_their_portal() -> None:
    body = json.dumps([_event(1, 10, 100), _event(2, 20, 200), _event(3, 30, 300)]).encode()
    assert portals_in(body) == {"1", "2", "3"}
    batch = parse_batch(body, teams={"1": "TA", "2": "TB"})
    assert [(c.team_id, c.deal_id) for c in batch.changes] == [("TA", "10"), ("TB", "20")]
    assert batch.unrouted == 1
    # One workspace: every event is its own, whatever portal it names (as before).
    assert {c.team_id for c in parse_batch(body, team_id="T1").changes} == {"T1"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b"[]",
        json.dumps([{"eventId": 1}]).encode(),
        json.dumps([_event("x", 1, 1)]).encode(),
        json.dumps([_event(1, 1, i) for i in range(101)]).encode(),
        b"[" * 100000,
    ],
)
def test_a_body_that_is_not_a_batch_names_no_portal(body: bytes) -> None:
    assert portals_in(body) == set()
