"""Unit and property tests of the pure domain (bot/domain/)."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
    BounceBack,
    Classification,
    OutcomeEvent,
    OutcomeKind,
    Resilience,
    classify_cycle,
    classify_outcome,
    detect_bounce_back,
    format_duration,
    is_strong_process,
    local_checkin_time,
    next_checkin_at,
    process_score,
    resilience_figures,
    shift_week_key,
    week_key,
)

NEW_YORK = "America/New_York"
WIN = OutcomeKind.WIN
LOSS = OutcomeKind.LOSS
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at_day(day: float) -> datetime:
    return START + timedelta(days=day)


def event(kind: OutcomeKind, day: float) -> OutcomeEvent:
    return OutcomeEvent(kind=kind, at=at_day(day))


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


# --- bounce-backs and resilience --------------------------------------------------------------


def test_outcome_event_requires_aware_datetime() -> None:
    with pytest.raises(ValueError):
        OutcomeEvent(kind=LOSS, at=datetime(2026, 3, 2, 9, 0))
    assert OutcomeEvent(kind="loss", at=START).kind is LOSS  # type: ignore[arg-type]


def test_bounce_back_after_one_loss() -> None:
    history = [event(WIN, 0), event(LOSS, 2)]
    assert detect_bounce_back(history, at_day(2.25)) == BounceBack(
        losses=1,
        first_loss_at=at_day(2),
        win_at=at_day(2.25),
        recovery=timedelta(hours=6),
    )


def test_bounce_back_after_three_losses_in_twelve_days() -> None:
    # Given in shuffled order on purpose: the history is sorted by time before use.
    history = [event(LOSS, 5), event(WIN, 0), event(LOSS, 10), event(LOSS, 1)]
    bounce = detect_bounce_back(history, at_day(13))
    assert bounce is not None
    assert bounce.losses == 3
    assert bounce.first_loss_at == at_day(1)
    assert bounce.recovery == timedelta(days=12)
    text = f"bounced back after {bounce.losses} losses in {format_duration(bounce.recovery)}"
    assert text == "bounced back after 3 losses in 12 days"


def test_win_after_win_is_not_a_bounce_back() -> None:
    assert detect_bounce_back([event(LOSS, 0), event(WIN, 1)], at_day(2)) is None


def test_first_outcome_is_not_a_bounce_back() -> None:
    assert detect_bounce_back([], at_day(0)) is None


def test_bounce_back_ignores_outcomes_at_or_after_the_win() -> None:
    history = [event(LOSS, 1), event(WIN, 3), event(LOSS, 4), event(LOSS, 5)]
    bounce = detect_bounce_back(history, at_day(3))  # history already holds this win
    assert bounce is not None
    assert (bounce.losses, bounce.recovery) == (1, timedelta(days=2))


def test_bounce_back_requires_aware_win_time() -> None:
    with pytest.raises(ValueError):
        detect_bounce_back([event(LOSS, 0)], datetime(2026, 3, 5, 9, 0))


def test_resilience_of_empty_history() -> None:
    assert resilience_figures([]) == Resilience(
        bounce_backs=0, median_recovery=None, longest_losing_streak=0, current_losing_streak=0
    )


def test_resilience_with_odd_number_of_bounce_backs() -> None:
    history = [
        event(LOSS, 0),
        event(WIN, 1),  # recovery 1 day
        event(WIN, 2),  # win after win
        event(LOSS, 3),
        event(LOSS, 4),
        event(LOSS, 5),
        event(WIN, 13),  # recovery 10 days
        event(LOSS, 14),
        event(WIN, 17),  # recovery 3 days
        event(LOSS, 18),
        event(LOSS, 19),
    ]
    assert resilience_figures(list(reversed(history))) == Resilience(
        bounce_backs=3,
        median_recovery=timedelta(days=3),
        longest_losing_streak=3,
        current_losing_streak=2,
    )


def test_resilience_with_even_number_of_bounce_backs_averages_the_middle_two() -> None:
    history = [
        event(LOSS, 0),
        event(WIN, 2),  # 2 days
        event(LOSS, 3),
        event(WIN, 4),  # 1 day
        event(LOSS, 5),
        event(LOSS, 6),
        event(WIN, 10),  # 5 days
        event(LOSS, 11),
        event(WIN, 19),  # 8 days
    ]
    figures = resilience_figures(history)
    assert figures.bounce_backs == 4
    assert figures.median_recovery == timedelta(days=3, hours=12)
    assert figures.longest_losing_streak == 2
    assert figures.current_losing_streak == 0


def test_resilience_of_losses_only() -> None:
    figures = resilience_figures([event(LOSS, day) for day in range(4)])
    assert (figures.bounce_backs, figures.median_recovery) == (0, None)
    assert figures.longest_losing_streak == figures.current_losing_streak == 4


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=12, hours=5), "12 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=1, hours=23), "1 day"),
        (timedelta(hours=5, minutes=59), "5 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=59), "under an hour"),
        (timedelta(0), "under an hour"),
    ],
)
def test_format_duration(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(timedelta(seconds=-1))


# Distinct minute offsets, so the order in time is unambiguous.
histories = st.lists(
    st.tuples(st.sampled_from(OutcomeKind), st.integers(min_value=0, max_value=100_000)),
    max_size=30,
    unique_by=lambda item: item[1],
).map(
    lambda items: [
        OutcomeEvent(kind=kind, at=START + timedelta(minutes=minute)) for kind, minute in items
    ]
)


@given(histories)
def test_resilience_properties(history: list[OutcomeEvent]) -> None:
    figures = resilience_figures(history)
    ordered = sorted(history, key=lambda item: item.at)
    wins_after_loss = sum(
        1
        for previous, current in zip(ordered, ordered[1:], strict=False)
        if previous.kind is LOSS and current.kind is WIN
    )
    assert figures.bounce_backs == wins_after_loss
    assert 0 <= figures.current_losing_streak <= figures.longest_losing_streak
    assert figures.longest_losing_streak <= len(history)

    # Each win's own bounce-back, as the bot detects it when the win is logged, feeds the figures.
    recoveries = [
        bounce.recovery
        for win in ordered
        if win.kind is WIN and (bounce := detect_bounce_back(history, win.at)) is not None
    ]
    assert len(recoveries) == figures.bounce_backs
    if recoveries:
        assert figures.median_recovery == statistics.median(recoveries)
    else:
        assert figures.median_recovery is None


# --- weeks and check-in times -----------------------------------------------------------------


def test_week_key_uses_the_local_calendar_near_sunday_midnight() -> None:
    # Monday 00:30 UTC is still Sunday evening in New York, already Monday morning in Kolkata.
    monday_utc = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert week_key(monday_utc, "UTC") == "2026-W49"
    assert week_key(monday_utc, NEW_YORK) == "2026-W48"
    assert week_key(monday_utc, "Asia/Kolkata") == "2026-W49"
    # Sunday 20:00 UTC is already Monday 01:30 in Kolkata and Monday 09:45 in Chatham.
    sunday_utc = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert week_key(sunday_utc, "UTC") == "2026-W48"
    assert week_key(sunday_utc, "Asia/Kolkata") == "2026-W49"
    assert week_key(sunday_utc, "Pacific/Chatham") == "2026-W49"


def test_week_key_of_iso_week_53() -> None:
    assert week_key(datetime(2026, 12, 31, 12, tzinfo=UTC), "UTC") == "2026-W53"
    assert week_key(datetime(2027, 1, 3, 12, tzinfo=UTC), "UTC") == "2026-W53"
    assert week_key(datetime(2027, 1, 4, 12, tzinfo=UTC), "UTC") == "2027-W01"
    assert week_key(datetime(2021, 1, 1, 12, tzinfo=UTC), NEW_YORK) == "2020-W53"


def test_week_key_accepts_any_aware_datetime() -> None:
    local = datetime(2026, 11, 29, 23, 30, tzinfo=ZoneInfo(NEW_YORK))  # Sunday night
    assert week_key(local, NEW_YORK) == "2026-W48"
    assert week_key(local, "UTC") == "2026-W49"


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../etc/passwd", "America/"])
def test_week_key_rejects_invalid_time_zone(tz: str) -> None:
    with pytest.raises(ValueError):
        week_key(START, tz)


def test_week_key_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError):
        week_key(datetime(2026, 3, 2, 9, 0), "UTC")


def test_shift_week_key_crosses_years() -> None:
    assert shift_week_key("2026-W53", 1) == "2027-W01"
    assert shift_week_key("2027-W01", -1) == "2026-W53"
    assert shift_week_key("2026-W48", 0) == "2026-W48"


def test_local_checkin_time_plain_zones() -> None:
    kolkata = local_checkin_time("2026-W48", "Asia/Kolkata", 0, 9)
    assert kolkata.astimezone(UTC) == datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    assert kolkata.tzinfo == ZoneInfo("Asia/Kolkata")
    assert (kolkata.weekday(), kolkata.hour, kolkata.minute) == (0, 9, 0)
    utc_friday = local_checkin_time("2026-W48", "UTC", 4, 16)
    assert utc_friday == datetime(2026, 11, 27, 16, tzinfo=UTC)


def test_local_checkin_time_in_iso_week_53() -> None:
    thursday = local_checkin_time("2026-W53", "UTC", 3, 10)
    assert thursday == datetime(2026, 12, 31, 10, tzinfo=UTC)
    sunday = local_checkin_time("2026-W53", NEW_YORK, 6, 10)
    assert sunday.astimezone(UTC) == datetime(2027, 1, 3, 15, tzinfo=UTC)
    with pytest.raises(ValueError):
        local_checkin_time("2025-W53", "UTC", 0, 9)


@pytest.mark.parametrize(
    ("hour", "expected_utc", "expected_local_hour"),
    [
        (1, datetime(2026, 3, 8, 6, 0, tzinfo=UTC), 1),  # 01:00 EST, before the gap
        (2, datetime(2026, 3, 8, 7, 0, tzinfo=UTC), 3),  # 02:00 does not exist: 03:00 EDT
        (3, datetime(2026, 3, 8, 7, 0, tzinfo=UTC), 3),  # 03:00 EDT, the gap's end
    ],
)
def test_local_checkin_time_new_york_spring_forward(
    hour: int, expected_utc: datetime, expected_local_hour: int
) -> None:
    # ISO week 2026-W10 ends on Sunday 2026-03-08, when New York springs forward at 02:00.
    checkin = local_checkin_time("2026-W10", NEW_YORK, 6, hour)
    assert checkin.astimezone(UTC) == expected_utc
    assert (checkin.date().isoformat(), checkin.hour, checkin.minute) == (
        "2026-03-08",
        expected_local_hour,
        0,
    )


@pytest.mark.parametrize(
    ("hour", "expected_utc"),
    [
        (1, datetime(2026, 11, 1, 5, 0, tzinfo=UTC)),  # 01:00 happens twice: first is EDT
        (2, datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),  # 02:00 EST, once
    ],
)
def test_local_checkin_time_new_york_fall_back(hour: int, expected_utc: datetime) -> None:
    # ISO week 2026-W44 ends on Sunday 2026-11-01, when New York falls back at 02:00.
    checkin = local_checkin_time("2026-W44", NEW_YORK, 6, hour)
    assert checkin.astimezone(UTC) == expected_utc
    assert checkin.hour == hour


def test_local_checkin_time_chatham_quarter_hour_offsets() -> None:
    chatham = "Pacific/Chatham"
    # Spring forward 2026-09-27 02:45 -> 03:45 (+12:45 -> +13:45): 03:00 moves to 03:45.
    gap = local_checkin_time("2026-W39", chatham, 6, 3)
    assert (gap.hour, gap.minute) == (3, 45)
    assert gap.astimezone(UTC) == datetime(2026, 9, 26, 14, 0, tzinfo=UTC)
    before_gap = local_checkin_time("2026-W39", chatham, 6, 2)
    assert before_gap.astimezone(UTC) == datetime(2026, 9, 26, 13, 15, tzinfo=UTC)
    # Fall back 2026-04-05 03:45 -> 02:45: 03:00 happens twice, the first at +13:45.
    ambiguous = local_checkin_time("2026-W14", chatham, 6, 3)
    assert ambiguous.astimezone(UTC) == datetime(2026, 4, 4, 13, 15, tzinfo=UTC)


def test_local_checkin_time_half_hour_dst_gap() -> None:
    # Lord Howe springs forward by only 30 minutes, 02:00 -> 02:30, on 2026-10-04.
    checkin = local_checkin_time("2026-W40", "Australia/Lord_Howe", 6, 2)
    assert (checkin.hour, checkin.minute) == (2, 30)
    assert checkin.astimezone(UTC) == datetime(2026, 10, 3, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("week", "tz", "weekday", "hour"),
    [
        ("2026-48", "UTC", 0, 9),
        ("2026-W00", "UTC", 0, 9),
        ("2026-W48", "Nowhere/Land", 0, 9),
        ("2026-W48", "UTC", 7, 9),
        ("2026-W48", "UTC", -1, 9),
        ("2026-W48", "UTC", 0, 24),
    ],
)
def test_local_checkin_time_rejects_bad_input(week: str, tz: str, weekday: int, hour: int) -> None:
    with pytest.raises(ValueError):
        local_checkin_time(week, tz, weekday, hour)


def test_next_checkin_at_this_week_same_instant_and_next_week() -> None:
    # Check-in Monday 09:00 Kolkata = Monday 03:30 UTC.
    checkin = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    before = next_checkin_at(checkin - timedelta(hours=5), "Asia/Kolkata", 0, 9)
    assert before == checkin
    assert before.tzinfo is UTC
    assert next_checkin_at(checkin, "Asia/Kolkata", 0, 9) == checkin
    after = next_checkin_at(checkin + timedelta(seconds=1), "Asia/Kolkata", 0, 9)
    assert after == checkin + timedelta(days=7)


def test_next_checkin_at_near_sunday_midnight_uses_local_week() -> None:
    # Monday 00:30 UTC is Sunday 19:30 in New York: Sunday's 20:00 check-in is still ahead.
    now = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert next_checkin_at(now, NEW_YORK, 6, 20) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    # Monday 09:00 in New York is the coming Monday, hours away rather than a week.
    assert next_checkin_at(now, NEW_YORK, 0, 9) == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_next_checkin_at_across_dst_changes() -> None:
    # Saturday before spring forward: Sunday's 02:00 check-in lands on 03:00 EDT.
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert next_checkin_at(saturday, NEW_YORK, 6, 2) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    # A weekly Monday 09:00 check-in moves from 14:00 UTC to 13:00 UTC across the change.
    monday_before = datetime(2026, 3, 2, 14, 0, 1, tzinfo=UTC)
    assert next_checkin_at(monday_before, NEW_YORK, 0, 9) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    # Fall back: between the two 01:00s, the first one has passed, so next week's comes next.
    between = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert next_checkin_at(between, NEW_YORK, 6, 1) == datetime(2026, 11, 8, 6, 0, tzinfo=UTC)


def test_next_checkin_at_rejects_naive_now() -> None:
    with pytest.raises(ValueError):
        next_checkin_at(datetime(2026, 3, 2, 9, 0), "UTC", 0, 9)


ZONES = [
    "UTC",
    NEW_YORK,
    "Europe/London",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
]
zones = st.sampled_from(ZONES)
utc_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
weekdays = st.integers(min_value=0, max_value=6)
hours = st.integers(min_value=0, max_value=23)


def wall_time_exists(moment: datetime, tz: str) -> bool:
    """Whether the local wall time `moment` (naive) happens in `tz` (False inside a DST gap)."""
    aware = moment.replace(tzinfo=ZoneInfo(tz))
    return aware.astimezone(UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None) == moment


@given(utc_moments, zones, weekdays, hours)
def test_next_checkin_at_properties(now: datetime, tz: str, weekday: int, hour: int) -> None:
    checkin = next_checkin_at(now, tz, weekday, hour)
    assert checkin.tzinfo is UTC
    assert now <= checkin < now + timedelta(days=8)

    local = checkin.astimezone(ZoneInfo(tz))
    if (local.weekday(), local.hour, local.minute, local.second) != (weekday, hour, 0, 0):
        # Only a check-in hour that DST skips that day may land elsewhere: at the gap's end.
        intended = local.replace(hour=hour, minute=0, second=0, tzinfo=None)
        assert not wall_time_exists(intended, tz)
        assert local.weekday() == weekday
        assert (
            local.utcoffset() != (checkin - timedelta(hours=2)).astimezone(ZoneInfo(tz)).utcoffset()
        )

    # It is the earliest: the check-in a week before it is already in the past.
    week = week_key(checkin, tz)
    earlier = local_checkin_time(shift_week_key(week, -1), tz, weekday, hour)
    assert earlier.astimezone(UTC) < now


@given(
    st.integers(min_value=2000, max_value=2037),
    st.integers(min_value=1, max_value=53),
    zones,
    weekdays,
    hours,
)
def test_week_key_round_trips_local_checkin_time(
    year: int, week_number: int, tz: str, weekday: int, hour: int
) -> None:
    week = f"{year}-W{week_number:02d}"
    if week_number == 53 and shift_week_key(f"{year}-W52", 1) != week:
        with pytest.raises(ValueError):
            local_checkin_time(week, tz, weekday, hour)
        return
    assert week_key(local_checkin_time(week, tz, weekday, hour), tz) == week


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
