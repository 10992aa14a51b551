"""Goals and cycle reviews: saving a SMART goal, measuring progress, placing a cycle in a quadrant.

Progress on revenue and deals-won goals is computed from the Outcome rows at read time (sum of
win amounts / count of wins in the cycle), so a win is never counted twice; other metrics take
the figure reported in the weekly check-in (Goal.progress).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.domain import (
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_STRONG_PROCESS_THRESHOLD,
    PRACTICES,
    classify_cycle,
    local_checkin_time,
    zone,
)
from bot.domain.goals import METRIC_LABELS, CycleReview, GoalProgress, GoalSubmission
from storage import goals_queries, queries
from storage.models import Goal

# Metrics that wins feed automatically.
WIN_FED_METRICS = frozenset({"revenue", "deals_won"})
MAX_RATING = 5
# Reviews arrive at the start of a working day, not at midnight.
REVIEW_HOUR = 9


# --- pure helpers -------------------------------------------------------------------------------


def default_cycle(today: date, cycle: str) -> tuple[date, date]:
    """The calendar month (or quarter, for "quarterly") that `today` falls in."""
    if cycle == "quarterly":
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = date(today.year, first_month, 1)
        months = 3
    else:
        start = date(today.year, today.month, 1)
        months = 1
    next_month = start.month - 1 + months
    after = date(start.year + next_month // 12, next_month % 12 + 1, 1)
    return start, after - timedelta(days=1)


def offered_cycle(today: date, cycle: str) -> tuple[date, date]:
    """The cycle the /goal modal offers: the current one, or the next when it ends today (a
    goal has to end after today, so there is time left to work towards it)."""
    start, end = default_cycle(today, cycle)
    return default_cycle(end + timedelta(days=1), cycle) if end <= today else (start, end)


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(_zone_or_utc(tz)).date()


def _zone_or_utc(tz: str) -> ZoneInfo:
    try:
        return zone(tz)
    except ValueError:
        return zone("UTC")


def cycle_window(cycle_start: date, cycle_end: date, tz: str) -> tuple[datetime, datetime]:
    """The cycle as instants: from the start day's midnight to the midnight after the end day."""
    tzinfo = _zone_or_utc(tz)
    start = datetime.combine(cycle_start, time(0), tzinfo)
    end = datetime.combine(cycle_end + timedelta(days=1), time(0), tzinfo)
    return start, end


def morning_of(day: date, tz: str, hour: int = REVIEW_HOUR) -> datetime:
    """`hour`:00 on `day` on the wall clock of `tz` (UTC when unknown), as an aware instant.

    DST-safe through bot.domain.local_checkin_time: an hour that the clocks skip moves to the
    end of the gap, an ambiguous one is its first occurrence."""
    tz = tz if _is_zone(tz) else "UTC"
    iso = day.isocalendar()
    return local_checkin_time(f"{iso.year:04d}-W{iso.week:02d}", tz, day.weekday(), hour)


def _is_zone(tz: str) -> bool:
    try:
        zone(tz)
    except ValueError:
        return False
    return True


def rep_review_due_at(cycle_end: date, tz: str) -> datetime:
    """A rep's own review: 09:00 their time on the day after the cycle's last day."""
    return morning_of(cycle_end + timedelta(days=1), tz)


def team_review_due_at(cycle_end: date, rep_zones: Sequence[str], manager_tz: str) -> datetime:
    """The manager's team review: the first 09:00 on the manager's clock once the cycle has
    ended for every rep (the last of them at midnight in the westernmost zone)."""
    ended = max(
        (cycle_window(cycle_end, cycle_end, tz)[1] for tz in rep_zones),
        default=cycle_window(cycle_end, cycle_end, manager_tz)[1],
    )
    day = ended.astimezone(_zone_or_utc(manager_tz)).date()
    morning = morning_of(day, manager_tz)
    return morning if morning >= ended else morning_of(day + timedelta(days=1), manager_tz)


def metric_label(goal: Goal) -> str:
    if goal.metric == "custom" and goal.custom_metric:
        return goal.custom_metric
    return METRIC_LABELS.get(goal.metric, goal.metric)


def checkin_process_scores(answers: list[tuple[int, str, str]]) -> list[float]:
    """One score per check-in: the mean of its 1-5 practice self-ratings, divided by 5.

    Read defensively: an answer counts as a rating when its key names a practice (optionally
    with a prefix such as "rating_" or "practice:") and it is a whole number from 1 to 5.
    """
    ratings: dict[int, list[int]] = defaultdict(list)
    for checkin_id, key, answer in answers:
        practice = _practice_of(key)
        value = answer.strip()
        if practice is None or not value.isdigit():
            continue
        rating = int(value)
        if 1 <= rating <= MAX_RATING:
            ratings[checkin_id].append(rating)
    return [math.fsum(values) / len(values) / MAX_RATING for _, values in sorted(ratings.items())]


