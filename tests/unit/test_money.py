"""Amounts in the workspace's currency: the formatting, the setting's validation, and the
builders that show amounts (the manager's note, a revenue goal's progress)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.blocks.debriefs import manager_note
from bot.blocks.goals import goal_progress_lines, goal_saved_message
from bot.blocks.settings import parse_settings_submission, settings_modal
from bot.blocks.settings.messages import settings_saved_message
from bot.domain import Classification
from bot.domain.debriefs import OutcomeFacts
from bot.domain.goals import GoalProgress
from bot.domain.money import ISO_4217_CODES, currency_code, format_money
from bot.domain.settings import CurrentSettings
from storage.models import Goal
from testkit.simulator import state_value


def test_amounts_carry_the_currency() -> None:
    assert format_money(60000, "GBP") == "£60,000"
    assert format_money(60000.5, "EUR") == "€60,000.50"
    assert format_money(60000, "SEK") == "60,000 SEK"
    assert format_money(60000, None) == "60,000"


def test_codes_are_checked_against_iso_4217() -> None:
    assert {"GBP", "EUR", "USD", "JPY", "SEK", "CHF"} <= ISO_4217_CODES
    assert currency_code(" gbp ") == "GBP"
    assert currency_code("XYZ") is None and currency_code("") is None
    assert currency_code("£") is None and currency_code("GBPX") is None


def _values(currency: str | None) -> dict[str, dict[str, Any]]:
    return {
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        "currency": {"value": state_value("plain_text_input", currency)},
    }


@pytest.mark.parametrize(("raw", "saved_as"), [("GBP", "GBP"), (" eur ", "EUR"), ("", None)])
def test_the_currency_setting_saves_a_code_or_none(raw: str, saved_as: str | None) -> None:
    saved, errors = parse_settings_submission(_values(raw))
    assert errors == {} and saved is not None
    assert saved.more["currency"] == saved_as
    text = settings_saved_message(saved)["blocks"][0]["text"]["text"]
    assert f"Currency: {saved_as or 'none (plain numbers)'}" in text


@pytest.mark.parametrize("raw", ["XYZ", "£", "pounds", "12"])
def test_anything_but_a_code_is_a_field_error(raw: str) -> None:
    saved, errors = parse_settings_submission(_values(raw))
    assert saved is None and list(errors) == ["currency"]
    assert "ISO 4217" in errors["currency"]


def test_the_modal_shows_the_currency() -> None:
    current = CurrentSettings(None, 4, 14, "managers", 0.8, {}, currency="GBP")
    blocks = {b.get("block_id"): b for b in settings_modal(current)["blocks"]}
    assert blocks["currency"]["element"]["initial_value"] == "GBP"
    assert blocks["currency"]["optional"] is True


def test_the_managers_note_shows_the_amount_in_the_currency() -> None:
    facts = OutcomeFacts(
        id=1,
        user_id="U1",
        kind="loss",
        deal="Initech",
        classification=Classification.SYSTEM_MISS,
        practices={},
        occurred_at=datetime(2026, 11, 10, tzinfo=UTC),
        amount=60000,
        currency="GBP",
    )
    assert "Amount: £60,000" in str(manager_note(facts))
    plain = OutcomeFacts(**{**facts.__dict__, "currency": None})
    assert "Amount: 60,000" in str(manager_note(plain)) and "£" not in str(manager_note(plain))


def _progress(metric: str, currency: str | None) -> GoalProgress:
    goal = Goal(
        team_id="T1",
        user_id="U1",
        metric=metric,
        target=60000,
        cycle_start=date(2026, 11, 1),
        cycle_end=date(2026, 11, 30),
    )
    return GoalProgress(goal=goal, attainment=15000, metric_label="Revenue", currency=currency)


def test_a_revenue_goal_shows_amounts_in_the_currency_and_a_count_stays_a_count() -> None:
    assert "£15,000 of £60,000" in goal_progress_lines(_progress("revenue", "GBP"))
    assert "target 60,000 SEK" in goal_saved_message(_progress("revenue", "SEK"))["text"]
    assert "15,000 of 60,000" in goal_progress_lines(_progress("deals_won", "GBP"))
