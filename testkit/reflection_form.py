"""The reflection modal's state values as Slack submits them, for the demo and the tests alike
(`reflection_values`): the commitment, the three optional answers a rep may give, and, when
the modal asked it, whether last time's commitment was followed up."""

from __future__ import annotations

from typing import Any

from testkit.simulator import state_value


def reflection_values(
    commitment: str, *, followed_up: str | None = None, **answers: str
) -> dict[str, Any]:
    values: dict[str, Any] = {
        key: {"value": state_value("plain_text_input", answers.get(key))}
        for key in ("learned", "feedback_lesson", "in_control")
    }
    values["commitment"] = {"value": state_value("plain_text_input", commitment)}
    if followed_up is not None:
        values["followed_up"] = {"value": state_value("radio_buttons", followed_up)}
    return values
