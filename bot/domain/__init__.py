"""The pure domain of Rebound: process scores, the four outcomes, bounce-backs, weeks and check-ins.

Standard library only: no Slack, no database, no environment. The clock is never read here; the
current time always comes in as an argument, and every datetime must be timezone-aware.

The coaching ideas come from the seed texts: the four outcomes and "celebrate the perfect miss"
(seed 002), resilience and bounce-backs (seed 003).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.text import plural

PRACTICES: tuple[str, ...] = (
    "pipeline_full",
    "healthy_stage_ratios",
    "discovery",
    "qualification",
    "objection_handling",
)

PRACTICE_LABELS: dict[str, str] = {
    "pipeline_full": "Kept the pipeline full",
    "healthy_stage_ratios": "Deals moved stages at healthy ratios",
    "discovery": "Discovery was on point",
    "qualification": "Qualified properly",
    "objection_handling": "Handled objections well",
}

# The checklist's explicit "none of these" answer: a rep must say which practices held, so an
# unticked checklist (skipped) is never read as "none held".
NONE_HELD = "none_held"
NONE_HELD_LABEL = "None of these held"

DEFAULT_STRONG_PROCESS_THRESHOLD = 0.8
# No cycle quadrant is called on fewer scored items (outcomes and check-ins); a setting.
DEFAULT_MIN_EVIDENCE = 3
MAX_MIN_EVIDENCE = 20
# A bounce-back is offered for a public shout-out after a losing streak of at least this many
# (a setting); every recovery still counts in the rep's private resilience figures.
DEFAULT_BOUNCE_BACK_MIN_LOSSES = 2
MAX_BOUNCE_BACK_MIN_LOSSES = 10

# Scores such as the mean of several fractions can land a rounding error below the threshold
# (e.g. a mean of three 0.8s); a score that close to the threshold counts as meeting it.
_SCORE_TOLERANCE = 1e-9


class OutcomeKind(StrEnum):
    WIN = "win"
    LOSS = "loss"


class Classification(StrEnum):
    SYSTEM_HIT = "system-hit"
    LUCKY_HIT = "lucky-hit"
    SYSTEM_MISS = "system-miss"
    PERFECT_MISS = "perfect-miss"


CLASSIFICATION_LABELS: dict[Classification, str] = {
    Classification.SYSTEM_HIT: "System hit",
    Classification.LUCKY_HIT: "Lucky hit",
    Classification.SYSTEM_MISS: "System miss",
    Classification.PERFECT_MISS: "Perfect miss",
}

# Seed 002's one-line verdict on each outcome.
CLASSIFICATION_SUMMARIES: dict[Classification, str] = {
    Classification.SYSTEM_HIT: "A deserved win.",
    Classification.LUCKY_HIT: "A loss, masquerading as a win.",
    Classification.SYSTEM_MISS: "A loss that looks like a loss.",
    Classification.PERFECT_MISS: "A win, masquerading as a loss.",
}

COACHING_MESSAGES: dict[Classification, str] = {
    Classification.SYSTEM_HIT: (
        "Things were done correctly: the pipeline was full, deals moved stages at healthy ratios, "
        "and discovery, qualification and objection handling were on point. This is a deserved "
        "win. Keep running the same system."
    ),
    # Seed 002's lucky hit: "one massive deal that comes in, or back-to-back high intent
    # inbounds that don't require selling".
    Classification.LUCKY_HIT: (
        "The result came in, but the process behind it did not: one big deal, or inbounds that "
        "didn't need selling, can carry a number once. Enjoy it, then look at the pipeline and "
        "the fundamentals, so the next result doesn't have to wait for luck."
    ),
    # Seed 000: "Now you know what doesn't work. What do you need to change?"
    Classification.SYSTEM_MISS: (
        "The miss matches the process, and the process is the part you control, so it's the part "
        "you can change. Pick the one practice that slipped (filling the top of the funnel, "
        "stage ratios, discovery, qualification or objection handling) and make it this "
        "cycle's focus."
    ),
    # Quoted from seed 002: after a perfect miss the process needs no change, only encouragement.
    Classification.PERFECT_MISS: (
        "Being unlucky sucks, but unfortunately it happens. You did great, and you are excellent "
        "at this job, regardless of what the dashboard reflects. Go out and do exactly what you "
        "did again."
    ),
}

# Seed 002 on coaching after a perfect miss: performance "should shake out statistically. Sales
# lightning can and will strike, but rarely 2, 3, or 4 times in a row." The bad luck of a
# perfect miss is the lightning; it belongs to the perfect miss only, never to a lucky hit.
PERFECT_MISS_ODDS = (
    "Performance shakes out statistically: sales lightning can and will strike, but rarely "
    "2, 3, or 4 times in a row."
)


# --- process and classification ------------------------------------------------------------


def process_score(practices: Mapping[str, bool]) -> float:
    """Share of the five PRACTICES that held; a practice not mentioned did not hold."""
    unknown = sorted(set(practices) - set(PRACTICES))
    if unknown:
        raise ValueError(f"unknown process practices: {', '.join(map(str, unknown))}")
    held = sum(1 for practice in PRACTICES if bool(practices.get(practice, False)))
    return held / len(PRACTICES)


def _validate_score(score: float, name: str = "score") -> None:
    # `not (0 <= x <= 1)` also rejects NaN.
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {score!r}")


def _validate_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")


def is_strong_process(score: float, threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD) -> bool:
    """Whether a process score is strong: score >= threshold."""
    _validate_score(score)
    _validate_threshold(threshold)
    return score >= threshold - _SCORE_TOLERANCE


def _quadrant(hit: bool, strong_process: bool) -> Classification:
    if hit:
        return Classification.SYSTEM_HIT if strong_process else Classification.LUCKY_HIT
    return Classification.PERFECT_MISS if strong_process else Classification.SYSTEM_MISS


def classify_outcome(
    kind: OutcomeKind, score: float, threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD
) -> Classification:
    """Classify one win or loss by its process score (seed 002's four outcomes)."""
    kind = OutcomeKind(kind)
    return _quadrant(kind is OutcomeKind.WIN, is_strong_process(score, threshold))


# How much of a win the rep puts down to luck (Outcome.luck, 0..100).
LUCK_LEVELS: dict[str, int] = {"none": 0, "some": 25, "a_lot": 60, "mostly": 90}
LUCK_LABELS: dict[str, str] = {
    "none": "None — it was the process",
    "some": "Some",
    "a_lot": "A lot",
    "mostly": "Mostly luck",
}
# From this share of luck on, a win is a lucky hit whatever the checklist says.
MOSTLY_LUCK = 75


def claims_process_without_practice(practices: Mapping[str, bool], luck: int) -> bool:
    """Whether a win's answers contradict each other: "none of it was luck" (all process) while
    none of the practices held. Such a win can't be classified honestly either way."""
    return luck == 0 and process_score(practices) == 0


def classify_win(
    score: float, luck: int, threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD
) -> Classification:
    """Classify a win by its process score and the rep's own estimate of luck (0..100).

    Seed 002's lucky hit is "one massive deal that comes in, or back-to-back high intent
    inbounds that don't require selling": when the rep says a win was mostly luck, the ticked
    practices did not make it, so it is a lucky hit even with a strong checklist.
    """
    if isinstance(luck, bool) or not isinstance(luck, int) or not 0 <= luck <= 100:
        raise ValueError(f"luck must be a whole number from 0 to 100, got {luck!r}")
    if luck >= MOSTLY_LUCK:
        _validate_score(score)
        _validate_threshold(threshold)
        return Classification.LUCKY_HIT
    return classify_outcome(OutcomeKind.WIN, score, threshold)


def classify_cycle(
    attainment: float,
    target: float,
    process_scores: Sequence[float],
    threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD,
) -> Classification:
    """Classify a whole cycle: hit = attainment >= target; process = mean score >= threshold.

    A cycle with no process scores has no evidence of a strong process, so it counts as weak.
    """
    if not target > 0:
        raise ValueError(f"target must be positive, got {target!r}")
    if not attainment >= 0:
        raise ValueError(f"attainment must be zero or more, got {attainment!r}")
    _validate_threshold(threshold)
    for score in process_scores:
        _validate_score(score, "process score")
    if process_scores:
        mean_score = math.fsum(process_scores) / len(process_scores)
        strong = is_strong_process(min(mean_score, 1.0), threshold)
    else:
        strong = False
    return _quadrant(attainment >= target, strong)


# --- outcomes over time: bounce-backs and resilience -----------------------------------------


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")


@dataclass(frozen=True)
class OutcomeEvent:
    kind: OutcomeKind
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", OutcomeKind(self.kind))
        _require_aware(self.at, "OutcomeEvent.at")


@dataclass(frozen=True)
class BounceBack:
    losses: int
    first_loss_at: datetime
    win_at: datetime
    recovery: timedelta


@dataclass(frozen=True)
class Resilience:
    bounce_backs: int
    median_recovery: timedelta | None
    longest_losing_streak: int
    current_losing_streak: int


def _chronological(history: Sequence[OutcomeEvent]) -> list[OutcomeEvent]:
    # sorted() is stable, so outcomes logged at the same instant keep their given order.
    return sorted(history, key=lambda event: event.at)


def detect_bounce_back(history: Sequence[OutcomeEvent], win_at: datetime) -> BounceBack | None:
    """The bounce-back that a win at `win_at` completes, if the outcomes just before it were losses.

    `history` is the rep's outcomes in any order; only those strictly before `win_at` count, so
    passing a history that already includes this win is harmless.
    """
    _require_aware(win_at, "win_at")
    earlier = [event for event in _chronological(history) if event.at < win_at]
    streak: list[OutcomeEvent] = []
    for event in reversed(earlier):
        if event.kind is not OutcomeKind.LOSS:
            break
        streak.append(event)
    if not streak:
        return None
    first_loss_at = streak[-1].at
    return BounceBack(
        losses=len(streak),
        first_loss_at=first_loss_at,
        win_at=win_at,
        recovery=win_at - first_loss_at,
    )


def _median(durations: Sequence[timedelta]) -> timedelta | None:
    if not durations:
        return None
    ordered = sorted(durations)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def resilience_figures(history: Sequence[OutcomeEvent]) -> Resilience:
    """Bounce-back count, median recovery, longest and current losing streak of one rep."""
    recoveries: list[timedelta] = []
    longest_streak = 0
    streak = 0
    streak_started_at: datetime | None = None
    for event in _chronological(history):
        if event.kind is OutcomeKind.LOSS:
            if streak == 0:
                streak_started_at = event.at
            streak += 1
            longest_streak = max(longest_streak, streak)
            continue
        if streak and streak_started_at is not None:
            recoveries.append(event.at - streak_started_at)
        streak = 0
        streak_started_at = None
    return Resilience(
        bounce_backs=len(recoveries),
        median_recovery=_median(recoveries),
        longest_losing_streak=longest_streak,
        current_losing_streak=streak,
    )


def format_duration(delta: timedelta) -> str:
    """A rounded-down, human duration: "12 days", "1 day", "5 hours", "under an hour"."""
    if delta < timedelta(0):
        raise ValueError(f"duration must not be negative, got {delta!r}")
    if delta >= timedelta(days=1):
        return plural(delta.days, "day", "days")
    hours = delta // timedelta(hours=1)
    if hours >= 1:
        return plural(hours, "hour", "hours")
    return "under an hour"


# --- weeks and check-in times -----------------------------------------------------------------

_WEEK_KEY_PATTERN = re.compile(r"(\d{4})-W(\d{2})")


def zone(tz: str) -> ZoneInfo:
    """The IANA time zone `tz`; ValueError when it is not one."""
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"not a time zone name: {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone: {tz!r}") from error


