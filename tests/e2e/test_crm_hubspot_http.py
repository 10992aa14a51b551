"""HubSpot closed deals over HTTP: webhooks signed in the test as HubSpot signs them (v3,
computed here from HubSpot's documented algorithm), sent to the real `rebound serve`; the deal
read back from the HubSpot stand-in with the official client; the offer in the owner's DM from
the Slack stand-in; the prefilled modal; the one reminder; the admins' Home.

Every test here is in the bot token's one workspace (HubSpot webhooks are routed to it), so each
uses deal ids and names of its own; the scheduler is this test's (a FakeClock), ticked by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.blocks.crm import DEBRIEF_ACTION_ID, NOT_NOW_ACTION_ID
from bot.server import MAX_BODY_BYTES
from storage.models import CrmDeal, Outcome
from testkit.clock import real_time
from testkit.hubspot_standin import HubSpotStandIn, deal_stage_event, signed_webhook
from testkit.live import LiveApp
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.crm import (
    PUBLIC_URL,
    button_value,
    deal_rows,
    hubspot_fixture,
    hubspot_live,
    offers,
    slack,
)
from tests.support.factories import lost_values, won_values
from tests.support.slack import ADMIN, DM, REP1, REP2, SlackDriver, _text

__all__ = ["slack"]  # the fixture (tests/support/crm.py)

PUBLIC_URI = f"{PUBLIC_URL}/crm/hubspot"
SECRET = "a1b2c3d4-e5f6-7a8b-9c0d-e1f2a3b4c5d6"
LEO, PRIYA = "leo@example.com", "priya@example.com"
LEO_OWNER, PRIYA_OWNER = "7001", "7002"
# Deal ids of this run's own (the module's database outlives a test), never read from a clock.
_ids = itertools.count(secrets.randbelow(10**9) * 1000 + 1)


def v3_signature(method: str, uri: str, body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """HubSpot's v3 signature, from its docs: base64 of HMAC-SHA256, keyed with the app's client
    secret, over method + URI + body + timestamp (UTF-8)."""
    source = (method + uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


hubspot = hubspot_fixture((LEO_OWNER, LEO), (PRIYA_OWNER, PRIYA, "Priya"))


# `rebound serve` with HubSpot connected, on each backend; the reps are known to Slack by the
# emails their HubSpot owners have.
live = hubspot_live(folder_prefix="crm", emails={REP1: LEO, REP2: PRIYA}, secret=SECRET)


# -- helpers ----------------------------------------------------------------------------------


def new_deal_id() -> str:
    return str(next(_ids))


def deal_name(words: str) -> str:
    """A name of this test's own (names within a day count as the same deal)."""
    return f"{words} {uuid.uuid4().hex[:6]}"


def post(app: LiveApp, body: bytes, **kwargs: Any) -> Any:
    return signed_webhook(f"{app.base_url}/crm/hubspot", PUBLIC_URI, SECRET, body, **kwargs)


def send(app: LiveApp, *events: dict[str, Any]) -> Any:
    reply = post(app, json.dumps(list(events)).encode())
    assert reply.status == 200, reply.body
    return reply


def home_text(slack: SlackDriver, user_id: str) -> str:
    return json.dumps(slack.home(user_id).params["view"])


def tick(slack: SlackDriver, at: datetime | None = None) -> list[RecordedCall]:
    """Run the scheduled jobs once at `at`, and return the posts that followed. The live
    server's own dispatcher may take a queued row before this tick's dispatch step does, so
    what the tick queued is waited for wherever it is sent from."""
    assert slack.clock is not None
    seen = slack.mark()
    slack.tick_at(at or slack.clock.now)
    slack.settle()
    return slack.since(seen, "chat.postMessage")


# -- the offer ---------------------------------------------------------------------------------


