"""`/goal`: the current goal's progress or the modal to set one, and saving it (the "goal
saved" DM queued in the same unit of work). The cycle reviews are bot.usecases.goal_reviews."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.blocks.goals import (
    GoalDefaults,
    goal_saved_message,
)
from bot.domain.people import SlackProfile
from bot.uow import UnitOfWork, to_user
from bot.usecases.goal_reviews import GOAL_SAVED, tz_of
from bot.usecases.goals import (
    GoalProgress,
    GoalSubmission,
    goal_progress,
    local_today,
    offered_cycle,
    save_goal,
)
from bot.usecases.members import remember_profile
from storage import goals_queries, queries

log = logging.getLogger(__name__)


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
