"""Demo scenes of resilience support (seed 003): Leo's perfect miss on Monday was a loss too;
two more losses make three in a row, which brings him a private DM with one practice and an
offer to talk, and Maya a question for their next one-on-one. Nothing reaches #wins. Leo asks
to talk; Maya's Home shows who is on a streak. Runs after the cycle review, in December."""

from __future__ import annotations

from bot.blocks.resilience import TALK_ACTION_ID
from bot.domain import PRACTICES
from testkit.demo import DemoContext
from testkit.demo_scenes.debriefs import _button_value, _click, _lost_values, _open, _submit
from testkit.demo_scenes.goals import _home
from testkit.standin import RecordedCall


def play(ctx: DemoContext) -> None:
    t, leo, maya = ctx.transcript, ctx.leo, ctx.maya

    ctx.clock.advance(days=1)
    t.scene("2 December — Leo loses Umbrella: his second loss in a row")
    view = _open(ctx, "/lost", "Umbrella", leo)
    _submit(ctx, leo, view, _lost_values("Umbrella", "proposal", "timing", ["discovery"]), dms=2)

    ctx.clock.advance(hours=3)
    t.scene("2 December — Leo loses Soylent: three in a row brings private support")
    view = _open(ctx, "/lost", "Soylent", leo)
    seen = len(ctx.standin.calls)
    _submit(
        ctx,
        leo,
        view,
        _lost_values("Soylent", "evaluation", "follow_up", ["discovery", "qualification"]),
        dms=4,
    )

    def supports(calls: list[RecordedCall]) -> list[RecordedCall]:
        return [
            c
            for c in calls[seen:]
            if c.method == "chat.postMessage" and TALK_ACTION_ID in str(c.params.get("blocks"))
        ]

    # The four DMs may come after one still on its way from before (a busy dispatcher): wait
    # for the support DM itself rather than for the first four.
    support = supports(ctx.standin.wait_for(lambda calls: bool(supports(calls)), timeout=10.0))[0]
    ctx.transcript.show_new_calls()
    wins = [
        c
        for c in ctx.standin.calls[seen:]
        if c.method == "chat.postMessage" and c.conversation == "C0WINS"
    ]
    t.say(f"#wins got {len(wins)} posts about it: support is private")

    ctx.clock.advance(minutes=10)
    t.scene("2 December — Leo would like to talk to Maya")
    seen = len(ctx.standin.calls)
    _click(ctx, leo, TALK_ACTION_ID, _button_value(support, TALK_ACTION_ID), support)
    ctx.wait_for_new(seen, "chat.postMessage")
    ctx.wait_for_new(seen, "chat.postEphemeral")
    t.show_new_calls()

    ctx.clock.advance(hours=1)
    t.scene("Home — Maya's team view: who is on a losing streak, who recovered fastest")
    _home(ctx, maya)


def play_corrections(ctx: DemoContext) -> None:
    """Leo logged Umbrella with one practice ticked in a hurry; in fact all five held. He
    corrects it from his Home: a perfect miss, and his record follows, as do Maya's note and
    his own DM about it (chat.update through the outbox)."""
    from bot.blocks.corrections import CORRECT_ACTION_ID

    t, leo = ctx.transcript, ctx.leo
    ctx.clock.advance(minutes=30)
    t.scene("Home — Leo corrects Umbrella: in fact all five practices held")
    _home(ctx, leo)
    home = next(c for c in reversed(ctx.standin.calls) if c.method == "views.publish")
    blocks = home.params["view"]["blocks"]
    # The Correct button under the line that names Umbrella.
    line = next(i for i, b in enumerate(blocks) if "*Umbrella*" in str(b.get("text", "")))
    value = next(
        e["value"] for e in blocks[line + 1]["elements"] if e["action_id"] == CORRECT_ACTION_ID
    )
    seen = len(ctx.standin.calls)
    _click(ctx, leo, CORRECT_ACTION_ID, value)
    view = ctx.wait_for_new(seen, "views.open")[0].response["view"]
    t.show_new_calls()
    t.say(
        "He ticks all five and saves: Umbrella is a perfect miss now; his Home follows, and so "
        "do the messages already sent about it (Maya's note and his own DM, updated in place)"
    )
    seen = len(ctx.standin.calls)
    ctx.transcript.show_reply(
        leo,
        ctx.sender.view_submission(
            view,
            user_id=leo,
            values=_lost_values("Umbrella", "proposal", "timing", list(PRACTICES)),
        ),
    )
    ctx.wait_for_new(seen, "views.publish")
    ctx.wait_for_new(seen, "chat.update", count=2)
    t.show_new_calls()
