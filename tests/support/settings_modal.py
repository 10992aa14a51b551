"""The `/rebound settings` modal as an admin submits it, for the e2e tests that save one
setting (or a team) through it: the fields every submission carries at the values the modal
starts with, and a team's two pickers."""

from __future__ import annotations

from typing import Any

from testkit.simulator import state_value


def settings_values(**fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The modal's `view.state.values`: check-ins on Friday at 14:00, kudos from managers and
    admins, a 0.8 strong-process threshold, and `fields` (block id: its state) besides."""
    return {
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        **fields,
    }


def number_field(value: str | None) -> dict[str, Any]:
    """A number input's state ("value" is its action_id), for settings_values."""
    return {"value": state_value("number_input", value)}


def team_fields(index: int, manager: str | None, reps: list[str]) -> dict[str, dict[str, Any]]:
    """The modal's team `index`: its manager and reps pickers."""
    return {
        f"team_{index}_manager": {"value": state_value("users_select", manager)},
        f"team_{index}_reps": {"value": state_value("multi_users_select", reps)},
    }
