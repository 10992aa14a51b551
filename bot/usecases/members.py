"""Keep our copy of a person (name, timezone) in step with Slack."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.people import SlackProfile
from storage import queries
from storage.models import Member


def remember_profile(
    *, session: Session, team_id: str, profile: SlackProfile, now: datetime
) -> Member:
    return queries.upsert_member(
        session=session,
        team_id=team_id,
        user_id=profile.user_id,
        display_name=profile.display_name,
        tz=profile.tz,
        tz_refreshed_at=now,
        is_bot=profile.is_bot,
        deleted=profile.deleted,
    )
