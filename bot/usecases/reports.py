"""`/rebound report`: a manager's (or a rep's own) charts on demand, queued as uploads that are
drawn when they are sent (bot.usecases.goal_reviews registers the renderers)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import charts
from bot.blocks.goals import (
    review_table_lines,
    timeline_comment,
)
from bot.domain.pareto import (
    control_split,
    control_summary,
    loss_total,
    too_early_for_pattern,
    too_early_text,
)
from bot.slack_text import escape_mrkdwn
from bot.uow import UnitOfWork, to_user
from bot.uploads import (
    UPLOAD_METHOD,
    upload_payload,
)
from bot.usecases.dashboard import PARETO_DAYS, PARETO_REASONS, labelled_reasons
from bot.usecases.goal_reviews import (
    PARETO,
    REPORT_CHART,
    TIMELINE,
    TIMELINE_OUTCOMES,
    FirstNames,
    min_evidence_of,
    quadrant_upload,
    threshold_of,
)
from bot.usecases.goals import (
    CycleReview,
    local_today,
    review_cycle,
)
from storage import goals_queries, queries

log = logging.getLogger(__name__)


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
