"""The Home dashboards: what a rep and a manager see, from aggregates the database computes.

Every read is a GROUP BY/COUNT/SUM or a bounded "latest N" query, so Home costs the same for
a rep with ten outcomes and one with ten thousand; streaks and bounce-backs come from the last
RECENT_OUTCOMES outcomes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.domain import (
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_STRONG_PROCESS_THRESHOLD,
    Classification,
    OutcomeEvent,
    OutcomeKind,
    resilience_figures,
)
from bot.domain.dashboard import Lesson, ManagerDashboard, RepDashboard, Streak, TeamRow
from bot.domain.debriefs import REASONS
from bot.domain.pareto import too_early_for_pattern, vital_few
from bot.domain.resilience import (
    DEFAULT_SUPPORT_STREAK,
    OngoingStreak,
    Recovery,
    fastest_recovery,
    ongoing_losing_streak,
)
from bot.usecases.goals import cycle_window, default_cycle, goal_progress, local_today, review_cycle
from storage import goals_queries

RECENT_OUTCOMES = 100
RECENT_LESSONS = 3
CHECKIN_RATE_WEEKS = 8
PARETO_DAYS = 90
PARETO_REASONS = 20
MAX_TEAM_ROWS = 25


def current_streak(kinds_newest_first: Sequence[str]) -> Streak:
    """The run of same-kind outcomes ending with the newest one."""
    if not kinds_newest_first:
        return Streak(kind=None, length=0)
    first = kinds_newest_first[0]
    length = 0
    for kind in kinds_newest_first:
        if kind != first:
            break
        length += 1
    return Streak(kind=first, length=length)


def _recent_history(
    session: Session, team_id: str, user_id: str
) -> tuple[list[OutcomeEvent], list[str]]:
    rows = goals_queries.recent_outcome_kinds(
        session=session, team_id=team_id, user_id=user_id, limit=RECENT_OUTCOMES
    )
    events = [OutcomeEvent(kind=OutcomeKind(kind), at=at) for kind, at in rows]
    return events, [kind for kind, _ in rows]


def rep_dashboard(
    *, session: Session, team_id: str, user_id: str, tz: str, now: datetime, cycle: str
) -> RepDashboard:
    today = local_today(now, tz)
    goal = goals_queries.current_goal(
        session=session, team_id=team_id, user_id=user_id, today=today
    )
    progress = (
        goal_progress(session=session, goal=goal, tz=tz, until=now) if goal is not None else None
    )
    if goal is not None and goal.cycle_start <= today:
        cycle_start, cycle_end = goal.cycle_start, goal.cycle_end
    else:
        cycle_start, cycle_end = default_cycle(today, cycle)
    start, end = cycle_window(cycle_start, cycle_end, tz)
    record = goals_queries.classification_counts(
        session=session, team_id=team_id, user_id=user_id, start=start, end=end
    )
    calibrated = goals_queries.calibrated_count(
        session=session, team_id=team_id, user_id=user_id, start=start, end=end
    )
    events, kinds = _recent_history(session, team_id, user_id)
    lessons = [
        Lesson(question=r.question, answer=r.answer or "", at=r.created_at)
        for r in goals_queries.recent_lessons(
            session=session, team_id=team_id, user_id=user_id, limit=RECENT_LESSONS
        )
    ]
    return RepDashboard(
        user_id=user_id,
        progress=progress,
        cycle_start=cycle_start,
        cycle_end=cycle_end,
        record=record,
        resilience=resilience_figures(events),
        streak=current_streak(kinds),
        outcomes_considered=len(events),
        lessons=lessons,
        calibrated=calibrated,
    )


def labelled_reasons(counts: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Loss reasons as people read them (the /lost modal stores option keys like "no_decision")."""
    return [(REASONS.get(reason, reason), count) for reason, count in counts]


