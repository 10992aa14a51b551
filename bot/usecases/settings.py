"""Workspace settings: read the current ones, save a submission (no commit; the caller does)."""

from __future__ import annotations

from sqlmodel import Session

from bot.blocks.settings import settings_saved_message
from bot.domain.settings import CurrentSettings, SettingsSubmission
from bot.uow import UnitOfWork, to_user
from bot.usecases.resilience import queue_support_for_lowered_streak
from storage import queries

SETTINGS_SAVED = "settings_saved"

# The settings modal has 100 blocks at most; each team takes two (see the test that fills it).
MAX_TEAMS_IN_MODAL = 35


def current_settings(*, session: Session, team_id: str) -> CurrentSettings:
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    members = queries.list_members(session=session, team_id=team_id)
    teams: dict[str, list[str]] = {m.user_id: [] for m in members if m.is_manager}
    for member in members:
        if member.manager_user_id in teams:
            teams[member.manager_user_id].append(member.user_id)
    return CurrentSettings(
        recognition_channel_id=workspace.recognition_channel_id,
        checkin_weekday=workspace.checkin_weekday,
        checkin_hour=workspace.checkin_hour,
        kudos_policy=workspace.kudos_policy,
        strong_process_threshold=workspace.strong_process_threshold,
        teams=dict(list(teams.items())[:MAX_TEAMS_IN_MODAL]),
        digest_enabled=workspace.digest_enabled,
        reflection_retention_days=workspace.reflection_retention_days,
        cycle=workspace.cycle,
        checkin_reminder_hours=workspace.checkin_reminder_hours,
        reflection_reminder_hours=workspace.reflection_reminder_hours,
        kudos_daily_cap=workspace.kudos_daily_cap,
        data_grace_days=workspace.data_grace_days,
        min_evidence=workspace.min_evidence,
        bounce_back_min_losses=workspace.bounce_back_min_losses,
        currency=workspace.currency,
        support_streak=workspace.support_streak,
        settings_version=workspace.settings_version,
    )


class SettingsChanged(Exception):
    """Someone saved the settings after this modal was opened; nothing was saved."""


def save_settings(
    *,
    session: Session,
    team_id: str,
    submission: SettingsSubmission,
    version: int | None = None,
) -> None:
    """Replace the workspace's settings and the teams shown in the modal with what the admin
    submitted. Teams beyond the modal's limit were not shown, so they are left as they are.

    ``version`` is the settings version the modal showed: SettingsChanged when it is no longer
    current. The version is claimed first, so everything after runs with the workspace locked
    and one save never interleaves with another (None: no check, the lock only)."""
    if not queries.claim_settings_version(session=session, team_id=team_id, expected=version):
        raise SettingsChanged(team_id)
    shown_managers = set(current_settings(session=session, team_id=team_id).teams)
    queries.update_workspace_settings(
        session=session,
        team_id=team_id,
        recognition_channel_id=submission.recognition_channel_id,
        checkin_weekday=submission.checkin_weekday,
        checkin_hour=submission.checkin_hour,
        kudos_policy=submission.kudos_policy,
        strong_process_threshold=submission.strong_process_threshold,
    )
    if submission.digest_enabled is not None:
        queries.update_workspace_settings(
            session=session, team_id=team_id, digest_enabled=submission.digest_enabled
        )
    if submission.retention_submitted:
        queries.update_workspace_settings(
            session=session,
            team_id=team_id,
            reflection_retention_days=submission.reflection_retention_days,
        )
    if submission.more:
        queries.update_workspace_settings(session=session, team_id=team_id, **submission.more)
    manager_of = {rep: manager for manager, reps in submission.teams.items() for rep in reps}
    members = {m.user_id: m for m in queries.list_members(session=session, team_id=team_id)}
    for user_id in set(members) | set(manager_of) | set(submission.teams):
        member = members.get(user_id)
        hidden_team = (
            member is not None
            and member.manager_user_id is not None
            and member.manager_user_id not in shown_managers
            and user_id not in manager_of
        )
        hidden_manager = (
            member is not None
            and member.is_manager
            and user_id not in shown_managers
            and user_id not in submission.teams
        )
        queries.upsert_member(
            session=session,
            team_id=team_id,
            user_id=user_id,
            is_manager=user_id in submission.teams or hidden_manager,
            manager_user_id=member.manager_user_id if hidden_team else manager_of.get(user_id),
        )


def record_settings(
    uow: UnitOfWork,
    *,
    team_id: str,
    admin_user_id: str,
    submission: SettingsSubmission,
    version: int | None,
    submission_key: str,
) -> None:
    """Save the settings (SettingsChanged as `save_settings`) and queue the admin's "settings
    saved" DM in the same transaction: the DM goes out once, and only for a save that holds.
    A lowered streak setting brings its support, in the same transaction, to the reps already
    on a streak that long (bot.usecases.resilience; raising it sends nothing)."""
    old_streak = queries.get_or_create_workspace(
        session=uow.session, team_id=team_id
    ).support_streak
    save_settings(session=uow.session, team_id=team_id, submission=submission, version=version)
    new_streak = submission.more.get("support_streak")
    if isinstance(new_streak, int):
        queue_support_for_lowered_streak(
            uow, team_id=team_id, old_streak=old_streak, new_streak=new_streak
        )
    uow.outbox.add(
        team_id=team_id,
        # The version a save starts from is claimed once (claim_settings_version), so one key
        # per modal and version is one per save that held.
        post_key=f"settings-saved:{submission_key}:{version}",
        kind=SETTINGS_SAVED,
        to=to_user(admin_user_id),
        message=settings_saved_message(submission),
    )
