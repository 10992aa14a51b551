"""Keep our copy of a person (name, timezone) in step with Slack."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.people import SlackProfile
from bot.uow import UnitOfWork
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


def refresh_profile(
    *, session: Session, team_id: str, profile: SlackProfile, now: datetime
) -> Member | None:
    """The scheduler's re-read of someone we already know: their row is updated if it is still
    there, never made again. Between the read and this write the person may have asked to be
    forgotten, or their workspace's data been deleted; a refresh must not bring them back.
    None when the row is gone."""
    member = queries.get_member(session=session, team_id=team_id, user_id=profile.user_id)
    if member is None:
        return None
    return remember_profile(session=session, team_id=team_id, profile=profile, now=now)


def member_name(uow: UnitOfWork, *, team_id: str, user_id: str) -> str | None:
    """The person's name from our member record (None when we have none)."""
    member = queries.get_member(session=uow.session, team_id=team_id, user_id=user_id)
    return (member.display_name or None) if member is not None else None