def manager_dashboard(
    *,
    session: Session,
    team_id: str,
    reps: Sequence[tuple[str, str]],
    now: datetime,
    threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD,
    min_evidence: int = DEFAULT_MIN_EVIDENCE,
    support_streak: int = DEFAULT_SUPPORT_STREAK,
    cycle: str = "monthly",
) -> ManagerDashboard:
    """The team view for a manager; `reps` are (user id, time zone) of their reports. A rep
    whose losing streak reached `support_streak` is named among who may need coaching; the
    fastest recoveries are those whose win falls in the rep's current `cycle`."""
    shown = list(reps)[:MAX_TEAM_ROWS]
    user_ids = [user_id for user_id, _ in shown]
    checkins = goals_queries.checkin_response_counts(
        session=session,
        team_id=team_id,
        user_ids=user_ids,
        since=now - timedelta(weeks=CHECKIN_RATE_WEEKS),
        until=now,
    )
    last_losses = goals_queries.last_loss_at(session=session, team_id=team_id, user_ids=user_ids)
    rows: list[TeamRow] = []
    coaching: list[tuple[str, str]] = []
    on_streak: list[tuple[str, OngoingStreak]] = []
    fastest: list[tuple[str, Recovery]] = []
    for user_id, tz in shown:
        goal = goals_queries.current_goal(
            session=session, team_id=team_id, user_id=user_id, today=local_today(now, tz)
        )
        review = (
            review_cycle(
                session=session,
                goal=goal,
                tz=tz,
                threshold=threshold,
                until=now,
                min_evidence=min_evidence,
            )
            if goal is not None and goal.target > 0
            else None
        )
        # Below the evidence the workspace asks for, the quadrant is not called.
        called = review is not None and review.enough_evidence
        events, kinds = _recent_history(session, team_id, user_id)
        resilience = resilience_figures(events)
        sent, answered = checkins.get(user_id, (0, 0))
        row = TeamRow(
            user_id=user_id,
            quadrant=review.quadrant if review is not None and called else None,
            attainment_ratio=review.progress.ratio if review else None,
            checkins_answered=answered,
            checkins_sent=sent,
            last_debrief_at=last_losses.get(user_id),
            streak=current_streak(kinds),
            losing_streak=resilience.current_losing_streak,
            too_early=(review.evidence_so_far() if review is not None and not called else None),
            calibrated=review.calibrated_outcomes if review is not None else 0,
        )
        rows.append(row)
        if row.quadrant is Classification.SYSTEM_MISS:
            coaching.append((user_id, "system miss so far: the process slipped"))
        elif row.quadrant is Classification.LUCKY_HIT:
            coaching.append((user_id, "lucky hit so far: a loss masquerading as a win"))
        if row.losing_streak >= support_streak:
            coaching.append((user_id, f"{row.losing_streak} losses in a row"))
        ongoing = ongoing_losing_streak(events, now)
        if ongoing is not None:
            on_streak.append((user_id, ongoing))
        start, end = cycle_window(*default_cycle(local_today(now, tz), cycle), tz)
        quickest = fastest_recovery(events, start, end)
        if quickest is not None:
            fastest.append((user_id, quickest))
    reasons = labelled_reasons(
        goals_queries.loss_reason_counts(
            session=session,
            team_id=team_id,
            user_ids=[user_id for user_id, _ in reps],
            start=now - timedelta(days=PARETO_DAYS),
            end=now + timedelta(seconds=1),
            limit=PARETO_REASONS,
        )
    )
    return ManagerDashboard(
        rows=rows,
        more_reps=max(0, len(reps) - len(shown)),
        loss_reasons=reasons,
        vital_few=[] if too_early_for_pattern(reasons) else vital_few(reasons),
        pareto_days=PARETO_DAYS,
        coaching=coaching,
        on_streak=sorted(on_streak, key=lambda item: (-item[1].losses, item[1].since, item[0])),
        fastest=sorted(fastest, key=lambda item: (item[1].time, item[1].win_at, item[0])),
    )
