"""Two reps, one deal name, over HTTP: a debrief settles only its own rep's CRM offers.

Deal names are only names: Leo and Priya can each have a "Renewal" closing the same day. Priya's
`/lost` of hers must not swallow the offer HubSpot makes Leo for his (no DM, his row set to
debriefed), nor close an offer Leo already has (his *Debrief this* then told him "You've
debriefed it already", no modal, no reminder), nor close an offer whose row id a forged
submission names; and a deal nobody in Slack owns yet stays counted on the admins' Home.

HubSpot webhooks signed as HubSpot signs them (testkit.hubspot_standin.signed_webhook), the real
`rebound serve`, the Slack stand-in; the scheduler ticked by hand on this test's FakeClock.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.blocks.crm import DEBRIEF_ACTION_ID
from storage.models import CrmDeal
from testkit.hubspot_standin import HubSpotStandIn, deal_stage_event, signed_webhook
from testkit.standin import RecordedCall
from tests.support.crm import PUBLIC_URL, hubspot_fixture, hubspot_live, offers, slack
from tests.support.factories import lost_values
from tests.support.slack import ADMIN, DM, REP1, REP2, SlackDriver, _text

__all__ = ["slack"]  # the fixture (tests/support/crm.py)

PUBLIC_URI = f"{PUBLIC_URL}/crm/hubspot"
SECRET = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
LEO, PRIYA = "leo.samename@example.com", "priya.samename@example.com"
LEO_OWNER, PRIYA_OWNER = "7501", "7502"


hubspot = hubspot_fixture((LEO_OWNER, LEO, "Leo"), (PRIYA_OWNER, PRIYA, "Priya"))


# Leo is REP1 and Priya REP2, known to Slack by the emails their HubSpot owners have.
live = hubspot_live(folder_prefix="same-name", emails={REP1: LEO, REP2: PRIYA}, secret=SECRET)


def _id() -> str:
    return str(secrets.randbelow(10**12) + 10**12)


def _name(words: str) -> str:
    """A name of this test's own (the module's database outlives a test)."""
    return f"{words} {uuid.uuid4().hex[:6]}"


def _close(slack: SlackDriver, deal_id: str) -> None:
    """HubSpot says the deal closed lost; the next pass reads it and offers it."""
    body = json.dumps([deal_stage_event(deal_id)]).encode()
    reply = signed_webhook(f"{slack.live.base_url}/crm/hubspot", PUBLIC_URI, SECRET, body)
    assert reply.status == 200, reply.body
    _tick(slack)


def _tick(slack: SlackDriver, hours: float = 0) -> None:
    assert slack.clock is not None
    slack.tick_at(slack.clock.now + timedelta(hours=hours))
    slack.settle()


def _reminders(slack: SlackDriver, user_id: str, name: str, seen: int) -> list[RecordedCall]:
    return [
        c
        for c in slack.since(seen, "chat.postMessage", channel=DM[user_id])
        if name in _text(c) and "What did you learn from losing" in _text(c)
    ]


def _states(slack: SlackDriver, deal_id: str) -> list[str]:
    with slack.session_factory() as session:
        statement = select(CrmDeal.state).where(CrmDeal.deal_id == deal_id)
        return list(session.exec(statement.order_by(col(CrmDeal.id))).all())


def _debrief_button(dm: RecordedCall) -> str:
    for block in dm.params["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == DEBRIEF_ACTION_ID:
                return str(element["value"])
    raise AssertionError("no Debrief this button")


def _lost_by_hand(
    slack: SlackDriver, user_id: str, name: str, metadata: dict[str, Any] | None = None
) -> None:
    """`/lost <name>` typed by `user_id`, submitted (with `metadata` as the view's
    private_metadata when given: a submission crafted to name an offer)."""
    view = slack.open_modal("/lost", name, user_id)
    if metadata is not None:
        view = {**view, "private_metadata": json.dumps(metadata)}
    seen = slack.mark()
    slack.submit(view, user_id, lost_values(name, practices=["discovery"]))
    slack.wait(seen, "chat.postMessage", channel=DM[user_id])


def _unmatched_line(slack: SlackDriver) -> str:
    home = json.dumps(slack.home(ADMIN).params["view"])
    return next((w for w in ("1 closed deal ", "2 closed deals ") if w in home), "none")


def test_another_reps_hand_debrief_of_the_same_name_leaves_the_offer_to_its_owner(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    name = _name("Renewal")
    # Priya lost a deal of hers called that, and said so by hand.
    _lost_by_hand(slack, REP2, name)
    # Then HubSpot closes Leo's deal of the same name: it is Leo's to debrief.
    deal_id = _id()
    hubspot.add_deal(deal_id, name, amount="30000", currency="GBP", owner_id=LEO_OWNER)
    seen = slack.mark()
    _close(slack, deal_id)
    assert len(offers(slack, REP1, name, seen)) == 1
    assert _states(slack, deal_id) == ["offered"]
    # Priya's own deal of that name, closed in HubSpot, is hers and debriefed: no DM.
    hers = _id()
    hubspot.add_deal(hers, name, amount="1000", currency="GBP", owner_id=PRIYA_OWNER)
    _close(slack, hers)
    assert offers(slack, REP2, name, seen) == []
    assert _states(slack, hers) == ["debriefed"]


def test_another_reps_debrief_of_the_same_name_leaves_an_offer_open(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    name = _name("Renewal")
    deal_id = _id()
    hubspot.add_deal(deal_id, name, amount="30000", currency="GBP", owner_id=LEO_OWNER)
    seen = slack.mark()
    _close(slack, deal_id)
    dm = offers(slack, REP1, name, seen)[0]
    # Priya debriefs a deal of hers with that name.
    _lost_by_hand(slack, REP2, name)
    assert _states(slack, deal_id) == ["offered"]
    # Leo's offer still gets its one reminder...
    _tick(slack, hours=25)
    assert len(_reminders(slack, REP1, name, seen)) == 1
    # ...and *Debrief this* opens his prefilled modal, with no "already debriefed".
    opened = slack.mark()
    slack.click(REP1, DEBRIEF_ACTION_ID, _debrief_button(dm), message=dm)
    view = slack.wait(opened, "views.open")[0].response["view"]
    assert view["callback_id"] == "debrief_lost"
    assert [c for c in slack.ephemerals(REP1, opened) if "debriefed" in _text(c)] == []


def test_a_submission_naming_someone_elses_offer_leaves_it_open(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    name = _name("Initech")
    deal_id = _id()
    hubspot.add_deal(deal_id, name, amount="5000", currency="GBP", owner_id=LEO_OWNER)
    seen = slack.mark()
    _close(slack, deal_id)
    leo_offer = _debrief_button(offers(slack, REP1, name, seen)[0])
    # Priya submits a /lost of another deal whose metadata names Leo's offer.
    other = _name("Other deal")
    _lost_by_hand(slack, REP2, other, metadata={"crm_offer": int(leo_offer)})
    saved = [o for o in slack.outcomes() if o.deal == other]
    assert [(o.user_id, o.crm_deal_id) for o in saved] == [(REP2, None)]
    assert _states(slack, deal_id) == ["offered"]
    _tick(slack, hours=25)
    assert len(_reminders(slack, REP1, name, seen)) == 1


def test_a_deal_no_one_owns_yet_stays_counted_for_admins_whatever_others_debrief(
    slack: SlackDriver, hubspot: HubSpotStandIn
) -> None:
    before = _unmatched_line(slack)
    assert before == "none"
    # Priya's hand debrief comes before an ownerless deal of that name, and after another.
    first, second = _name("Globex"), _name("Umbrella")
    _lost_by_hand(slack, REP2, first)
    early, late = _id(), _id()
    hubspot.add_deal(early, first, amount="100", currency="GBP")
    hubspot.add_deal(late, second, amount="200", currency="GBP")
    _close(slack, early)
    _close(slack, late)
    _lost_by_hand(slack, REP2, second)
    assert (_states(slack, early), _states(slack, late)) == (["unmatched"], ["unmatched"])
    assert _unmatched_line(slack) == "2 closed deals "
    with slack.session_factory() as session:  # leave the workspace's count as this test found it
        for row in session.exec(select(CrmDeal).where(col(CrmDeal.deal_id).in_([early, late]))):
            row.state = "ignored"
            session.add(row)
        session.commit()