def _format_week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def week_monday(week: str) -> date:
    """The Monday of ISO week `week` ("2026-W48"); ValueError for a malformed or absent week."""
    match = _WEEK_KEY_PATTERN.fullmatch(week) if isinstance(week, str) else None
    if match is None:
        raise ValueError(f"not an ISO week key like 2026-W48: {week!r}")
    year, week_number = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week_number, 1)
    except ValueError as error:
        raise ValueError(f"no such ISO week: {week!r}") from error


def shift_week_key(week: str, weeks: int) -> str:
    """The week key `weeks` weeks after `week` (before it when negative)."""
    return _format_week_key(week_monday(week) + timedelta(weeks=weeks))


def week_key(now: datetime, tz: str) -> str:
    """The ISO week ("2026-W48") that `now` falls in, on the wall clock of zone `tz`."""
    _require_aware(now, "now")
    return _format_week_key(now.astimezone(zone(tz)).date())


def _validate_weekday_hour(weekday: int, hour: int) -> None:
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0 to 23, got {hour!r}")


def _resolve_wall_time(wall: datetime, tz: ZoneInfo) -> datetime:
    """Attach `tz` to a naive wall time, moving a time that DST skips to the end of the gap.

    An ambiguous time (clocks fall back) keeps fold=0, its first occurrence.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # `wall` lies in a gap. Read with the offset after the gap (fold=1) it is an instant before the
    # transition; read with the offset before it (fold=0), an instant after. The transition is
    # the first instant whose offset is the later one; find it by bisection to the second.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # before the transition
    high = first.astimezone(UTC)  # at or after the transition
    after_offset = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high.astimezone(tz)


def local_checkin_time(week: str, tz: str, weekday: int, hour: int) -> datetime:
    """When a check-in set for `weekday` at `hour`:00 local falls in ISO week `week`, in zone `tz`.

    DST-safe: a local time that does not exist (spring forward) moves to the first instant after
    the gap; an ambiguous one (fall back) is its first occurrence.
    """
    _validate_weekday_hour(weekday, hour)
    zone_info = zone(tz)
    day = week_monday(week) + timedelta(days=weekday)
    return _resolve_wall_time(datetime.combine(day, time(hour)), zone_info)


def next_checkin_at(now: datetime, tz: str, weekday: int, hour: int) -> datetime:
    """The first check-in time (this ISO week or next, local to `tz`) at or after `now`, in UTC."""
    _require_aware(now, "now")
    _validate_weekday_hour(weekday, hour)
    # Compare in UTC: aware datetimes sharing one tzinfo compare by wall time, ignoring fold.
    now_utc = now.astimezone(UTC)
    this_week = week_key(now_utc, tz)
    candidate = local_checkin_time(this_week, tz, weekday, hour).astimezone(UTC)
    if candidate >= now_utc:
        return candidate
    next_week = shift_week_key(this_week, 1)
    return local_checkin_time(next_week, tz, weekday, hour).astimezone(UTC)
