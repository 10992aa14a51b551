"""Queries behind goals, cycle reviews and the Home dashboards.

Keyword-only ``session=``, no commits (the caller owns the transaction). Everything the Home tab
shows is an aggregate the database computes (COUNT/SUM/MAX ... GROUP BY) or a bounded "latest N"
read (ORDER BY ... LIMIT), so a rep with years of history costs the same as a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, update
from sqlmodel import Session, col, select

from storage.models import CheckIn, CheckInAnswer, Goal, OutboxMessage, Outcome, Reflection
from storage.queries import _insert_if_absent

# Check-in statuses meaning "the check-in reached the person" (the response rate's denominator).
DELIVERED_CHECKIN_STATUSES = ("sent", "answered", "skipped")


# --- goals -----------------------------------------------------------------------------------


def insert_goal(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    metric: str,
    custom_metric: str | None,
    target: float,
    cycle_start: date,
    cycle_end: date,
    why: str | None,
    submission_key: str,
    now: datetime,
) -> Goal | None:
    """Save a new goal; None when this submission (same view) was already saved."""
    inserted = _insert_if_absent(
        session,
        Goal.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "user_id": user_id,
            "metric": metric,
            "custom_metric": custom_metric,
            "target": target,
            "progress": 0.0,
            "cycle_start": cycle_start,
            "cycle_end": cycle_end,
            "why": why,
            "submission_key": submission_key,
            "created_at": now,
        },
        ["team_id", "submission_key"],
    )
    if not inserted:
        return None
    statement = select(Goal).where(Goal.team_id == team_id, Goal.submission_key == submission_key)
    return session.exec(statement).one()


def get_goal(*, session: Session, team_id: str, goal_id: int) -> Goal | None:
    goal = session.get(Goal, goal_id)
    return goal if goal is not None and goal.team_id == team_id else None


def current_goal(*, session: Session, team_id: str, user_id: str, today: date) -> Goal | None:
    """The person's goal for the cycle that has not ended by ``today`` (the newest one set)."""
    statement = (
        select(Goal)
        .where(Goal.team_id == team_id, Goal.user_id == user_id, col(Goal.cycle_end) >= today)
        .order_by(col(Goal.created_at).desc(), col(Goal.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def set_goal_progress(
    *, session: Session, team_id: str, user_id: str, progress: float, today: date
) -> Goal | None:
    """Record progress reported in a check-in on the current goal; None when there is none.

    Only goals whose metric is not fed by wins take it: revenue and deals won are always
    computed from the Outcome rows, so a reported figure could only double count.
    """
    goal = current_goal(session=session, team_id=team_id, user_id=user_id, today=today)
    if goal is None or goal.metric in ("revenue", "deals_won"):
        return None
    goal.progress = progress
    session.add(goal)
    return goal


def goals_due_for_review(
    *,
    session: Session,
    ended_on_or_before: date,
    limit: int,
    after: tuple[date, int] | None = None,
) -> list[Goal]:
    """Goals (any workspace) whose cycle ended on or before the date, not reviewed yet and
    whose review DM is not queued yet (no outbox row under its key, bot.usecases.goal_reviews
    .review_dm_key), by (cycle_end, id) after `after`: a batch at a time, each batch
    going on from the last one's (cycle_end, id)."""
    review_key = literal("review:") + Goal.user_id + literal(":") + cast(Goal.cycle_end, String)
    queued = (
        select(OutboxMessage.id)
        .where(OutboxMessage.team_id == Goal.team_id, OutboxMessage.post_key == review_key)  # type: ignore[arg-type]
        .exists()
    )
    statement = select(Goal).where(
        col(Goal.cycle_end) <= ended_on_or_before, col(Goal.reviewed_at).is_(None), ~queued
    )
    if after is not None:
        last_end, last_id = after
        statement = statement.where(
            or_(
                col(Goal.cycle_end) > last_end,
                and_(col(Goal.cycle_end) == last_end, col(Goal.id) > last_id),
            )
        )
    statement = statement.order_by(col(Goal.cycle_end), col(Goal.id)).limit(limit)
    return list(session.exec(statement).all())


def mark_goals_reviewed(
    *, session: Session, team_id: str, user_id: str, cycle_end: date, now: datetime
) -> None:
    """The review DM of `user_id`'s cycle ending `cycle_end` is settled (sent, or never can be)."""
    session.execute(
        update(Goal)
        .where(
            col(Goal.team_id) == team_id,
            col(Goal.user_id) == user_id,
            col(Goal.cycle_end) == cycle_end,
            col(Goal.reviewed_at).is_(None),
        )
        .values(reviewed_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_goal_reviewed(*, session: Session, goal_id: int, now: datetime) -> None:
    session.execute(
        update(Goal)
        .where(col(Goal.id) == goal_id, col(Goal.reviewed_at).is_(None))
        .values(reviewed_at=now)
        .execution_options(synchronize_session=False)
    )


def goals_ending_on(
    *, session: Session, team_id: str, cycle_end: date, user_ids: Sequence[str]
) -> list[Goal]:
    """The newest goal per person among ``user_ids`` whose cycle ended on ``cycle_end``."""
    if not user_ids:
        return []
    statement = (
        select(Goal)
        .where(
            Goal.team_id == team_id,
            Goal.cycle_end == cycle_end,
            col(Goal.user_id).in_(list(user_ids)),
        )
        .order_by(col(Goal.created_at), col(Goal.id))
    )
    newest: dict[str, Goal] = {}
    for goal in session.exec(statement).all():
        newest[goal.user_id] = goal
    return [newest[user_id] for user_id in sorted(newest)]


def recently_ended_cycles(
    *, session: Session, ended_from: date, ended_to: date
) -> list[tuple[str, date]]:
    """Distinct (team_id, cycle_end) of goals whose cycle ended within the dates (inclusive)."""
    statement = (
        select(Goal.team_id, Goal.cycle_end)
        .where(col(Goal.cycle_end) >= ended_from, col(Goal.cycle_end) <= ended_to)
        .distinct()
        .order_by(col(Goal.cycle_end), col(Goal.team_id))
    )
    return [(team_id, cycle_end) for team_id, cycle_end in session.exec(statement).all()]


# --- outcomes: aggregates over a window -------------------------------------------------------


def _outcome_window(team_id: str, user_id: str, start: datetime, end: datetime) -> list[Any]:
    return [
        Outcome.team_id == team_id,
        Outcome.user_id == user_id,
        col(Outcome.occurred_at) >= start,
        col(Outcome.occurred_at) < end,
    ]


def win_totals(
    *, session: Session, team_id: str, user_id: str, start: datetime, end: datetime
) -> tuple[int, float]:
    """(number of wins, sum of their amounts) in [start, end)."""
    statement = select(
        func.count(col(Outcome.id)), func.coalesce(func.sum(Outcome.amount), 0)
    ).where(*_outcome_window(team_id, user_id, start, end), Outcome.kind == "win")
    count, total = session.exec(statement).one()
    return int(count), float(total or 0)


def process_score_totals(
    *, session: Session, team_id: str, user_id: str, start: datetime, end: datetime
) -> tuple[float, int]:
    """(sum of process scores, number of outcomes) in [start, end): the manager's calibrated
    score where there is one, else the rep's own."""
    statement = select(
        func.coalesce(func.sum(_effective_score()), 0.0), func.count(col(Outcome.id))
    ).where(*_outcome_window(team_id, user_id, start, end))
    total, count = session.exec(statement).one()
    return float(total or 0.0), int(count)


def _effective_score() -> Any:
    return func.coalesce(Outcome.calibrated_process_score, Outcome.process_score)


def _effective_classification() -> Any:
    return func.coalesce(Outcome.calibrated_classification, Outcome.classification)


def calibrated_count(
    *, session: Session, team_id: str, user_id: str, start: datetime, end: datetime
) -> int:
    """How many outcomes in [start, end) a manager calibrated (agreeing or not)."""
    statement = select(func.count(col(Outcome.id))).where(
        *_outcome_window(team_id, user_id, start, end), col(Outcome.calibrated_at).is_not(None)
    )
    return int(session.exec(statement).one())


def classification_counts(
    *, session: Session, team_id: str, user_id: str, start: datetime, end: datetime
) -> dict[str, int]:
    """How many outcomes of each classification in [start, end): the manager's calibrated
    one where there is one, else the rep's own."""
    label = _effective_classification().label("label")
    statement = (
        select(label, func.count(col(Outcome.id)))
        .where(*_outcome_window(team_id, user_id, start, end))
        .group_by(label)
    )
    return {classification: int(count) for classification, count in session.exec(statement).all()}


def recent_outcome_kinds(
    *, session: Session, team_id: str, user_id: str, limit: int
) -> list[tuple[str, datetime]]:
    """The person's latest ``limit`` outcomes as (kind, occurred_at), newest first."""
    statement = (
        select(Outcome.kind, Outcome.occurred_at)
        .where(Outcome.team_id == team_id, Outcome.user_id == user_id)
        .order_by(col(Outcome.occurred_at).desc(), col(Outcome.id).desc())
        .limit(limit)
    )
    return [(kind, occurred_at) for kind, occurred_at in session.exec(statement).all()]


def last_loss_at(*, session: Session, team_id: str, user_ids: Sequence[str]) -> dict[str, datetime]:
    """When each person last logged a loss (a debrief), for those who ever did."""
    if not user_ids:
        return {}
    statement = (
        select(Outcome.user_id, func.max(Outcome.occurred_at))
        .where(
            Outcome.team_id == team_id,
            Outcome.kind == "loss",
            col(Outcome.user_id).in_(list(user_ids)),
        )
        .group_by(col(Outcome.user_id))
    )
    # MAX() keeps the column's type, so the values come back as aware UTC datetimes.
    return {user_id: moment for user_id, moment in session.exec(statement).all()}


def loss_reason_counts(
    *,
    session: Session,
    team_id: str,
    user_ids: Sequence[str],
    start: datetime,
    end: datetime,
    limit: int,
) -> list[tuple[str, int]]:
    """Loss reasons of these people in [start, end), most frequent first (None = not given)."""
    if not user_ids:
        return []
    reason = func.coalesce(Outcome.reason, "")
    count = func.count(col(Outcome.id))
    statement = (
        select(reason, count)
        .where(
            Outcome.team_id == team_id,
            Outcome.kind == "loss",
            col(Outcome.user_id).in_(list(user_ids)),
            col(Outcome.occurred_at) >= start,
            col(Outcome.occurred_at) < end,
        )
        .group_by(reason)
        .order_by(count.desc(), reason)
        .limit(limit)
    )
    return [(str(name), int(number)) for name, number in session.exec(statement).all()]


# --- lessons and check-ins -------------------------------------------------------------------


def recent_lessons(*, session: Session, team_id: str, user_id: str, limit: int) -> list[Reflection]:
    """The person's latest answered reflections (their lessons), newest first."""
    statement = (
        select(Reflection)
        .where(
            Reflection.team_id == team_id,
            Reflection.user_id == user_id,
            col(Reflection.answer).is_not(None),
            col(Reflection.answer) != "",
        )
        .order_by(col(Reflection.created_at).desc(), col(Reflection.id).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())


def checkin_response_counts(
    *, session: Session, team_id: str, user_ids: Sequence[str], since: datetime, until: datetime
) -> dict[str, tuple[int, int]]:
    """Per person: (check-ins that reached them, check-ins they answered) due in [since, until)."""
    if not user_ids:
        return {}
    answered = func.sum(case((col(CheckIn.status) == "answered", 1), else_=0))
    statement = (
        select(CheckIn.user_id, func.count(col(CheckIn.id)), answered)
        .where(
            CheckIn.team_id == team_id,
            col(CheckIn.user_id).in_(list(user_ids)),
            col(CheckIn.status).in_(DELIVERED_CHECKIN_STATUSES),
            col(CheckIn.due_at) >= since,
            col(CheckIn.due_at) < until,
        )
        .group_by(col(CheckIn.user_id))
    )
    return {
        user_id: (int(sent), int(answered_count or 0))
        for user_id, sent, answered_count in session.exec(statement).all()
    }


def checkin_answers(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    start: datetime,
    end: datetime,
    limit: int = 500,
) -> list[tuple[int, str, str]]:
    """(check-in id, question key, answer) of the person's check-ins due in [start, end).

    Bounded: a cycle holds at most about fourteen weekly check-ins of a handful of answers.
    """
    statement = (
        select(CheckInAnswer.checkin_id, CheckInAnswer.question_key, CheckInAnswer.answer)
        .join(CheckIn, col(CheckIn.id) == col(CheckInAnswer.checkin_id))
        .where(
            CheckIn.team_id == team_id,
            CheckIn.user_id == user_id,
            col(CheckIn.due_at) >= start,
            col(CheckIn.due_at) < end,
        )
        .order_by(col(CheckIn.due_at), col(CheckInAnswer.id))
        .limit(limit)
    )
    return [(int(cid), key, answer or "") for cid, key, answer in session.exec(statement).all()]
