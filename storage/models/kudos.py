"""Kudos and who received them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import UTCDateTime, _created_at


class Kudos(SQLModel, table=True):
    """Recognition given with ``/kudos``; posted to the recognition channel."""

    __tablename__ = "kudos"
    __table_args__ = (
        # The daily cap counts one giver's kudos since a given time.
        Index("ix_kudos_team_giver_created", "team_id", "giver_user_id", "created_at"),
        Index("ix_kudos_team_created", "team_id", "created_at"),
        # One kudos per slash command (trigger id) or modal (view id), whatever Slack retries.
        UniqueConstraint("team_id", "submission_key", name="uq_kudos_team_submission"),
        # The scheduler looks for kudos still waiting for a recognition channel.
        Index("ix_kudos_status", "status"),
        # Ids never reused on SQLite: post keys name them (see Outcome).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    giver_user_id: str
    category: str  # one of bot.usecases.kudos.CATEGORIES, or "" when none was given
    message: str
    status: str = "pending"  # KUDOS_STATUSES
    channel_id: str | None = None
    message_ts: str | None = None
    submission_key: str | None = None
    created_at: datetime = _created_at()


class KudosRecipient(SQLModel, table=True):
    """One person recognised by a kudos (a kudos may name several)."""

    __tablename__ = "kudos_recipients"
    __table_args__ = (
        UniqueConstraint("kudos_id", "user_id", name="uq_kudos_recipients_kudos_user"),
        Index("ix_kudos_recipients_team_user", "team_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    kudos_id: int = Field(foreign_key="kudos.id", ondelete="CASCADE")
    user_id: str
    # Their DM about it: "pending" (not tried yet, or a try in flight), "retry" (one try
    # failed; the scheduler tries once more), "sent", or "failed" (gave up).
    dm_status: str = "pending"
    dm_attempts: int = 0
    dm_attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
