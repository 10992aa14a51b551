"""Demo scenes of debriefs: a perfect miss celebrated, a manager's calibration (which makes
another loss a perfect miss, celebrated with the rep's yes), reflections, a reminder, a
bounce-back shared with the rep's yes and taken back, and the lessons search. Starts where the
foundation left off (Monday morning, Maya managing Leo and Priya, #wins as the recognition
channel) and ends on Tuesday around noon."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.debriefs import (
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
    SHARE_LESSON_ACTION_ID,
    TAKE_BACK_ACTION_ID,
)
from bot.domain import PRACTICES
from bot.domain.debriefs import WIN_LESSON_KEY
from testkit.demo import DemoContext
from testkit.reflection_form import reflection_values
from testkit.simulator import state_value
from testkit.standin import RecordedCall


def _lost_values(
    deal: str, stage: str, reason: str, practices: list[str], **extra: str
) -> dict[str, dict[str, Any]]:
    return {
        "deal": {"value": state_value("plain_text_input", deal)},
        "amount": {"value": state_value("number_input", extra.get("amount"))},
        "stage": {"value": state_value("static_select", stage)},
        "reason": {"value": state_value("static_select", reason)},
        "competitor": {"value": state_value("plain_text_input", extra.get("competitor"))},
        "practices": {"value": state_value("checkboxes", practices)},
        "buyer_feedback": {"value": state_value("plain_text_input", extra.get("feedback"))},
    }


def _open(ctx: DemoContext, command: str, text: str, user_id: str) -> dict[str, Any]:
    seen = len(ctx.standin.calls)
    ctx.sender.slash_command(command, text, user_id=user_id, channel_id="C0SALES")
    opened = ctx.wait_for_new(seen, "views.open")
    ctx.transcript.show_new_calls()
    return opened[0].response["view"]


def _submit(
    ctx: DemoContext, user_id: str, view: dict[str, Any], values: dict[str, Any], dms: int
) -> list[RecordedCall]:
    """Submit a modal and show what Slack received once `dms` messages went out."""
    seen = len(ctx.standin.calls)
    ctx.transcript.show_reply(
        user_id, ctx.sender.view_submission(view, user_id=user_id, values=values)
    )
    posted = ctx.wait_for_new(seen, "chat.postMessage", dms) if dms else []
    ctx.transcript.show_new_calls()
    return posted


def _click(
    ctx: DemoContext, user_id: str, action_id: str, value: str, message: RecordedCall | None = None
) -> None:
    posted = None
    channel = None
    if message is not None:
        channel = message.response["channel"]
        posted = {**message.response["message"], "channel": channel}
    ctx.sender.block_actions(
        user_id=user_id,
        actions=[{"action_id": action_id, "value": value}],
        message=posted,
        channel_id=channel,
    )


def _click_replacing(
    ctx: DemoContext, user_id: str, action_id: str, value: str, message: RecordedCall
) -> str:
    """Click a button on `message` whose answer replaces that message (through the click's
    response_url); the response_url, for `_show_replaced`."""
    response_url = ctx.sender.new_response_url("actions")
    channel = message.response["channel"]
    ctx.sender.block_actions(
        user_id=user_id,
        actions=[{"action_id": action_id, "value": value}],
        message={**message.response["message"], "channel": channel},
        channel_id=channel,
        response_url=response_url,
    )
    return response_url


def _show_replaced(ctx: DemoContext, user_id: str, response_url: str) -> None:
    """The message clicked, as the click's answer replaced it."""
    answer = ctx.standin.wait_for_responses(response_url, timeout=10)[0]
    ctx.transcript.show_replaced(user_id, answer)


def _reflect(
    ctx: DemoContext, user_id: str, outcome_id: str, values: dict[str, Any]
) -> list[RecordedCall]:
    seen = len(ctx.standin.calls)
    _click(ctx, user_id, REFLECT_ACTION_ID, outcome_id)
    view = ctx.wait_for_new(seen, "views.open")[0].response["view"]
    ctx.transcript.show_new_calls()
    return _submit(ctx, user_id, view, values, dms=1)


def _button_value(call: RecordedCall, action_id: str) -> str:
    for block in call.params.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise LookupError(f"no {action_id} button in the message")


