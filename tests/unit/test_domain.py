"""Unit and property tests of the pure domain (bot/domain/): the vocabulary, process scores and
the quadrants, wins and luck, the loss reasons a rep can own."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import (
    CLASSIFICATION_LABELS,
    CLASSIFICATION_SUMMARIES,
    COACHING_MESSAGES,
    DEFAULT_STRONG_PROCESS_THRESHOLD,
    PRACTICE_LABELS,
    PRACTICES,
    Classification,
    OutcomeKind,
    classify_cycle,
    classify_outcome,
    is_strong_process,
    process_score,
)
from tests.support.domain import LOSS, WIN


def practices_holding(count: int) -> dict[str, bool]:
    return {practice: index < count for index, practice in enumerate(PRACTICES)}


# --- vocabulary -------------------------------------------------------------------------------


def test_practices_and_labels_are_the_five_seed_practices() -> None:
    assert PRACTICES == (
        "pipeline_full",
        "healthy_stage_ratios",
        "discovery",
        "qualification",
        "objection_handling",
    )
    assert set(PRACTICE_LABELS) == set(PRACTICES)
    assert PRACTICE_LABELS["pipeline_full"] == "Kept the pipeline full"
    assert PRACTICE_LABELS["objection_handling"] == "Handled objections well"


def test_every_classification_has_label_summary_and_coaching() -> None:
    for mapping in (CLASSIFICATION_LABELS, CLASSIFICATION_SUMMARIES, COACHING_MESSAGES):
        assert set(mapping) == set(Classification)
        assert all(text.strip() for text in mapping.values())
    assert [c.value for c in Classification] == [
        "system-hit",
        "lucky-hit",
        "system-miss",
        "perfect-miss",
    ]
    assert CLASSIFICATION_LABELS[Classification.PERFECT_MISS] == "Perfect miss"
    assert CLASSIFICATION_SUMMARIES[Classification.SYSTEM_HIT] == "A deserved win."
    assert CLASSIFICATION_SUMMARIES[Classification.LUCKY_HIT] == "A loss, masquerading as a win."
    assert CLASSIFICATION_SUMMARIES[Classification.SYSTEM_MISS] == "A loss that looks like a loss."
    assert CLASSIFICATION_SUMMARIES[Classification.PERFECT_MISS] == "A win, masquerading as a loss."


def test_perfect_miss_coaching_quotes_seed_002() -> None:
    message = COACHING_MESSAGES[Classification.PERFECT_MISS]
    assert message.startswith("Being unlucky sucks, but unfortunately it happens.")
    assert "You did great, and you are excellent at this job" in message
    assert message.endswith("Go out and do exactly what you did again.")
    assert len(set(COACHING_MESSAGES.values())) == len(Classification)


# --- process score and classification ---------------------------------------------------------


@pytest.mark.parametrize(("held", "expected"), [(0, 0.0), (1, 0.2), (4, 0.8), (5, 1.0)])
def test_process_score_is_share_of_practices_held(held: int, expected: float) -> None:
    assert process_score(practices_holding(held)) == pytest.approx(expected)


def test_process_score_counts_missing_practices_as_not_held() -> None:
    assert process_score({}) == 0.0
    assert process_score({"discovery": True, "qualification": True}) == pytest.approx(0.4)
    assert process_score({"discovery": False}) == 0.0


def test_process_score_rejects_unknown_practice() -> None:
    with pytest.raises(ValueError, match="cold_calling"):
        process_score({"discovery": True, "cold_calling": True})


def test_is_strong_process_at_and_around_the_threshold() -> None:
    assert is_strong_process(0.8) is True
    assert is_strong_process(process_score(practices_holding(4))) is True
    assert is_strong_process(0.79) is False
    assert is_strong_process(0.6) is False
    assert is_strong_process(0.6, threshold=0.6) is True
    assert is_strong_process(1.0, threshold=1.0) is True
    assert DEFAULT_STRONG_PROCESS_THRESHOLD == 0.8


@pytest.mark.parametrize("score", [-0.1, 1.01, math.nan])
def test_is_strong_process_rejects_scores_outside_zero_one(score: float) -> None:
    with pytest.raises(ValueError):
        is_strong_process(score)


@pytest.mark.parametrize("threshold", [0.0, -0.5, 1.5, math.nan])
def test_is_strong_process_rejects_bad_threshold(threshold: float) -> None:
    with pytest.raises(ValueError):
        is_strong_process(0.5, threshold)


@pytest.mark.parametrize(
    ("kind", "score", "expected"),
    [
        (WIN, 1.0, Classification.SYSTEM_HIT),
        (WIN, 0.8, Classification.SYSTEM_HIT),
        (WIN, 0.6, Classification.LUCKY_HIT),
        (LOSS, 0.6, Classification.SYSTEM_MISS),
        (LOSS, 0.0, Classification.SYSTEM_MISS),
        (LOSS, 0.8, Classification.PERFECT_MISS),
        (LOSS, 1.0, Classification.PERFECT_MISS),
    ],
)
def test_classify_outcome_quadrants(
    kind: OutcomeKind, score: float, expected: Classification
) -> None:
    assert classify_outcome(kind, score) is expected


def test_classify_outcome_uses_the_given_threshold_and_accepts_plain_strings() -> None:
    assert classify_outcome(LOSS, 0.8, threshold=1.0) is Classification.SYSTEM_MISS
    assert classify_outcome(OutcomeKind("loss"), 0.6, threshold=0.6) is (
        Classification.PERFECT_MISS
    )
    assert classify_outcome("win", 1.0) is Classification.SYSTEM_HIT  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        classify_outcome("draw", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attainment", "scores", "expected"),
    [
        (120.0, [1.0, 0.8], Classification.SYSTEM_HIT),
        (100.0, [0.8, 0.8, 0.8], Classification.SYSTEM_HIT),  # exactly on target and threshold
        (100.0, [1.0, 0.6], Classification.SYSTEM_HIT),  # mean exactly 0.8
        (150.0, [1.0, 0.4], Classification.LUCKY_HIT),
        (150.0, [], Classification.LUCKY_HIT),  # no process evidence counts as weak
        (99.9, [0.2, 0.4], Classification.SYSTEM_MISS),
        (0.0, [], Classification.SYSTEM_MISS),
        (60.0, [1.0, 1.0, 0.8], Classification.PERFECT_MISS),
    ],
)
def test_classify_cycle_quadrants(
    attainment: float, scores: list[float], expected: Classification
) -> None:
    assert classify_cycle(attainment, 100.0, scores) is expected


def test_classify_cycle_threshold_and_validation() -> None:
    assert classify_cycle(50, 100, [0.6], threshold=0.6) is Classification.PERFECT_MISS
    with pytest.raises(ValueError):
        classify_cycle(50, 0, [1.0])
    with pytest.raises(ValueError):
        classify_cycle(50, -10, [1.0])
    with pytest.raises(ValueError):
        classify_cycle(50, 100, [1.2])
    with pytest.raises(ValueError):
        classify_cycle(-1, 100, [1.0])


practice_maps = st.dictionaries(st.sampled_from(PRACTICES), st.booleans())
scores = st.floats(min_value=0.0, max_value=1.0)
thresholds = st.floats(min_value=0.01, max_value=1.0)


@given(practice_maps, st.sampled_from(PRACTICES))
def test_process_score_in_unit_range_and_monotone(practices: dict[str, bool], added: str) -> None:
    score = process_score(practices)
    assert 0.0 <= score <= 1.0
    assert process_score({**practices, added: True}) >= score


@given(st.sampled_from(OutcomeKind), scores, thresholds)
def test_classify_outcome_agrees_with_is_strong_process(
    kind: OutcomeKind, score: float, threshold: float
) -> None:
    classification = classify_outcome(kind, score, threshold)
    strong = is_strong_process(score, threshold)
    assert (classification in {Classification.SYSTEM_HIT, Classification.PERFECT_MISS}) == strong
    assert (classification in {Classification.SYSTEM_HIT, Classification.LUCKY_HIT}) == (
        kind is WIN
    )


@given(st.lists(scores, min_size=1, max_size=10), thresholds)
def test_classify_cycle_process_axis_follows_mean_score(
    process_scores: list[float], threshold: float
) -> None:
    mean = statistics.fmean(process_scores)
    classification = classify_cycle(100, 100, process_scores, threshold)
    if mean >= threshold + 1e-6:
        assert classification is Classification.SYSTEM_HIT
    elif mean <= threshold - 1e-6:
        assert classification is Classification.LUCKY_HIT


# --- wins and luck ---------------------------------------------------------------------------


def test_classify_win_follows_the_checklist_when_luck_is_modest() -> None:
    from bot.domain import classify_win

    assert classify_win(1.0, 0) is Classification.SYSTEM_HIT
    assert classify_win(0.8, 60) is Classification.SYSTEM_HIT
    assert classify_win(0.6, 0) is Classification.LUCKY_HIT
    assert classify_win(0.6, 0, threshold=0.6) is Classification.SYSTEM_HIT


def test_classify_win_mostly_luck_is_a_lucky_hit_whatever_the_checklist() -> None:
    from bot.domain import LUCK_LEVELS, MOSTLY_LUCK, classify_win

    assert classify_win(1.0, LUCK_LEVELS["mostly"]) is Classification.LUCKY_HIT
    assert classify_win(1.0, MOSTLY_LUCK) is Classification.LUCKY_HIT
    assert classify_win(1.0, MOSTLY_LUCK - 1) is Classification.SYSTEM_HIT


@pytest.mark.parametrize("luck", [-1, 101, True, 50.0])
def test_classify_win_rejects_luck_outside_0_to_100(luck: object) -> None:
    from bot.domain import classify_win

    with pytest.raises(ValueError):
        classify_win(1.0, luck)  # type: ignore[arg-type]


def test_classify_win_still_validates_score_when_mostly_luck() -> None:
    from bot.domain import classify_win

    with pytest.raises(ValueError):
        classify_win(1.5, 90)


@given(st.floats(0, 1), st.integers(0, 100))
def test_classify_win_is_always_a_hit(score: float, luck: int) -> None:
    from bot.domain import classify_win

    assert classify_win(score, luck) in (Classification.SYSTEM_HIT, Classification.LUCKY_HIT)


# --- loss reasons a rep can own (issue 12) ------------------------------------------------------


def test_the_domain_knows_which_loss_reasons_are_in_the_reps_control() -> None:
    from bot.domain.debriefs import REASONS, reason_in_control

    owned = {
        "real_need": "Never found the real need",
        "next_steps": "Lost control of next steps",
        "no_decision_maker": "No access to the decision maker",
        "follow_up": "Follow-up slipped",
    }
    outside = ["price", "competitor", "no_decision", "timing", "product_fit", "champion_left"]
    for key, label in owned.items():
        assert REASONS[key] == label
        assert reason_in_control(key) is True and reason_in_control(label) is True
    for key in outside:
        assert reason_in_control(key) is False and reason_in_control(REASONS[key]) is False
    assert REASONS["not_sure"] == "Not sure yet"
    for unsure in ("not_sure", "Not sure yet", "other", "", None, "No budget"):
        assert reason_in_control(unsure) is None
    assert set(REASONS) == {*owned, *outside, "not_sure", "other"}


def test_the_pareto_splits_in_control_from_outside_causes() -> None:
    from bot.domain.pareto import ControlSplit, control_split, control_summary, control_tag

    split = control_split(
        [("Follow-up slipped", 3), ("Price", 2), ("Lost control of next steps", 1), ("", 2)]
    )
    assert split == ControlSplit(in_control=4, outside=2, unsure=2) and split.total == 8
    assert control_summary(split) == (
        "In our control: 4 of 8 (50%). Outside our control: 2. Can't say yet: 2."
    )
    assert control_summary(control_split([("price", 1)])) == (
        "In our control: 0 of 1 (0%). Outside our control: 1."
    )
    assert control_tag("Follow-up slipped") == "in our control"
    assert control_tag("Timing") == "outside our control"
    assert control_tag("Other") == "can't say yet"