def _practice_of(key: str) -> str | None:
    for separator in (":", "."):
        key = key.rsplit(separator, 1)[-1]
    for prefix in ("self_rating_", "rating_", "practice_"):
        key = key.removeprefix(prefix)
    return key if key in PRACTICES else None


def reported_goal_progress(answers: list[tuple[int, str, str]]) -> float | None:
    """The latest number a person gave in answer to a check-in's goal-progress question."""
    latest: float | None = None
    for _, key, answer in answers:
        if "goal" not in key.lower():
            continue
        number = _parse_number(answer)
        if number is not None:
            latest = number
    return latest


def _parse_number(text: str) -> float | None:
    cleaned = text.strip().replace(",", "").lstrip("$€£")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


# --- use cases ----------------------------------------------------------------------------------


def save_goal(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    submission: GoalSubmission,
    submission_key: str,
    replacing_goal_id: int | None,
    now: datetime,
) -> Goal | None:
    """Save the goal (or change the goal being replaced); None when nothing new was saved."""
    if replacing_goal_id is not None:
        goal = goals_queries.get_goal(session=session, team_id=team_id, goal_id=replacing_goal_id)
        if goal is not None and goal.user_id == user_id:
            goal.metric = submission.metric
            goal.custom_metric = submission.custom_metric
            goal.target = submission.target
            goal.cycle_start = submission.cycle_start
            goal.cycle_end = submission.cycle_end
            goal.why = submission.why
            goal.reviewed_at = None
            session.add(goal)
            return goal
    return goals_queries.insert_goal(
        session=session,
        team_id=team_id,
        user_id=user_id,
        metric=submission.metric,
        custom_metric=submission.custom_metric,
        target=submission.target,
        cycle_start=submission.cycle_start,
        cycle_end=submission.cycle_end,
        why=submission.why,
        submission_key=submission_key,
        now=now,
    )


def goal_progress(
    *, session: Session, goal: Goal, tz: str, until: datetime | None = None
) -> GoalProgress:
    """Attainment so far (to `until`, default the cycle end) against the goal."""
    start, end = cycle_window(goal.cycle_start, goal.cycle_end, tz)
    if until is not None:
        end = min(end, until)
    if goal.metric in WIN_FED_METRICS:
        wins, revenue = goals_queries.win_totals(
            session=session, team_id=goal.team_id, user_id=goal.user_id, start=start, end=end
        )
        attainment = revenue if goal.metric == "revenue" else float(wins)
    else:
        attainment = goal.progress
        if attainment <= 0:
            answers = goals_queries.checkin_answers(
                session=session, team_id=goal.team_id, user_id=goal.user_id, start=start, end=end
            )
            attainment = reported_goal_progress(answers) or 0.0
    workspace = (
        queries.get_workspace(session=session, team_id=goal.team_id)
        if goal.metric == "revenue"
        else None
    )
    return GoalProgress(
        goal=goal,
        attainment=attainment,
        metric_label=metric_label(goal),
        currency=workspace.currency if workspace is not None else None,
    )


def review_cycle(
    *,
    session: Session,
    goal: Goal,
    tz: str,
    threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD,
    until: datetime | None = None,
    min_evidence: int = DEFAULT_MIN_EVIDENCE,
) -> CycleReview:
    """The cycle's quadrant: attainment against the goal × the mean of its process scores
    (outcomes' scores and check-in self-ratings), via bot.domain.classify_cycle. The review
    carries how many items the score stands on; below `min_evidence` it is not called."""
    progress = goal_progress(session=session, goal=goal, tz=tz, until=until)
    start, end = cycle_window(goal.cycle_start, goal.cycle_end, tz)
    if until is not None:
        end = min(end, until)
    outcome_total, outcome_count = goals_queries.process_score_totals(
        session=session, team_id=goal.team_id, user_id=goal.user_id, start=start, end=end
    )
    calibrated = goals_queries.calibrated_count(
        session=session, team_id=goal.team_id, user_id=goal.user_id, start=start, end=end
    )
    checkin_scores = checkin_process_scores(
        goals_queries.checkin_answers(
            session=session, team_id=goal.team_id, user_id=goal.user_id, start=start, end=end
        )
    )
    count = outcome_count + len(checkin_scores)
    # The outcomes arrive as a database SUM/COUNT; their combined mean with the check-ins is
    # the same as the mean of every individual score that classify_cycle would take.
    mean_score = min(1.0, (outcome_total + math.fsum(checkin_scores)) / count) if count else None
    quadrant = classify_cycle(
        attainment=progress.attainment,
        target=goal.target,
        process_scores=[mean_score] if mean_score is not None else [],
        threshold=threshold,
    )
    return CycleReview(
        user_id=goal.user_id,
        progress=progress,
        process_score=mean_score,
        quadrant=quadrant,
        scored_outcomes=outcome_count,
        scored_checkins=len(checkin_scores),
        min_evidence=min_evidence,
        calibrated_outcomes=calibrated,
    )
