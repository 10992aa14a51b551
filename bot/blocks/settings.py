"""The `/rebound settings` modal and the parsing of its submission (pure functions)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.domain.settings import CurrentSettings, SettingsSubmission
from bot.domain.text import parse_decimal, parse_whole_number
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
_TEAM_BLOCK = re.compile(r"team_(\d{1,4})_(?:manager|reps)", re.ASCII)
MAX_GRACE_DAYS = 365


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def settings_modal(current: CurrentSettings) -> dict[str, Any]:
    weekday_options = [_option(day, str(i)) for i, day in enumerate(WEEKDAYS)]
    hour_options = [_option(_hour_label(h), str(h)) for h in range(24)]
    policy_options = [_option(label, value) for value, label in KUDOS_POLICIES.items()]

    channel_element: dict[str, Any] = {"type": "channels_select", "action_id": "value"}
    if current.recognition_channel_id:
        channel_element["initial_channel"] = current.recognition_channel_id

    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Set up how Rebound works for your workspace. Everyone sees check-ins "
                "in their own timezone.",
            },
        },
        {
            "type": "input",
            "block_id": "recognition_channel",
            "optional": True,
            "label": {"type": "plain_text", "text": "Recognition channel"},
            "hint": {
                "type": "plain_text",
                "text": "Kudos, perfect misses and bounce-backs are celebrated here. "
                "Invite @Rebound to it.",
            },
            "element": channel_element,
        },
        {
            "type": "input",
            "block_id": "checkin_weekday",
            "label": {"type": "plain_text", "text": "Weekly check-in day"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": weekday_options,
                "initial_option": weekday_options[current.checkin_weekday],
            },
        },
        {
            "type": "input",
            "block_id": "checkin_hour",
            "label": {"type": "plain_text", "text": "Check-in hour (each person's local time)"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": hour_options,
                "initial_option": hour_options[current.checkin_hour],
            },
        },
        {
            "type": "input",
            "block_id": "kudos_policy",
            "label": {"type": "plain_text", "text": "Who may give kudos"},
            "element": {
                "type": "radio_buttons",
                "action_id": "value",
                "options": policy_options,
                "initial_option": _option(
                    KUDOS_POLICIES.get(current.kudos_policy, KUDOS_POLICIES["managers"]),
                    current.kudos_policy if current.kudos_policy in KUDOS_POLICIES else "managers",
                ),
            },
        },
        {
            "type": "input",
            "block_id": "threshold",
            "label": {"type": "plain_text", "text": "Strong process threshold"},
            "hint": {
                "type": "plain_text",
                "text": "Share of the five process practices that makes a process strong "
                "(0.8 = four of five). A loss with strong process is a perfect miss.",
            },
            "element": {
                "type": "number_input",
                "action_id": "value",
                "is_decimal_allowed": True,
                "min_value": str(MIN_THRESHOLD),
                "max_value": "1",
                "initial_value": _format_threshold(current.strong_process_threshold),
            },
        },
        _digest_block(current.digest_enabled),
        _retention_block(current.reflection_retention_days),
        *_more_blocks(current),
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": "Teams"}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Pick each manager and the reps who report to them. Managers get "
                    "private coaching notes and their team's weekly digest. Need more rows? "
                    "Save and open settings again.",
                }
            ],
        },
    ]
    rows = list(current.teams.items()) + [("", [])] * SPARE_TEAM_ROWS
    for index, (manager, reps) in enumerate(rows):
        blocks.extend(_team_row(index, manager, reps))
    modal: dict[str, Any] = {
        "type": "modal",
        "callback_id": SETTINGS_CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Rebound settings"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
    if current.settings_version is not None:
        # Slack hands private_metadata back unchanged in the view_submission (3000 chars max):
        # https://docs.slack.dev/reference/views/modal-views
        modal["private_metadata"] = json.dumps({"settings_version": current.settings_version})
    return modal


def settings_version_of(view: Mapping[str, Any]) -> int | None:
    """The settings version a submitted settings modal was opened at (None when it has none)."""
    try:
        version = json.loads(view.get("private_metadata") or "{}").get("settings_version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


SETTINGS_CHANGED_ERROR = (
    "Someone saved the settings after you opened them, so I didn't save yours over theirs. "
    "Close this and run `/rebound settings` again to see what changed."
)


DIGEST_OPTION_VALUE = "on"


def _digest_block(enabled: bool) -> dict[str, Any]:
    option = _option("Post a weekly recognition digest", DIGEST_OPTION_VALUE)
    option["description"] = {
        "type": "plain_text",
        "text": "Perfect misses, bounce-backs and kudos, on the check-in day and hour.",
    }
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [option]}
    if enabled:
        element["initial_options"] = [option]
    return {
        "type": "input",
        "block_id": "digest_enabled",
        "optional": True,
        "label": {"type": "plain_text", "text": "Weekly digest"},
        "element": element,
    }


RETENTION_BLOCK_ID = "reflection_retention"
MAX_RETENTION_DAYS = 3650


def _retention_block(days: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "min_value": "1",
        "max_value": str(MAX_RETENTION_DAYS),
    }
    if days is not None:
        element["initial_value"] = str(days)
    return {
        "type": "input",
        "block_id": RETENTION_BLOCK_ID,
        "optional": True,
        "label": {"type": "plain_text", "text": "Delete reflections older than (days)"},
        "hint": {
            "type": "plain_text",
            "text": "Debrief questions and answers older than this are deleted. "
            "Leave empty to keep them.",
        },
        "element": element,
    }


def _parse_retention(values: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(days or None for keep forever, error message or None)."""
    raw = _state_value(values, RETENTION_BLOCK_ID).get("value")
    if raw is None or raw == "":
        return None, None
    days = parse_whole_number(raw, minimum=1, maximum=MAX_RETENTION_DAYS)
    if days is not None:
        return days, None
    return None, (
        f"Enter a whole number of days from 1 to {MAX_RETENTION_DAYS}, "
        "or leave it empty to keep reflections."
    )


