"""Queries behind a debrief's shout-out (a perfect miss, a bounce-back): the rep's consent,
taking it back, and where it was posted or failed.

Keyword-only ``session=``, no commit inside; the writes a retry or a double click may repeat
are compare-and-set. Re-exported by storage.debriefs_queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col

from storage.models import (
    Outcome,
)
from storage.outcome_queries import counted_classification

# A shout-out that failed in the recognition channel (the bot isn't in it, ...) is tried there
# again after this long, in case someone invited the bot; another channel is tried at once.
FAILED_CHANNEL_RETRY = timedelta(hours=6)


def record_celebration_consent(
    *, session: Session, team_id: str, outcome_id: int, user_id: str, consent: bool
) -> bool:
    """The rep's first answer to "celebrate this perfect miss?" (or "share this bounce-back?",
    only when they were asked) wins; True if this one did."""
    result = session.execute(
        update(Outcome)
        .where(
            col(Outcome.id) == outcome_id,
            col(Outcome.team_id) == team_id,
            col(Outcome.user_id) == user_id,
            or_(
                # A perfect miss as counted now: a loss the manager calibrated out of it can
                # no longer be agreed to (checked in the write, so a click racing the
                # calibration loses), one calibrated into it can.
                counted_classification() == "perfect-miss",
                col(Outcome.bounce_back_offered_at).is_not(None),
            ),
            col(Outcome.celebrate_consent).is_(None),
        )
        .values(celebrate_consent=consent)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _stamp_once(session: Session, outcome_id: int, column: Any, now: datetime) -> None:
    """Set the outcome's ``column`` to ``now`` unless it is set already: a retry or a second
    click keeps the first time."""
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(column).is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )


def mark_bounce_back_agreed(*, session: Session, outcome_id: int, now: datetime) -> None:
    """The rep agreed to share their bounce-back: its shout-out is pending until posted."""
    _stamp_once(session, outcome_id, Outcome.bounce_back_pending_since, now)


def take_back_shout_out(
    *, session: Session, team_id: str, outcome_id: int, user_id: str, now: datetime
) -> bool:
    """The rep takes back the shout-out they agreed to; True the first time (a second click, or
    two at once, finds it taken back already). Nothing of theirs is pending any more."""
    result = session.execute(
        update(Outcome)
        .where(
            col(Outcome.id) == outcome_id,
            col(Outcome.team_id) == team_id,
            col(Outcome.user_id) == user_id,
            col(Outcome.celebrate_consent).is_(True),
            col(Outcome.shout_out_taken_back_at).is_(None),
        )
        .values(shout_out_taken_back_at=now, bounce_back_pending_since=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_celebration_posted(*, session: Session, outcome_id: int, now: datetime) -> None:
    _stamp_once(session, outcome_id, Outcome.celebration_posted_at, now)


def mark_celebration_failed(
    *, session: Session, outcome_id: int, channel_id: str, now: datetime
) -> None:
    """The shout-out can't be posted in ``channel_id`` (the bot isn't in it, it's gone): not
    tried there again for FAILED_CHANNEL_RETRY; a different recognition channel at once."""
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.celebration_posted_at).is_(None))
        .values(celebration_failed_channel_id=channel_id, celebration_failed_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_bounce_back_posted(*, session: Session, outcome_id: int) -> None:
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id)
        .values(
            bounce_back_pending_since=None,
            bounce_back_failed_channel_id=None,
            bounce_back_failed_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def mark_bounce_back_failed(
    *, session: Session, outcome_id: int, channel_id: str, now: datetime
) -> None:
    """Like mark_celebration_failed, for the bounce-back shout-out."""
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.bounce_back_pending_since).is_not(None))
        .values(bounce_back_failed_channel_id=channel_id, bounce_back_failed_at=now)
        .execution_options(synchronize_session=False)
    )
