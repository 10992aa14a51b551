"""Demo scene of weekly check-ins: Leo's Friday check-in, his answers, Maya's digest, and her
reply to Leo's answers, put on their one-on-one agenda."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.blocks.one_on_ones import AGENDA_DONE_ACTION_ID, AGENDA_ON, REPLY_ACTION_ID
from testkit.demo import DemoContext
from testkit.render import render_message
from testkit.simulator import state_value
from testkit.standin import RecordedCall

# Friday 27 Nov 2026, 14:00 in London (GMT) is 14:00 UTC; in Los Angeles (PST) 22:00 UTC.
LEO_FRIDAY = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
PRIYA_FRIDAY = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
# Saturday 28 Nov, 14:00 in New York (EST), where Maya is: her digest.
MAYA_SATURDAY = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)

LEO_ANSWERS = {
    "loss_lesson": "I let the champion go quiet for two weeks. Now I book the next step "
    "before I leave the call.",
    "commitment": "Yes, in both discovery calls this week. One buyer had a bundle we'd have "
    "missed.",
    "feedback": "Maya said I talk past objections. Fair: I now repeat them back first.",
    "worked": "Booking the next meeting before leaving the call. Two deals moved.",
}


def _show(ctx: DemoContext, calls: list[RecordedCall]) -> None:
    """Like Transcript.show_new_calls; posts addressed to a user id are that person's DM."""
    t = ctx.transcript
    for call in calls:
        channel = str(call.params.get("channel", ""))
        if call.ok and call.method == "chat.postMessage" and channel.startswith("U"):
            t.write(f"\n  {t.person(channel)} gets a DM from Rebound:")
            rendered = render_message(
                text=call.params.get("text"), blocks=call.params.get("blocks"), names=t.names
            )
            for line in rendered.splitlines():
                t.write(f"    │ {line}")
        elif call.method in ("chat.postMessage", "views.open", "chat.update"):
            t._show_call(call)  # noqa: SLF001 - the transcript's own drawing of other calls


def _new_calls(ctx: DemoContext) -> list[RecordedCall]:
    calls = ctx.standin.calls[ctx.transcript.seen :]
    ctx.transcript.seen += len(calls)
    return calls


def _dm(user_id: str) -> str:
    """The app's DM with the person, where the outbox posts what is for them (the stand-in
    names it D + the user id without its U)."""
    return "D" + user_id[1:]


def _latest_checkin_dm(ctx: DemoContext, user_id: str) -> RecordedCall | None:
    """Leo's check-in DM, sent by this scene's tick or by an earlier scene's (every tick runs
    every job, so whichever tick first passes his 14:00 sends it)."""
    found = [
        c
        for c in ctx.standin.calls_to("chat.postMessage")
        if c.conversation == _dm(user_id)
        and str(c.params.get("text", "")).startswith("Your weekly check-in")
    ]
    return found[-1] if found else None


def _move_clock_to(ctx: DemoContext, moment: datetime) -> None:
    if ctx.clock() < moment:  # earlier scenes may already be later in the week
        ctx.clock.set(moment)


