"""Goals over HTTP: /goal, its modal (the workspace's cycle by default), validation, saving once
and showing progress."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlmodel import select

from bot.blocks.goals import (
    GOAL_CALLBACK_ID,
)
from bot.usecases.goals import (
    local_today,
    offered_cycle,
)
from storage.models import Goal
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import SlackStandIn
from tests.support.factories import (
    add_outcome,
    goal_values,
    live_session,
    new_user,
    open_goal_modal,
)
from tests.support.standin_waits import first_call_since

# --- over HTTP: /goal, its modal, its progress --------------------------------------------------


def test_goal_modal_defaults_to_the_workspace_cycle(live: LiveApp, standin: SlackStandIn) -> None:
    user_id = new_user(standin)
    # The server reads its own clock between these two instants; midnight may fall between.
    before = live.clock()
    view = open_goal_modal(live, standin, user_id)
    after = live.clock()
    assert view["callback_id"] == GOAL_CALLBACK_ID
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    offered = (
        date.fromisoformat(blocks["cycle_start"]["element"]["initial_date"]),
        date.fromisoformat(blocks["cycle_end"]["element"]["initial_date"]),
    )
    assert offered in {
        offered_cycle(local_today(moment, "Europe/London"), "monthly") for moment in (before, after)
    }
    assert {o["value"] for o in blocks["metric"]["element"]["options"]} == {
        "revenue",
        "deals_won",
        "meetings",
        "custom",
    }


def test_goal_submission_validates_saves_once_and_shows_progress(
    live: LiveApp, standin: SlackStandIn
) -> None:
    user_id = new_user(standin)
    view = open_goal_modal(live, standin, user_id)
    sender = live.sender()
    # Dates a month either side of today: whatever the time of day, the server's "today" and
    # a win a minute ago both fall well inside the cycle.
    today = local_today(live.clock(), "Europe/London")
    start, end = today - timedelta(days=30), today + timedelta(days=30)

    bad = sender.view_submission(
        view,
        user_id=user_id,
        values=goal_values(target="-3", why=" ", start=None, end=end.isoformat()),
    ).json()
    assert bad["response_action"] == "errors"
    assert set(bad["errors"]) == {"target", "why", "cycle_start"}

    values = goal_values(
        metric="deals_won", target="2", start=start.isoformat(), end=end.isoformat()
    )
    seen = len(standin.calls)
    first = sender.view_submission(view, user_id=user_id, values=values)
    assert first.status == 200 and first.body.strip() in ("", "{}")
    again = sender.view_submission(view, user_id=user_id, values=values)
    assert again.status == 200
    standin.wait_for(lambda calls: len(standin.messages_to(user_id)) >= 1, timeout=10)
    with live_session(live) as session:
        goals = session.exec(select(Goal).where(Goal.user_id == user_id)).all()
        assert len(goals) == 1
        assert (goals[0].metric, goals[0].target) == ("deals_won", 2.0)
        # One win in the cycle feeds the goal (computed at read time, never stored twice).
        add_outcome(session, user_id, "win", live.clock() - timedelta(minutes=1))
        session.commit()
    saved = standin.messages_to(user_id)
    assert len(saved) == 1 and "Goal saved" in saved[0].params["text"]

    seen = len(standin.calls)
    live.sender().slash_command("/goal", user_id=user_id)
    shown = first_call_since(standin, seen, "chat.postEphemeral").params
    assert shown["user"] == user_id
    rendered = json.dumps(shown["blocks"])
    assert "1 of 2" in rendered and "50%" in rendered
    assert not any(c.method == "views.open" for c in standin.calls[seen:])

    # "Change goal" opens the same modal, filled in, and saving changes the goal in place.
    button = next(b for b in shown["blocks"] if b["type"] == "actions")["elements"][0]
    seen = len(standin.calls)
    live.sender().block_actions(
        user_id=user_id,
        actions=[{"action_id": button["action_id"], "value": button["value"]}],
    )
    change_view = first_call_since(standin, seen, "views.open").response["view"]
    target_block = next(b for b in change_view["blocks"] if b.get("block_id") == "target")
    assert target_block["element"]["initial_value"] == "2"
    values["target"] = {"value": state_value("number_input", "4")}
    assert sender.view_submission(change_view, user_id=user_id, values=values).status == 200
    with live_session(live) as session:
        goals = session.exec(select(Goal).where(Goal.user_id == user_id)).all()
        assert [g.target for g in goals] == [4.0]