def test_unmatched_owners_are_shown_to_admins_then_matched_on_the_next_pass(
    slack: SlackDriver, hubspot: HubSpotStandIn, standin: SlackStandIn
) -> None:
    stranger, ownerless = new_deal_id(), new_deal_id()
    # Sam is in HubSpot, not (yet) in Slack: an owner and an email of this test's own.
    sam_owner, sam_email = new_deal_id(), f"sam-{uuid.uuid4().hex[:8]}@example.com"
    sam = "U0S" + uuid.uuid4().hex[:8].upper()
    hubspot.add_owner(sam_owner, sam_email, "Sam")
    globex, initech = deal_name("Globex"), deal_name("Initech")
    hubspot.add_deal(stranger, globex, amount="1000", owner_id=sam_owner)
    hubspot.add_deal(ownerless, initech, amount="2000")
    seen = slack.mark()
    send(slack.live, deal_stage_event(stranger), deal_stage_event(ownerless))
    posts = tick(slack)
    assert [c for c in posts if globex in _text(c) or initech in _text(c)] == []
    assert [r.state for r in deal_rows(slack, stranger)] == ["unmatched"]
    assert [r.state for r in deal_rows(slack, ownerless)] == ["unmatched"]
    home = home_text(slack, ADMIN)
    assert "2 closed deals couldn't be matched to a person in Slack" in home
    # A rep sees no such line: it is the admins' to fix.
    assert "couldn't be matched" not in home_text(slack, REP1)

    # Sam joins Slack with the email HubSpot has: the next pass offers Sam the deal.
    standin.add_user(StandInUser(id=sam, name="sam", real_name="Sam Seller", email=sam_email))
    assert slack.clock is not None
    tick(slack, slack.clock.now + timedelta(minutes=6))
    sam_dms = [
        c
        for c in slack.since(seen, "chat.postMessage", channel="D" + sam[1:])
        if globex in _text(c)
    ]
    assert len(sam_dms) == 1
    assert [r.state for r in deal_rows(slack, stranger)] == ["offered"]
    assert "1 closed deal couldn't be matched to a person in Slack" in home_text(slack, ADMIN)
    # The deal with no owner stays kept, and is never offered to anyone.
    assert [r.state for r in deal_rows(slack, ownerless)] == ["unmatched"]
    with slack.session_factory() as session:
        row = session.get(CrmDeal, deal_rows(slack, ownerless)[0].id)
        assert row is not None
        row.state = "ignored"  # leave the workspace's count as this test found it
        session.add(row)
        session.commit()