def play(ctx: DemoContext) -> None:
    """Friday: Leo's check-in arrives at 14:00 his time; he answers; Maya gets her digest."""
    t, sender, leo, maya = ctx.transcript, ctx.sender, ctx.leo, ctx.maya

    t.scene("Friday 14:00 in London — Leo's weekly check-in")
    t.say("Every app process ticks; the database decides who sends what. Leo's 14:00 has come.")
    _new_calls(ctx)
    _move_clock_to(ctx, LEO_FRIDAY)
    ctx.tick()
    fresh = _new_calls(ctx)
    dm = _latest_checkin_dm(ctx, leo)
    if dm is None:
        t.say("(no check-in was due for Leo; is he on a team in the settings?)")
        return
    if dm not in fresh:
        t.say("(it went out on the first tick after 14:00 London time, so it is already here:)")
        fresh = [dm]
    _show(ctx, fresh)

    t.say("Leo clicks Answer")
    button = next(b for b in dm.params["blocks"] if b["type"] == "actions")["elements"][0]
    seen = len(ctx.standin.calls)
    sender.block_actions(
        user_id=leo,
        actions=[{"action_id": button["action_id"], "value": button["value"]}],
        message={"ts": dm.response["ts"], "channel": dm.response["channel"]},
    )
    [opened] = ctx.wait_for_new(seen, "views.open")
    _show(ctx, _new_calls(ctx))
    view: dict[str, Any] = opened.params["view"] | {"id": opened.response["view"]["id"]}
    text_keys = [
        b["block_id"]
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
    ]
    values: dict[str, dict[str, Any]] = {
        "rating_pipeline_full": {"answer": state_value("static_select", "4")},
        "rating_discovery": {"answer": state_value("static_select", "3")},
        "rating_objection_handling": {"answer": state_value("static_select", "5")},
    }
    for key in text_keys:
        answer = LEO_ANSWERS.get(key, LEO_ANSWERS["worked"])
        values[key] = {"answer": state_value("plain_text_input", answer)}
    t.say("Leo answers the questions, rates his week's process, and clicks Save")
    seen = len(ctx.standin.calls)
    t.show_reply(leo, sender.view_submission(view, user_id=leo, values=values))
    ctx.wait_for_new(seen, "chat.postMessage")
    _show(ctx, _new_calls(ctx))

    t.scene("Friday 14:00 in Los Angeles — Priya's check-in; she is with a customer")
    _move_clock_to(ctx, PRIYA_FRIDAY)
    ctx.tick()
    _show(ctx, [c for c in _new_calls(ctx) if c.conversation == _dm(ctx.priya)])

    t.scene("Saturday 14:00 in New York — Maya's weekly digest of her team's check-ins")
    _move_clock_to(ctx, MAYA_SATURDAY)
    seen = len(ctx.standin.calls)
    ctx.tick()
    ctx.tick()  # a second tick (or a second replica) sends nothing more

    def digest_arrived(calls: list[RecordedCall]) -> bool:
        # The tick's dispatch or the app's own dispatcher (woken by the queueing commit) may
        # be the one that sends it: wait for it, whichever does.
        return any(
            c.method == "chat.postMessage"
            and c.conversation == _dm(maya)
            and "Team check-ins" in str(c.params.get("text"))
            for c in calls[seen:]
        )

    ctx.standin.wait_for(digest_arrived, timeout=10.0)
    _show(ctx, [c for c in _new_calls(ctx) if c.conversation == _dm(maya)])

    digest = [
        c
        for c in ctx.standin.calls_to("chat.postMessage")
        if c.conversation == _dm(maya) and "Team check-ins" in str(c.params.get("text"))
    ]
    reply_to = [
        block["accessory"]["value"]
        for block in (digest[-1].params.get("blocks") or [] if digest else [])
        if block.get("accessory", {}).get("action_id") == REPLY_ACTION_ID
    ]
    if not reply_to:
        return
    ctx.clock.advance(minutes=20)
    t.scene("Saturday 14:20 — Maya replies to Leo's check-in and puts it on their one-on-one")
    t.say("Maya clicks “Reply” beside Leo's answers")
    seen = len(ctx.standin.calls)
    ctx.sender.block_actions(
        user_id=maya, actions=[{"action_id": REPLY_ACTION_ID, "value": reply_to[0]}]
    )
    view = ctx.wait_for_new(seen, "views.open")[0].response["view"]
    _show(ctx, _new_calls(ctx))
    first = next(b for b in view["blocks"] if b.get("block_id") == "answer")
    first_answer = first["element"]["options"][0]["value"]
    seen = len(ctx.standin.calls)
    ctx.sender.view_submission(
        view,
        user_id=maya,
        values={
            "answer": {"value": state_value("static_select", first_answer)},
            "reply": {
                "value": state_value(
                    "plain_text_input",
                    "Booking the next step before you hang up is exactly it. Let's look at the "
                    "bundle on Thursday.",
                )
            },
            AGENDA_ON: {"value": state_value("checkboxes", [AGENDA_ON])},
        },
    )
    ctx.wait_for_new(seen, "chat.postMessage")
    _show(ctx, [c for c in _new_calls(ctx) if c.conversation == _dm(ctx.leo)])

    ctx.clock.advance(minutes=40)
    t.scene("Saturday 15:00 — they talked it through: Leo marks the item done on his Home")
    _mark_agenda_item_done(ctx)


def _mark_agenda_item_done(ctx: DemoContext) -> None:
    """Leo opens his Home, clicks "Done" beside the agenda item: both Homes are published
    again (through the outbox) without it, and nobody gets a message about it."""
    t, leo, maya = ctx.transcript, ctx.leo, ctx.maya
    seen = len(ctx.standin.calls)
    ctx.sender.send_event(
        ctx.sender.event_envelope({"type": "app_home_opened", "user": leo, "channel": _dm(leo)})
    )
    ctx.wait_for_new(seen, "views.publish")
    t.show_new_calls()
    home = next(
        c
        for c in reversed(ctx.standin.calls)
        if c.method == "views.publish" and c.params.get("user_id") == leo
    )
    view = home.response["view"]
    done = [
        block["accessory"]
        for block in view.get("blocks") or []
        if block.get("accessory", {}).get("action_id") == AGENDA_DONE_ACTION_ID
    ]
    if not done:
        return
    t.say("Leo clicks “Done” beside the item")
    seen = len(ctx.standin.calls)
    ctx.sender.block_actions(
        user_id=leo,
        actions=[{"action_id": AGENDA_DONE_ACTION_ID, "value": done[0]["value"]}],
        view=view,
    )

    def both_homes(calls: list[RecordedCall]) -> bool:
        published = {c.params.get("user_id") for c in calls[seen:] if c.method == "views.publish"}
        return {leo, maya} <= published

    ctx.standin.wait_for(both_homes, timeout=10.0)
    t.show_new_calls()
    told = [c for c in ctx.standin.calls[seen:] if c.method == "chat.postMessage"]
    t.say(f"Messages about it: {len(told)}. Maya's Home simply no longer lists it")
