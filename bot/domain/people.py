"""A person as Rebound knows them from Slack's profile: produced by bot.slack_users (which reads
Slack), used by the use cases that save members and check kudos recipients."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlackProfile:
    user_id: str
    display_name: str
    tz: str
    is_admin: bool
    is_bot: bool
    deleted: bool
