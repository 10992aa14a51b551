"""Sending to Slack: the outbox, the log of posts, and the shared slots of rate-limited
methods.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import UTCDateTime


class PostLog(SQLModel, table=True):
    """Exactly-once log of the sender that came before the outbox (OutboxMessage now).

    That sender claimed ``post_key`` (unique per team) before sending. Only read today, so a
    weekly kudos digest it sent is not sent again (bot.usecases.kudos.queue_digest).
    """

    __tablename__ = "post_log"
    __table_args__ = (
        UniqueConstraint("team_id", "post_key", name="uq_post_log_team_key"),
        # Finding claims that were never completed (a replica died mid-send).
        Index("ix_post_log_status_claimed", "status", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    post_key: str
    kind: str
    channel_id: str | None = None
    message_ts: str | None = None
    status: str = "claimed"  # POST_STATUSES
    claimed_by: str | None = None
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0


class OutboxMessage(SQLModel, table=True):
    """One message (or upload, or Home publish) to send to Slack, written in the same
    transaction as the fact that caused it; the dispatcher (bot.dispatcher) sends it.

    ``post_key`` is unique per team: enqueueing the same key twice keeps the first row, and
    every chat.postMessage carries the key in its message metadata, so a send whose outcome
    was unknown is looked up in the conversation before it is ever sent again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "post_key", name="uq_outbox_team_key"),
        # The dispatcher's one query: due rows by state and time, so idle workspaces cost nothing.
        Index("ix_outbox_state_not_before", "state", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    post_key: str
    kind: str
    target_kind: str = "channel"  # OUTBOX_TARGETS
    target_id: str | None = None  # channel or user id; None for the recognition channel
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    method: str = "chat.postMessage"
    not_before: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = 0  # sends that reached Slack (a 429 is not an attempt)
    state: str = "pending"  # OUTBOX_STATES
    claimed_by: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    # The conversation the last attempt went to (a DM's channel, the recognition channel as
    # it was then): where reconciliation looks for the post key.
    attempt_channel: str | None = None
    # An upload's attempts: the first file id of each (comma-separated), recorded before its
    # share (files.completeUploadExternal) is asked for; files.info on them says whether a
    # share whose answer was lost happened.
    attempt_files: str | None = None
    # Where the history search for an unknown post stopped: the next page's cursor, read by
    # whichever process takes the next slot.
    history_cursor: str | None = None
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_channel: str | None = None
    sent_ts: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiSlot(SQLModel, table=True):
    """When a workspace may next call a Slack method that every process shares one small
    allowance of (conversations.history for reconciliation: 1 request a minute per workspace
    for apps outside the Marketplace). In the database, so three processes take one slot, not
    three (storage.outbox_queries.take_api_slot)."""

    __tablename__ = "api_slots"

    team_id: str = Field(primary_key=True)
    method: str = Field(primary_key=True)
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
