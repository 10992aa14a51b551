"""Demo scenes of the foundation: help, settings, the Home tab, a re-delivered event."""

from __future__ import annotations

import time
from typing import Any

from testkit.demo import DemoContext, _has, _wait
from testkit.simulator import state_value


def play(ctx: DemoContext) -> None:
    """Monday morning: help, settings for admins only, the Home tab, a retried event."""
    standin, sender, t = ctx.standin, ctx.sender, ctx.transcript
    maya, leo, priya = ctx.maya, ctx.leo, ctx.priya

    t.scene("Monday 09:02 — Leo (rep, London) asks Rebound what it can do")
    t.say("Leo types `/rebound help` in #sales")
    t.show_reply(leo, sender.slash_command("/rebound", "help", user_id=leo, channel_id="C0SALES"))

    t.scene("Monday 09:05 — Leo tries the settings")
    t.say("Leo types `/rebound settings` — only admins may change them")
    seen = len(standin.calls)
    sender.slash_command("/rebound", "settings", user_id=leo, channel_id="C0SALES")
    _wait(standin, seen, _has("chat.postEphemeral"))
    t.show_new_calls()

    t.scene("Monday 09:30 — Maya (sales manager, workspace admin, New York) sets Rebound up")
    t.say("Maya types `/rebound settings`")
    seen = len(standin.calls)
    sender.slash_command("/rebound", "settings", user_id=maya, channel_id="C0SALES")
    _wait(standin, seen, _has("views.open"))
    opened = t.show_new_calls()
    view = next(c for c in opened if c.method == "views.open").params["view"]

    base_values: dict[str, dict[str, Any]] = {
        "recognition_channel": {"value": state_value("channels_select", "C0WINS")},
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        "team_0_manager": {"value": state_value("users_select", None)},
        "team_0_reps": {"value": state_value("multi_users_select", [leo, priya])},
        "team_1_manager": {"value": state_value("users_select", None)},
        "team_1_reps": {"value": state_value("multi_users_select", [])},
    }
    t.say(
        "She picks #wins, Friday 14:00, and adds Leo and Priya — but forgets to pick herself "
        "as their manager, and clicks Save"
    )
    t.show_reply(maya, sender.view_submission(view, user_id=maya, values=base_values))

    t.say("She picks herself as the manager and saves again")
    base_values["team_0_manager"] = {"value": state_value("users_select", maya)}
    seen = len(standin.calls)
    reply = sender.view_submission(view, user_id=maya, values=base_values)
    t.show_reply(maya, reply)
    _wait(standin, seen, _has("chat.postMessage"))
    t.show_new_calls()

    t.scene("Monday 09:45 — Leo opens Rebound's Home tab")
    seen = len(standin.calls)
    envelope = sender.event_envelope(
        {"type": "app_home_opened", "user": leo, "channel": "D0LEO", "tab": "home"}
    )
    sender.send_event(envelope)
    _wait(standin, seen, _has("views.publish"))
    t.show_new_calls()
    t.say("Slack didn't see the 200 in time and re-delivers the same event (X-Slack-Retry-Num: 1)")
    seen = len(standin.calls)
    sender.send_event(envelope, retry_num=1)
    time.sleep(0.3)
    again = [c for c in standin.calls[seen:] if c.method == "views.publish"]
    t.say(
        f"Rebound recognises event {envelope['event_id']} and does nothing twice "
        f"({len(again)} extra Home publishes)"
    )
    t.show_new_calls()

    t.scene("Monday 09:50 — Priya mistypes a command")
    t.say("Priya types `/rebound stats`")
    t.show_reply(
        priya, sender.slash_command("/rebound", "stats", user_id=priya, channel_id="C0SALES")
    )
