"""What the settings modal, its parser and the saved message share: the choices offered, their
limits, the block ids the parser looks for, and how values are written for people."""

from __future__ import annotations

from bot.slack_text import plural

SETTINGS_CALLBACK_ID = "rebound_settings"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KUDOS_POLICIES = {
    "managers": "Managers and admins",
    "everyone": "Everyone",
}
# Empty manager/reps pairs offered beyond the teams that already exist.
SPARE_TEAM_ROWS = 2
MIN_THRESHOLD = 0.2
CYCLES = {"monthly": "Monthly", "quarterly": "Quarterly"}
REMINDER_HOURS = (4, 8, 24, 48, 72)
MAX_KUDOS_CAP = 50
MAX_GRACE_DAYS = 365
DIGEST_OPTION_VALUE = "on"
RETENTION_BLOCK_ID = "reflection_retention"
MAX_RETENTION_DAYS = 3650
MIN_EVIDENCE_BLOCK_ID = "min_evidence"
BOUNCE_BACK_MIN_LOSSES_BLOCK_ID = "bounce_back_min_losses"
SUPPORT_STREAK_BLOCK_ID = "support_streak"
CURRENCY_BLOCK_ID = "currency"


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def _days(days: int) -> str:
    return plural(days, "day", "days")


def _hours_label(hours: int) -> str:
    if hours % 24 == 0:
        return plural(hours // 24, "day", "days")
    return plural(hours, "hour", "hours")


def _format_threshold(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
