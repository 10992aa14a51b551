"""The Home dashboards: pure builders as dicts, the use cases on both databases, Home over HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.blocks.dashboard import (
    HOME_LOST_ACTION_ID,
    manager_dashboard_blocks,
    rep_dashboard_blocks,
    team_row_line,
)
from bot.blocks.home import HomeFacts, home_view
from bot.domain import Classification, Resilience
from bot.domain.dashboard import ManagerDashboard, RepDashboard, Streak, TeamRow
from bot.usecases.dashboard import RECENT_OUTCOMES, current_streak, manager_dashboard, rep_dashboard
from storage import queries
from storage.models import Outcome, Reflection
from testkit.live import LiveApp
from testkit.standin import SlackStandIn
from tests.support.factories import (
    TEAM,
    add_current_goal,
    add_goal,
    add_outcome,
    live_session,
    new_user,
    session_factory,
)
from tests.support.standin_waits import first_call_since

__all__ = ["session_factory"]  # the fixture (tests/support/factories.py)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# --- pure ----------------------------------------------------------------------------------


def test_current_streak_counts_the_newest_run() -> None:
    assert current_streak(["win", "win", "loss", "win"]) == Streak("win", 2)
    assert current_streak(["loss"]) == Streak("loss", 1)
    assert current_streak([]) == Streak(None, 0)
    assert Streak("loss", 3).describe() == "3 losses in a row"
    assert Streak("win", 1).describe() == "1 win"


def test_rep_dashboard_blocks_without_goal_invite_one() -> None:
    dashboard = RepDashboard(
        user_id="U1",
        progress=None,
        cycle_start=date(2026, 11, 1),
        cycle_end=date(2026, 11, 30),
        record={"perfect-miss": 2, "system-hit": 1},
        resilience=Resilience(
            bounce_backs=2,
            median_recovery=timedelta(days=3),
            longest_losing_streak=3,
            current_losing_streak=0,
        ),
        streak=Streak("win", 1),
        outcomes_considered=7,
        lessons=[],
    )
    blocks = rep_dashboard_blocks(dashboard, action_buttons=[{"type": "button"}])
    text = _text(blocks)
    assert "`/goal`" in text
    assert "Perfect miss 2" in text and "System hit 1" in text and "Lucky hit 0" in text
    assert "Bounce-backs: 2" in text and "3 days" in text and "1 win" in text
    assert "This cycle* (1 Nov – 30 Nov)" in text and "01 Nov" not in text
    assert blocks[-1]["type"] == "actions"


def _row(index: int, quadrant: Classification | None, losing: int = 0) -> TeamRow:
    return TeamRow(
        user_id=f"U{index}",
        quadrant=quadrant,
        attainment_ratio=0.5 if quadrant else None,
        checkins_answered=3,
        checkins_sent=4,
        last_debrief_at=NOW - timedelta(days=2),
        streak=Streak("loss", losing) if losing else Streak("win", 1),
        losing_streak=losing,
    )


def test_manager_dashboard_blocks_fit_with_a_big_team() -> None:
    dashboard = ManagerDashboard(
        rows=[_row(i, Classification.SYSTEM_MISS) for i in range(25)],
        more_reps=40,
        loss_reasons=[("Price", 8), ("Timing", 1), ("", 1)],
        vital_few=["Price"],
        pareto_days=90,
        coaching=[("U1", "system miss so far")],
    )
    blocks = manager_dashboard_blocks(dashboard, now=NOW)
    assert len(blocks) <= 45
    text = _text(blocks)
    assert "check-ins 3/4" in text and "last debrief 2 days ago" in text
    assert "Price — 8 (80% cumulative)" in text and "No reason given" in text
    assert "40 more" in text
    # The streak is named in the row, not a bare count that reads like "1 loss this cycle".
    assert "last debrief 2 days ago · winning streak: 1" in text
    losing = team_row_line(_row(1, None, losing=1), NOW)
    assert losing.endswith(
        "no goal set · check-ins 3/4 · last debrief 2 days ago · losing streak: 1"
    )
    no_history = TeamRow("U9", None, None, 0, 0, None, Streak(None, 0), 0)
    assert team_row_line(no_history, NOW).endswith("no debrief yet · no outcomes yet")
    view = home_view(
        HomeFacts("U0", "Maya", "UTC", None, [], None, 4, 14, False), blocks + blocks + blocks
    )
    assert len(view["blocks"]) <= 100


# --- use cases on both databases ------------------------------------------------------------------


def _reflection(session: Session, user_id: str, answer: str, at: datetime) -> None:
    outcome = session.exec(select(Outcome).where(Outcome.user_id == user_id)).first()
    assert outcome is not None and outcome.id is not None
    session.add(
        Reflection(
            team_id=TEAM,
            user_id=user_id,
            outcome_id=outcome.id,
            question_key=uuid.uuid4().hex,
            question="What did you learn?",
            answer=answer,
            answered_at=at,
            created_at=at,
        )
    )


def test_rep_dashboard_reads_the_cycle_and_only_recent_history(session_factory: Any) -> None:
    with session_factory() as session:
        add_goal(session, "U1", metric="revenue", target=1000)
        start = NOW - timedelta(days=400)
        # Long ago: 150 losses then a win (a bounce-back outside the last 100 outcomes).
        for index in range(150):
            add_outcome(session, "U1", "loss", start + timedelta(hours=index), score=0.2)
        add_outcome(session, "U1", "win", start + timedelta(days=30), score=1.0, amount=1)
        for index in range(RECENT_OUTCOMES):
            add_outcome(session, "U1", "win", start + timedelta(days=40 + index), amount=1)
        add_outcome(session, "U1", "loss", NOW - timedelta(days=3), score=1.0)
        add_outcome(session, "U1", "win", NOW - timedelta(days=1), score=0.2, amount=300)
        _reflection(session, "U1", "Ask about budget in the first call", NOW - timedelta(days=3))
        _reflection(session, "U1", "", NOW - timedelta(days=2))  # unanswered: not a lesson
        session.commit()
        dashboard = rep_dashboard(
            session=session, team_id=TEAM, user_id="U1", tz="UTC", now=NOW, cycle="monthly"
        )
    assert dashboard.progress is not None and dashboard.progress.attainment == 300
    assert dashboard.record == {"perfect-miss": 1, "lucky-hit": 1}
    assert dashboard.outcomes_considered == RECENT_OUTCOMES
    assert dashboard.resilience.bounce_backs == 1  # only the recent one is in view
    assert dashboard.resilience.median_recovery == timedelta(days=2)
    assert dashboard.streak == Streak("win", 1)
    assert [lesson.answer for lesson in dashboard.lessons] == ["Ask about budget in the first call"]


def test_manager_dashboard_table_pareto_and_coaching(session_factory: Any) -> None:
    with session_factory() as session:
        add_goal(session, "UA", metric="deals_won", target=5)
        for index in range(4):
            add_outcome(
                session, "UA", "loss", NOW - timedelta(days=index + 1), score=0.2, reason="Price"
            )
        add_outcome(session, "UB", "loss", NOW - timedelta(days=5), reason="Timing")
        add_outcome(session, "UB", "loss", NOW - timedelta(days=200), reason="Old reason")
        session.commit()
        dashboard = manager_dashboard(
            session=session, team_id=TEAM, reps=[("UA", "UTC"), ("UB", "UTC")], now=NOW
        )
    rows = {row.user_id: row for row in dashboard.rows}
    assert rows["UA"].quadrant is Classification.SYSTEM_MISS
    assert rows["UA"].losing_streak == 4
    assert rows["UB"].quadrant is None
    assert rows["UB"].last_debrief_at == NOW - timedelta(days=5)
    assert dashboard.loss_reasons == [("Price", 4), ("Timing", 1)]
    assert dashboard.vital_few == ["Price"]
    assert ("UA", "4 losses in a row") in dashboard.coaching
    assert any(user == "UA" and "system miss" in why for user, why in dashboard.coaching)


# --- Home over HTTP ----------------------------------------------------------------------------


def _published_home(live: LiveApp, standin: SlackStandIn, user_id: str) -> dict[str, Any]:
    seen = len(standin.calls)
    assert live.sender().app_home_opened(user_id).status == 200
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "views.publish" and c.params["user_id"] == user_id for c in calls[seen:]
        ),
        timeout=10,
    )
    call = [c for c in calls[seen:] if c.method == "views.publish"][-1]
    assert call.ok, call.error
    return call.params["view"]


def test_home_shows_a_rep_their_goal_record_and_lessons(
    live: LiveApp, standin: SlackStandIn
) -> None:
    rep = new_user(standin, tz="UTC")
    now = datetime.now(UTC)
    with live_session(live) as session:
        add_current_goal(session, rep, now.date(), metric="deals_won", target=4)
        add_outcome(session, rep, "loss", now - timedelta(hours=5), score=1.0)
        add_outcome(session, rep, "win", now - timedelta(hours=1), score=1.0)
        _reflection(session, rep, "Multi-thread every deal", now - timedelta(hours=4))
        session.commit()
    view = _published_home(live, standin, rep)
    text = _text(view["blocks"])
    assert "1 of 4" in text and "25%" in text
    assert "Perfect miss 1" in text and "System hit 1" in text
    assert "Bounce-backs: 1" in text and "Median recovery: 4 hours" in text
    assert "Multi-thread every deal" in text
    actions = [b for b in view["blocks"] if b["type"] == "actions"]
    assert actions and HOME_LOST_ACTION_ID in _text(actions)

    # The Home button opens the very modal /lost opens.
    seen = len(standin.calls)
    live.sender().block_actions(
        user_id=rep, actions=[{"action_id": HOME_LOST_ACTION_ID}], view=view
    )
    opened = first_call_since(standin, seen, "views.open")
    assert opened.params["view"]["callback_id"] == "debrief_lost"


def test_home_shows_a_manager_the_team(live: LiveApp, standin: SlackStandIn) -> None:
    manager, struggling, steady = new_user(standin), new_user(standin), new_user(standin)
    now = datetime.now(UTC)
    with live_session(live) as session:
        queries.set_reports(
            session=session,
            team_id=TEAM,
            manager_user_id=manager,
            report_user_ids=[struggling, steady],
        )
        add_current_goal(session, struggling, now.date(), metric="deals_won", target=3)
        for index in range(3):
            add_outcome(
                session,
                struggling,
                "loss",
                now - timedelta(hours=index + 1),
                score=0.2,
                reason="No budget",
            )
        add_outcome(session, steady, "win", now - timedelta(hours=2))
        session.commit()
    view = _published_home(live, standin, manager)
    text = _text(view["blocks"])
    assert "Your team" in text
    assert f"<@{struggling}> · 🔧 System miss so far (0% of goal)" in text
    assert f"<@{steady}> · no goal set" in text
    # Three losses are counted, not read as a pattern (a Pareto needs five).
    assert "No budget — 3 · _can't say yet_\\nToo early for a pattern: 3 losses so far" in text
    assert "cumulative" not in text and "few reasons behind most losses" not in text
    assert "Who may need coaching" in text and "3 losses in a row" in text
    assert "losing streak: 3" in text
    assert len(view["blocks"]) <= 100


def test_home_for_a_newcomer_still_publishes(live: LiveApp, standin: SlackStandIn) -> None:
    rep = new_user(standin)
    text = _text(_published_home(live, standin, rep)["blocks"])
    assert "No goal for this cycle yet" in text and "no outcomes yet" in text


def test_home_shows_a_manager_what_was_in_the_teams_control_apart(
    live: LiveApp, standin: SlackStandIn
) -> None:
    manager, rep = new_user(standin), new_user(standin)
    now = datetime.now(UTC)
    reasons = ["follow_up", "follow_up", "real_need", "price", "price", "not_sure"]
    with live_session(live) as session:
        queries.set_reports(
            session=session, team_id=TEAM, manager_user_id=manager, report_user_ids=[rep]
        )
        for index, reason in enumerate(reasons):
            add_outcome(session, rep, "loss", now - timedelta(hours=index + 1), reason=reason)
        session.commit()
    text = _text(_published_home(live, standin, manager)["blocks"])
    assert "Follow-up slipped — 2 (33% cumulative) · _in our control_" in text
    assert "Price — 2 (67% cumulative) · _outside our control_" in text
    assert "Never found the real need — 1" in text and "Not sure yet — 1" in text
    assert "In our control: 3 of 6 (50%). Outside our control: 2. Can't say yet: 1." in text
