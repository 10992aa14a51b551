"""Demo scenes of kudos: Maya recognises Leo, Priya may not give kudos, the Friday digest."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import local_checkin_time
from testkit.demo import DemoContext, _has, _wait

# The foundation scene sets check-ins (and so the digest) to Fridays 14:00; Maya, the manager
# whose time zone the digest follows, is in New York.
DIGEST_WEEK = "2026-W48"
DIGEST_TZ = "America/New_York"


def play(ctx: DemoContext) -> None:
    standin, sender, t = ctx.standin, ctx.sender, ctx.transcript
    maya, priya = ctx.maya, ctx.priya

    tuesday_afternoon = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 15:00 in New York
    if ctx.clock() < tuesday_afternoon:
        ctx.clock.set(tuesday_afternoon)
    t.scene("Tuesday 15:00 — Maya recognises Leo's resilience")
    t.say(
        "Maya types `/kudos @leo #resilience Lost Acme yesterday with a flawless process and was "
        "back on the phones within the hour. Three meetings booked already.`"
    )
    seen = len(standin.calls)
    reply = sender.slash_command(
        "/kudos",
        "@leo #resilience Lost Acme yesterday with a flawless process and was back on "
        "the phones within the hour. Three meetings booked already.",
        user_id=maya,
        channel_id="C0SALES",
    )
    t.show_reply(maya, reply)
    _wait(standin, seen, _has("chat.postEphemeral"))
    t.show_new_calls()

    t.scene("Tuesday 15:10 — Priya wants to thank Leo too")
    t.say("Priya (a rep) types `/kudos @leo #teamwork Thanks for covering my demo`")
    seen = len(standin.calls)
    reply = sender.slash_command(
        "/kudos",
        "@leo #teamwork Thanks for covering my demo",
        user_id=priya,
        channel_id="C0SALES",
    )
    t.show_reply(priya, reply)
    _wait(standin, seen, _has("chat.postEphemeral"))
    t.show_new_calls()
    t.say("In this workspace only managers and admins give kudos, so nothing is posted")

    t.scene("Friday 14:00 — the weekly recognition digest")
    digest_at = local_checkin_time(DIGEST_WEEK, DIGEST_TZ, 4, 14)
    if ctx.clock() < digest_at:
        ctx.clock.set(digest_at)
    t.say("The scheduler ticks at the check-in hour (Maya's time zone) and posts the digest once")
    seen = len(standin.calls)
    ctx.tick()
    ctx.tick()  # a second tick (or a second replica) posts nothing more
    # The tick queues it; the outbox dispatcher woken by that commit may be the one sending it.
    _wait(
        standin,
        seen,
        lambda calls: any(
            c.method == "chat.postMessage"
            and "This week's recognition" in (c.params.get("text") or "")
            for c in calls
        ),
    )
    t.show_new_calls()
