"""What the running app remembers between requests and ticks: Slack events already handled,
the scheduler's marks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import UTCDateTime


class ProcessedEvent(SQLModel, table=True):
    """Slack Events API ``event_id``s already handled, so Slack's retries are ignored."""

    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("team_id", "event_id", name="uq_processed_events_team_event"),
        # Old rows are pruned by age.
        Index("ix_processed_events_received", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    event_id: str
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SchedulerMark(SQLModel, table=True):
    """The latest ``now`` each scheduled job has run with. Stored due times were worked out
    at some moment; a clock moved back past it (tests do; an operator may) makes them too
    late, and the job clears them when it sees its mark ahead of ``now``."""

    __tablename__ = "scheduler_marks"

    name: str = Field(primary_key=True)
    last_now: datetime = Field(sa_type=UTCDateTime, nullable=False)