def _calibrate(ctx: DemoContext, maya: str, note: RecordedCall) -> None:
    """Maya sees Priya's Initech score differently (seed 000: reps "can't see their own
    swing"); her first try leaves the sentence empty, her second click on *Agree* is refused."""
    t = ctx.transcript
    outcome_id = _button_value(note, CALIBRATE_DIFFER_ACTION_ID)
    t.scene("Monday 14:05 — Maya sees Priya's Initech score differently")
    t.say("Priya ticked only discovery. Maya was on the calls; she clicks “I see it differently”")
    seen = len(ctx.standin.calls)
    _click(ctx, maya, CALIBRATE_DIFFER_ACTION_ID, outcome_id, note)
    view = ctx.wait_for_new(seen, "views.open")[0].response["view"]
    t.show_new_calls()
    held = ["pipeline_full", "discovery", "qualification", "objection_handling"]
    values = {
        "practices": {"value": state_value("checkboxes", held)},
        "note": {"value": state_value("plain_text_input", None)},
    }
    t.say("She ticks what she saw hold, and first forgets the one sentence")
    _submit(ctx, maya, view, values, dms=0)
    values["note"] = {
        "value": state_value(
            "plain_text_input",
            "You qualified Initech properly and kept it moving; “no decision” was theirs to make.",
        )
    }
    t.say("She writes it and submits: Priya gets her view privately, the note loses its buttons")
    seen = len(ctx.standin.calls)
    (priya_dm,) = _submit(ctx, maya, view, values, dms=1)
    ctx.wait_for_new(seen, "chat.update")
    t.show_new_calls()
    t.say("Maya clicks “Agree” on the old note too: a calibration is given once")
    seen = len(ctx.standin.calls)
    _click(ctx, maya, CALIBRATE_AGREE_ACTION_ID, outcome_id, note)
    ctx.wait_for_new(seen, "chat.postEphemeral")
    t.show_new_calls()

    # Calibrated into a perfect miss, Initech is Priya's to celebrate or not: she is asked in
    # Maya's note to her, once, and the shout-out names what Maya saw held.
    t.scene("Monday 14:10 — Initech reads as a perfect miss now: Priya says yes to a shout-out")
    seen = len(ctx.standin.calls)
    replaced = _click_replacing(ctx, ctx.priya, CELEBRATE_YES_ACTION_ID, outcome_id, priya_dm)
    ctx.wait_for_new(seen, "chat.postMessage", 2)
    t.show_new_calls()
    _show_replaced(ctx, ctx.priya, replaced)


def _share(ctx: DemoContext, user_id: str, thanks: RecordedCall) -> None:
    """Click "Share with my team" on the kept lesson; the DM as it is replaced."""
    response_url = ctx.sender.new_response_url("actions")
    channel = thanks.response["channel"]
    ctx.sender.block_actions(
        user_id=user_id,
        actions=[
            {
                "action_id": SHARE_LESSON_ACTION_ID,
                "value": _button_value(thanks, SHARE_LESSON_ACTION_ID),
            }
        ],
        message={**thanks.response["message"], "channel": channel},
        channel_id=channel,
        response_url=response_url,
    )
    answer = ctx.standin.wait_for_responses(response_url, timeout=10)[0]
    ctx.transcript.show_replaced(user_id, answer)


def _lessons(ctx: DemoContext, user_id: str, words: str) -> None:
    seen = len(ctx.standin.calls)
    ctx.sender.slash_command("/rebound", f"lessons {words}", user_id=user_id, channel_id="C0SALES")
    ctx.wait_for_new(seen, "chat.postEphemeral")
    ctx.transcript.show_new_calls()


