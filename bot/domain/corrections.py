"""Correcting or removing an outcome: which ones a rep may still change. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

# A rep may correct or remove an outcome they logged this long ago at most.
CORRECTION_WINDOW = timedelta(days=7)


def correctable(occurred_at: datetime, now: datetime) -> bool:
    """Whether an outcome logged at `occurred_at` may still be corrected or removed at `now`."""
    return now - occurred_at <= CORRECTION_WINDOW
