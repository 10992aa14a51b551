"""Unit and property tests of the pure domain (bot/domain/): week keys and check-in times
across time zones, DST changes and ISO week 53."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import (
    local_checkin_time,
    next_checkin_at,
    shift_week_key,
    week_key,
)
from tests.support.domain import START

NEW_YORK = "America/New_York"


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
