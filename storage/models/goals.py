"""Goals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import UTCDateTime, _created_at


class Goal(SQLModel, table=True):
    """A SMART goal for one cycle (``/goal``)."""

    __tablename__ = "goals"
    __table_args__ = (
        Index("ix_goals_team_user_cycle_end", "team_id", "user_id", "cycle_end"),
        # A retried or double-clicked /goal modal saves one goal.
        UniqueConstraint("team_id", "submission_key", name="uq_goals_team_submission"),
        # The cycle-review job looks for ended cycles not reviewed yet, across workspaces.
        Index("ix_goals_cycle_end_reviewed", "cycle_end", "reviewed_at"),
        # ... equality on reviewed_at first, so reviewed history is never scanned.
        Index("ix_goals_review_due", "reviewed_at", "cycle_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    metric: str  # GOAL_METRICS
    custom_metric: str | None = None
    target: float
    progress: float = 0.0
    cycle_start: date
    cycle_end: date
    why: str | None = None
    # Slack view id of the modal that created the goal (None for goals made elsewhere).
    submission_key: str | None = None
    # Set once the end-of-cycle review DM went out.
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
