"""Reading a submitted settings modal: the settings, or field errors keyed by block id."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bot.blocks.kit import state
from bot.blocks.settings.fields import (
    BOUNCE_BACK_MIN_LOSSES_BLOCK_ID,
    CURRENCY_BLOCK_ID,
    CYCLES,
    DIGEST_OPTION_VALUE,
    KUDOS_POLICIES,
    MAX_GRACE_DAYS,
    MAX_KUDOS_CAP,
    MAX_RETENTION_DAYS,
    MIN_EVIDENCE_BLOCK_ID,
    MIN_THRESHOLD,
    RETENTION_BLOCK_ID,
    SUPPORT_STREAK_BLOCK_ID,
)
from bot.domain import MAX_BOUNCE_BACK_MIN_LOSSES, MAX_MIN_EVIDENCE
from bot.domain.money import currency_code
from bot.domain.resilience import MAX_SUPPORT_STREAK, MIN_SUPPORT_STREAK
from bot.domain.settings import SettingsSubmission
from bot.domain.text import parse_decimal, parse_whole_number

_TEAM_BLOCK = re.compile(r"team_(\d{1,4})_(?:manager|reps)", re.ASCII)


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


def _parse_retention(values: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(days or None for keep forever, error message or None)."""
    raw = state(values, RETENTION_BLOCK_ID).get("value")
    if raw is None or raw == "":
        return None, None
    days = parse_whole_number(raw, minimum=1, maximum=MAX_RETENTION_DAYS)
    if days is not None:
        return days, None
    return None, (
        f"Enter a whole number of days from 1 to {MAX_RETENTION_DAYS}, "
        "or leave it empty to keep reflections."
    )


def _parse_more(values: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The "more settings" present in this submission, validated; errors go into `errors`."""
    more: dict[str, Any] = {}
    if "cycle" in values:
        cycle = (state(values, "cycle").get("selected_option") or {}).get("value")
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
    whole_numbers = (
        ("kudos_daily_cap", MAX_KUDOS_CAP, f"Enter a whole number from 1 to {MAX_KUDOS_CAP}."),
        (
            "data_grace_days",
            MAX_GRACE_DAYS,
            f"Enter a whole number of days from 1 to {MAX_GRACE_DAYS}.",
        ),
        (
            MIN_EVIDENCE_BLOCK_ID,
            MAX_MIN_EVIDENCE,
            f"Enter a whole number from 1 to {MAX_MIN_EVIDENCE}: how many scored outcomes or "
            "check-ins a quadrant needs, e.g. 3.",
        ),
        (
            BOUNCE_BACK_MIN_LOSSES_BLOCK_ID,
            MAX_BOUNCE_BACK_MIN_LOSSES,
            f"Enter a whole number from 1 to {MAX_BOUNCE_BACK_MIN_LOSSES}: how many losses in a "
            "row come before a bounce-back may be shared, e.g. 2.",
        ),
    )
    if CURRENCY_BLOCK_ID in values:
        raw = str(state(values, CURRENCY_BLOCK_ID).get("value") or "")
        code = currency_code(raw)
        if not raw.strip():
            more["currency"] = None
        elif code is None:
            errors[CURRENCY_BLOCK_ID] = (
                "Enter a three-letter ISO 4217 currency code, such as GBP, EUR or USD, or leave "
                "it empty for plain numbers."
            )
        else:
            more["currency"] = code
    if SUPPORT_STREAK_BLOCK_ID in values:
        losses = parse_whole_number(
            state(values, SUPPORT_STREAK_BLOCK_ID).get("value"),
            minimum=MIN_SUPPORT_STREAK,
            maximum=MAX_SUPPORT_STREAK,
        )
        if losses is not None:
            more["support_streak"] = losses
        else:
            errors[SUPPORT_STREAK_BLOCK_ID] = (
                f"Enter a whole number from {MIN_SUPPORT_STREAK} to {MAX_SUPPORT_STREAK}: how "
                "many losses in a row bring a rep private support, e.g. 3."
            )
    for block_id, maximum, problem in whole_numbers:
        if block_id in values:
            number = parse_whole_number(
                state(values, block_id).get("value"), minimum=1, maximum=maximum
            )
            if number is not None:
                more[block_id] = number
            else:
                errors[block_id] = problem
    return more


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

    channel = state(values, "recognition_channel").get("selected_channel") or None

    weekday = _selected_int(values, "checkin_weekday", range(7))
    if weekday is None:
        errors["checkin_weekday"] = "Pick the day check-ins go out."
    hour = _selected_int(values, "checkin_hour", range(24))
    if hour is None:
        errors["checkin_hour"] = "Pick the hour check-ins go out."

    policy = (state(values, "kudos_policy").get("selected_option") or {}).get("value")
    if policy not in KUDOS_POLICIES:
        errors["kudos_policy"] = "Choose who may give kudos."

    parsed = parse_decimal(
        str(state(values, "threshold").get("value") or ""),
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
        manager = state(values, f"team_{index}_manager").get("selected_user") or ""
        reps = list(dict.fromkeys(state(values, f"team_{index}_reps").get("selected_users") or []))
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
        chosen = state(values, "digest_enabled").get("selected_options") or []
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
    raw = (state(values, block_id).get("selected_option") or {}).get("value")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return None
    return number if number in allowed else None
