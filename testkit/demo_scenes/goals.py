"""Demo scene of goals: SMART goals, the Home dashboards, a report, and the end-of-cycle review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from testkit.demo import DemoContext, _has, _wait
from testkit.render import mrkdwn_to_text
from testkit.simulator import state_value
from testkit.standin import RecordedCall

# Reviews go out at 09:00 local the day after the cycle: Leo's at 09:00 in London, then
# Maya's team review at 09:00 in New York (every cycle has ended by then) ...
TEAM_REVIEW_AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
# ... and Priya's at 09:00 in Los Angeles.
LAST_REVIEW_AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _goal_values(
    metric: str, target: str, why: str, view: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    return {
        "metric": {"value": state_value("static_select", metric)},
        "custom_metric": {"value": state_value("plain_text_input", None)},
        "target": {"value": state_value("number_input", target)},
        "cycle_start": {
            "value": state_value("datepicker", blocks["cycle_start"]["element"]["initial_date"])
        },
        "cycle_end": {
            "value": state_value("datepicker", blocks["cycle_end"]["element"]["initial_date"])
        },
        "why": {"value": state_value("plain_text_input", why)},
    }


def _open_goal_modal(ctx: DemoContext, user_id: str) -> dict[str, Any]:
    seen = len(ctx.standin.calls)
    ctx.sender.slash_command("/goal", user_id=user_id, channel_id="C0SALES")
    opened = ctx.wait_for_new(seen, "views.open")
    ctx.transcript.show_new_calls()
    return opened[0].response["view"]


def _save_uploads(ctx: DemoContext, calls: list[RecordedCall]) -> None:
    """Write each chart the app uploaded next to the transcript, and say who got it."""
    for call in calls:
        if call.method != "files.completeUploadExternal" or not call.ok:
            continue
        for item in call.params.get("files", []):
            content = ctx.standin.uploaded_file(item["id"])
            if content is None:
                continue
            stored = next(
                (f for f in call.response.get("files", []) if f.get("id") == item["id"]), {}
            )
            path = ctx.out_dir / (stored.get("name") or f"{item['id']}.png")
            path.write_bytes(content)
            who = ctx.transcript.person("U" + str(call.params.get("channel_id", "D"))[1:])
            ctx.transcript.write(f"\n  {who} gets a chart in their DM: “{item.get('title')}”")
            # Slack shows the comment as mrkdwn: mentions by name, escapes undone.
            comment = mrkdwn_to_text(
                call.params.get("initial_comment") or "", names=ctx.transcript.names
            )
            for line in comment.splitlines():
                ctx.transcript.write(f"    │ {line}")
            ctx.transcript.write(f"    │ [image saved as {path.name}]")


def _home(ctx: DemoContext, user_id: str) -> None:
    seen = len(ctx.standin.calls)
    ctx.sender.send_event(
        ctx.sender.event_envelope(
            {"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:]}
        )
    )
    _wait(ctx.standin, seen, _has("views.publish"))
    ctx.transcript.show_new_calls()


def _tick_at(ctx: DemoContext, moment: datetime) -> None:
    """Move the demo's clock on to `moment` (never back) and run the scheduler once."""
    if ctx.clock() < moment:
        ctx.clock.set(moment)
    seen = len(ctx.standin.calls)
    ctx.tick()
    ctx.transcript.show_new_calls()
    _save_uploads(ctx, ctx.standin.calls[seen:])


def play(ctx: DemoContext) -> None:
    """Goals for Leo and Priya, their Home tabs, Maya's report, and the cycle review."""
    t, sender, standin = ctx.transcript, ctx.sender, ctx.standin
    maya, leo, priya = ctx.maya, ctx.leo, ctx.priya

    t.scene("Goals — Leo sets a SMART goal for November")
    t.say("Leo types `/goal`; the modal starts on the workspace's monthly cycle")
    view = _open_goal_modal(ctx, leo)
    t.say("He aims at a target of zero by mistake and leaves 'why' blank")
    t.show_reply(
        leo,
        sender.view_submission(view, user_id=leo, values=_goal_values("revenue", "0", " ", view)),
    )
    t.say("He fixes both: £60,000 of revenue, because it funds the team offsite")
    seen = len(standin.calls)
    values = _goal_values("revenue", "60000", "It funds the team offsite I promised.", view)
    t.show_reply(leo, sender.view_submission(view, user_id=leo, values=values))
    _wait(standin, seen, _has("chat.postMessage"))
    t.show_new_calls()

    t.scene("Goals — Priya sets hers: five deals won")
    view = _open_goal_modal(ctx, priya)
    seen = len(standin.calls)
    values = _goal_values("deals_won", "5", "Five wins gets me to senior AE.", view)
    t.show_reply(priya, sender.view_submission(view, user_id=priya, values=values))
    _wait(standin, seen, _has("chat.postMessage"))
    t.show_new_calls()

    t.scene("Goals — Priya checks her progress: wins count by themselves")
    seen = len(standin.calls)
    sender.slash_command("/goal", user_id=priya, channel_id="C0SALES")
    _wait(standin, seen, _has("chat.postEphemeral"))
    t.show_new_calls()

    t.scene("Home — Leo's dashboard: goal, record, resilience, lessons")
    _home(ctx, leo)

    t.scene("Home — Maya's team view: quadrants so far, why we lose, who needs a word")
    _home(ctx, maya)

    t.scene("Report — Maya asks for the charts with `/rebound report`")
    seen = len(standin.calls)
    sender.slash_command("/rebound", "report", user_id=maya, channel_id="C0SALES")
    calls = ctx.wait_for_new(seen, "files.completeUploadExternal", count=2)
    _wait(standin, seen, _has("chat.postEphemeral"))
    t.show_new_calls()
    _save_uploads(ctx, calls)

    t.scene("1 December, 09:00 in New York — Leo's review and Maya's team review")
    t.say("Reviews arrive at 09:00 local time the day after the cycle, never at midnight")
    _tick_at(ctx, TEAM_REVIEW_AT)
    t.scene("1 December, 09:00 in Los Angeles — Priya's review")
    _tick_at(ctx, LAST_REVIEW_AT)
