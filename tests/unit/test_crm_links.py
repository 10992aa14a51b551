"""The deal's page in its CRM, without a server or a database: HubSpot's record URL from the
webhook's portalId, Salesforce's from the message's PartnerUrl host, and the mrkdwn link the
manager's note shows (Slack's control characters escaped)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.blocks.crm import crm_deal_link
from bot.blocks.debriefs import manager_note
from bot.crm.hubspot import deal_link, parse_batch
from bot.crm.salesforce import opportunity_link, salesforce_origin
from bot.domain import Classification
from bot.domain.debriefs import OutcomeFacts


def _event(**fields: object) -> dict[str, object]:
    return {
        "eventId": 1,
        "portalId": 62515,
        "objectId": 9001,
        "subscriptionType": "deal.propertyChange",
        "propertyName": "dealstage",
        "propertyValue": "closedlost",
        **fields,
    }


def test_hubspot_link_is_the_deal_record_page_of_the_events_portal() -> None:
    [change] = parse_batch(json.dumps([_event()]).encode(), team_id="T1").changes
    assert change.link == "https://app.hubspot.com/contacts/62515/record/0-3/9001"
    # A portal id HubSpot would never send gives no link rather than a wrong one.
    for portal in (None, "", "62515x", -4, True, "1" * 20):
        [change] = parse_batch(json.dumps([_event(portalId=portal)]).encode(), team_id="T1").changes
        assert change.link is None, portal
    assert deal_link("62515", "77") == "https://app.hubspot.com/contacts/62515/record/0-3/77"


def test_salesforce_link_is_the_record_on_the_orgs_own_host() -> None:
    origin = salesforce_origin("https://acme.my.salesforce.com/services/Soap/u/59.0/00D5e0000")
    assert opportunity_link(origin, "0065e00000AbCdEAAZ") == (
        "https://acme.my.salesforce.com/0065e00000AbCdEAAZ"
    )
    # A PartnerUrl off Salesforce's domains is never linked to.
    assert opportunity_link(salesforce_origin("https://evil.example/x"), "006") is None


def test_the_link_escapes_slacks_control_characters_and_cannot_end_early() -> None:
    link = crm_deal_link("https://crm.example/deal?a=1&b=<2>|x", "hubspot")
    assert link == "<https://crm.example/deal?a=1&amp;b=&lt;2&gt;%7Cx|Open in HubSpot>"
    assert crm_deal_link("https://x.my.salesforce.com/006", "salesforce").endswith(
        "|Open in Salesforce>"
    )


def _facts(**fields: object) -> OutcomeFacts:
    values: dict[str, object] = {
        "id": 7,
        "user_id": "U0REP",
        "kind": "loss",
        "deal": "Acme",
        "classification": Classification.SYSTEM_MISS,
        "practices": {"discovery": True},
        "occurred_at": datetime(2026, 12, 3, tzinfo=UTC),
        **fields,
    }
    return OutcomeFacts(**values)  # type: ignore[arg-type]


def test_the_managers_note_links_to_the_deal_only_when_it_came_from_a_crm() -> None:
    url = "https://app.hubspot.com/contacts/62515/record/0-3/9001"
    linked = json.dumps(manager_note(_facts(crm_source="hubspot", crm_link=url))["blocks"])
    assert f"<{url}|Open in HubSpot>" in linked
    assert "Open in" not in json.dumps(manager_note(_facts())["blocks"])