def _more_blocks(current: CurrentSettings) -> list[dict[str, Any]]:
    """Goal cycle, reminder delays and the kudos cap."""
    cycle_options = [_option(label, value) for value, label in CYCLES.items()]
    reminder_options = [_option(_hours_label(h), str(h)) for h in REMINDER_HOURS]

    def reminder_block(block_id: str, label: str, hint: str, hours: int) -> dict[str, Any]:
        chosen = next((o for o in reminder_options if o["value"] == str(hours)), None)
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": "value",
            "options": reminder_options,
        }
        if chosen:
            element["initial_option"] = chosen
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": hint},
            "element": element,
        }

    return [
        {
            "type": "input",
            "block_id": "cycle",
            "label": {"type": "plain_text", "text": "Goal cycle"},
            "hint": {
                "type": "plain_text",
                "text": "New goals default to this cycle; each cycle ends with a review.",
            },
            "element": {
                "type": "radio_buttons",
                "action_id": "value",
                "options": cycle_options,
                "initial_option": _option(
                    CYCLES.get(current.cycle, "Monthly"),
                    current.cycle if current.cycle in CYCLES else "monthly",
                ),
            },
        },
        reminder_block(
            "checkin_reminder_hours",
            "Check-in reminder after",
            "One gentle reminder if a check-in is still unanswered; none after that.",
            current.checkin_reminder_hours,
        ),
        reminder_block(
            "reflection_reminder_hours",
            "Debrief questions reminder after",
            "One reminder if a rep has not answered their debrief questions.",
            current.reflection_reminder_hours,
        ),
        {
            "type": "input",
            "block_id": "kudos_daily_cap",
            "label": {"type": "plain_text", "text": "Kudos a person may give a day"},
            "hint": {
                "type": "plain_text",
                "text": "Keeps recognition meaningful. Counted in each giver's own day.",
            },
            "element": {
                "type": "number_input",
                "action_id": "value",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(MAX_KUDOS_CAP),
                "initial_value": str(current.kudos_daily_cap),
            },
        },
        {
            "type": "input",
            "block_id": "data_grace_days",
            "label": {"type": "plain_text", "text": "Keep data after an uninstall (days)"},
            "hint": {
                "type": "plain_text",
                "text": "If Rebound is removed, its data is deleted after this many days; "
                "reinstalling before then keeps it. `/rebound delete-workspace-data` deletes "
                "it at once.",
            },
            "element": {
                "type": "number_input",
                "action_id": "value",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(MAX_GRACE_DAYS),
                "initial_value": str(current.data_grace_days),
            },
        },
    ]


