"""What every table module shares: the UTC datetime column type, money, the created-at
default, and the allowed values of the enum-like string columns (they match ``bot/domain/``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    Numeric,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

# Values of the string columns that act as enums.
OUTCOME_KINDS = ("win", "loss")


CLASSIFICATIONS = ("system-hit", "lucky-hit", "system-miss", "perfect-miss")


KUDOS_POLICIES = ("managers", "everyone")


CYCLES = ("monthly", "quarterly")


KUDOS_STATUSES = ("pending", "posted")


CHECKIN_STATUSES = ("pending", "claimed", "sent", "answered", "skipped")


GOAL_METRICS = ("revenue", "deals_won", "meetings", "custom")


POST_STATUSES = ("claimed", "sent", "failed")


# The life of an outbox row (see storage.outbox_queries): pending -> sending -> sent | failed,
# or sending -> unknown (Slack may or may not have it) -> reconciled -> sent | pending.
OUTBOX_STATES = ("pending", "sending", "unknown", "sent", "failed")


# Who a row goes to; "recognition_channel" is read from the workspace's settings at send time.
# "sent_post": target_id is another row's post key; a chat.delete of that row's message goes to
# the channel and ts it was sent with (bot.dispatcher).
OUTBOX_TARGETS = ("channel", "user", "recognition_channel", "sent_post")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (default for created_at-style columns)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that only accepts aware values and returns aware UTC.

    Naive datetimes are refused rather than guessed at: a naive value in the domain is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware values only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite hands back the naive UTC text we stored; PostgreSQL an aware value in the
        # session's time zone.
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# Money: exact to the cent in the database, a float in Python (the domain does float maths).
Money = Numeric(14, 2, asdecimal=False)
