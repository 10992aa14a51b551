"""Check-ins, their answers, and the one-on-one agenda items they feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import UTCDateTime, _created_at, utcnow


class CheckIn(SQLModel, table=True):
    """One member's weekly check-in: scheduled, claimed by a replica, sent, answered."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "week_key", name="uq_checkins_team_user_week"),
        Index("ix_checkins_team_status_due", "team_id", "status", "due_at"),
        # The scheduler looks for due check-ins across all workspaces.
        Index("ix_checkins_status_due", "status", "due_at"),
        # Reminders: sent, not reminded, sent within the last few days (old unanswered
        # check-ins stay "sent" forever; this keeps them out of the scan).
        Index("ix_checkins_reminder_due", "status", "reminder_sent_at", "sent_at"),
        # Ids never reused on SQLite: post keys name them (see Outcome).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    week_key: str  # ISO week in the member's time zone, e.g. "2026-W48"
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = "pending"  # CHECKIN_STATUSES
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel_id: str | None = None
    message_ts: str | None = None
    # The questions as asked, [{"key": ..., "text": ...}], so later wording changes do not
    # change what an old check-in shows.
    questions: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _created_at()


class CheckInAnswer(SQLModel, table=True):
    """The answer to one question of a check-in (editable, hence updated_at)."""

    __tablename__ = "checkin_answers"
    __table_args__ = (
        UniqueConstraint("checkin_id", "question_key", name="uq_checkin_answers_checkin_question"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    checkin_id: int = Field(foreign_key="checkins.id", ondelete="CASCADE")
    question_key: str
    question: str
    answer: str = ""
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class OneOnOneItem(SQLModel, table=True):
    """A check-in answer a manager replied to from the digest and put on the one-on-one agenda
    they share with the rep (both see it on their Home)."""

    __tablename__ = "one_on_one_items"
    __table_args__ = (
        # A retried view_submission adds the item once.
        UniqueConstraint("team_id", "submission_key", name="uq_one_on_one_items_submission"),
        # The Home reads one person's open items (done_at is null), newest first, and counts
        # those closed lately: both a range of these, whatever the number closed long ago.
        Index(
            "ix_one_on_one_items_team_rep_done", "team_id", "rep_user_id", "done_at", "created_at"
        ),
        Index(
            "ix_one_on_one_items_team_manager_done",
            "team_id",
            "manager_user_id",
            "done_at",
            "created_at",
        ),
        # Ids never reused on SQLite: post keys name them (see Outcome).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    manager_user_id: str
    rep_user_id: str
    checkin_id: int = Field(foreign_key="checkins.id", ondelete="CASCADE")
    # The answer as the rep gave it when the manager replied (a later edit doesn't change it).
    question: str
    answer: str
    reply: str
    submission_key: str
    created_at: datetime = _created_at()
    # Marked done (talked about) by the rep, their manager or an admin: off both Homes then.
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = None