def play(ctx: DemoContext) -> None:
    t, leo, priya, maya = ctx.transcript, ctx.leo, ctx.priya, ctx.maya
    everything = list(PRACTICES)

    ctx.clock.advance(hours=1)
    t.scene("Monday 10:00 — Priya loses Globex on price")
    view = _open(ctx, "/lost", "Globex", priya)
    t.say("Priya fills the debrief in under a minute: two practices held")
    _submit(
        ctx,
        priya,
        view,
        _lost_values("Globex", "proposal", "price", ["discovery", "pipeline_full"], amount="18000"),
        dms=2,
    )

    ctx.clock.advance(hours=1)
    t.scene("Monday 11:00 — Leo loses the Acme renewal, having done everything right")
    view = _open(ctx, "/lost", "Acme renewal", leo)
    t.say("Leo first submits a deal name of only spaces")
    _submit(ctx, leo, view, _lost_values("   ", "negotiation", "competitor", everything), dms=0)
    t.say("He fixes it: lost in negotiation to Hooli, all five practices held")
    posted = _submit(
        ctx,
        leo,
        view,
        _lost_values(
            "Acme renewal",
            "negotiation",
            "competitor",
            everything,
            amount="64000",
            competitor="Hooli",
            feedback="You were the better fit, but Hooli bundled it with their suite.",
        ),
        dms=2,
    )
    leo_dm = next(c for c in posted if c.conversation == "D0LEO")

    t.scene("Monday 11:05 — Leo agrees to celebrate his perfect miss")
    t.say("Leo clicks “Yes, celebrate it” — twice, the Wi-Fi is slow")
    seen = len(ctx.standin.calls)
    outcome_id = _button_value(leo_dm, CELEBRATE_YES_ACTION_ID)
    replaced = _click_replacing(ctx, leo, CELEBRATE_YES_ACTION_ID, outcome_id, leo_dm)
    _click(ctx, leo, CELEBRATE_YES_ACTION_ID, outcome_id, leo_dm)
    ctx.wait_for_new(seen, "chat.postMessage", 2)
    t.show_new_calls()
    _show_replaced(ctx, leo, replaced)
    wins = [c for c in ctx.standin.calls[seen:] if c.conversation == "C0WINS"]
    t.say(f"#wins got {len(wins)} shout-out — no amount in it")

    t.scene("Monday 11:10 — Leo answers the reflection questions")
    _reflect(
        ctx,
        leo,
        outcome_id,
        # A perfect miss: the one thing is what to keep doing, not what to change (seed 002).
        reflection_values(
            "Run discovery with the whole buying group, like on this deal",
            learned="Suites win when the buyer fears tool sprawl",
            feedback_lesson="Our fit was right; the bundle was out of our hands",
            in_control="Discovery, the demo and the follow-up — all done well",
        ),
    )

    ctx.clock.advance(hours=3)
    t.scene("Monday 14:00 — Priya loses Initech: no decision")
    view = _open(ctx, "/lost", "Initech", priya)
    posted = _submit(
        ctx, priya, view, _lost_values("Initech", "evaluation", "no_decision", ["discovery"]), dms=2
    )
    _calibrate(ctx, maya, next(c for c in posted if c.conversation != "D0PRIYA"))

    ctx.clock.advance(hours=20)
    t.scene("Tuesday 10:00 — Priya hasn't answered her Globex questions: one gentle reminder")
    seen = len(ctx.standin.calls)
    ctx.tick()
    reminder = ctx.wait_for_new(seen, "chat.postMessage")[0]
    t.show_new_calls()
    t.say("Another tick an hour later sends nothing more")
    ctx.clock.advance(hours=1)
    ctx.tick()
    t.show_new_calls()
    t.say("Priya clicks “Answer now”")
    _reflect(
        ctx,
        priya,
        _button_value(reminder, REFLECT_ACTION_ID),
        reflection_values(
            "Confirm budget on the first call",
            learned="We talked price too late",
            feedback_lesson="The budget was never there",
        ),
    )

    ctx.clock.advance(hours=1)
    t.scene("Tuesday 12:00 — Priya wins Hooli: a bounce-back")
    view = _open(ctx, "/won", "Hooli", priya)
    won = _submit(
        ctx,
        priya,
        view,
        {
            "deal": {"value": state_value("plain_text_input", "Hooli")},
            "amount": {"value": state_value("number_input", "22000")},
            "practices": {"value": state_value("checkboxes", everything)},
            "luck": {"value": state_value("static_select", "some")},
        },
        dms=1,
    )
    win_dm = next(c for c in ctx.standin.calls[::-1] if c.conversation == "D0PRIYA")

    t.scene("Tuesday 12:02 — Priya is asked first: two losses, then a win")
    t.say("Priya clicks “Yes, share it”")
    seen = len(ctx.standin.calls)
    win_id = _button_value(win_dm, CELEBRATE_YES_ACTION_ID)
    replaced = _click_replacing(ctx, priya, CELEBRATE_YES_ACTION_ID, win_id, win_dm)
    ctx.wait_for_new(seen, "chat.postMessage", 2)
    t.show_new_calls()
    _show_replaced(ctx, priya, replaced)
    confirmation = next(
        c
        for c in ctx.standin.calls[seen:]
        if c.method == "chat.postMessage" and c.conversation == "D0PRIYA"
    )

    t.scene("Tuesday 12:05 — Priya changes her mind and takes it back")
    t.say("Priya clicks “Take it back”, and “Take it back” again in the dialog")
    seen = len(ctx.standin.calls)
    replaced = _click_replacing(ctx, priya, TAKE_BACK_ACTION_ID, win_id, confirmation)
    ctx.wait_for_new(seen, "chat.delete")
    t.show_new_calls()
    _show_replaced(ctx, priya, replaced)
    t.say("She clicks it once more, just to be sure")
    seen = len(ctx.standin.calls)
    _click(ctx, priya, TAKE_BACK_ACTION_ID, win_id, confirmation)
    ctx.wait_for_new(seen, "chat.postEphemeral")
    t.show_new_calls()

    ctx.clock.advance(minutes=5)
    t.scene("Tuesday 12:05 — Priya keeps what worked, and shares it with her team")
    win_dm = next(c for c in won if REFLECT_ACTION_ID in json.dumps(c.params.get("blocks")))
    thanks = _reflect(
        ctx,
        priya,
        _button_value(win_dm, REFLECT_ACTION_ID),
        {
            WIN_LESSON_KEY: {
                "value": state_value(
                    "plain_text_input",
                    "Asked about budget and who signs on the first call, then sent a one-page "
                    "recap the same day",
                )
            }
        },
    )[0]
    t.say("Priya clicks “Share with my team”")
    _share(ctx, priya, thanks)

    t.scene("Tuesday 12:10 — Lessons: Maya sees her team's, Leo his own and what Priya shared")
    t.say("Maya types `/rebound lessons budget`")
    _lessons(ctx, maya, "budget")
    t.say(
        "Leo types `/rebound lessons budget` — Priya's loss lessons are hers and Maya's; the win "
        "lesson she shared is there for him"
    )
    _lessons(ctx, leo, "budget")
