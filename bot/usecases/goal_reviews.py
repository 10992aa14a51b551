"""Goals' messages and uploads: the "goal saved" DM, the end-of-cycle reviews (each rep's DM, each
manager's table and chart) and `/rebound report`'s charts.

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
    GoalDefaults,
    day_month,
    day_month_year,
    goal_saved_message,
    review_message,
    review_table_lines,
    team_review_message,
    timeline_comment,
)
from bot.domain import (
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_STRONG_PROCESS_THRESHOLD,
    OutcomeEvent,
    OutcomeKind,
)
from bot.domain.pareto import (
    control_split,
    control_summary,
    loss_total,
    too_early_for_pattern,
    too_early_text,
)
from bot.domain.people import SlackProfile
from bot.outbox_hooks import register_hooks
from bot.slack_text import escape_mrkdwn
from bot.uow import UnitOfWork, to_user
from bot.uploads import (
    UPLOAD_METHOD,
    Upload,
    UploadFile,
    register_message_renderer,
    register_renderer,
    upload_payload,
)
from bot.usecases.dashboard import PARETO_DAYS, PARETO_REASONS, labelled_reasons
from bot.usecases.goals import (
    CycleReview,
    GoalProgress,
    GoalSubmission,
    goal_progress,
    local_today,
    offered_cycle,
    rep_review_due_at,
    review_cycle,
    save_goal,
    team_review_due_at,
)
from bot.usecases.members import remember_profile
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


# --- /goal -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalOrCycle:
    """What `/goal` shows: the current goal's progress, or the modal on the offered cycle."""

    progress: GoalProgress | None
    cycle: tuple[date, date]


def goal_or_cycle(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    fetch_profile: Callable[[], SlackProfile | None],
) -> GoalOrCycle:
    """The person's goal for today (their today) with its progress, else the cycle to offer.
    Their profile is fetched from Slack (`fetch_profile`) only when their time zone was never
    read."""
    session = uow.session
    now = uow.now()
    member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
    if member is None or member.tz_refreshed_at is None:
        profile = fetch_profile()
        if profile is not None:
            member = remember_profile(session=session, team_id=team_id, profile=profile, now=now)
    tz = member.tz if member is not None and member.tz else "UTC"
    today = local_today(now, tz)
    goal = goals_queries.current_goal(
        session=session, team_id=team_id, user_id=user_id, today=today
    )
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    return GoalOrCycle(
        progress=goal_progress(session=session, goal=goal, tz=tz, until=now) if goal else None,
        cycle=offered_cycle(today, workspace.cycle),
    )


@dataclass(frozen=True)
class NotYourGoal:
    """The goal asked for is someone else's (their id), or there is no such goal (None)."""

    owner_user_id: str | None


def goal_to_change(
    uow: UnitOfWork, *, team_id: str, user_id: str, goal_id: int | None
) -> GoalDefaults | NotYourGoal:
    """What the goal modal starts with when `user_id` changes goal `goal_id` of theirs."""
    goal = (
        goals_queries.get_goal(session=uow.session, team_id=team_id, goal_id=goal_id)
        if goal_id is not None
        else None
    )
    if goal is None or goal.user_id != user_id:
        return NotYourGoal(goal.user_id if goal is not None else None)
    return GoalDefaults(
        cycle_start=goal.cycle_start,
        cycle_end=goal.cycle_end,
        metric=goal.metric,
        custom_metric=goal.custom_metric,
        target=goal.target,
        why=goal.why,
        goal_id=goal.id,
    )


@dataclass(frozen=True)
class GoalForm:
    tz: str
    # The owner of the goal the form replaces (None: a new goal, or none by that id).
    replaced_owner: str | None


def goal_form(
    uow: UnitOfWork, *, team_id: str, user_id: str, replacing_goal_id: int | None
) -> GoalForm:
    session = uow.session
    replaced = (
        goals_queries.get_goal(session=session, team_id=team_id, goal_id=replacing_goal_id)
        if replacing_goal_id is not None
        else None
    )
    return GoalForm(
        tz=tz_of(session, team_id, user_id),
        replaced_owner=replaced.user_id if replaced is not None else None,
    )


def record_goal(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    tz: str,
    submission: GoalSubmission,
    submission_key: str,
    replacing_goal_id: int | None,
) -> GoalProgress | None:
    """Save the goal and queue the "goal saved" DM; None when this submission was saved before."""
    now = uow.now()
    goal = save_goal(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        submission=submission,
        submission_key=submission_key,
        replacing_goal_id=replacing_goal_id,
        now=now,
    )
    if goal is None:
        return None
    progress = goal_progress(session=uow.session, goal=goal, tz=tz, until=now)
    uow.outbox.add(
        team_id=team_id,
        post_key=f"goal-set:{submission_key}",
        kind=GOAL_SAVED,
        to=to_user(user_id),
        message=goal_saved_message(progress),
    )
    return progress


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


