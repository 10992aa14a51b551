"""Input no database can store (NUL, lone surrogates, absurd numbers and dates) is a field error
on the right block that says what is wrong, never "Couldn't save just now" forever.

Units for the shared helpers and every modal's parse function, then the same over HTTP on
SQLite (which would store a NUL) and PostgreSQL (which refuses it): the rule is the same.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.blocks.checkins import parse_checkin_submission
from bot.blocks.debriefs import (
    lost_modal,
    parse_lost_submission,
    parse_reflection_submission,
    parse_won_submission,
)
from bot.blocks.goals import parse_goal_submission
from bot.blocks.kudos import KUDOS_CALLBACK_ID
from bot.blocks.settings import parse_settings_submission
from bot.domain import NONE_HELD
from bot.domain.checkins import Question
from bot.domain.text import parse_decimal, parse_whole_number, saveable_text, unsaveable_reason
from bot.usecases.kudos import KudosDraft, Problem, check_draft, parse_kudos_text
from storage.db import make_engine
from storage.models import Outcome
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import SlackStandIn
from tests.support.settings_form import settings_form

NUL = "Acme\x00 renewal"
LONE_HIGH = "Acme \ud800 renewal"  # what '"\ud800"' in Slack's JSON decodes to
LONE_LOW = "Acme \udfff"
UNSAVEABLE = [(NUL, "null character"), (LONE_HIGH, "broken character"), (LONE_LOW, "broken")]
TODAY = date(2026, 11, 16)  # the unit tests pass "today" in; nothing here reads the clock


# -- the shared helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "words"), UNSAVEABLE)
def test_text_with_a_nul_or_a_lone_surrogate_is_refused_with_a_reason(
    text: str, words: str
) -> None:
    reason = unsaveable_reason(text)
    assert reason is not None and words in reason
    saved, error = saveable_text(text, label="the deal", max_length=100, required=True)
    assert saved is None and error == reason


def test_ordinary_text_emoji_and_accents_are_kept_trimmed() -> None:
    text = "  Café déjà vu 😀 — 日本  "
    assert unsaveable_reason(text) is None
    assert saveable_text(text, label="x", max_length=100, required=True) == (text.strip(), None)
    # Length counts characters, after trimming.
    assert saveable_text(" " + "é" * 5 + " ", label="x", max_length=5, required=True)[1] is None
    assert "yours has 6" in (
        saveable_text("é" * 6, label="x", max_length=5, required=True)[1] or ""
    )


def test_empty_and_blank_text() -> None:
    assert saveable_text("", label="the deal", max_length=9, required=False) == (None, None)
    assert saveable_text(None, label="the deal", max_length=9, required=True)[1] == (
        "Please fill in the deal."
    )
    assert "only spaces" in (saveable_text(" \n", label="x", max_length=9, required=False)[1] or "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1e-300", "not a number"),
        ("1e308", "not a number"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        ("-inf", "not a number"),
        ("0x10", "not a number"),
        ("１２", "not a number"),  # full-width digits
        ("", "not a number"),
        ("0.001", "too precise"),
        ("12.345", "too precise"),
        ("1000000000000.01", "out of range"),
        ("-1", "out of range"),
        ("0", Decimal(0)),
        ("1,250.50", Decimal("1250.50")),
        (" 12.5 ", Decimal("12.5")),
        (".5", Decimal("0.5")),
        ("1000000000000", Decimal(10**12)),
    ],
)
def test_parse_decimal_bounds_and_precision(raw: str, expected: Decimal | str) -> None:
    assert parse_decimal(raw, minimum=Decimal(0), maximum=Decimal(10**12), places=2) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7", 7), (" 30 ", 30), ("0", None), ("366", None), ("²", None), ("٣", None), ("3.0", None)],
)
def test_parse_whole_number_takes_ascii_digits_in_range(raw: str, expected: int | None) -> None:
    assert parse_whole_number(raw, minimum=1, maximum=365) == expected


# -- every modal that saves text or numbers ----------------------------------------------------


def _lost(**overrides: Any) -> dict[str, dict[str, Any]]:
    fields: dict[str, tuple[str, Any]] = {
        "deal": ("plain_text_input", "Acme"),
        "amount": ("number_input", "1200"),
        "stage": ("static_select", "proposal"),
        "reason": ("static_select", "price"),
        "competitor": ("plain_text_input", None),
        "practices": ("checkboxes", [NONE_HELD]),
        "buyer_feedback": ("plain_text_input", None),
        "luck": ("static_select", "some"),
    }
    for name, value in overrides.items():
        fields[name] = (fields[name][0], value)
    return {name: {"value": state_value(kind, value)} for name, (kind, value) in fields.items()}


@pytest.mark.parametrize(("text", "words"), UNSAVEABLE)
@pytest.mark.parametrize("block_id", ["deal", "competitor", "buyer_feedback"])
def test_lost_modal_text_that_cant_be_saved(block_id: str, text: str, words: str) -> None:
    loss, errors = parse_lost_submission(_lost(**{block_id: text}))
    assert loss is None
    assert list(errors) == [block_id] and words in errors[block_id]


@pytest.mark.parametrize(("text", "words"), UNSAVEABLE)
def test_won_modal_deal_that_cant_be_saved(text: str, words: str) -> None:
    win, errors = parse_won_submission(_lost(deal=text))
    assert win is None
    assert list(errors) == ["deal"] and words in errors["deal"]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1e-300", "amount from 0"),
        ("1e308", "amount from 0"),
        ("NaN", "amount from 0"),
        ("Infinity", "amount from 0"),
        ("1000000000000", "amount from 0"),  # Numeric(14, 2) tops out just below
        ("1200.555", "2 decimals"),
    ],
)
def test_lost_and_won_amounts_have_bounds_and_precision(amount: str, words: str) -> None:
    for parse in (parse_lost_submission, parse_won_submission):
        outcome, errors = parse(_lost(amount=amount))
        assert outcome is None
        assert list(errors) == ["amount"] and words in errors["amount"]
    loss, _ = parse_lost_submission(_lost(amount="999,999,999,999.99"))
    assert loss is not None and loss.amount == 999_999_999_999.99


@pytest.mark.parametrize(("text", "words"), UNSAVEABLE)
@pytest.mark.parametrize("key", ["learned", "feedback_lesson", "in_control", "commitment"])
def test_reflection_answers_that_cant_be_saved(key: str, text: str, words: str) -> None:
    values = {k: {"value": state_value("plain_text_input", "ok")} for k in ("commitment",)}
    values[key] = {"value": state_value("plain_text_input", text)}
    submission, errors = parse_reflection_submission(values, asks_follow_up=False)
    assert submission is None
    assert list(errors) == [key] and words in errors[key]


def _goal(**overrides: Any) -> dict[str, dict[str, Any]]:
    fields: dict[str, tuple[str, Any]] = {
        "metric": ("static_select", "custom"),
        "custom_metric": ("plain_text_input", "Demos given"),
        "target": ("number_input", "40"),
        "cycle_start": ("datepicker", (TODAY - timedelta(days=15)).isoformat()),
        "cycle_end": ("datepicker", (TODAY + timedelta(days=14)).isoformat()),
        "why": ("plain_text_input", "To learn faster"),
    }
    for name, value in overrides.items():
        fields[name] = (fields[name][0], value)
    return {name: {"value": state_value(kind, value)} for name, (kind, value) in fields.items()}


def test_the_goal_base_case_parses() -> None:
    submission, errors = parse_goal_submission(_goal(), TODAY)
    assert errors == {} and submission is not None and submission.target == 40


@pytest.mark.parametrize(
    ("overrides", "block_id", "words"),
    [
        ({"custom_metric": NUL}, "custom_metric", "null character"),
        ({"custom_metric": LONE_HIGH}, "custom_metric", "broken character"),
        ({"why": NUL}, "why", "null character"),
        ({"why": LONE_LOW}, "why", "broken character"),
        ({"target": "1e-300"}, "target", "positive number"),
        ({"target": "1e308"}, "target", "positive number"),
        ({"target": "NaN"}, "target", "positive number"),
        ({"target": "Infinity"}, "target", "positive number"),
        ({"target": "1000000000000.5"}, "target", "positive number"),
        ({"target": "0.001"}, "target", "2 decimals"),
        (
            {"cycle_start": "9999-01-01", "cycle_end": "9999-12-31"},
            "cycle_start",
            "within a year of today",
        ),
        (
            {"cycle_start": (TODAY - timedelta(days=400)).isoformat()},
            "cycle_start",
            "within a year of today",
        ),
        (
            {
                "cycle_start": (TODAY + timedelta(days=300)).isoformat(),
                "cycle_end": (TODAY + timedelta(days=400)).isoformat(),
            },
            "cycle_end",
            "within a year of today",
        ),
    ],
)
def test_goal_fields_that_cant_be_saved(
    overrides: dict[str, Any], block_id: str, words: str
) -> None:
    submission, errors = parse_goal_submission(_goal(**overrides), TODAY)
    assert submission is None
    assert block_id in errors and words in errors[block_id]
    # A start a long way off also makes the end wrong; nothing else is blamed.
    dates = {"cycle_start", "cycle_end"}
    assert set(errors) == ({block_id} | dates if block_id == "cycle_start" else {block_id})


def test_a_custom_metric_is_only_checked_when_it_is_the_metric() -> None:
    submission, errors = parse_goal_submission(_goal(metric="revenue", custom_metric=NUL), TODAY)
    assert errors == {} and submission is not None and submission.custom_metric is None


TEXT_Q = Question("worked", "What worked this week?")
NUMBER_Q = Question("goal_progress", "Progress toward your goal", kind="number")


@pytest.mark.parametrize(
    ("question", "raw", "words"),
    [
        (TEXT_Q, NUL, "null character"),
        (TEXT_Q, LONE_HIGH, "broken character"),
        (NUMBER_Q, "1e-300", "Enter a number"),
        (NUMBER_Q, "1e308", "Enter a number"),
        (NUMBER_Q, "NaN", "Enter a number"),
        (NUMBER_Q, "Infinity", "Enter a number"),
        (NUMBER_Q, "10000000000", "from 0 to 1,000,000,000"),
        (NUMBER_Q, "4.555", "2 decimals"),
    ],
)
def test_checkin_answers_that_cant_be_saved(question: Question, raw: str, words: str) -> None:
    answers, errors = parse_checkin_submission(
        {question.key: {"answer": state_value("plain_text_input", raw)}}, [TEXT_Q, NUMBER_Q]
    )
    assert answers == {}
    assert list(errors) == [question.key] and words in errors[question.key]


def test_checkin_numbers_are_kept_as_typed_without_an_exponent() -> None:
    answers, errors = parse_checkin_submission(
        {NUMBER_Q.key: {"answer": state_value("plain_text_input", "1,234,567.50")}}, [NUMBER_Q]
    )
    assert errors == {} and answers == {NUMBER_Q.key: "1234567.5"}


@pytest.mark.parametrize(("text", "words"), UNSAVEABLE)
def test_kudos_messages_that_cant_be_saved_from_the_modal_or_the_command(
    text: str, words: str
) -> None:
    from_modal = check_draft(
        KudosDraft(recipients=("U0REP2",), category="", message=text), giver_user_id="U0REP1"
    )
    assert isinstance(from_modal, Problem)
    assert from_modal.field == "message" and words in from_modal.text
    from_command = parse_kudos_text(f"<@U0REP2> {text}", giver_user_id="U0REP1")
    assert isinstance(from_command, Problem) and words in from_command.text


@pytest.mark.parametrize(
    ("block_id", "raw", "words"),
    [
        ("threshold", "1e-300", "from 0.2 to 1"),
        ("threshold", "NaN", "from 0.2 to 1"),
        ("threshold", "Infinity", "from 0.2 to 1"),
        ("threshold", "0.8000001", "2 decimals"),
        ("kudos_daily_cap", "²", "whole number"),
        ("kudos_daily_cap", "1e308", "whole number"),
        ("data_grace_days", "³", "whole number"),
        ("reflection_retention", "²", "whole number"),
    ],
)
def test_settings_numbers_that_cant_be_saved(block_id: str, raw: str, words: str) -> None:
    saved, errors = parse_settings_submission(
        settings_form(**{block_id: {"value": state_value("plain_text_input", raw)}})
    )
    assert saved is None
    assert list(errors) == [block_id] and words in errors[block_id]


def test_settings_ignore_block_ids_that_only_look_like_team_rows() -> None:
    odd = {"team_1x_manager": {"value": state_value("users_select", "U0MGR")}}
    saved, errors = parse_settings_submission(settings_form(**odd))
    assert errors == {} and saved is not None and saved.teams == {}


# -- over HTTP, on both databases --------------------------------------------------------------


def _outcomes(live: LiveApp, team_id: str) -> list[Outcome]:
    with Session(make_engine(live.database_url)) as session:
        return list(session.exec(select(Outcome).where(Outcome.team_id == team_id)))


@pytest.mark.parametrize(("deal", "words"), [(NUL, "null character"), (LONE_HIGH, "broken")])
def test_a_lost_deal_that_cant_be_saved_is_a_field_error_and_nothing_is_saved(
    live: LiveApp, deal: str, words: str
) -> None:
    team_id = "T" + uuid.uuid4().hex[:8].upper()
    sender = live.sender(team_id=team_id)
    payload = sender.view_submission_payload(
        lost_modal(), user_id="U0REP1", values=_lost(deal=deal)
    )
    body = json.dumps(payload)  # ensure_ascii: the lone surrogate travels as "\ud800"
    assert "\\ud800" in body or "\\u0000" in body
    reply = sender.post_form({"payload": body})
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["deal"] and words in answer["errors"]["deal"]
    time.sleep(0.3)
    assert _outcomes(live, team_id) == []
    assert "Traceback" not in live.logs()
    # Typed again without it, the same modal saves.
    clean = sender.view_submission(lost_modal(), user_id="U0REP1", values=_lost(deal="Acme"))
    assert clean.status == 200 and not clean.body
    assert [o.deal for o in _outcomes(live, team_id)] == ["Acme"]


def test_a_goal_in_year_9999_or_with_a_tiny_target_is_a_field_error(
    live: LiveApp, standin: SlackStandIn
) -> None:
    from tests.support.factories import new_user, open_goal_modal

    user_id = new_user(standin)
    view = open_goal_modal(live, standin, user_id)
    values = _goal(
        target="1e-300",
        cycle_start=(date.max - timedelta(days=60)).isoformat(),  # in the year 9999
        cycle_end=(date.max - timedelta(days=30)).isoformat(),
    )
    answer = live.sender().view_submission(view, user_id=user_id, values=values).json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"target", "cycle_start", "cycle_end"}
    assert "positive number" in answer["errors"]["target"]
    assert "within a year of today" in answer["errors"]["cycle_start"]


def test_a_kudos_modal_message_with_a_nul_is_a_field_error(live: LiveApp) -> None:
    view = {
        "type": "modal",
        "callback_id": KUDOS_CALLBACK_ID,
        "private_metadata": json.dumps({"channel_id": "C0GENERAL"}),
        "blocks": [],
    }
    values = {
        "recipients": {"value": state_value("multi_users_select", ["U0REP2"])},
        "category": {"value": state_value("static_select", None)},
        "message": {"value": state_value("plain_text_input", "Great call\x00 today")},
    }
    answer = live.sender().view_submission(view, user_id="U0MGR", values=values).json()
    assert answer["response_action"] == "errors"
    assert "null character" in answer["errors"]["message"]


def test_a_lessons_search_with_a_nul_answers_like_any_search(
    live: LiveApp, standin: SlackStandIn
) -> None:
    # Nothing is saved, but PostgreSQL would refuse even to search for a NUL.
    team_id = "T" + uuid.uuid4().hex[:8].upper()
    seen = len(standin.calls)
    reply = live.sender(team_id=team_id).slash_command(
        "/rebound", "lessons pri\x00ce", user_id="U0REP1"
    )
    assert reply.status == 200
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "chat.postEphemeral" and c.params.get("user") == "U0REP1"
            for c in calls[seen:]
        ),
        timeout=10,
    )
    assert any(c.method == "chat.postEphemeral" for c in calls[seen:])
    assert "Traceback" not in live.logs()
