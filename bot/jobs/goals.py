"""The end-of-cycle review: each rep's DM at 09:00 their time the day after the cycle ends, then
each manager's table and chart once their reps' reviews are settled (bot.usecases.goal_reviews)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from slack_sdk import WebClient

from bot.app import Deps, make_web_client
from bot.scheduler import ScheduledJob
from bot.slack_clients import TeamClients
from bot.slack_users import fetch_profile
from bot.usecases import goal_reviews

log = logging.getLogger(__name__)
REVIEW_BATCH = 200
# Team reviews are looked for this long after a cycle ends (a rep's DM may wait for their
# midnight, and a review DM still on its way holds the table back).
TEAM_REVIEW_WINDOW = timedelta(days=14)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    clients = team_clients(deps)

    def cycle_reviews(now: datetime) -> None:
        run_cycle_reviews(deps, clients)

    return [("goals.cycle_reviews", cycle_reviews)]


def team_clients(deps: Deps) -> TeamClients:
    """Clients for Slack reads (people's names), one per workspace in OAuth mode."""
    return TeamClients(
        make_web_client(deps.settings, metrics=deps.metrics),
        deps.oauth.bot_token_for if deps.oauth is not None else None,
    )


def first_names(client: WebClient) -> goal_reviews.FirstNames:
    def names(user_ids: Sequence[str]) -> Mapping[str, str]:
        found: dict[str, str] = {}
        for user_id in user_ids:
            profile = fetch_profile(client, user_id)
            if profile is not None and profile.display_name.split():
                found[user_id] = profile.display_name.split()[0]
        return found

    return names


def run_cycle_reviews(deps: Deps, clients: TeamClients) -> None:
    """Queue every rep review that is due (a batch at a time), then every team review."""
    after: tuple[date, int] | None = None
    while True:
        with deps.uow() as uow:
            due = goal_reviews.reviews_due(uow, after=after, limit=REVIEW_BATCH)
        for goal_id, team_id, cycle_end in due:
            after = (cycle_end, goal_id)
            if not clients.is_installed(team_id):
                continue  # uninstalled: its data waits for deletion, there is no one to tell
            try:
                with deps.uow() as uow:
                    goal_reviews.queue_rep_review(uow, goal_id=goal_id)
            except Exception:  # one rep's failure must not stop everyone else's review
                log.exception("cycle review of goal %s in %s failed", goal_id, team_id)
        if len(due) < REVIEW_BATCH:
            break
    with deps.uow() as uow:
        cycles = goal_reviews.recently_ended_cycles(uow, window=TEAM_REVIEW_WINDOW)
    for team_id, cycle_end in cycles:
        if not clients.is_installed(team_id):
            continue
        with deps.uow() as uow:
            managers = goal_reviews.managers_of(uow, team_id=team_id)
        names = first_names(clients.client_for(team_id))
        for manager in managers:
            try:
                with deps.uow() as uow:
                    goal_reviews.queue_team_review(
                        uow,
                        team_id=team_id,
                        cycle_end=cycle_end,
                        manager_user_id=manager,
                        first_names=names,
                    )
            except Exception:  # one manager's failure must not stop the others'
                log.exception("team review for %s in %s failed", manager, team_id)
