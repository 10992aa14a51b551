"""Who someone is in Slack: admin rights and timezone, read from `users.info`."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackProfile:
    user_id: str
    display_name: str
    tz: str
    is_admin: bool
    is_bot: bool
    deleted: bool


def profile_from_user(user: dict[str, Any]) -> SlackProfile:
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user["id"]
    )
    return SlackProfile(
        user_id=user["id"],
        display_name=name,
        tz=user.get("tz") or "UTC",
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
        deleted=bool(user.get("deleted")),
    )


def fetch_profile(client: WebClient, user_id: str) -> SlackProfile | None:
    """The user's profile, or None when Slack does not know them."""
    try:
        response = client.users_info(user=user_id)
    except SlackApiError as error:
        log.warning("users.info %s failed: %s", user_id, error.response.get("error"))
        return None
    return profile_from_user(response["user"])


def is_rebound_admin(
    profile: SlackProfile | None, user_id: str, configured_admins: Collection[str]
) -> bool:
    """Workspace owners/admins and REBOUND_ADMINS may change Rebound's settings."""
    if user_id in configured_admins:
        return True
    return bool(profile and profile.is_admin)
