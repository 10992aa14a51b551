"""Workspaces (their settings) and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import UTCDateTime, _created_at, utcnow


class Workspace(SQLModel, table=True):
    """One Slack workspace (team) and its settings from ``/rebound settings``."""

    __tablename__ = "workspaces"
    __table_args__ = (
        # The scheduler finds due digests and workspaces past their uninstall grace by these.
        Index("ix_workspaces_next_kudos_digest", "next_kudos_digest_at"),
        Index("ix_workspaces_uninstalled", "uninstalled_at"),
    )

    team_id: str = Field(primary_key=True)
    name: str = ""
    # The Enterprise Grid org the workspace belongs to (None outside Grid). Installations are
    # stored per (enterprise, team), so scheduled sends need it to find the bot token.
    enterprise_id: str | None = None
    recognition_channel_id: str | None = None
    checkin_weekday: int = 4  # 0 = Monday; Friday by default
    checkin_hour: int = 14  # in each member's own time zone
    checkin_reminder_hours: int = 24
    kudos_policy: str = "managers"  # KUDOS_POLICIES
    kudos_daily_cap: int = 5
    strong_process_threshold: float = 0.8
    # A cycle quadrant (review, Home) is called on at least this many scored items.
    min_evidence: int = 3
    # A bounce-back is offered for a public shout-out only after at least this many losses in
    # a row (every recovery still counts in the rep's private resilience figures).
    bounce_back_min_losses: int = 2
    # This many losses in a row bring the rep private resilience support and their manager a
    # one-on-one prompt (seed 003).
    support_streak: int = 3
    # ISO 4217 code amounts are shown in (None: plain numbers).
    currency: str | None = None
    reflection_reminder_hours: int = 24
    digest_enabled: bool = True
    cycle: str = "monthly"  # CYCLES
    # Reflections older than this many days are deleted by a scheduled job; None keeps them.
    reflection_retention_days: int | None = None
    # Set when the app is uninstalled; all of the workspace's rows are deleted once
    # `data_grace_days` have passed since (a reinstall within the grace period clears it).
    uninstalled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    data_grace_days: int = 30
    # Bumped by every save of /rebound settings. The modal carries the version it showed, and a
    # save applies only while it is still current (compare-and-set), so two admins saving at
    # once never mix: the second is asked to reopen the settings.
    settings_version: int = 0
    # When the weekly kudos digest must next be looked at (None: not worked out yet). The
    # scheduler reads only workspaces whose time has come, so idle ones cost a tick nothing;
    # storage.due_times clears it whenever something it depends on changes.
    next_kudos_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class Member(SQLModel, table=True):
    """A person in a workspace, with their time zone and who they report to."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", name="uq_members_team_user"),
        Index("ix_members_team_manager", "team_id", "manager_user_id"),
        # The scheduler finds the members whose check-in or manager's digest is due, and the
        # time zones to re-read, through these instead of reading every member.
        Index("ix_members_next_checkin", "next_checkin_at"),
        Index("ix_members_next_digest", "next_digest_at"),
        Index("ix_members_tz_refreshed", "tz_refreshed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    display_name: str = ""
    tz: str = "UTC"  # IANA name from Slack's users.info
    tz_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_manager: bool = False
    manager_user_id: str | None = None
    checkin_paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_bot: bool = False
    deleted: bool = False
    # When planning must next look at this member's check-in, and at their digest as a
    # manager (None: not worked out yet). Set by the scheduler after each look; cleared by
    # storage.due_times when the member, their reports or their workspace's schedule change.
    next_checkin_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
