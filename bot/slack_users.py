"""Who someone is in Slack: admin rights and timezone, read from `users.info`."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.people import SlackProfile

log = logging.getLogger(__name__)


def profile_from_user(user: dict[str, Any]) -> SlackProfile:
    profile = user.get("profile") or {}
    # The full name reads best in greetings and charts ("Hi Leo"); the display name is often
    # empty or a lower-case handle.
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
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


# Slack's answers to `users.info` that mean "there is no such person".
NO_SUCH_USER_ERRORS = frozenset({"user_not_found", "users_not_found"})


class SlackUnavailable(Exception):
    """Slack didn't answer a lookup (rate limited beyond the client's retries, a server error,
    no connection): nothing is known about the person either way."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def lookup_profile(client: WebClient, user_id: str) -> SlackProfile | None:
    """The user's profile, or None only when Slack says there is no such user.

    Unlike `fetch_profile`, a rate limit or an outage raises `SlackUnavailable`, so callers can
    say "try again" instead of "I couldn't find them" or "you're not allowed"."""
    try:
        response = client.users_info(user=user_id)
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        if code in NO_SUCH_USER_ERRORS:
            return None
        log.warning("users.info %s failed: %s", user_id, code)
        raise SlackUnavailable(code) from error
    except OSError as error:  # connection refused or timed out, after the client's retries
        log.warning("users.info %s failed: %s", user_id, error)
        raise SlackUnavailable(type(error).__name__) from error
    return profile_from_user(response["user"])


def is_rebound_admin(
    profile: SlackProfile | None, user_id: str, configured_admins: Collection[str]
) -> bool:
    """Workspace owners/admins and REBOUND_ADMINS may change Rebound's settings."""
    if user_id in configured_admins:
        return True
    return bool(profile and profile.is_admin)
