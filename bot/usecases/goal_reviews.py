"""The end-of-cycle reviews (each rep's DM, each manager's table and chart) and the charts'
renderers, which `/rebound report` (bot.usecases.reports) queues too. `/goal` is
bot.usecases.goal_form.

Each use case takes a unit of work (bot.uow) and queues what it causes as outbox rows in the
same transaction; the dispatcher sends them. Charts are upload rows (bot.uploads) whose payload
holds the chart's points and captions: the PNG is drawn when the row is sent. Slack lookups
(people's first names for chart labels) come in as callables from the adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import charts
from bot.blocks.goals import (
    day_month,
    day_month_year,
    review_message,
    team_review_message,
)
from bot.domain import (
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_STRONG_PROCESS_THRESHOLD,
    OutcomeEvent,
    OutcomeKind,
)
from bot.outbox_hooks import register_hooks
from bot.uow import UnitOfWork, to_user
from bot.uploads import (
    UPLOAD_METHOD,
    Upload,
    UploadFile,
    register_message_renderer,
    register_renderer,
    upload_payload,
)
from bot.usecases.goals import (
    CycleReview,
    rep_review_due_at,
    review_cycle,
    team_review_due_at,
)
from storage import goals_queries, outbox_queries, queries
from storage.models import Goal, OutboxMessage, utcnow

log = logging.getLogger(__name__)

GOAL_SAVED = "goal_saved"
REVIEW_DM = "cycle_review"
TEAM_REVIEW = "team_review"
TEAM_REVIEW_CHART = "team_review_chart"
REPORT_CHART = "report_chart"
QUADRANT, PARETO, TIMELINE = "chart.quadrant", "chart.pareto", "chart.timeline"
TEAM_REVIEW_TABLE = "team_review.table"
TIMELINE_OUTCOMES = 60

# Someone's first name for a chart label (a chart can't show a Slack mention), by user id.
FirstNames = Callable[[Sequence[str]], Mapping[str, str]]


def review_dm_key(user_id: str, cycle_end: date) -> str:
    return f"review:{user_id}:{cycle_end.isoformat()}"


def threshold_of(session: Session, team_id: str) -> float:
    workspace = queries.get_workspace(session=session, team_id=team_id)
    return workspace.strong_process_threshold if workspace else DEFAULT_STRONG_PROCESS_THRESHOLD


def min_evidence_of(session: Session, team_id: str) -> int:
    """How many scored outcomes or check-ins a quadrant needs in this workspace."""
    workspace = queries.get_workspace(session=session, team_id=team_id)
    return workspace.min_evidence if workspace else DEFAULT_MIN_EVIDENCE


def tz_of(session: Session, team_id: str, user_id: str) -> str:
    member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
    return member.tz if member is not None and member.tz else "UTC"


# --- the end-of-cycle review ---------------------------------------------------------------------


def reviews_due(
    uow: UnitOfWork, *, after: tuple[date, int] | None, limit: int
) -> list[tuple[int, str, date]]:
    """(goal id, team, cycle end) of ended cycles whose review DM is not queued yet, after
    `after` (the last (cycle_end, id) of the previous batch)."""
    goals = goals_queries.goals_due_for_review(
        session=uow.session, ended_on_or_before=uow.now().date(), limit=limit, after=after
    )
    return [(g.id, g.team_id, g.cycle_end) for g in goals if g.id is not None]


def queue_rep_review(uow: UnitOfWork, *, goal_id: int) -> bool:
    """Queue the rep's review DM once it is 09:00 on the day after the cycle where they live
    (True when queued). The goal is marked reviewed when the DM is in Slack or can never be
    (the hooks below), so an unsent review is never taken for a sent one."""
    session = uow.session
    goal = session.get(Goal, goal_id)
    if goal is None or goal.reviewed_at is not None:
        return False
    tz = tz_of(session, goal.team_id, goal.user_id)
    if uow.now() < rep_review_due_at(goal.cycle_end, tz):
        return False
    review = review_cycle(
        session=session,
        goal=goal,
        tz=tz,
        threshold=threshold_of(session, goal.team_id),
        min_evidence=min_evidence_of(session, goal.team_id),
    )
    return uow.outbox.add(
        team_id=goal.team_id,
        post_key=review_dm_key(goal.user_id, goal.cycle_end),
        kind=REVIEW_DM,
        to=to_user(goal.user_id),
        message=review_message(review),
    )


def _review_settled(session: Session, row: OutboxMessage, *rest: Any) -> None:
    """The review DM is in Slack, or can never be (the rep can't be DMed): the goal is
    reviewed; the manager's table then says who couldn't be reached."""
    _, user_id, cycle_end = row.post_key.split(":", 2)
    now = rest[-1] if rest and isinstance(rest[-1], datetime) else utcnow()
    goals_queries.mark_goals_reviewed(
        session=session,
        team_id=row.team_id,
        user_id=user_id,
        cycle_end=date.fromisoformat(cycle_end),
        now=now,
    )


register_hooks(REVIEW_DM, on_sent=_review_settled, on_failed=_review_settled)


def recently_ended_cycles(uow: UnitOfWork, *, window: timedelta) -> list[tuple[str, date]]:
    today = uow.now().date()
    return goals_queries.recently_ended_cycles(
        session=uow.session, ended_from=today - window, ended_to=today
    )


def managers_of(uow: UnitOfWork, *, team_id: str) -> list[str]:
    return [m.user_id for m in queries.managers_of(session=uow.session, team_id=team_id)]


def _outbox_state(session: Session, team_id: str, post_key: str) -> str | None:
    row = outbox_queries.get(session=session, team_id=team_id, post_key=post_key)
    return row.state if row is not None else None


@dataclass(frozen=True)
class TeamCycle:
    reps: list[str]
    goals: list[Goal]
    zones: dict[str, str]
    manager_tz: str


def _team_cycle(session: Session, team_id: str, cycle_end: date, manager_user_id: str) -> TeamCycle:
    reps = queries.reports_of(session=session, team_id=team_id, manager_user_id=manager_user_id)
    goals = goals_queries.goals_ending_on(
        session=session, team_id=team_id, cycle_end=cycle_end, user_ids=[r.user_id for r in reps]
    )
    manager = queries.get_member(session=session, team_id=team_id, user_id=manager_user_id)
    return TeamCycle(
        reps=[r.user_id for r in reps],
        goals=goals,
        zones={rep.user_id: rep.tz or "UTC" for rep in reps},
        manager_tz=manager.tz if manager is not None and manager.tz else "UTC",
    )


def _team_reviews(session: Session, team_id: str, team: TeamCycle) -> list[CycleReview]:
    threshold = threshold_of(session, team_id)
    min_evidence = min_evidence_of(session, team_id)
    return [
        review_cycle(
            session=session,
            goal=g,
            tz=team.zones[g.user_id],
            threshold=threshold,
            min_evidence=min_evidence,
        )
        for g in team.goals
    ]


def queue_team_review(
    uow: UnitOfWork,
    *,
    team_id: str,
    cycle_end: date,
    manager_user_id: str,
    first_names: FirstNames,
) -> bool:
    """The manager's table, then the chart, queued together at 09:00 the manager's time once
    every rep's cycle with that end date is over (True when queued). The table is made when it
    is sent (`_render_team_review`), after the review DMs queued before it were tried, so it
    says which reps couldn't be reached."""
    session = uow.session
    table_key = f"team-review:{manager_user_id}:{cycle_end.isoformat()}"
    if outbox_queries.get(session=session, team_id=team_id, post_key=table_key) is not None:
        return False
    team = _team_cycle(session, team_id, cycle_end, manager_user_id)
    if not team.goals:
        return False  # nobody on this manager's team had a cycle ending that day
    due_at = team_review_due_at(
        cycle_end, [team.zones[g.user_id] for g in team.goals], team.manager_tz
    )
    if uow.now() < due_at:
        return False
    reviews = _team_reviews(session, team_id, team)
    uow.outbox.add(
        team_id=team_id,
        post_key=table_key,
        kind=TEAM_REVIEW,
        to=to_user(manager_user_id),
        message={
            "renderer": TEAM_REVIEW_TABLE,
            "manager_user_id": manager_user_id,
            "cycle_end": cycle_end.isoformat(),
        },
    )
    uow.outbox.add(
        team_id=team_id,
        post_key=f"team-review-chart:{manager_user_id}:{cycle_end.isoformat()}",
        kind=TEAM_REVIEW_CHART,
        to=to_user(manager_user_id),
        method=UPLOAD_METHOD,
        message=quadrant_upload(
            reviews,
            first_names,
            threshold_of(session, team_id),
            title=f"Cycle ending {day_month_year(cycle_end)}",
            whose=f"your team's cycle ending {day_month(cycle_end)}",
            filename=f"team-review-{cycle_end.isoformat()}.png",
            file_title=f"Team review, cycle ending {day_month(cycle_end)}",
            comment="Process score against attainment, one dot per rep.",
        ),
    )
    return True


def _render_team_review(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The team table as it is when sent: every rep, goal or not; a rep whose review DM could
    never be sent (they can't be DMed) is said to be unreachable."""
    cycle_end = date.fromisoformat(params["cycle_end"])
    team = _team_cycle(session, team_id, cycle_end, params["manager_user_id"])
    with_goal = {g.user_id for g in team.goals}
    not_dmed = {
        g.user_id
        for g in team.goals
        if _outbox_state(session, team_id, review_dm_key(g.user_id, cycle_end)) == "failed"
    }
    return team_review_message(
        cycle_end,
        _team_reviews(session, team_id, team),
        without_goal=[rep for rep in team.reps if rep not in with_goal],
        not_dmed=not_dmed,
    )


# --- charts: the payload at queue time, the PNG at send time ----------------------------------


def quadrant_upload(
    reviews: Sequence[CycleReview],
    first_names: FirstNames,
    threshold: float,
    *,
    title: str,
    whose: str,
    filename: str,
    file_title: str,
    comment: str,
) -> dict[str, Any]:
    names = first_names([r.user_id for r in reviews]) if reviews else {}
    return upload_payload(
        QUADRANT,
        points=[
            # A rep without process evidence keeps None: drawn hollow, not as 0%. A rep with
            # too little evidence for a quadrant is labelled so, wherever the dot falls; one
            # whose score a manager calibrated says so too (the calibrated score is drawn).
            [
                names.get(r.user_id, r.user_id)
                + ("" if r.enough_evidence else " (too early)")
                + (" (calibrated)" if r.calibrated_outcomes else ""),
                r.process_score,
                r.progress.ratio,
                # What stands behind the dot: the chart says "n=…", the alt text in words.
                r.scored_outcomes,
                r.scored_checkins,
            ]
            for r in reviews
        ],
        threshold=threshold,
        title=title,
        whose=whose,
        filename=filename,
        file_title=file_title,
        comment=comment,
    )


def _quadrant_points(params: Mapping[str, Any]) -> list[charts.QuadrantPoint]:
    # A row queued before the evidence counts were carried has three fields: no "n=" then.
    return [
        charts.QuadrantPoint(
            label=str(point[0]),
            process_score=point[1],
            attainment_ratio=float(point[2]),
            scored_outcomes=int(point[3]) if len(point) > 3 else None,
            scored_checkins=int(point[4]) if len(point) > 4 else 0,
        )
        for point in params["points"]
    ]


def _render_quadrant(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> Upload:
    points = _quadrant_points(params)
    threshold = float(params["threshold"])
    chart = UploadFile(
        content=charts.quadrant_chart(points, threshold, title=params["title"]),
        filename=params["filename"],
        title=params["file_title"],
        alt_txt=charts.quadrant_alt_text(points, threshold, whose=params["whose"]),
    )
    return Upload(files=[chart], initial_comment=params["comment"])


def _render_pareto(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> Upload:
    reasons = [(str(label), int(count)) for label, count in params["reasons"]]
    chart = UploadFile(
        content=charts.pareto_chart(reasons, title=params["title"]),
        filename=params["filename"],
        title=params["file_title"],
        alt_txt=charts.pareto_alt_text(reasons, days=int(params["days"])),
    )
    return Upload(files=[chart], initial_comment=params["comment"])


def _render_timeline(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> Upload:
    history = [
        OutcomeEvent(kind=OutcomeKind(kind), at=datetime.fromisoformat(at))
        for kind, at in params["history"]
    ]
    chart = UploadFile(
        content=charts.timeline_chart(history, title=params["title"]),
        filename=params["filename"],
        title=params["file_title"],
        alt_txt=charts.timeline_alt_text(history, whose=params["whose"]),
    )
    return Upload(files=[chart], initial_comment=params["comment"])


register_message_renderer(TEAM_REVIEW_TABLE, _render_team_review)
register_renderer(QUADRANT, _render_quadrant)
register_renderer(PARETO, _render_pareto)
register_renderer(TIMELINE, _render_timeline)

__all__ = [
    "queue_rep_review",
    "queue_team_review",
    "review_dm_key",
]
