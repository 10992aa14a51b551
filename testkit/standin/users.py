"""The stand-in's users.* methods and the user objects they answer (testkit.standin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from testkit.standin.records import SlackApiErrorAnswer, StandInUser
from testkit.standin.state import StandInState

_TZ_LABELS: dict[str, tuple[str, str]] = {
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "America/Chicago": ("Central Standard Time", "Central Daylight Time"),
    "America/Denver": ("Mountain Standard Time", "Mountain Daylight Time"),
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "Europe/Berlin": ("Central European Time", "Central European Summer Time"),
    "Europe/Paris": ("Central European Time", "Central European Summer Time"),
    "Asia/Tokyo": ("Japan Standard Time", "Japan Standard Time"),
    "UTC": ("Coordinated Universal Time", "Coordinated Universal Time"),
}


def _tz_label_and_offset(tz_name: str, now: datetime | None = None) -> tuple[str, int]:
    zone = ZoneInfo(tz_name)
    local = (now or datetime.now(zone)).astimezone(zone)
    offset = local.utcoffset()
    offset_seconds = int(offset.total_seconds()) if offset is not None else 0
    labels = _TZ_LABELS.get(tz_name)
    if labels is None:
        return local.tzname() or tz_name, offset_seconds
    in_daylight_time = bool(local.dst())
    return labels[1] if in_daylight_time else labels[0], offset_seconds


class UsersMethods(StandInState):
    def _known_user(self, user_id: Any) -> StandInUser:
        user = self.users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise SlackApiErrorAnswer("user_not_found")
        return user

    def _user_object(self, user: StandInUser) -> dict[str, Any]:
        tz_label, tz_offset = _tz_label_and_offset(user.tz)
        profile: dict[str, Any] = {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "team": self.team_id,
        }
        if user.is_bot:
            profile["bot_id"] = self.bot_id
        if user.email is not None:
            profile["email"] = user.email
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": user.is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }

    def _users_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"user": self._user_object(self._known_user(params.get("user")))}

    def _users_lookup_by_email(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # https://docs.slack.dev/reference/methods/users.lookupByEmail: "Find a user with an
        # email address" (required argument `email`, scope users:read.email); the answer is the
        # same user object as users.info's, and an address nobody in the workspace has is the
        # error `users_not_found`.
        email = str(params.get("email") or "").strip().lower()
        if not email:
            raise SlackApiErrorAnswer("invalid_arguments")
        for user in self.users.values():
            if user.email is not None and user.email.lower() == email:
                return {"user": self._user_object(user)}
        raise SlackApiErrorAnswer("users_not_found")

    def _users_list(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        members = [self._user_object(user) for user in self.users.values()]
        cursor = str(params.get("cursor") or "")
        start = int(cursor) if cursor.isdigit() else 0
        limit = int(params.get("limit") or 0)
        if limit <= 0:
            return {"members": members[start:], "response_metadata": {"next_cursor": ""}}
        page = members[start : start + limit]
        next_start = start + limit
        next_cursor = str(next_start) if next_start < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}
