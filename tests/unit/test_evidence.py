"""Enough evidence before a label: the words below the workspace's minimum, the setting, and the
loss-reason Pareto's five losses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import charts
from bot.blocks.dashboard import team_row_line, why_we_lose_text
from bot.blocks.settings import parse_settings_submission, settings_modal
from bot.blocks.settings.messages import settings_saved_message
from bot.domain import Classification
from bot.domain.dashboard import Streak, TeamRow
from bot.domain.goals import evidence_so_far
from bot.domain.pareto import too_early_for_pattern
from bot.domain.settings import CurrentSettings
from testkit.simulator import state_value
from tests.support.quadrant_upload import quadrant_payload
from tests.support.settings_form import current_settings, settings_form

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_evidence_in_words() -> None:
    assert evidence_so_far(2, 0) == "2 scored outcomes so far"
    assert evidence_so_far(1, 1) == "1 scored outcome and 1 check-in so far"
    assert evidence_so_far(0, 2) == "2 check-ins so far"
    assert evidence_so_far(0, 0) == "no scored outcomes or check-ins yet"
    assert evidence_so_far(2, 0, ended=True) == "2 scored outcomes this cycle"


def _row(quadrant: Classification | None, too_early: str | None) -> TeamRow:
    return TeamRow(
        user_id="U1",
        quadrant=quadrant,
        attainment_ratio=0.5,
        checkins_answered=1,
        checkins_sent=2,
        last_debrief_at=NOW - timedelta(days=1),
        streak=Streak("loss", 2),
        losing_streak=2,
        too_early=too_early,
    )


def test_a_home_row_below_the_evidence_names_no_quadrant() -> None:
    line = team_row_line(_row(None, "2 scored outcomes so far"), NOW)
    assert line.startswith(
        "<@U1> · not enough to call yet (2 scored outcomes so far, 50% of goal) · check-ins 1/2"
    )
    assert "System miss" not in line and "no goal set" not in line
    called = team_row_line(_row(Classification.SYSTEM_MISS, None), NOW)
    assert "🔧 System miss so far (50% of goal)" in called


def _current(min_evidence: int) -> CurrentSettings:
    return current_settings(min_evidence=min_evidence)


def _values(min_evidence: str) -> dict[str, dict[str, object]]:
    return settings_form(min_evidence={"value": state_value("number_input", min_evidence)})


def test_the_modal_shows_the_evidence_setting() -> None:
    blocks = {b.get("block_id"): b for b in settings_modal(_current(4))["blocks"]}
    element = blocks["min_evidence"]["element"]
    assert element["initial_value"] == "4"
    assert (element["min_value"], element["max_value"]) == ("1", "20")
    assert element["is_decimal_allowed"] is False


@pytest.mark.parametrize("raw", ["1", "3", "20"])
def test_a_whole_number_from_1_to_20_is_saved(raw: str) -> None:
    saved, errors = parse_settings_submission(_values(raw))
    assert errors == {} and saved is not None
    assert saved.more["min_evidence"] == int(raw)
    text = settings_saved_message(saved)["blocks"][0]["text"]["text"]
    assert f"at least {raw} scored item" in text


@pytest.mark.parametrize("raw", ["0", "21", "2.5", "-3", "three", ""])
def test_anything_else_is_a_field_error(raw: str) -> None:
    saved, errors = parse_settings_submission(_values(raw))
    assert saved is None
    assert list(errors) == ["min_evidence"]
    assert "whole number from 1 to 20" in errors["min_evidence"]


# --- the loss-reason Pareto needs five losses ------------------------------------------------


def test_the_pareto_counts_fewer_than_five_losses_without_a_pattern() -> None:
    three = [("Price", 1), ("Timing", 1), ("Competitor", 1)]
    assert too_early_for_pattern(three) and not too_early_for_pattern([])
    assert not too_early_for_pattern([("Price", 4), ("Timing", 1)])
    text = why_we_lose_text(three, [], 90)
    outside = "_outside our control_"
    assert text == (
        f"*Why we lose* (last 90 days, 3 losses)\n• Price — 1 · {outside}\n"
        f"• Timing — 1 · {outside}\n• Competitor — 1 · {outside}\n"
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5.\n"
        "In our control: 0 of 3 (0%). Outside our control: 3."
    )
    five = why_we_lose_text([("Price", 4), ("Timing", 1)], ["Price"], 90)
    assert "Price — 4 (80% cumulative)" in five
    assert "The few reasons behind most losses: *Price*." in five
    assert why_we_lose_text([], [], 90) == "*Why we lose*\nNo losses logged in the last 90 days."


def test_below_five_losses_the_chart_draws_counts_and_says_it_is_too_early() -> None:
    three = [("Price", 2), ("Timing", 1)]
    figure = charts.pareto_figure(three)
    assert len(figure.axes) == 1  # no cumulative-share axis to read a vital few from
    footnotes = [" ".join(t.get_text().split()) for t in figure.texts]
    assert (
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5. "
        "Dark bars: in our control (0); light: outside it (3)."
    ) in footnotes
    assert charts.pareto_chart(three).startswith(b"\x89PNG")
    assert charts.pareto_alt_text(three, days=90) == (
        "Bar chart of loss reasons over the last 90 days, 3 losses: Price 2; Timing 1. "
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5. "
        "In our control: 0 of 3 (0%). Outside our control: 3."
    )
    five = charts.pareto_figure([("Price", 4), ("Timing", 1)])
    assert len(five.axes) == 2
    assert not any("Too early" in t.get_text() for t in five.texts)


def test_the_quadrant_chart_labels_a_rep_with_too_little_evidence() -> None:
    from bot.domain.goals import CycleReview, GoalProgress
    from storage.models import Goal

    goal = Goal(team_id="T1", user_id="U1", metric="deals_won", target=4)
    progress = GoalProgress(goal=goal, attainment=1, metric_label="Deals won")
    reviews = [
        CycleReview("U1", progress, 0.4, Classification.SYSTEM_MISS, scored_outcomes=2),
        CycleReview("U2", progress, 0.4, Classification.SYSTEM_MISS, scored_outcomes=3),
    ]
    payload = quadrant_payload(reviews, {"U1": "Leo", "U2": "Maya"})
    labels = [point[0] for point in payload["points"]]
    assert labels == ["Leo (too early)", "Maya"]