def test_a_closed_lost_deal_becomes_one_offer_in_the_owners_dm(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id, name = new_deal_id(), deal_name("Acme renewal")
    hubspot.add_deal(
        deal_id, name, amount="60000", currency="GBP", reason="Price", owner_id=LEO_OWNER
    )
    event = deal_stage_event(deal_id)
    body = json.dumps([event]).encode()
    seen, hubspot_calls = slack.mark(), len(hubspot.calls)
    reply = post(slack.live, body)
    # HubSpot is answered at once: the request only stores the notification, and HubSpot's
    # API is read afterwards, by the job.
    assert reply.status == 200 and reply.seconds < 2
    assert json.loads(reply.body) == {"events": 1, "stored": 1, "replayed": 0}
    assert len(hubspot.calls) == hubspot_calls
    tick(slack)
    assert "/crm/v3/objects/deals/batch/read" in [c.path for c in hubspot.calls[hubspot_calls:]]
    dms = offers(slack, REP1, name, seen)
    assert len(dms) == 1
    assert dms[0].params["text"] == (
        "When you lose an opportunity, it hurts. "
        f"HubSpot marked *{name}* (£60,000) closed lost. Debrief it while it's fresh?"
    )
    labels = [e["text"]["text"] for b in dms[0].params["blocks"] for e in b.get("elements", [])]
    assert labels == ["Debrief this", "Not now"]

    # HubSpot retries the same delivery (same eventId), and the stage flips again (new eventId):
    # the deal closing stays one offer.
    replay = post(slack.live, body)
    assert replay.status == 200
    assert json.loads(replay.body) == {"events": 1, "stored": 0, "replayed": 1}
    send(slack.live, deal_stage_event(deal_id, "closedwon"), deal_stage_event(deal_id))
    tick(slack)
    tick(slack)
    assert len(offers(slack, REP1, name, seen)) == 1
    states = [r.state for r in deal_rows(slack, deal_id)]
    assert states == ["offered", "duplicate", "duplicate"]
    assert slack.wait_recorded(f"crm:hubspot:{deal_id}:offer").state == "sent"


def test_debrief_this_opens_the_prefilled_lost_modal_and_the_debrief_keeps_the_deal(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id, name = new_deal_id(), deal_name("Umbrella")
    hubspot.add_deal(
        deal_id,
        name,
        amount="60000",
        currency="GBP",
        reason="Went with a competitor",
        owner_id=LEO_OWNER,
    )
    seen = slack.mark()
    send(slack.live, deal_stage_event(deal_id))
    tick(slack)
    dm = offers(slack, REP1, name, seen)[0]

    # Another rep's click opens nothing.
    opened = slack.mark()
    slack.click(REP2, DEBRIEF_ACTION_ID, button_value(dm, DEBRIEF_ACTION_ID), message=dm)
    slack.settle()
    assert slack.views_opened(opened) == []

    slack.click(REP1, DEBRIEF_ACTION_ID, button_value(dm, DEBRIEF_ACTION_ID), message=dm)
    view = slack.wait(opened, "views.open")[0].response["view"]
    assert view["callback_id"] == "debrief_lost"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == name
    assert blocks["amount"]["element"]["initial_value"] == "60000.00"
    assert blocks["reason"]["element"]["initial_option"]["value"] == "competitor"
    assert "Went with a competitor" in json.dumps(view["blocks"])

    slack.submit(view, REP1, lost_values(name, reason="competitor", practices=["discovery"]))
    slack.wait(opened, "chat.postMessage", channel=DM[REP1])
    saved = [o for o in slack.outcomes() if o.deal == name]
    assert len(saved) == 1
    assert (saved[0].crm_source, saved[0].crm_deal_id) == ("hubspot", deal_id)
    assert [r.state for r in deal_rows(slack, deal_id)] == ["debriefed"]
    # One debrief a deal: the button, clicked again, says so and opens nothing.
    again = slack.mark()
    slack.click(REP1, DEBRIEF_ACTION_ID, button_value(dm, DEBRIEF_ACTION_ID), message=dm)
    slack.settle()
    assert slack.views_opened(again) == []
    said = [c for c in slack.ephemerals(REP1, again) if "debriefed" in _text(c)]
    assert len(said) == 1 and name in _text(said[0])
    # No reminder after a debrief of that deal.
    assert slack.clock is not None
    later = tick(slack, slack.clock.now + timedelta(hours=30))
    assert [
        c for c in later if name in _text(c) and "Its debrief is still waiting" in _text(c)
    ] == []


def test_a_won_deal_opens_the_won_modal(slack: SlackDriver, hubspot: HubSpotStandIn) -> None:
    deal_id, name = new_deal_id(), deal_name("Soylent")
    hubspot.add_deal(deal_id, name, amount="1200.5", currency="EUR", owner_id=PRIYA_OWNER)
    seen = slack.mark()
    send(slack.live, deal_stage_event(deal_id, "closedwon"))
    tick(slack)
    dm = offers(slack, REP2, name, seen)[0]
    assert dm.params["text"].startswith(f"HubSpot marked *{name}* (€1,200.50) closed won.")
    opened = slack.mark()
    slack.click(REP2, DEBRIEF_ACTION_ID, button_value(dm, DEBRIEF_ACTION_ID), message=dm)
    view = slack.wait(opened, "views.open")[0].response["view"]
    assert view["callback_id"] == "debrief_won"
    slack.submit(view, REP2, won_values(name, practices=["discovery"]))
    slack.wait(opened, "chat.postMessage", channel=DM[REP2])
    assert [o.crm_deal_id for o in slack.outcomes() if o.deal == name] == [deal_id]


def test_one_reminder_when_the_offer_is_not_taken(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id, name = new_deal_id(), deal_name("Hooli")
    hubspot.add_deal(deal_id, name, amount="500", owner_id=LEO_OWNER)
    seen = slack.mark()
    send(slack.live, deal_stage_event(deal_id))
    tick(slack)
    dm = offers(slack, REP1, name, seen)[0]
    # "Not now" leaves it for the reminder, and says so in place of the buttons.
    response_url = slack.sender.new_response_url("actions")
    slack.click(REP1, NOT_NOW_ACTION_ID, button_value(dm, NOT_NOW_ACTION_ID), dm, response_url)
    answers = slack.standin.wait_for_responses(response_url, timeout=10)
    assert "I'll remind you about" in answers[0]["text"]
    assert answers[0]["replace_original"] is True

    assert slack.clock is not None
    start = slack.clock.now
    assert [c for c in tick(slack, start + timedelta(hours=23)) if name in _text(c)] == []
    reminders = [c for c in tick(slack, start + timedelta(hours=25)) if name in _text(c)]
    assert len(reminders) == 1
    assert reminders[0].params["text"].startswith("When you lose an opportunity, it hurts")
    assert f"What did you learn from losing *{name}*?" in reminders[0].params["text"]
    assert [c for c in tick(slack, start + timedelta(hours=60)) if name in _text(c)] == []


def test_a_deal_already_debriefed_by_hand_gets_no_offer(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id, name = new_deal_id(), deal_name("Vandelay")
    view = slack.open_modal("/lost", name, REP1)
    seen = slack.mark()
    slack.submit(view, REP1, lost_values(name.upper(), practices=["discovery"]))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    hubspot.add_deal(deal_id, name, amount="900", owner_id=LEO_OWNER)
    send(slack.live, deal_stage_event(deal_id))
    tick(slack)
    assert offers(slack, REP1, name, seen) == []
    assert [r.state for r in deal_rows(slack, deal_id)] == ["debriefed"]


def test_stages_are_read_from_the_pipelines_so_custom_pipelines_work(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    hubspot.pipelines["renewals"] = (
        "Renewals",
        [
            ("renewal_open", "Up for renewal", "false", "0.5"),
            ("renewal_churned", "Churned", "true", "0.0"),
        ],
    )
    churned, still_open = new_deal_id(), new_deal_id()
    name = deal_name("Stark renewal")
    hubspot.add_deal(churned, name, owner_id=LEO_OWNER, stage="renewal_churned")
    hubspot.add_deal(still_open, deal_name("Wayne"), owner_id=LEO_OWNER, stage="contractsent")
    seen = slack.mark()
    send(
        slack.live,
        deal_stage_event(churned, "renewal_churned"),
        deal_stage_event(still_open, "contractsent"),
    )
    tick(slack)
    dms = offers(slack, REP1, name, seen)
    assert len(dms) == 1 and "closed lost" in dms[0].params["text"]
    assert [r.state for r in deal_rows(slack, still_open)] == ["ignored"]


def test_a_hubspot_that_fails_keeps_the_deal_and_the_next_pass_offers_it(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id, name = new_deal_id(), deal_name("Cyberdyne")
    hubspot.add_deal(deal_id, name, owner_id=LEO_OWNER)
    seen = slack.mark()
    hubspot.down = True
    try:
        send(slack.live, deal_stage_event(deal_id))
        tick(slack)
    finally:
        hubspot.down = False
    assert [r.state for r in deal_rows(slack, deal_id)] == ["error"]
    assert "couldn't be matched" in home_text(slack, ADMIN)
    assert slack.clock is not None
    tick(slack, slack.clock.now + timedelta(minutes=6))
    assert len(offers(slack, REP1, name, seen)) == 1
    assert [r.state for r in deal_rows(slack, deal_id)] == ["offered"]


def test_hostile_deal_names_reach_slack_as_text(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    deal_id = new_deal_id()
    tag = uuid.uuid4().hex[:6]
    name = f"<!channel> R&D *bold* <https://evil.example|sso> {tag}"
    hubspot.add_deal(deal_id, name, amount="10", currency="USD", owner_id=LEO_OWNER)
    seen = slack.mark()
    send(slack.live, deal_stage_event(deal_id))
    tick(slack)
    dms = offers(slack, REP1, tag, seen)
    assert len(dms) == 1
    text = dms[0].params["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; R&amp;D *bold* &lt;https://evil.example|sso&gt;" in text
    assert "&lt;!channel&gt;" in json.dumps(dms[0].params["blocks"])
    # The modal shows the name as the CRM has it (plain text, not mrkdwn).
    opened = slack.mark()
    slack.click(REP1, DEBRIEF_ACTION_ID, button_value(dms[0], DEBRIEF_ACTION_ID), message=dms[0])
    view = slack.wait(opened, "views.open")[0].response["view"]
    deal_block = next(b for b in view["blocks"] if b.get("block_id") == "deal")
    assert deal_block["element"]["initial_value"] == name


# -- requests HubSpot never sends ----------------------------------------------------------------


def _stored(slack: SlackDriver, deal_id: str) -> int:
    return len(deal_rows(slack, deal_id))


@pytest.mark.parametrize(
    "case",
    ["forged", "wrong secret", "stale", "unsigned", "other uri", "tampered body", "future"],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(slack: SlackDriver, case: str) -> None:
    deal_id = new_deal_id()
    body = json.dumps([deal_stage_event(deal_id)]).encode()
    now_ms = int(real_time() * 1000)
    ts = str(now_ms)
    kwargs: dict[str, Any] = {}
    if case == "forged":
        kwargs["signature"] = base64.b64encode(b"x" * 32).decode()
    elif case == "wrong secret":
        kwargs["signature"] = v3_signature("POST", PUBLIC_URI, body, ts, secret="not-the-secret")
        kwargs["timestamp_ms"] = now_ms
    elif case == "stale":
        stale = now_ms - 6 * 60 * 1000
        kwargs["timestamp_ms"] = stale
        kwargs["signature"] = v3_signature("POST", PUBLIC_URI, body, str(stale))
    elif case == "future":
        future = now_ms + 10 * 60 * 1000
        kwargs["timestamp_ms"] = future
        kwargs["signature"] = v3_signature("POST", PUBLIC_URI, body, str(future))
    elif case == "unsigned":
        kwargs["signature"] = ""
    elif case == "other uri":
        kwargs["signed_uri"] = "https://attacker.example/crm/hubspot"
    elif case == "tampered body":
        kwargs["signature"] = v3_signature("POST", PUBLIC_URI, body, ts)
        kwargs["timestamp_ms"] = now_ms
        body = body.replace(b"closedlost", b"closedwon")
    reply = post(slack.live, body, **kwargs)
    assert reply.status == 401, reply.body
    assert _stored(slack, deal_id) == 0


def test_a_correct_signature_computed_here_is_accepted(slack: SlackDriver) -> None:
    """The documented algorithm, computed in the test (not by the test kit), passes."""
    deal_id = new_deal_id()
    body = json.dumps([deal_stage_event(deal_id, "appointmentscheduled")]).encode()
    ts = str(int(real_time() * 1000))
    reply = post(
        slack.live, body, timestamp_ms=int(ts), signature=v3_signature("POST", PUBLIC_URI, body, ts)
    )
    assert reply.status == 200
    assert _stored(slack, deal_id) == 1


def test_oversized_and_malformed_batches_are_refused(slack: SlackDriver) -> None:
    ids = [new_deal_id() for _ in range(101)]
    too_many = json.dumps([deal_stage_event(i) for i in ids]).encode()
    assert post(slack.live, too_many).status == 400
    assert sum(_stored(slack, i) for i in ids[:3]) == 0
    assert post(slack.live, b"{not json").status == 400
    assert post(slack.live, b'{"eventId": 1}').status == 400
    assert post(slack.live, b'[{"subscriptionType": "deal.propertyChange"}]').status == 400
    assert _declared_too_large(slack.live.port) == 413
    # Exactly 100 is HubSpot's batch, and is taken.
    hundred = json.dumps([deal_stage_event(i, "qualifiedtobuy") for i in ids[:100]]).encode()
    reply = post(slack.live, hundred)
    assert reply.status == 200 and json.loads(reply.body)["stored"] == 100
    # Other subscriptions' events are answered but not acted on.
    other = {**deal_stage_event(new_deal_id()), "subscriptionType": "contact.creation"}
    assert json.loads(send(slack.live, other).body) == {"events": 1, "stored": 0, "replayed": 0}


def _declared_too_large(port: int) -> int:
    """The status of a POST whose Content-Length is over the server's limit, read before any of
    the body is sent (the server judges it by the header and never buffers it)."""
    head = (
        "POST /crm/hubspot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        reply = sock.recv(4096)
    return int(reply.split(b" ", 2)[1])


def test_only_post_is_taken(slack: SlackDriver) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{slack.live.base_url}/crm/hubspot", timeout=10)
    assert refused.value.code == 405


def test_outcome_columns_default_to_no_crm(slack: SlackDriver) -> None:
    """A debrief typed by hand has no CRM link."""
    name = deal_name("By hand")
    view = slack.open_modal("/lost", name, REP1)
    seen = slack.mark()
    slack.submit(view, REP1, lost_values(name, practices=["discovery"]))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    outcome: Outcome = [o for o in slack.outcomes() if o.deal == name][0]
    assert (outcome.crm_source, outcome.crm_deal_id) == (None, None)
