"""Goals: SMART checks, progress from wins, the quadrant rules, /goal over HTTP, cycle reviews."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import IDEMPOTENT_METHODS, Deps, build_ticker
from bot.blocks.goals import (
    GOAL_CALLBACK_ID,
    parse_goal_submission,
    progress_bar,
    review_message,
    review_table_lines,
    team_review_message,
)
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import Classification
from bot.domain.goals import CycleReview, GoalProgress
from bot.jobs import goals as goals_jobs
from bot.usecases.goals import (
    checkin_process_scores,
    default_cycle,
    local_today,
    offered_cycle,
    rep_review_due_at,
    reported_goal_progress,
    review_cycle,
    team_review_due_at,
)
from storage import goals_queries, queries
from storage.db import make_engine, make_session_factory
from storage.models import CheckIn, CheckInAnswer, Goal
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import SlackStandIn
from tests.support.factories import (
    TEAM,
    add_goal,
    add_outcome,
    goal_values,
    live_session,
    new_user,
    open_goal_modal,
    session_factory,
)

__all__ = ["session_factory"]  # the fixture (tests/support/factories.py)

TODAY = date(2026, 11, 24)


# --- pure: cycles, SMART checks, progress bar, check-in ratings ---------------------------------


@pytest.mark.parametrize(
    ("today", "cycle", "expected"),
    [
        (date(2026, 11, 24), "monthly", (date(2026, 11, 1), date(2026, 11, 30))),
        (date(2026, 12, 31), "monthly", (date(2026, 12, 1), date(2026, 12, 31))),
        (date(2028, 2, 10), "monthly", (date(2028, 2, 1), date(2028, 2, 29))),
        (date(2026, 11, 24), "quarterly", (date(2026, 10, 1), date(2026, 12, 31))),
        (date(2026, 1, 1), "quarterly", (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 6, 30), "quarterly", (date(2026, 4, 1), date(2026, 6, 30))),
    ],
)
def test_default_cycle_is_the_workspace_month_or_quarter(
    today: date, cycle: str, expected: tuple[date, date]
) -> None:
    assert default_cycle(today, cycle) == expected


def test_a_smart_goal_parses() -> None:
    submission, errors = parse_goal_submission(goal_values(target="1,250.5"), TODAY)
    assert errors == {}
    assert submission is not None
    assert submission.target == 1250.5
    assert (submission.cycle_start, submission.cycle_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert submission.custom_metric is None


@pytest.mark.parametrize(
    ("overrides", "block_id", "words"),
    [
        ({"target": "0"}, "target", "positive number"),
        ({"target": "-5"}, "target", "positive number"),
        ({"target": "lots"}, "target", "positive number"),
        ({"target": "nan"}, "target", "positive number"),
        ({"target": None}, "target", "positive number"),
        ({"end": "2026-10-15"}, "cycle_end", "after it starts"),
        ({"end": "2026-11-01"}, "cycle_end", "after it starts"),
        ({"start": "2026-10-01", "end": "2026-11-20"}, "cycle_end", "after today"),
        # Ending today leaves no time to work towards it (the person's own date).
        ({"start": "2026-11-01", "end": TODAY.isoformat()}, "cycle_end", "after today"),
        ({"end": "2027-12-01"}, "cycle_end", "a year at most"),
        ({"end": None}, "cycle_end", "Pick the day"),
        ({"why": "   "}, "why", "why this goal matters"),
        ({"why": "x" * 501}, "why", "to 500 characters"),
        ({"metric": "custom", "custom": "  "}, "custom_metric", "Name your metric"),
    ],
)
def test_smart_checks_answer_with_field_errors(
    overrides: dict[str, Any], block_id: str, words: str
) -> None:
    submission, errors = parse_goal_submission(goal_values(**overrides), TODAY)
    assert submission is None
    assert block_id in errors
    assert words in errors[block_id]


def test_a_goal_ending_tomorrow_is_fine() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    submission, errors = parse_goal_submission(goal_values(end=tomorrow), TODAY)
    assert errors == {} and submission is not None


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 24), (date(2026, 11, 1), date(2026, 11, 30))),
        # On the cycle's last day the modal offers the next cycle: today can't be the end.
        (date(2026, 11, 30), (date(2026, 12, 1), date(2026, 12, 31))),
        (date(2026, 12, 31), (date(2027, 1, 1), date(2027, 1, 31))),
    ],
)
def test_the_modal_offers_a_cycle_that_ends_after_today(
    today: date, expected: tuple[date, date]
) -> None:
    offered = offered_cycle(today, "monthly")
    assert offered == expected
    submission, errors = parse_goal_submission(
        goal_values(start=offered[0].isoformat(), end=offered[1].isoformat()), today
    )
    assert errors == {} and submission is not None


def test_reviews_fall_due_at_nine_in_the_morning_local_time() -> None:
    # The day after 28 March 2026 is the first day of British Summer Time: 09:00 BST.
    assert rep_review_due_at(date(2026, 3, 28), "Europe/London") == datetime(
        2026, 3, 29, 8, tzinfo=UTC
    )
    assert rep_review_due_at(date(2026, 11, 30), "America/Los_Angeles") == datetime(
        2026, 12, 1, 17, tzinfo=UTC
    )
    assert rep_review_due_at(date(2026, 11, 30), "Not/AZone") == datetime(
        2026, 12, 1, 9, tzinfo=UTC
    )
    zones = ["Europe/London", "America/Los_Angeles"]
    # Los Angeles' cycle ends at 08:00 UTC on 1 December: 02:00 in Chicago, so 09:00 that day.
    assert team_review_due_at(date(2026, 11, 30), zones, "America/Chicago") == datetime(
        2026, 12, 1, 15, tzinfo=UTC
    )
    # ... but 17:00 in Tokyo, past its 09:00: the team review waits for Tokyo's next morning.
    assert team_review_due_at(date(2026, 11, 30), zones, "Asia/Tokyo") == datetime(
        2026, 12, 2, 0, tzinfo=UTC
    )


def _review(
    quadrant: Classification, process: float | None, *, outcomes: int | None = None
) -> CycleReview:
    """A review on `outcomes` scored outcomes (enough for a label when there is a score)."""
    goal = Goal(
        team_id=TEAM,
        user_id="U1",
        metric="deals_won",
        target=4,
        cycle_start=date(2026, 11, 1),
        cycle_end=date(2026, 11, 30),
    )
    progress = GoalProgress(goal=goal, attainment=1, metric_label="Deals won")
    if outcomes is None:
        outcomes = 0 if process is None else 3
    return CycleReview(
        user_id="U1",
        progress=progress,
        process_score=process,
        quadrant=quadrant,
        scored_outcomes=outcomes,
    )


def test_a_review_celebrates_once_and_dates_read_one_way() -> None:
    perfect = json.dumps(
        review_message(_review(Classification.PERFECT_MISS, 0.9)), ensure_ascii=False
    )
    assert perfect.count("🎉") == 1
    assert "Celebrate the perfect miss" in perfect
    assert "1 Nov – 30 Nov 2026" in perfect and "01 Nov" not in perfect
    ended = json.dumps(review_message(_review(Classification.SYSTEM_MISS, None)))
    assert "No scored outcomes or check-ins this cycle" in ended
    assert "Not enough to call yet" in ended and "System miss" not in ended


def test_the_team_review_lists_the_whole_team() -> None:
    message = team_review_message(
        date(2026, 11, 30),
        [_review(Classification.SYSTEM_MISS, None)],
        without_goal=["U2"],
        not_dmed={"U1"},
    )
    text = json.dumps(message, ensure_ascii=False)
    assert "no scored outcomes or check-ins this cycle" in text and "evidence yet" not in text
    assert "<@U2> — no goal set" in text
    assert "couldn't be reached by DM" in text
    assert "cycle ending 30 Nov" in text
    # A report mid-cycle still says "yet".
    so_far = review_table_lines([_review(Classification.SYSTEM_MISS, None)], ended=False)
    assert so_far == [
        "<@U1> — not enough to call yet (no scored outcomes or check-ins yet) · 25% of goal"
    ]
    called = review_table_lines([_review(Classification.SYSTEM_MISS, 0.4)], ended=False)
    assert called == ["<@U1> — 🔧 System miss · 25% of goal · process 40%"]


def test_below_the_evidence_a_review_says_what_it_has_instead_of_a_label() -> None:
    two = _review(Classification.PERFECT_MISS, 0.9, outcomes=2)
    text = json.dumps(review_message(two), ensure_ascii=False)
    assert review_message(two)["text"] == "Your cycle review: not enough to call yet"
    assert "2 scored outcomes this cycle" in text and "needs at least 3" in text
    assert "Perfect miss" not in text and "🎉" not in text and "Celebrate" not in text
    lines = review_table_lines([two], ended=False)
    assert lines == ["<@U1> — not enough to call yet (2 scored outcomes so far) · 25% of goal"]
    # The lucky hit on two outcomes is no coaching case yet either.
    lucky = _review(Classification.LUCKY_HIT, 0.2, outcomes=2)
    team = json.dumps(team_review_message(date(2026, 11, 30), [lucky]), ensure_ascii=False)
    assert "Worth a coaching conversation" not in team and "Lucky hit" not in team
    enough = _review(Classification.LUCKY_HIT, 0.2, outcomes=3)
    team = json.dumps(team_review_message(date(2026, 11, 30), [enough]), ensure_ascii=False)
    assert "Worth a coaching conversation" in team


def test_a_custom_metric_keeps_its_name() -> None:
    submission, _ = parse_goal_submission(
        goal_values(metric="custom", custom=" Demos given "), TODAY
    )
    assert submission is not None and submission.custom_metric == "Demos given"


def test_progress_bar() -> None:
    assert progress_bar(0.0) == "░░░░░░░░░░ 0%"
    assert progress_bar(0.55) == "█████░░░░░ 55%"
    assert progress_bar(1.3) == "██████████ 130%"


def test_checkin_self_ratings_become_one_score_per_checkin() -> None:
    answers = [
        (1, "pipeline_full", "5"),
        (1, "rating_discovery", "3"),
        (1, "notes", "busy week"),
        (2, "practice:qualification", "4"),
        (2, "objection_handling", "9"),  # out of range: ignored
        (2, "goal_progress", "12"),
    ]
    assert checkin_process_scores(answers) == [pytest.approx(0.8), pytest.approx(0.8)]
    assert reported_goal_progress(answers) == 12.0


# --- in-process database: progress from wins, the quadrant rules ------------------------------


IN_CYCLE = datetime(2026, 11, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amounts", "score", "expected"),
    [
        ([600, 500], 1.0, Classification.SYSTEM_HIT),
        ([1200], 0.4, Classification.LUCKY_HIT),
        ([300], 0.4, Classification.SYSTEM_MISS),
        ([300], 0.8, Classification.PERFECT_MISS),
    ],
)
def test_cycle_quadrant_is_attainment_times_process(
    session_factory: Any, amounts: list[float], score: float, expected: Classification
) -> None:
    with session_factory() as session:
        goal = add_goal(session, "U1")
        for amount in amounts:
            add_outcome(session, "U1", "win", IN_CYCLE, score=score, amount=amount)
        add_outcome(session, "U1", "loss", IN_CYCLE, score=score)
        # Outside the cycle: neither counts toward attainment nor process.
        add_outcome(session, "U1", "win", datetime(2026, 10, 31, 12, tzinfo=UTC), amount=5000)
        add_outcome(session, "U2", "win", IN_CYCLE, amount=5000)
        session.commit()
        review = review_cycle(session=session, goal=goal, tz="UTC", threshold=0.8)
    assert review.quadrant is expected
    assert review.progress.attainment == sum(amounts)
    assert review.process_score == pytest.approx(score)


def test_checkin_self_ratings_count_toward_the_cycle_process(session_factory: Any) -> None:
    with session_factory() as session:
        goal = add_goal(session, "U1", metric="deals_won", target=1)
        add_outcome(session, "U1", "win", IN_CYCLE, score=0.6)  # weak alone
        checkin = CheckIn(
            team_id=TEAM,
            user_id="U1",
            week_key="2026-W46",
            due_at=datetime(2026, 11, 13, 14, tzinfo=UTC),
            status="answered",
        )
        session.add(checkin)
        session.flush()
        assert checkin.id is not None
        for practice in ("pipeline_full", "discovery", "qualification"):
            session.add(
                CheckInAnswer(
                    team_id=TEAM,
                    checkin_id=checkin.id,
                    question_key=practice,
                    question="How did it go?",
                    answer="5",
                )
            )
        session.commit()
        review = review_cycle(session=session, goal=goal, tz="UTC", threshold=0.8)
    # (0.6 + 1.0) / 2 = 0.8: strong enough with the check-in, a system hit on one win.
    assert review.process_score == pytest.approx(0.8)
    assert review.quadrant is Classification.SYSTEM_HIT


def test_no_process_evidence_counts_as_weak(session_factory: Any) -> None:
    with session_factory() as session:
        goal = add_goal(session, "U1", metric="meetings", target=10)
        goals_queries.set_goal_progress(
            session=session, team_id=TEAM, user_id="U1", progress=12, today=TODAY
        )
        session.commit()
        review = review_cycle(session=session, goal=goal, tz="UTC")
    assert review.progress.attainment == 12
    assert review.process_score is None
    assert review.quadrant is Classification.LUCKY_HIT


def test_the_cycle_follows_the_reps_time_zone(session_factory: Any) -> None:
    # 23:30 on 31 October in Los Angeles is already 1 November in UTC.
    with session_factory() as session:
        goal = add_goal(session, "U1", metric="deals_won", target=1)
        add_outcome(session, "U1", "win", datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
        session.commit()
        in_la = review_cycle(session=session, goal=goal, tz="America/Los_Angeles")
        in_utc = review_cycle(session=session, goal=goal, tz="UTC")
    assert in_la.progress.attainment == 0
    assert in_utc.progress.attainment == 1


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
    calls = standin.wait_for(
        lambda calls: any(c.method == "chat.postEphemeral" for c in calls[seen:]), timeout=10
    )
    shown = [c for c in calls[seen:] if c.method == "chat.postEphemeral"][0].params
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
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    change_view = [c for c in calls[seen:] if c.method == "views.open"][0].response["view"]
    target_block = next(b for b in change_view["blocks"] if b.get("block_id") == "target")
    assert target_block["element"]["initial_value"] == "2"
    values["target"] = {"value": state_value("number_input", "4")}
    assert sender.view_submission(change_view, user_id=user_id, values=values).status == 200
    with live_session(live) as session:
        goals = session.exec(select(Goal).where(Goal.user_id == user_id)).all()
        assert [g.target for g in goals] == [4.0]


# --- the end-of-cycle review (scheduler, in-process) ----------------------------------------------


ReviewTicker = Callable[[datetime], tuple[Any, FakeClock]]


def _review_cycle_end(today: date) -> date:
    """The next 30 November whose reviews (1 December, UTC) are still ahead of `today`.

    The ticker runs on a FakeClock at those instants while the live app (which shares the
    database) stays on the test's clock. Ahead of it, never behind: a row the ticker queues is
    then not yet due for the live app's dispatcher, so only the ticker sends it (behind it, the
    live app, woken by any request, would race the ticker for the row). Winter in London, Los
    Angeles and Chicago, whatever the year: the hours below hold."""
    year = today.year if today < date(today.year, 11, 29) else today.year + 1
    return date(year, 11, 30)


REVIEW_CYCLE_END = _review_cycle_end(datetime.now(UTC).date())
REVIEW_YEAR = REVIEW_CYCLE_END.year
REVIEW_IN_CYCLE = datetime(REVIEW_YEAR, 11, 10, 12, tzinfo=UTC)


def review_day(hour: int, minute: int = 0) -> datetime:
    """An instant on 1 December after REVIEW_CYCLE_END, in UTC."""
    return datetime(REVIEW_YEAR, 12, 1, hour, minute, tzinfo=UTC)


def reviews_to(standin: SlackStandIn, user_id: str) -> list[Any]:
    """The cycle-review messages in `user_id`'s DM (the rep's review, the manager's table): the
    ticker runs every job, so a weekly check-in may fall due on the same day too."""
    return [
        call
        for call in standin.messages_to(user_id)
        if str(
            call.params.get("metadata", {}).get("event_payload", {}).get("post_key", "")
        ).startswith(("review:", "team-review:"))
    ]


@pytest.fixture
def review_ticker(live: LiveApp, standin: SlackStandIn) -> Iterator[ReviewTicker]:
    """Makes the scheduler, in-process, on a FakeClock starting at the given instant (the live
    server runs none)."""
    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_api_url=standin.url,
        database_url=live.database_url,
    )
    engine = make_engine(live.database_url)

    def make(at: datetime) -> tuple[Any, FakeClock]:
        clock = FakeClock(at)
        deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
        return build_ticker(deps), clock

    yield make
    engine.dispose()


def new_team() -> str:
    return f"T{uuid.uuid4().hex[:8].upper()}"


def test_cycle_review_dms_each_rep_once_and_the_manager_gets_table_and_chart(
    live: LiveApp, standin: SlackStandIn, review_ticker: ReviewTicker
) -> None:
    manager = new_user(standin, tz="America/Chicago")
    lucky = new_user(standin, tz="Europe/London")
    perfect = new_user(standin, tz="America/Los_Angeles")
    no_goal = new_user(standin)
    team = new_team()
    end = REVIEW_CYCLE_END
    with live_session(live) as session:
        queries.set_reports(
            session=session,
            team_id=team,
            manager_user_id=manager,
            report_user_ids=[lucky, perfect, no_goal],
        )
        queries.upsert_member(session=session, team_id=team, user_id=manager, tz="America/Chicago")
        queries.upsert_member(session=session, team_id=team, user_id=lucky, tz="Europe/London")
        queries.upsert_member(
            session=session, team_id=team, user_id=perfect, tz="America/Los_Angeles"
        )
        add_goal(session, lucky, team_id=team, target=1000, start=end.replace(day=1), end=end)
        add_goal(session, perfect, team_id=team, target=1000, start=end.replace(day=1), end=end)
        add_outcome(session, lucky, "win", REVIEW_IN_CYCLE, score=0.2, amount=5000, team_id=team)
        add_outcome(session, perfect, "loss", REVIEW_IN_CYCLE, score=1.0, team_id=team)
        add_outcome(session, perfect, "win", REVIEW_IN_CYCLE, score=1.0, amount=100, team_id=team)
        # One or two outcomes are evidence enough here (the workspace's setting).
        queries.get_or_create_workspace(session=session, team_id=team)
        queries.update_workspace_settings(session=session, team_id=team, min_evidence=1)
        session.commit()

    # Midnight has passed in London, but reviews wait for the working day.
    ticker, clock = review_ticker(review_day(0, 30))
    seen = len(standin.calls)
    ticker.tick()
    clock.set(review_day(8, 59))
    ticker.tick()
    assert ticker.failures == []
    assert reviews_to(standin, lucky) == []

    # 09:00 in London: Leo's review. Los Angeles is still on 30 November.
    clock.set(review_day(9))
    ticker.tick()
    assert len(reviews_to(standin, lucky)) == 1
    assert reviews_to(standin, perfect) == []
    assert reviews_to(standin, manager) == []

    # Every rep's cycle ended at 08:00 UTC (midnight in LA); the manager's 09:00 is 15:00 UTC.
    clock.set(review_day(14, 59))
    ticker.tick()
    assert reviews_to(standin, manager) == []
    clock.set(review_day(15))
    ticker.tick()
    assert len(reviews_to(standin, manager)) == 1
    assert reviews_to(standin, perfect) == []  # 07:00 in Los Angeles

    clock.set(review_day(17))
    ticker.tick()
    ticker.tick()  # a second tick (or replica) sends nothing again
    assert ticker.failures == []
    lucky_dm = reviews_to(standin, lucky)
    perfect_dm = reviews_to(standin, perfect)
    assert len(lucky_dm) == 1 and len(perfect_dm) == 1
    assert reviews_to(standin, no_goal) == []
    assert "Lucky hit" in lucky_dm[0].params["text"]
    assert "masquerading as a win" in json.dumps(lucky_dm[0].params["blocks"])
    assert "Perfect miss" in perfect_dm[0].params["text"]
    perfect_text = json.dumps(perfect_dm[0].params["blocks"], ensure_ascii=False)
    assert "Celebrate the perfect miss" in perfect_text and perfect_text.count("🎉") == 1
    assert "Go out and do exactly what you did again" in perfect_text

    manager_posts = reviews_to(standin, manager)
    assert len(manager_posts) == 1
    table = json.dumps(manager_posts[0].params["blocks"], ensure_ascii=False)
    assert f"<@{lucky}>" in table and f"<@{perfect}>" in table
    assert f"<@{no_goal}> — no goal set" in table  # the whole team, goal or not
    assert "5,000" not in table  # amounts stay out of the team table
    completes = [
        c
        for c in standin.calls[seen:]
        if c.method == "files.completeUploadExternal"
        and c.params.get("channel_id") == manager_posts[0].conversation
    ]
    assert len(completes) == 1
    file_id = completes[0].params["files"][0]["id"]
    png = standin.uploaded_file(file_id)
    assert png is not None and png.startswith(b"\x89PNG")
    assert "Process score against attainment" in completes[0].params["initial_comment"]
    alt_txt = standin.uploaded_alt_txt(file_id) or ""
    assert alt_txt.startswith("Quadrant chart of your team's cycle ending ")
    assert ": 2 reps, " in alt_txt
    # What stands behind each dot (the chart's "n="), in words for a screen reader.
    assert re.search(r"process \d+%, from \d+ scored outcomes?\b", alt_txt), alt_txt
    with live_session(live) as session:
        reviewed = session.exec(select(Goal).where(Goal.team_id == team)).all()
        assert all(goal.reviewed_at is not None for goal in reviewed)


def _team_of_two(live: LiveApp, standin: SlackStandIn, first: str, second: str) -> str:
    """A UTC manager with two UTC reps whose goals end 30 November, `first`'s saved first."""
    manager = new_user(standin, tz="UTC")
    team = new_team()
    with live_session(live) as session:
        queries.set_reports(
            session=session, team_id=team, manager_user_id=manager, report_user_ids=[first, second]
        )
        for user_id in (manager, first, second):
            queries.upsert_member(session=session, team_id=team, user_id=user_id, tz="UTC")
        for user_id in (first, second):
            add_goal(
                session,
                user_id,
                team_id=team,
                start=REVIEW_CYCLE_END.replace(day=1),
                end=REVIEW_CYCLE_END,
            )
        session.commit()
    return manager


