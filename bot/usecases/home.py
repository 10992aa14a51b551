"""What someone's Home tab shows: their facts and dashboards, read in one unit of work.

The adapter (bot.features.home) fetches the profile from Slack, builds the view from this with
bot.blocks.home and bot.blocks.dashboard, and publishes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.corrections import recent_outcomes_blocks
from bot.blocks.dashboard import home_action_buttons, manager_dashboard_blocks, rep_dashboard_blocks
from bot.blocks.home import HomeFacts, home_view
from bot.blocks.one_on_ones import agenda_blocks
from bot.domain.debriefs import OutcomeFacts
from bot.domain.one_on_ones import Agenda
from bot.domain.people import SlackProfile
from bot.uow import UnitOfWork
from bot.usecases import checkin_schedule
from bot.usecases.corrections import correctable_outcomes
from bot.usecases.dashboard import ManagerDashboard, RepDashboard, manager_dashboard, rep_dashboard
from bot.usecases.members import remember_profile
from bot.usecases.one_on_ones import agenda_of
from storage import crm_queries, kudos_queries, queries
from storage.models import Member


@dataclass(frozen=True)
class HomeData:
    facts: HomeFacts
    # Their own dashboard (None for a manager with no record of their own) and their team's.
    mine: RepDashboard | None
    team: ManagerDashboard | None
    # The one-on-one agenda they share with their manager or their reps (issue 12).
    agenda: Agenda = field(default_factory=lambda: Agenda(viewer_id=""))
    # What they logged in the last 7 days and may still correct or remove, newest first.
    recent: list[OutcomeFacts] = field(default_factory=list)


def _paused_until(member: Member, now: datetime) -> str | None:
    until = member.checkin_paused_until
    if until is None or until <= now:
        return None
    local = until.astimezone(ZoneInfo(member.tz or "UTC"))
    return f"{local.day} {local:%b %Y}"


def home_data(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    profile: SlackProfile | None,
    is_admin: bool,
) -> HomeData:
    """Remember the profile just read, and gather what `user_id`'s Home shows."""
    session = uow.session
    now = uow.now()
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    if profile is not None:
        member = remember_profile(session=session, team_id=team_id, profile=profile, now=now)
    else:
        member = queries.upsert_member(session=session, team_id=team_id, user_id=user_id)
    reports = queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
    facts = HomeFacts(
        user_id=user_id,
        display_name=member.display_name or "",
        tz=member.tz or "UTC",
        manager_user_id=member.manager_user_id,
        report_user_ids=[r.user_id for r in reports],
        recognition_channel_id=workspace.recognition_channel_id,
        checkin_weekday=workspace.checkin_weekday,
        checkin_hour=workspace.checkin_hour,
        is_admin=is_admin,
        kudos_received=kudos_queries.kudos_received_by_category(
            session=session, team_id=team_id, user_id=user_id
        ),
        gets_checkins=checkin_schedule.gets_checkins(
            session=session, team_id=team_id, user_id=user_id
        ),
        checkins_paused_until=_paused_until(member, now),
        unmatched_crm_deals=(
            crm_queries.count_needing_a_person(session=session, team_id=team_id) if is_admin else 0
        ),
    )
    mine = rep_dashboard(
        session=session,
        team_id=team_id,
        user_id=user_id,
        tz=facts.tz,
        now=now,
        cycle=workspace.cycle,
    )
    shows_mine = not reports or mine.progress is not None or bool(mine.outcomes_considered)
    team = (
        manager_dashboard(
            session=session,
            team_id=team_id,
            reps=[(rep.user_id, rep.tz or "UTC") for rep in reports],
            now=now,
            threshold=workspace.strong_process_threshold,
            min_evidence=workspace.min_evidence,
            support_streak=workspace.support_streak,
            cycle=workspace.cycle,
        )
        if reports
        else None
    )
    agenda = agenda_of(session=session, team_id=team_id, user_id=user_id, now=now)
    recent = correctable_outcomes(session=session, team_id=team_id, user_id=user_id, now=now)
    return HomeData(
        facts=facts,
        mine=mine if shows_mine else None,
        team=team,
        agenda=agenda,
        recent=recent,
    )


def dashboard_blocks(data: HomeData, now: datetime) -> list[dict[str, Any]]:
    """The dashboards for someone's Home: the one-on-one agenda first (what to talk about
    next), their own, and their team's when people report to them."""
    blocks: list[dict[str, Any]] = list(agenda_blocks(data.agenda))
    if data.mine is not None:
        blocks += rep_dashboard_blocks(data.mine, action_buttons=home_action_buttons())
    blocks += recent_outcomes_blocks(data.recent, now=now)
    if data.team is not None:
        blocks += manager_dashboard_blocks(data.team, now=now)
    return blocks


def home_view_of(data: HomeData, now: datetime) -> dict[str, Any]:
    """The whole Home view of `data` (views.publish's `view`)."""
    return home_view(data.facts, dashboard_blocks(data, now))
