"""The `/rebound settings` modal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks.crm_settings import crm_settings_entry
from bot.blocks.kit import context, divider, header, input_block, modal, option, plain, section
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
    REMINDER_HOURS,
    RETENTION_BLOCK_ID,
    SETTINGS_CALLBACK_ID,
    SPARE_TEAM_ROWS,
    SUPPORT_STREAK_BLOCK_ID,
    WEEKDAYS,
    _format_threshold,
    _hour_label,
    _hours_label,
)
from bot.domain import MAX_BOUNCE_BACK_MIN_LOSSES, MAX_MIN_EVIDENCE
from bot.domain.crm_connections import CrmStatus
from bot.domain.resilience import MAX_SUPPORT_STREAK, MIN_SUPPORT_STREAK
from bot.domain.settings import CurrentSettings


def settings_modal(current: CurrentSettings, crm: CrmStatus | None = None) -> dict[str, Any]:
    """The modal; `crm` (many workspaces: each connects its own CRM) adds the CRM line, whose
    button opens the CRM modal on top (bot.blocks.crm_settings)."""
    weekday_options = [option(day, str(i)) for i, day in enumerate(WEEKDAYS)]
    hour_options = [option(_hour_label(h), str(h)) for h in range(24)]
    policy_options = [option(label, value) for value, label in KUDOS_POLICIES.items()]

    channel_element: dict[str, Any] = {"type": "channels_select", "action_id": "value"}
    if current.recognition_channel_id:
        channel_element["initial_channel"] = current.recognition_channel_id
    policy = current.kudos_policy if current.kudos_policy in KUDOS_POLICIES else "managers"
    threshold_element = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": True,
        "min_value": str(MIN_THRESHOLD),
        "max_value": "1",
        "initial_value": _format_threshold(current.strong_process_threshold),
    }

    blocks: list[dict[str, Any]] = [
        section(
            "Set up how Rebound works for your workspace. Everyone sees check-ins in their own "
            "timezone."
        ),
        *(crm_settings_entry(crm) if crm is not None else []),
        input_block(
            "recognition_channel",
            "Recognition channel",
            channel_element,
            optional=True,
            hint="Kudos, perfect misses and bounce-backs are celebrated here. "
            "Invite @Rebound to it.",
        ),
        input_block(
            "checkin_weekday",
            "Weekly check-in day",
            _select(weekday_options, weekday_options[current.checkin_weekday]),
        ),
        input_block(
            "checkin_hour",
            "Check-in hour (each person's local time)",
            _select(hour_options, hour_options[current.checkin_hour]),
        ),
        input_block(
            "kudos_policy",
            "Who may give kudos",
            _radio(policy_options, option(KUDOS_POLICIES[policy], policy)),
        ),
        input_block(
            "threshold",
            "Strong process threshold",
            threshold_element,
            hint="Share of the five process practices that makes a process strong "
            "(0.8 = four of five). A loss with strong process is a perfect miss.",
        ),
        input_block(
            MIN_EVIDENCE_BLOCK_ID,
            "Evidence before a quadrant",
            _whole_number(1, MAX_MIN_EVIDENCE, current.min_evidence),
            hint="Scored outcomes or check-ins a cycle review or Home needs before it names a "
            "quadrant; below that it says what it has and that it's not enough to call yet.",
        ),
        input_block(
            BOUNCE_BACK_MIN_LOSSES_BLOCK_ID,
            "Losses before a public bounce-back",
            _whole_number(1, MAX_BOUNCE_BACK_MIN_LOSSES, current.bounce_back_min_losses),
            hint="A win after at least this many losses in a row offers the rep a tip of the "
            "hat in the recognition channel; it's posted only if they say yes. Every "
            "bounce-back still counts in their own figures.",
        ),
        input_block(
            SUPPORT_STREAK_BLOCK_ID,
            "Losses in a row before resilience support",
            _whole_number(MIN_SUPPORT_STREAK, MAX_SUPPORT_STREAK, current.support_streak),
            hint="After this many losses in a row a rep gets a private note with one resilience "
            "practice and an offer to talk, and their manager a question for the next "
            "one-on-one. Never posted in a channel.",
        ),
        _currency_block(current.currency),
        _digest_block(current.digest_enabled),
        _retention_block(current.reflection_retention_days),
        *_more_blocks(current),
        divider(),
        header("Teams"),
        context(
            "Pick each manager and the reps who report to them. Managers get private coaching "
            "notes and their team's weekly digest. Need more rows? Save and open settings again."
        ),
    ]
    rows = list(current.teams.items()) + [("", [])] * SPARE_TEAM_ROWS
    for index, (manager, reps) in enumerate(rows):
        blocks.extend(_team_row(index, manager, reps))
    # Slack hands private_metadata back unchanged in the view_submission (3000 chars max):
    # https://docs.slack.dev/reference/views/modal-views
    metadata = (
        json.dumps({"settings_version": current.settings_version})
        if current.settings_version is not None
        else None
    )
    return modal(
        "Rebound settings",
        blocks,
        callback_id=SETTINGS_CALLBACK_ID,
        private_metadata=metadata,
        submit="Save",
        close="Cancel",
    )


def _select(options: list[dict[str, Any]], initial: dict[str, Any] | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": options}
    if initial:
        element["initial_option"] = initial
    return element


def _radio(options: list[dict[str, Any]], initial: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "radio_buttons",
        "action_id": "value",
        "options": options,
        "initial_option": initial,
    }


def _whole_number(minimum: int, maximum: int, initial: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "min_value": str(minimum),
        "max_value": str(maximum),
    }
    if initial is not None:
        element["initial_value"] = str(initial)
    return element


def _currency_block(currency: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": 3,
        "placeholder": plain("e.g. GBP"),
    }
    if currency:
        element["initial_value"] = currency
    return input_block(
        CURRENCY_BLOCK_ID,
        "Currency (ISO 4217 code)",
        element,
        optional=True,
        hint="Amounts show in it, e.g. GBP gives £60,000. Leave empty for plain numbers.",
    )


def _digest_block(enabled: bool) -> dict[str, Any]:
    choice = option("Post a weekly recognition digest", DIGEST_OPTION_VALUE)
    choice["description"] = plain(
        "Perfect misses, bounce-backs and kudos, on the check-in day and hour."
    )
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [choice]}
    if enabled:
        element["initial_options"] = [choice]
    return input_block("digest_enabled", "Weekly digest", element, optional=True)


def _retention_block(days: int | None) -> dict[str, Any]:
    return input_block(
        RETENTION_BLOCK_ID,
        "Delete reflections older than (days)",
        _whole_number(1, MAX_RETENTION_DAYS, days),
        optional=True,
        hint="Debrief questions and answers older than this are deleted. Leave empty to keep them.",
    )


def _more_blocks(current: CurrentSettings) -> list[dict[str, Any]]:
    """Goal cycle, reminder delays and the kudos cap."""
    cycle_options = [option(label, value) for value, label in CYCLES.items()]
    reminder_options = [option(_hours_label(h), str(h)) for h in REMINDER_HOURS]

    def reminder_block(block_id: str, label: str, hint: str, hours: int) -> dict[str, Any]:
        chosen = next((o for o in reminder_options if o["value"] == str(hours)), None)
        return input_block(block_id, label, _select(reminder_options, chosen), hint=hint)

    cycle = current.cycle if current.cycle in CYCLES else "monthly"
    return [
        input_block(
            "cycle",
            "Goal cycle",
            _radio(cycle_options, option(CYCLES[cycle], cycle)),
            hint="New goals default to this cycle; each cycle ends with a review.",
        ),
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
        input_block(
            "kudos_daily_cap",
            "Kudos a person may give a day",
            _whole_number(1, MAX_KUDOS_CAP, current.kudos_daily_cap),
            hint="Keeps recognition meaningful. Counted in each giver's own day.",
        ),
        input_block(
            "data_grace_days",
            "Keep data after an uninstall (days)",
            _whole_number(1, MAX_GRACE_DAYS, current.data_grace_days),
            hint="If Rebound is removed, its data is deleted after this many days; "
            "reinstalling before then keeps it. `/rebound delete-workspace-data` deletes "
            "it at once.",
        ),
    ]


def _team_row(index: int, manager: str, reps: Sequence[str]) -> list[dict[str, Any]]:
    manager_element: dict[str, Any] = {"type": "users_select", "action_id": "value"}
    if manager:
        manager_element["initial_user"] = manager
    reps_element: dict[str, Any] = {"type": "multi_users_select", "action_id": "value"}
    if reps:
        reps_element["initial_users"] = list(reps)
    return [
        input_block(
            f"team_{index}_manager", f"Manager {index + 1}", manager_element, optional=True
        ),
        input_block(
            f"team_{index}_reps", f"Reports to manager {index + 1}", reps_element, optional=True
        ),
    ]
