"""CRM closed deals without a server or a database: HubSpot's v3 signature and event batches,
the CRM reasons mapped onto Rebound's, and the words of the offer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from bot.blocks.crm import (
    DealOffer,
    debrief_offer_dm,
    debrief_offer_reminder_dm,
    not_now_reply,
    unmatched_deals_text,
)
from bot.blocks.debriefs import CrmPrefill, lost_modal, read_crm_offer_id, won_modal
from bot.blocks.home import HomeFacts, home_view
from bot.crm.hubspot import BadBatch, is_signature_valid, parse_batch, signature_v3
from bot.domain.crm import rebound_reason, same_deal_name
from bot.domain.debriefs import REASONS

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://rebound.example.com/crm/hubspot"
NOW_MS = 1_767_000_000_000


def documented_signature(method: str, uri: str, body: bytes, timestamp: str) -> str:
    # HubSpot's steps: UTF-8 string method + URI + body + timestamp; HMAC SHA-256 with the
    # client secret; base64 of the result.
    source = f"{method}{uri}{body.decode()}{timestamp}".encode()
    return base64.b64encode(hmac.new(SECRET.encode(), source, hashlib.sha256).digest()).decode()


def _event(**fields: Any) -> dict[str, Any]:
    return {
        "eventId": 100,
        "subscriptionId": 1,
        "portalId": 62515,
        "occurredAt": NOW_MS,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 123,
        "propertyName": "dealstage",
        "propertyValue": "closedlost",
        **fields,
    }


def test_the_signature_is_hubspots_documented_one() -> None:
    body = json.dumps([_event()]).encode()
    ts = str(NOW_MS)
    assert signature_v3(SECRET, "POST", URI, body, ts) == documented_signature(
        "POST", URI, body, ts
    )
    signed = documented_signature("POST", URI, body, ts)
    check = {"method": "POST", "uri": URI, "body": body, "timestamp": ts}
    assert is_signature_valid(SECRET, **check, signature=signed, now_ms=NOW_MS + 299_000)
    # Older than five minutes, from the future, unsigned, another secret or another URI: no.
    assert not is_signature_valid(SECRET, **check, signature=signed, now_ms=NOW_MS + 301_000)
    assert not is_signature_valid(SECRET, **check, signature=signed, now_ms=NOW_MS - 301_000)
    assert not is_signature_valid(SECRET, **check, signature="", now_ms=NOW_MS)
    assert not is_signature_valid("other", **check, signature=signed, now_ms=NOW_MS)
    assert not is_signature_valid(
        SECRET, **{**check, "uri": URI + "?x=1"}, signature=signed, now_ms=NOW_MS
    )
    assert not is_signature_valid(
        SECRET, **{**check, "timestamp": "soon"}, signature=signed, now_ms=NOW_MS
    )


def test_a_batch_keeps_the_dealstage_changes_only() -> None:
    events = [
        _event(eventId=1, objectId=11),
        _event(eventId=2, objectId=12, propertyName="amount", propertyValue="5"),
        _event(eventId=3, objectId=13, subscriptionType="contact.creation"),
        _event(eventId="4", objectId="14", propertyValue="closedwon"),
    ]
    batch = parse_batch(json.dumps(events).encode(), team_id="T1")
    assert batch.events == 4
    assert [(c.event_key, c.deal_id, c.stage) for c in batch.changes] == [
        ("1", "11", "closedlost"),
        ("4", "14", "closedwon"),
    ]
    assert {c.team_id for c in batch.changes} == {"T1"}


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b"{}",
        json.dumps([_event()] * 101).encode(),
        json.dumps([1]).encode(),
        json.dumps([_event(eventId=None)]).encode(),
        json.dumps([_event(objectId=True)]).encode(),
        json.dumps([_event(objectId="12a")]).encode(),
        b"\xff\xfe",
    ],
)
def test_a_batch_hubspot_never_sends_is_refused(body: bytes) -> None:
    with pytest.raises(BadBatch):
        parse_batch(body, team_id="T1")


@pytest.mark.parametrize(
    ("crm_reason", "reason"),
    [
        ("Went with a competitor", "competitor"),
        ("PRICE", "price"),
        ("Budget cut", "price"),
        ("Went dark after the demo", "no_decision"),
        ("Timing — next year", "timing"),
        ("Missing feature: SSO", "product_fit"),
        ("Our champion left", "champion_left"),
        ("Never reached the decision maker", "no_decision_maker"),
        ("Follow-up slipped", "follow_up"),
        ("Bad weather", None),
        ("", None),
        (None, None),
    ],
)
def test_crm_reasons_map_onto_rebounds_where_the_words_say_so(
    crm_reason: str | None, reason: str | None
) -> None:
    assert rebound_reason(crm_reason) == reason
    assert reason is None or reason in REASONS


def test_deal_names_match_as_people_type_them() -> None:
    assert same_deal_name("Acme  Renewal", " acme renewal")
    assert not same_deal_name("Acme renewal", "Acme renewal 2")


def test_the_offer_says_which_deal_closed_and_asks_to_debrief_it() -> None:
    lost = DealOffer(7, "hubspot", "Acme renewal", False, 60000.0, "GBP")
    message = debrief_offer_dm(lost)
    # Seed 000's "When you lose an opportunity, it hurts." first, then what the CRM said.
    assert message["text"] == (
        "When you lose an opportunity, it hurts. HubSpot marked *Acme renewal* (£60,000) closed "
        "lost. Debrief it while it's fresh?"
    )
    buttons = message["blocks"][1]["elements"]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Debrief this", "7"),
        ("Not now", "7"),
    ]
    won = DealOffer(8, "hubspot", "R&D <deal>", True)
    assert debrief_offer_dm(won)["text"] == (
        "HubSpot marked *R&amp;D &lt;deal&gt;* closed won. Debrief it while it's fresh?"
    )
    # A won deal needs no comfort.
    assert not debrief_offer_dm(won)["text"].startswith("When you lose")
    # The reminder: that it hurts, then seed 000's question ("What did you learn from the last
    # opportunity you lost?") asked of this deal.
    reminder = debrief_offer_reminder_dm(lost)["text"]
    assert reminder.startswith("When you lose an opportunity, it hurts")
    assert "What did you learn from losing *Acme renewal*?" in reminder
    won_reminder = debrief_offer_reminder_dm(won)["text"]
    assert "What worked" in won_reminder and "hurts" not in won_reminder
    assert "`/lost`" in not_now_reply(lost)["text"] and "`/won`" in not_now_reply(won)["text"]


def test_the_modals_are_prefilled_from_the_crm() -> None:
    prefill = CrmPrefill(9, "HubSpot", 60000.0, "competitor", "Went with <Globex>")
    view = lost_modal("Acme renewal", prefill)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == "Acme renewal"
    assert blocks["amount"]["element"]["initial_value"] == "60000.00"
    assert blocks["reason"]["element"]["initial_option"] == {
        "text": {"type": "plain_text", "text": "Competitor"},
        "value": "competitor",
    }
    assert "Went with &lt;Globex&gt;" in json.dumps(view["blocks"])
    assert read_crm_offer_id(view["private_metadata"]) == 9
    assert read_crm_offer_id(won_modal("Acme", CrmPrefill(4, "HubSpot"))["private_metadata"]) == 4
    # Typed by hand: no CRM offer, no reason chosen for the rep.
    plain = {b.get("block_id"): b for b in lost_modal("Acme")["blocks"]}
    assert "initial_option" not in plain["reason"]["element"]
    assert "private_metadata" not in lost_modal("Acme")
    assert read_crm_offer_id('{"crm_offer": "1; drop"}') is None
    assert read_crm_offer_id(None) is None


def test_admins_see_the_deals_nobody_could_be_offered_on_home() -> None:
    facts = HomeFacts(
        user_id="U0ADMIN",
        display_name="Ada",
        tz="UTC",
        manager_user_id=None,
        report_user_ids=[],
        recognition_channel_id=None,
        checkin_weekday=4,
        checkin_hour=14,
        is_admin=True,
        unmatched_crm_deals=2,
    )
    text = json.dumps(home_view(facts))
    assert "2 closed deals couldn't be matched to a person in Slack" in text
    assert "couldn't be matched" not in json.dumps(
        home_view(HomeFacts(**{**facts.__dict__, "unmatched_crm_deals": 0}))
    )
    assert unmatched_deals_text(1).startswith("*1 closed deal couldn't")
