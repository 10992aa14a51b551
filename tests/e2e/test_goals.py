"""Goals: SMART checks, cycles, the progress bar and check-in ratings (pure), and progress from
wins and the quadrant rules (in-process database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.goals import (
    parse_goal_submission,
    progress_bar,
    review_message,
    review_table_lines,
    team_review_message,
)
from bot.domain import Classification
from bot.domain.goals import CycleReview, GoalProgress
from bot.usecases.goals import (
    checkin_process_scores,
    default_cycle,
    offered_cycle,
    rep_review_due_at,
    reported_goal_progress,
    review_cycle,
    team_review_due_at,
)
from storage import goals_queries
from storage.models import CheckIn, CheckInAnswer, Goal
from tests.support.factories import (
    TEAM,
    add_goal,
    add_outcome,
    goal_values,
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
