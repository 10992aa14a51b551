"""Unit and property tests of the pure domain (bot/domain/): bounce-backs, resilience figures
and durations."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import (
    BounceBack,
    OutcomeEvent,
    OutcomeKind,
    Resilience,
    detect_bounce_back,
    format_duration,
    resilience_figures,
)
from tests.support.domain import LOSS, START, WIN


def at_day(day: float) -> datetime:
    return START + timedelta(days=day)


def event(kind: OutcomeKind, day: float) -> OutcomeEvent:
    return OutcomeEvent(kind=kind, at=at_day(day))


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