# --- /rebound report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQueued:
    """What `/rebound report` queued: the team's charts (`subject` None) or one timeline."""

    subject: str | None


class NotYourReport(Exception):
    """Asked for someone who is neither the asker nor one of their reps."""


def queue_report(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    subject: str | None,
    request_key: str,
    first_names: FirstNames,
    whose: Callable[[str], str],
) -> ReportQueued:
    """A manager's team (no `subject`): the quadrant chart of the cycle so far and the loss
    reasons, both to their DM. A rep's bounce-back timeline for `subject` (a manager's rep, or
    oneself; a rep without a team gets their own). NotYourReport for anyone else."""
    session = uow.session
    now = uow.now()
    reps = queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
    rep_ids = {rep.user_id for rep in reps}
    if subject is not None and subject not in rep_ids | {user_id}:
        raise NotYourReport(subject)
    key = f"report:{user_id}:{request_key}"
    threshold = threshold_of(session, team_id)
    min_evidence = min_evidence_of(session, team_id)
    if subject is None and reps:
        reviews: list[CycleReview] = []
        without_goal: list[str] = []
        for rep in reps:
            tz = rep.tz or "UTC"
            goal = goals_queries.current_goal(
                session=session, team_id=team_id, user_id=rep.user_id, today=local_today(now, tz)
            )
            if goal is None:
                without_goal.append(rep.user_id)
                continue
            reviews.append(
                review_cycle(
                    session=session,
                    goal=goal,
                    tz=tz,
                    threshold=threshold,
                    until=now,
                    min_evidence=min_evidence,
                )
            )
        reasons = labelled_reasons(
            goals_queries.loss_reason_counts(
                session=session,
                team_id=team_id,
                user_ids=sorted(rep_ids),
                start=now - timedelta(days=PARETO_DAYS),
                end=now + timedelta(seconds=1),
                limit=PARETO_REASONS,
            )
        )
        table = (
            "\n".join(review_table_lines(reviews, ended=False, without_goal=without_goal))
            if reviews
            else "Nobody on your team has a goal set yet."
        )
        _queue_chart(
            uow,
            team_id,
            user_id,
            f"{key}:quadrants",
            quadrant_upload(
                reviews,
                first_names,
                threshold,
                title="Cycle so far",
                whose="your team's cycle so far",
                filename="team-quadrants.png",
                file_title="Your team's cycle so far",
                comment=table,
            ),
        )
        if too_early_for_pattern(reasons):
            counted = ", ".join(
                f"{escape_mrkdwn(label or 'No reason given')} {count}" for label, count in reasons
            )
            pareto_comment = (
                f"Loss reasons so far: {counted}. {too_early_text(loss_total(reasons))}"
            )
        else:
            vital = ", ".join(escape_mrkdwn(r) for r in charts.vital_few(reasons))
            pareto_comment = (
                "The few reasons behind most losses: " + (vital or "no losses logged") + "."
            )
        if reasons:
            pareto_comment += f" {control_summary(control_split(reasons))}"
        _queue_chart(
            uow,
            team_id,
            user_id,
            f"{key}:pareto",
            upload_payload(
                PARETO,
                reasons=[[label, count] for label, count in reasons],
                title=f"Why we lose (last {PARETO_DAYS} days)",
                days=PARETO_DAYS,
                filename="loss-reasons.png",
                file_title="Loss reasons",
                comment=pareto_comment,
            ),
        )
        return ReportQueued(subject=None)
    subject = subject or user_id
    rows = goals_queries.recent_outcome_kinds(
        session=session, team_id=team_id, user_id=subject, limit=TIMELINE_OUTCOMES
    )
    _queue_chart(
        uow,
        team_id,
        user_id,
        f"{key}:timeline:{subject}",
        upload_payload(
            TIMELINE,
            history=[[kind, at.isoformat()] for kind, at in rows],
            title="Bounce-backs",
            whose=whose(subject),
            filename="bounce-backs.png",
            file_title="Bounce-back timeline",
            comment=timeline_comment(subject, len(rows)),
        ),
    )
    return ReportQueued(subject=subject)


def _queue_chart(
    uow: UnitOfWork, team_id: str, user_id: str, post_key: str, payload: dict[str, Any]
) -> None:
    uow.outbox.add(
        team_id=team_id,
        post_key=post_key,
        kind=REPORT_CHART,
        to=to_user(user_id),
        method=UPLOAD_METHOD,
        message=payload,
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
    "NotYourReport",
    "ReportQueued",
    "queue_report",
    "queue_rep_review",
    "queue_team_review",
    "record_goal",
    "review_dm_key",
]
