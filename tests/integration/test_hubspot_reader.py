"""The HubSpot reader (the official client) against the HubSpot stand-in: stages from the
pipelines, deals 100 at a time, owners cached, and every failure a HubSpotError."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bot.crm.hubspot_api import Closing, HubSpotError, HubSpotReader
from bot.domain.crm import StageChange
from testkit.hubspot_standin import HubSpotStandIn


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    server = HubSpotStandIn().start()
    server.add_owner("77", "Leo@Example.com")
    try:
        yield server
    finally:
        server.stop()


def _change(deal_id: str, event: str | None = None, stage: str = "closedlost") -> StageChange:
    return StageChange("hubspot", "T1", event or f"e{deal_id}", deal_id, stage)


def test_stages_close_as_their_pipeline_says(hubspot: HubSpotStandIn) -> None:
    hubspot.pipelines["renewals"] = ("Renewals", [("churned", "Churned", "true", "0.0")])
    reader = HubSpotReader(hubspot.access_token, hubspot.url)
    assert reader.closing_of("closedwon") == Closing(closed=True, won=True)
    assert reader.closing_of("closedlost") == Closing(closed=True, won=False)
    assert reader.closing_of("churned") == Closing(closed=True, won=False)
    assert reader.closing_of("contractsent") == Closing(closed=False)
    # Cached: the known stages cost no second read.
    assert len(hubspot.calls_to("/crm/v3/pipelines/deals")) == 1
    # A stage added since is found by reading the pipelines again.
    hubspot.pipelines["renewals"][1].append(("renewed", "Renewed", "true", "1.0"))
    assert reader.closing_of("renewed") == Closing(closed=True, won=True)
    assert len(hubspot.calls_to("/crm/v3/pipelines/deals")) == 2


def test_deals_are_read_a_hundred_at_a_time_and_owners_once(hubspot: HubSpotStandIn) -> None:
    for number in range(150):
        hubspot.add_deal(
            str(1000 + number),
            f"Deal {number}",
            amount="1200.505" if number == 0 else None,
            currency="gbp",
            reason="Price",
            owner_id="77",
        )
    reader = HubSpotReader(hubspot.access_token, hubspot.url)
    closings = [(_change(str(1000 + n)), False) for n in range(150)]
    closings.append((_change("424242"), False))  # gone from HubSpot
    deals, failed = reader.closed_deals(closings)
    assert len(deals) == 150
    assert failed == {"e424242": "deal 424242: not returned"}
    first = deals[0]
    assert (first.name, first.amount, first.currency, first.crm_reason) == (
        "Deal 0",
        Decimal("1200.50"),
        "GBP",
        "Price",
    )
    assert first.owner_email == "Leo@Example.com"
    assert len(hubspot.calls_to("/crm/v3/objects/deals/batch/read")) == 2
    assert len(hubspot.calls_to("/crm/v3/owners/")) == 1


def test_every_failure_is_a_hubspot_error(hubspot: HubSpotStandIn) -> None:
    hubspot.add_deal("5", "Acme", owner_id="999")  # an owner HubSpot doesn't have
    reader = HubSpotReader(hubspot.access_token, hubspot.url)
    with pytest.raises(HubSpotError, match="owner 999: HTTP 404"):
        reader.closed_deal(_change("5"), won=False)
    wrong_token = HubSpotReader("pat-na1-wrong", hubspot.url)
    with pytest.raises(HubSpotError, match="HTTP 401"):
        wrong_token.closing_of("closedlost")
    hubspot.down = True
    deals, failed = reader.closed_deals([(_change("5"), False)])
    assert deals == [] and failed == {"e5": "deals: HTTP 503"}
