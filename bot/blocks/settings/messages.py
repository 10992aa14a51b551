"""What an admin is told after saving settings, or when they may not change them."""

from __future__ import annotations

from typing import Any

from bot.blocks.kit import message, section
from bot.blocks.settings.fields import (
    CYCLES,
    KUDOS_POLICIES,
    WEEKDAYS,
    _days,
    _format_threshold,
    _hour_label,
    _hours_label,
)
from bot.domain.settings import SettingsSubmission
from bot.slack_text import plural


def settings_saved_message(saved: SettingsSubmission) -> dict[str, Any]:
    channel = (
        f"<#{saved.recognition_channel_id}>" if saved.recognition_channel_id else "not set yet"
    )
    team_lines = [
        f"• <@{manager}>: " + (", ".join(f"<@{rep}>" for rep in reps) or "no reps yet")
        for manager, reps in saved.teams.items()
    ] or ["• no teams yet"]
    digest_line = (
        ""
        if saved.digest_enabled is None
        else f"Weekly recognition digest: {'on' if saved.digest_enabled else 'off'}\n"
    )
    retention_line = (
        ""
        if not saved.retention_submitted
        else f"Reflections: deleted after {_days(saved.reflection_retention_days)}\n"
        if saved.reflection_retention_days
        else "Reflections: kept until deleted\n"
    )
    more = saved.more
    more_lines = "".join(
        line
        for line in (
            f"Goal cycle: {CYCLES[more['cycle']].lower()}\n" if "cycle" in more else "",
            f"Check-in reminder after {_hours_label(more['checkin_reminder_hours'])}\n"
            if "checkin_reminder_hours" in more
            else "",
            f"Debrief questions reminder after {_hours_label(more['reflection_reminder_hours'])}\n"
            if "reflection_reminder_hours" in more
            else "",
            f"Kudos a person may give a day: {more['kudos_daily_cap']}\n"
            if "kudos_daily_cap" in more
            else "",
            f"Data kept {plural(more['data_grace_days'], 'day', 'days')} after an uninstall\n"
            if "data_grace_days" in more
            else "",
            "A quadrant is called on at least "
            f"{plural(more['min_evidence'], 'scored item', 'scored items')} "
            "(outcomes or check-ins)\n"
            if "min_evidence" in more
            else "",
            "A bounce-back may be shared (with the rep's yes) after "
            f"{plural(more['bounce_back_min_losses'], 'loss', 'losses')} in a row\n"
            if "bounce_back_min_losses" in more
            else "",
            "Resilience support after "
            f"{plural(more['support_streak'], 'loss', 'losses')} in a row (private)\n"
            if "support_streak" in more
            else "",
            f"Currency: {more['currency'] or 'none (plain numbers)'}\n"
            if "currency" in more
            else "",
        )
    )
    text = (
        "*Settings saved.*\n"
        f"Recognition channel: {channel}\n"
        f"Check-ins: {WEEKDAYS[saved.checkin_weekday]}s at "
        f"{_hour_label(saved.checkin_hour)}, each person's local time\n"
        f"Kudos from: {KUDOS_POLICIES[saved.kudos_policy].lower()}\n"
        f"Strong process: {_format_threshold(saved.strong_process_threshold)} or more of the "
        "five practices\n"
        + digest_line
        + retention_line
        + more_lines
        + "Teams:\n"
        + "\n".join(team_lines)
    )
    return {
        "text": "Rebound settings saved.",
        "blocks": [section(text[:3000])],
    }


def not_admin_message() -> dict[str, Any]:
    text = (
        "Only Rebound admins can change settings — workspace owners and admins, and anyone "
        "listed in REBOUND_ADMINS. Ask one of them, or try `/rebound help` for what you can do."
    )
    return message(text)
