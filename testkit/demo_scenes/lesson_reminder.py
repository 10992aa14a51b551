"""Demo scene of a win's lesson reminder (issue 12, seed 004): Priya wins Initrode and goes
straight into her next call without answering "What worked that you would do again?". A day
later (the debrief-reminder hours) she gets one gentle nudge; another tick sends nothing more."""

from __future__ import annotations

from bot.domain import PRACTICES
from testkit.demo import DemoContext
from testkit.demo_scenes.debriefs import _open, _submit
from testkit.simulator import state_value
from testkit.standin import RecordedCall


def play(ctx: DemoContext) -> None:
    t, priya = ctx.transcript, ctx.priya

    ctx.clock.advance(hours=2)
    t.scene("3 December — Priya wins Initrode and goes straight into her next call")
    view = _open(ctx, "/won", "Initrode", priya)
    _submit(
        ctx,
        priya,
        view,
        {
            "deal": {"value": state_value("plain_text_input", "Initrode")},
            "amount": {"value": state_value("number_input", "18000")},
            "practices": {"value": state_value("checkboxes", list(PRACTICES))},
            "luck": {"value": state_value("static_select", "some")},
        },
        dms=1,
    )
    # The win DM's send starts the reminder's count: let it be sent (and recorded) at this hour
    # before the clock moves on, whichever DM the wait above counted on a busy machine.
    ctx.outbox_settled()
    t.say("She doesn't get to the question about what worked")

    ctx.clock.advance(hours=25)
    t.scene("4 December — Priya's win lesson is still unanswered: one gentle nudge")
    seen = len(ctx.standin.calls)
    ctx.tick()

    def nudges(calls: list[RecordedCall]) -> list[RecordedCall]:
        return [
            c
            for c in calls[seen:]
            if c.method == "chat.postMessage"
            and c.conversation == "D0PRIYA"
            and "your win on *Initrode*" in str(c.params.get("text")) + str(c.params.get("blocks"))
        ]

    ctx.standin.wait_for(lambda calls: bool(nudges(calls)), timeout=10.0)
    t.say("The same tick nudges Leo about the losses he logged on 2 December, once each")
    t.show_new_calls()
    t.say("Another tick an hour later sends nothing more")
    ctx.clock.advance(hours=1)
    ctx.tick()
    t.show_new_calls()
    t.say(f"Nudges about Initrode sent: {len(nudges(ctx.standin.calls))}")