AFTER_EVERY_REVIEW = review_day(18)


def test_an_unreachable_rep_is_reviewed_unsent_and_blocks_nobody(
    live: LiveApp,
    standin: SlackStandIn,
    review_ticker: ReviewTicker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticker, _ = review_ticker(AFTER_EVERY_REVIEW)
    ticker.tick()  # earlier tests' reviews, out of the way
    # Deactivated: never added to the stand-in, so a post to their id says channel_not_found.
    gone = "U" + uuid.uuid4().hex[:9].upper()
    reachable = new_user(standin, tz="UTC")
    manager = _team_of_two(live, standin, gone, reachable)
    # A batch of one: a review that failed for ever would take the whole batch every tick.
    monkeypatch.setattr(goals_jobs, "REVIEW_BATCH", 1)

    ticker.tick()
    ticker.tick()
    assert ticker.failures == []
    assert len(reviews_to(standin, reachable)) == 1
    posts = reviews_to(standin, manager)
    assert len(posts) == 1  # the team review went out, unreachable rep and all
    table = json.dumps(posts[0].params["blocks"], ensure_ascii=False)
    assert f"<@{gone}>" in table and "couldn't be reached by DM" in table
    assert f"<@{reachable}>" in table
    with live_session(live) as session:
        goals = session.exec(select(Goal).where(Goal.user_id.in_([gone, reachable]))).all()  # type: ignore[attr-defined]
        assert all(goal.reviewed_at is not None for goal in goals)

    def attempts() -> int:
        return len(
            [
                c
                for c in standin.calls_to("chat.postMessage", ok_only=False)
                if c.params.get("channel") == gone
            ]
        )

    tried = attempts()
    assert tried >= 1
    ticker.tick()
    assert attempts() == tried  # not retried every tick


def test_a_transient_error_retries_the_review(
    live: LiveApp, standin: SlackStandIn, review_ticker: ReviewTicker
) -> None:
    ticker, clock = review_ticker(AFTER_EVERY_REVIEW)
    ticker.tick()
    first, second = new_user(standin, tz="UTC"), new_user(standin, tz="UTC")
    _team_of_two(live, standin, first, second)
    # A 500 for the first rep's DM (the client never re-sends a chat.postMessage: Slack may
    # have posted it; bot.app.IdempotentServerErrorRetryHandler).
    standin.fail_next("chat.postMessage", status=500, times=1)
    ticker.tick()
    assert reviews_to(standin, first) == []
    assert len(reviews_to(standin, second)) == 1
    with live_session(live) as session:
        goal = session.exec(select(Goal).where(Goal.user_id == first)).one()
        assert goal.reviewed_at is None  # not given up on
    # The next tick, a minute on: the outbox looks for the DM in Slack (the 500 may have come
    # after Slack posted it), doesn't find it, and sends it.
    clock.advance(minutes=1)
    ticker.tick()
    assert len(reviews_to(standin, first)) == 1


@pytest.mark.parametrize("failing", ["files.getUploadURLExternal", "files.completeUploadExternal"])
def test_a_failed_chart_upload_is_retried_once_on_a_later_tick(
    live: LiveApp, standin: SlackStandIn, review_ticker: ReviewTicker, failing: str
) -> None:
    ticker, clock = review_ticker(AFTER_EVERY_REVIEW)
    ticker.tick()
    manager = _team_of_two(live, standin, new_user(standin, tz="UTC"), new_user(standin, tz="UTC"))
    channel = "D" + manager[1:]

    def charts_sent() -> int:
        return len(
            [
                c
                for c in standin.calls_to("files.completeUploadExternal")
                if c.params.get("channel_id") == channel
            ]
        )

    # The first try and, for the idempotent step, both of the client's retries fail (the
    # completing step, which shares the file, is never re-sent): the upload raises.
    standin.fail_next(failing, status=500, times=3 if failing in IDEMPOTENT_METHODS else 1)
    ticker.tick()
    assert len(reviews_to(standin, manager)) == 1  # the table went out
    assert charts_sent() == 0
    clock.advance(minutes=1)  # a later tick: past the upload's backoff
    ticker.tick()
    assert charts_sent() == 1
    clock.advance(minutes=1)
    ticker.tick()
    assert charts_sent() == 1 and len(reviews_to(standin, manager)) == 1


# --- /rebound report ------------------------------------------------------------------------------


def test_rebound_report_uploads_charts_to_the_managers_dm(
    live: LiveApp, standin: SlackStandIn
) -> None:
    manager = new_user(standin)
    rep = new_user(standin)
    now = live.clock()
    with live_session(live) as session:
        queries.set_reports(
            session=session, team_id=TEAM, manager_user_id=manager, report_user_ids=[rep]
        )
        add_goal(
            session,
            rep,
            target=10,
            start=now.date() - timedelta(days=3),
            end=now.date() + timedelta(days=20),
        )
        for index, reason in enumerate(["Price", "Price", "Timing"]):
            add_outcome(session, rep, "loss", now - timedelta(days=index + 1), reason=reason)
        add_outcome(session, rep, "win", now - timedelta(hours=1), amount=4)
        session.commit()

    seen = len(standin.calls)
    assert live.sender().slash_command("/rebound", "report", user_id=manager).status == 200
    calls = standin.wait_for(
        lambda calls: (
            len([c for c in calls[seen:] if c.method == "files.completeUploadExternal"]) >= 2
            and any(c.method == "chat.postEphemeral" for c in calls[seen:])
        ),
        timeout=20,
    )
    uploads = [c for c in calls[seen:] if c.method == "files.completeUploadExternal"]
    assert {c.params["channel_id"] for c in uploads} == {"D" + manager[1:]}
    comments = " ".join(c.params["initial_comment"] for c in uploads)
    assert f"<@{rep}>" in comments and "Price" in comments
    # The Pareto says what was in the team's control apart from what wasn't (issue 12).
    assert "In our control: 0 of 3 (0%). Outside our control: 3." in comments
    titles = {c.params["files"][0]["title"] for c in uploads}
    assert titles == {"Your team's cycle so far", "Loss reasons"}
    # Each chart says what it shows, for screen readers (files.getUploadURLExternal alt_txt).
    alt = {
        c.params["files"][0]["title"]: standin.uploaded_alt_txt(c.params["files"][0]["id"])
        for c in uploads
    }
    assert (alt["Your team's cycle so far"] or "").startswith(
        "Quadrant chart of your team's cycle so far: 1 rep, 0 at or above goal,"
    )
    # Three losses are too few for a pattern: the chart and its words count them, no more.
    assert alt["Loss reasons"] == (
        "Bar chart of loss reasons over the last 90 days, 3 losses: Price 2; Timing 1. "
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5. "
        "In our control: 0 of 3 (0%). Outside our control: 3."
    )
    pareto_comment = next(
        c.params["initial_comment"]
        for c in uploads
        if c.params["files"][0]["title"] == "Loss reasons"
    )
    assert pareto_comment == (
        "Loss reasons so far: Price 2, Timing 1. "
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5. "
        "In our control: 0 of 3 (0%). Outside our control: 3."
    )

    # The manager can ask for one rep's bounce-back timeline; a rep can't ask for others'.
    seen = len(standin.calls)
    live.sender().slash_command("/rebound", f"report @{rep.lower()}", user_id=manager)
    calls = standin.wait_for(
        lambda calls: (
            any(c.method == "files.completeUploadExternal" for c in calls[seen:])
            and any(c.method == "chat.postEphemeral" for c in calls[seen:])
        ),
        timeout=20,
    )
    timeline = [c for c in calls[seen:] if c.method == "files.completeUploadExternal"][0]
    assert timeline.params["files"][0]["title"] == "Bounce-back timeline"
    alt_txt = standin.uploaded_alt_txt(timeline.params["files"][0]["id"]) or ""
    assert "last 4 outcomes: 1 win, 3 losses, 1 bounce-back" in alt_txt
    seen = len(standin.calls)
    live.sender().slash_command("/rebound", f"report @{manager.lower()}", user_id=rep)
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "chat.postEphemeral" and c.params["user"] == rep for c in calls[seen:]
        ),
        timeout=10,
    )
    refusal = [c for c in calls[seen:] if c.method == "chat.postEphemeral"][0]
    assert "someone who reports to you" in refusal.params["text"]
    assert not any(c.method == "files.completeUploadExternal" for c in standin.calls[seen:])