def _days(days: int) -> str:
    return plural(days, "day", "days")


def _hours_label(hours: int) -> str:
    if hours % 24 == 0:
        return plural(hours // 24, "day", "days")
    return plural(hours, "hour", "hours")


def _parse_more(values: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The "more settings" present in this submission, validated; errors go into `errors`."""
    more: dict[str, Any] = {}
    if "cycle" in values:
        cycle = (_state_value(values, "cycle").get("selected_option") or {}).get("value")
        if cycle in CYCLES:
            more["cycle"] = cycle
        else:
            errors["cycle"] = "Choose monthly or quarterly."
    for block_id in ("checkin_reminder_hours", "reflection_reminder_hours"):
        if block_id in values:
            hours = _selected_int(values, block_id, range(1, 24 * 7 + 1))
            if hours is None:
                errors[block_id] = "Pick when the reminder goes out."
            else:
                more[block_id] = hours
    if "kudos_daily_cap" in values:
        cap = parse_whole_number(
            _state_value(values, "kudos_daily_cap").get("value"), minimum=1, maximum=MAX_KUDOS_CAP
        )
        if cap is not None:
            more["kudos_daily_cap"] = cap
        else:
            errors["kudos_daily_cap"] = f"Enter a whole number from 1 to {MAX_KUDOS_CAP}."
    if "data_grace_days" in values:
        grace = parse_whole_number(
            _state_value(values, "data_grace_days").get("value"), minimum=1, maximum=MAX_GRACE_DAYS
        )
        if grace is not None:
            more["data_grace_days"] = grace
        else:
            errors["data_grace_days"] = f"Enter a whole number of days from 1 to {MAX_GRACE_DAYS}."
    return more


def _team_row(index: int, manager: str, reps: Sequence[str]) -> list[dict[str, Any]]:
    manager_element: dict[str, Any] = {"type": "users_select", "action_id": "value"}
    if manager:
        manager_element["initial_user"] = manager
    reps_element: dict[str, Any] = {"type": "multi_users_select", "action_id": "value"}
    if reps:
        reps_element["initial_users"] = list(reps)
    return [
        {
            "type": "input",
            "block_id": f"team_{index}_manager",
            "optional": True,
            "label": {"type": "plain_text", "text": f"Manager {index + 1}"},
            "element": manager_element,
        },
        {
            "type": "input",
            "block_id": f"team_{index}_reps",
            "optional": True,
            "label": {"type": "plain_text", "text": f"Reports to manager {index + 1}"},
            "element": reps_element,
        },
    ]


def _format_threshold(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _state_value(values: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    return (values.get(block_id) or {}).get("value") or {}


def _no_names(user_id: str) -> str | None:
    return None


def parse_settings_submission(
    values: Mapping[str, Any],
    *,
    name_of: Callable[[str], str | None] = _no_names,
) -> tuple[SettingsSubmission | None, dict[str, str]]:
    """Read the modal's state; return the settings, or field errors keyed by block_id.

    Field errors are plain text (Slack shows them under the field as typed), so a `<@U…>`
    would show as code: people are named by `name_of` (their name as Rebound knows it)."""
    errors: dict[str, str] = {}

    channel = _state_value(values, "recognition_channel").get("selected_channel") or None

    weekday = _selected_int(values, "checkin_weekday", range(7))
    if weekday is None:
        errors["checkin_weekday"] = "Pick the day check-ins go out."
    hour = _selected_int(values, "checkin_hour", range(24))
    if hour is None:
        errors["checkin_hour"] = "Pick the hour check-ins go out."

    policy = (_state_value(values, "kudos_policy").get("selected_option") or {}).get("value")
    if policy not in KUDOS_POLICIES:
        errors["kudos_policy"] = "Choose who may give kudos."

    parsed = parse_decimal(
        str(_state_value(values, "threshold").get("value") or ""),
        minimum=Decimal(str(MIN_THRESHOLD)),
        maximum=Decimal(1),
        places=2,
    )
    threshold = float(parsed) if isinstance(parsed, Decimal) else None
    if parsed == "too precise":
        errors["threshold"] = "Use at most 2 decimals, for example 0.8 or 0.75."
    elif threshold is None:
        errors["threshold"] = (
            f"Enter a number from {MIN_THRESHOLD} to 1, for example 0.8 (four of five practices)."
        )

    teams: dict[str, list[str]] = {}
    rep_owner: dict[str, str] = {}
    indexes = sorted(
        {int(match.group(1)) for key in values if (match := _TEAM_BLOCK.fullmatch(key))}
    )
    for index in indexes:
        manager = _state_value(values, f"team_{index}_manager").get("selected_user") or ""
        reps = list(
            dict.fromkeys(_state_value(values, f"team_{index}_reps").get("selected_users") or [])
        )
        manager_block, reps_block = f"team_{index}_manager", f"team_{index}_reps"
        if not manager and not reps:
            continue
        if not manager:
            errors[manager_block] = "Who do these reps report to? Pick their manager."
            continue
        if manager in teams:
            errors[manager_block] = "This manager is already listed above — add the reps there."
            continue
        if manager in reps:
            errors[reps_block] = "A manager can't report to themselves. Remove them from this list."
            continue
        taken = [rep for rep in reps if rep in rep_owner]
        if taken:
            rep_name, owner_name = name_of(taken[0]), name_of(rep_owner[taken[0]])
            errors[reps_block] = (
                f"{rep_name or 'One of these reps'} already reports to "
                f"{owner_name or 'a manager listed above'}. Each rep has one manager."
            )
            continue
        teams[manager] = reps
        for rep in reps:
            rep_owner[rep] = manager
    # A manager listed as someone else's rep is fine (a second-line manager), so no check here.

    digest_enabled: bool | None = None
    if "digest_enabled" in values:
        chosen = _state_value(values, "digest_enabled").get("selected_options") or []
        digest_enabled = any(option.get("value") == DIGEST_OPTION_VALUE for option in chosen)

    retention_submitted = RETENTION_BLOCK_ID in values
    retention_days, retention_error = _parse_retention(values)
    if retention_error:
        errors[RETENTION_BLOCK_ID] = retention_error
    more = _parse_more(values, errors)

    if errors:
        return None, errors
    assert weekday is not None and hour is not None and threshold is not None and policy
    return (
        SettingsSubmission(
            recognition_channel_id=channel,
            checkin_weekday=weekday,
            checkin_hour=hour,
            kudos_policy=policy,
            strong_process_threshold=round(threshold, 4),
            teams=teams,
            digest_enabled=digest_enabled,
            retention_submitted=retention_submitted,
            reflection_retention_days=retention_days,
            more=more,
        ),
        {},
    )


def _selected_int(values: Mapping[str, Any], block_id: str, allowed: range) -> int | None:
    raw = (_state_value(values, block_id).get("selected_option") or {}).get("value")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return None
    return number if number in allowed else None


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
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }


def not_admin_message() -> dict[str, Any]:
    text = (
        "Only Rebound admins can change settings — workspace owners and admins, and anyone "
        "listed in REBOUND_ADMINS. Ask one of them, or try `/rebound help` for what you can do."
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
