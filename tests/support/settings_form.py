"""The settings modal's test inputs: `settings_form(...)`, the state values of a submission with
the four fields the modal requires (Friday 14:00, managers give kudos, a 0.8 threshold) plus the
ones a test is about (`number_field`, `team_fields` build those); and `current_settings(...)`,
what the modal opens with for a workspace with those same settings, no recognition channel and
no teams, plus the test's own."""

from __future__ import annotations

from typing import Any

from bot.domain.settings import CurrentSettings
from testkit.simulator import state_value


def settings_form(**extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A submission's state values: the required fields, then `extra` (block id -> its value)."""
    return {
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        **extra,
    }


def current_settings(**overrides: Any) -> CurrentSettings:
    """The modal's current settings: the required ones as `settings_form` submits them, no
    recognition channel, no teams, then `overrides` (CurrentSettings' own field names)."""
    values: dict[str, Any] = {
        "recognition_channel_id": None,
        "checkin_weekday": 4,
        "checkin_hour": 14,
        "kudos_policy": "managers",
        "strong_process_threshold": 0.8,
        "teams": {},
    }
    values.update(overrides)
    return CurrentSettings(**values)


def number_field(value: str | None) -> dict[str, Any]:
    """A number input's state ("value" is its action_id), for settings_form."""
    return {"value": state_value("number_input", value)}


def team_fields(index: int, manager: str | None, reps: list[str]) -> dict[str, dict[str, Any]]:
    """The modal's team `index`: its manager and reps pickers."""
    return {
        f"team_{index}_manager": {"value": state_value("users_select", manager)},
        f"team_{index}_reps": {"value": state_value("multi_users_select", reps)},
    }
