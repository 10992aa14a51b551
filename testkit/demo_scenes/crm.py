"""Demo scene of a CRM closing a deal: HubSpot marks Leo's Umbrella renewal closed lost, Rebound
offers him the debrief in his DM, and he debriefs it from the prefilled form. Plays after the
goals' cycle review (1 December)."""

from __future__ import annotations

import json

from bot.blocks.crm import DEBRIEF_ACTION_ID
from testkit.demo import DEMO_HUBSPOT_SECRET, DEMO_PUBLIC_URL, DemoContext
from testkit.demo_scenes.debriefs import _button_value, _click, _lost_values, _submit
from testkit.hubspot_standin import deal_stage_event, signed_webhook
from testkit.standin import RecordedCall

DEAL_ID, OWNER_ID = "90210", "501"


def play(ctx: DemoContext) -> None:
    t, standin = ctx.transcript, ctx.standin
    assert ctx.hubspot is not None
    ctx.hubspot.add_owner(OWNER_ID, "leo@acme.example", "Leo", "Okafor")
    ctx.hubspot.add_deal(
        DEAL_ID,
        "Umbrella renewal",
        amount="60000",
        currency="GBP",
        reason="Went with a competitor on price",
        owner_id=OWNER_ID,
    )

    t.scene("HubSpot — Leo's Umbrella renewal is marked closed lost")
    t.say("In HubSpot the deal moves to Closed lost; HubSpot POSTs the change to /crm/hubspot")
    body = json.dumps([deal_stage_event(DEAL_ID, "closedlost")]).encode()
    reply = signed_webhook(
        ctx.hubspot_webhook_url, f"{DEMO_PUBLIC_URL}/crm/hubspot", DEMO_HUBSPOT_SECRET, body
    )
    t.say(f"Rebound checks HubSpot's signature, stores the event and answers {reply.status}")
    forged = signed_webhook(
        ctx.hubspot_webhook_url, f"{DEMO_PUBLIC_URL}/crm/hubspot", "not-the-secret", body
    )
    t.say(f"The same request signed with another secret is refused: {forged.status}")
    seen = len(standin.calls)
    t.say("The next tick reads the deal and its owner from HubSpot and finds Leo by his email")
    ctx.tick()

    # The tick may send other due messages too (a reminder, a digest): the offer is the post
    # with the Debrief this button.
    def offers(calls: list[RecordedCall]) -> list[RecordedCall]:
        return [
            c
            for c in calls[seen:]
            if c.method == "chat.postMessage" and DEBRIEF_ACTION_ID in json.dumps(c.params)
        ]

    standin.wait_for(lambda calls: bool(offers(calls)), timeout=10)
    offer = offers(standin.calls)[0]
    t.show_new_calls()

    t.say("HubSpot retries the delivery: same eventId, nothing new")
    signed_webhook(
        ctx.hubspot_webhook_url, f"{DEMO_PUBLIC_URL}/crm/hubspot", DEMO_HUBSPOT_SECRET, body
    )
    ctx.tick()

    t.scene("HubSpot — Leo clicks Debrief this: the form is filled in from the CRM")
    seen = len(standin.calls)
    _click(ctx, ctx.leo, DEBRIEF_ACTION_ID, _button_value(offer, DEBRIEF_ACTION_ID), offer)
    view = ctx.wait_for_new(seen, "views.open")[0].response["view"]
    t.show_new_calls()
    t.say("He picks the stage and what held; the deal, amount and reason are HubSpot's")
    values = _lost_values(
        "Umbrella renewal",
        "negotiation",
        "competitor",
        ["pipeline_full", "discovery"],
        amount="60000.00",
        competitor="Globex",
    )
    _submit(ctx, ctx.leo, view, values, dms=2)
