"""Amounts in the workspace's currency: the formatting, the setting's validation, and the
builders that show amounts (the manager's note, a revenue goal's progress)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.blocks.debriefs import manager_note
from bot.blocks.goals import goal_progress_lines, goal_saved_message
from bot.blocks.settings import parse_settings_submission, settings_modal
from bot.blocks.settings.messages import settings_saved_message
from bot.domain import Classification
from bot.domain.debriefs import OutcomeFacts
from bot.domain.goals import GoalProgress
from bot.domain.money import ISO_4217_CODES, MAX_AMOUNT, crm_amount, currency_code, format_money
from storage.models import Goal, Money
from testkit.simulator import state_value
from tests.support.settings_form import current_settings, settings_form


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
    return settings_form(currency={"value": state_value("plain_text_input", currency)})


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
    current = current_settings(currency="GBP")
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


def test_a_negative_amount_has_its_sign_before_the_symbol() -> None:
    assert format_money(-5000, "GBP") == "-£5,000"
    assert format_money(-5000.5, "EUR") == "-€5,000.50"
    assert format_money(-5000, "SEK") == "-5,000 SEK"
    assert format_money(-5000, None) == "-5,000"
    # A negative that rounds to nothing shows no sign.
    assert format_money(-0.001, "GBP") == "£0.00"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("60000", Decimal("60000.00")),
        (" 1200.5 ", Decimal("1200.50")),
        (Decimal("0"), Decimal("0.00")),
        ("999999999999.99", Decimal("999999999999.99")),
        # Too big for the column (Numeric(14, 2)), Salesforce's 18 digits among them.
        ("1000000000000", None),
        ("5000000000000", None),
        ("9999999999999999.99", None),
        ("1e30", None),
        # Rounds up to 10^12 at the cent.
        ("999999999999.999", None),
        # A deal is never worth less than nothing.
        ("-5000", None),
        ("-0.01", None),
        ("NaN", None),
        ("Infinity", None),
        ("twelve", None),
        ("", None),
        (None, None),
    ],
)
def test_a_crm_amount_is_kept_to_the_cent_or_left_out(raw: object, kept: Decimal | None) -> None:
    assert crm_amount(raw) == kept


def test_the_crm_bound_is_what_the_money_column_holds() -> None:
    whole_digits = Money.precision - Money.scale
    assert Decimal(10) ** whole_digits == MAX_AMOUNT
    assert crm_amount(str(Decimal(10) ** whole_digits - Decimal("0.01"))) is not None
