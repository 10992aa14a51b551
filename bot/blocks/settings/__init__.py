"""The `/rebound settings` modal and the parsing of its submission (pure functions), in parts:

- `fields`: the choices offered, their limits and how values are written for people;
- `modal`: the modal;
- `parse`: reading a submitted modal into the settings, or field errors;
- `messages`: the answers after a save, and to someone who may not change settings.

The settings themselves (CurrentSettings, SettingsSubmission) live in bot.domain.settings.
Everything is re-exported here, so `from bot.blocks.settings import settings_modal` keeps working.
"""

from bot.blocks.settings.fields import (
    CYCLES,
    DIGEST_OPTION_VALUE,
    KUDOS_POLICIES,
    MAX_GRACE_DAYS,
    MAX_KUDOS_CAP,
    MAX_RETENTION_DAYS,
    MIN_THRESHOLD,
    REMINDER_HOURS,
    RETENTION_BLOCK_ID,
    SETTINGS_CALLBACK_ID,
    SPARE_TEAM_ROWS,
    WEEKDAYS,
)
from bot.blocks.settings.messages import not_admin_message, settings_saved_message
from bot.blocks.settings.modal import settings_modal
from bot.blocks.settings.parse import (
    SETTINGS_CHANGED_ERROR,
    parse_settings_submission,
    settings_version_of,
)

__all__ = [
    "CYCLES",
    "DIGEST_OPTION_VALUE",
    "KUDOS_POLICIES",
    "MAX_GRACE_DAYS",
    "MAX_KUDOS_CAP",
    "MAX_RETENTION_DAYS",
    "MIN_THRESHOLD",
    "REMINDER_HOURS",
    "RETENTION_BLOCK_ID",
    "SETTINGS_CALLBACK_ID",
    "SETTINGS_CHANGED_ERROR",
    "SPARE_TEAM_ROWS",
    "WEEKDAYS",
    "not_admin_message",
    "parse_settings_submission",
    "settings_modal",
    "settings_saved_message",
    "settings_version_of",
]
