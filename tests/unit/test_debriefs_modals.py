"""The debrief modals (/lost, /won, reflections, a win's lesson) and the parsing of what they
submit, as plain dicts (no Slack, no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.blocks.debriefs import (
    ReflectionIds,
    lost_modal,
    parse_lost_submission,
    parse_reflection_submission,
    parse_won_submission,
    read_reflection_metadata,
    reflection_modal,
    win_lesson_modal,
    won_modal,
)
from bot.domain import (
    NONE_HELD,
    PRACTICES,
)
from bot.domain.debriefs import (
    WIN_LESSON_KEY,
    WIN_QUESTION,
    Commitment,
    reflection_questions,
)
from testkit.simulator import state_value
from tests.support.debriefs_blocks import _valid_view


def _lost_state(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "deal": ("plain_text_input", " Acme "),
        "amount": ("number_input", "1200.5"),
        "stage": ("static_select", "proposal"),
        "reason": ("static_select", "price"),
        "competitor": ("plain_text_input", None),
        "practices": ("checkboxes", ["discovery", "qualification"]),
        "buyer_feedback": ("plain_text_input", None),
    }
    for name, value in overrides.items():
        fields[name] = (fields[name][0], value)
    return {name: {"value": state_value(kind, value)} for name, (kind, value) in fields.items()}


# -- modals -----------------------------------------------------------------------------------


def test_modals_are_valid_block_kit_and_prefill_the_deal() -> None:
    for view in (lost_modal("  Acme  "), won_modal("Acme"), reflection_modal("Acme", 1, None)):
        _valid_view(view)
    deal = next(b for b in lost_modal("  Acme  ")["blocks"] if b.get("block_id") == "deal")
    assert deal["element"]["initial_value"] == "Acme"
    long_deal = next(b for b in won_modal("x" * 500)["blocks"] if b.get("block_id") == "deal")
    assert len(long_deal["element"]["initial_value"]) == 120


def test_lost_submission_is_parsed_with_practices_and_amount() -> None:
    loss, errors = parse_lost_submission(_lost_state())
    assert errors == {}
    assert loss is not None
    assert (loss.deal, loss.amount, loss.stage, loss.reason) == (
        "Acme",
        1200.5,
        "proposal",
        "price",
    )
    assert loss.competitor is None and loss.buyer_feedback is None
    assert [p for p, held in loss.practices.items() if held] == ["discovery", "qualification"]
    assert set(loss.practices) == set(PRACTICES)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"deal": " \n "}, "deal"),
        ({"deal": None}, "deal"),
        ({"deal": "d" * 121}, "deal"),
        ({"amount": "-0.01"}, "amount"),
        ({"amount": "nan"}, "amount"),
        ({"amount": "1e15"}, "amount"),
        ({"stage": "lunch"}, "stage"),
        ({"reason": None}, "reason"),
        ({"competitor": "c" * 81}, "competitor"),
        ({"buyer_feedback": "   "}, "buyer_feedback"),
    ],
)
def test_lost_submission_errors_name_the_field(overrides: dict[str, Any], field: str) -> None:
    loss, errors = parse_lost_submission(_lost_state(**overrides))
    assert loss is None
    assert list(errors) == [field]


def test_zero_amount_and_no_amount_are_fine() -> None:
    assert parse_lost_submission(_lost_state(amount="0"))[0].amount == 0  # type: ignore[union-attr]
    assert parse_lost_submission(_lost_state(amount=None))[0].amount is None  # type: ignore[union-attr]


def test_won_submission_maps_luck_to_a_share() -> None:
    state = {
        "deal": {"value": state_value("plain_text_input", "Globex")},
        "amount": {"value": state_value("number_input", None)},
        "practices": {"value": state_value("checkboxes", [NONE_HELD])},
        "luck": {"value": state_value("static_select", "a_lot")},
    }
    win, errors = parse_won_submission(state)
    assert errors == {} and win is not None and win.luck == 60
    state["luck"] = {"value": state_value("static_select", None)}
    assert list(parse_won_submission(state)[1]) == ["luck"]


def test_reflection_commitment_is_required_and_follow_up_only_when_asked() -> None:
    def state(commitment: str | None, followed: str | None = None) -> dict[str, Any]:
        values = {"commitment": {"value": state_value("plain_text_input", commitment)}}
        values["learned"] = {"value": state_value("plain_text_input", "Ask sooner")}
        if followed is not None:
            values["followed_up"] = {"value": state_value("radio_buttons", followed)}
        return values

    assert list(parse_reflection_submission(state(None), asks_follow_up=False)[1]) == ["commitment"]
    done, errors = parse_reflection_submission(state("Call the CFO"), asks_follow_up=False)
    assert errors == {} and done is not None
    assert done.answers == {"learned": "Ask sooner", "commitment": "Call the CFO"}
    assert done.followed_up is None
    assert list(parse_reflection_submission(state("x"), asks_follow_up=True)[1]) == ["followed_up"]
    asked, _ = parse_reflection_submission(state("x", "no"), asks_follow_up=True)
    assert asked is not None and asked.followed_up is False


def test_reflection_modal_asks_about_the_last_commitment() -> None:
    view = reflection_modal(
        "Beta", 9, Commitment(reflection_id=3, text="Call the CFO", deal="Acme")
    )
    _valid_view(view)
    assert read_reflection_metadata(view["private_metadata"]) == ReflectionIds(9, 3, False)
    rendered = json.dumps(view["blocks"])
    assert "Call the CFO" in rendered and "Did you do it?" in rendered
    assert read_reflection_metadata("not json") is None


def test_field_errors_name_the_limits_with_separators() -> None:
    _, errors = parse_lost_submission(_lost_state(buyer_feedback="y" * 1501))
    assert errors["buyer_feedback"] == "Keep it to 1,500 characters (yours has 1,501)."
    ok, errors = parse_lost_submission(_lost_state(buyer_feedback="y" * 1500))
    assert errors == {} and ok is not None
    _, errors = parse_lost_submission(_lost_state(amount="1000000000000"))
    assert errors["amount"] == "Enter an amount from 0 to 999,999,999,999.99, or leave it empty."


# -- the practices checklist must be answered (issue 12) ----------------------------------------


def _won_state(practices: list[str], luck: str = "some") -> dict[str, Any]:
    return {
        "deal": {"value": state_value("plain_text_input", "Globex")},
        "amount": {"value": state_value("number_input", None)},
        "practices": {"value": state_value("checkboxes", practices)},
        "luck": {"value": state_value("static_select", luck)},
    }


def test_the_checklist_is_required_and_offers_none_of_these_held() -> None:
    for view in (lost_modal(), won_modal()):
        block = next(b for b in view["blocks"] if b.get("block_id") == "practices")
        assert block["optional"] is False
        options = [(o["value"], o["text"]["text"]) for o in block["element"]["options"]]
        assert options[-1] == (NONE_HELD, "None of these held")
        assert [value for value, _ in options[:-1]] == list(PRACTICES)


def test_a_checklist_left_blank_is_a_field_error_not_none_held() -> None:
    loss, errors = parse_lost_submission(_lost_state(practices=[]))
    assert loss is None
    assert list(errors) == ["practices"]
    assert "None of these held" in errors["practices"] and "Tick" in errors["practices"]
    win, errors = parse_won_submission(_won_state([]))
    assert win is None and list(errors) == ["practices"]


def test_none_of_these_held_with_a_practice_is_a_field_error() -> None:
    loss, errors = parse_lost_submission(_lost_state(practices=[NONE_HELD, "discovery"]))
    assert loss is None and list(errors) == ["practices"]
    assert "can't go with a practice" in errors["practices"]
    win, errors = parse_won_submission(_won_state([NONE_HELD, "discovery"]))
    assert win is None and list(errors) == ["practices"]


def test_none_of_these_held_is_an_answer_with_no_practice_held() -> None:
    loss, errors = parse_lost_submission(_lost_state(practices=[NONE_HELD]))
    assert errors == {} and loss is not None
    assert set(loss.practices) == set(PRACTICES) and not any(loss.practices.values())
    win, errors = parse_won_submission(_won_state([NONE_HELD], luck="mostly"))
    assert errors == {} and win is not None and not any(win.practices.values())


def test_a_win_all_process_with_no_practice_held_is_a_field_error_that_explains() -> None:
    win, errors = parse_won_submission(_won_state([NONE_HELD], luck="none"))
    assert win is None and list(errors) == ["luck"]
    assert "none of it was luck" in errors["luck"]
    assert "tick the practices that held" in errors["luck"]
    # One practice is enough to make "it was the process" an honest answer.
    win, errors = parse_won_submission(_won_state(["discovery"], luck="none"))
    assert errors == {} and win is not None and win.luck == 0


def test_the_lost_modal_opens_by_acknowledging_that_losing_hurts() -> None:
    first = lost_modal()["blocks"][0]
    assert first["type"] == "context"
    assert first["elements"][0]["text"].startswith("When you lose an opportunity, it hurts.")


def test_the_win_lesson_modal_has_one_required_question_and_says_it_is_private() -> None:
    view = win_lesson_modal("Acme <renewal>", 7)
    _valid_view(view)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["label"]["text"]) for b in inputs] == [(WIN_LESSON_KEY, WIN_QUESTION)]
    assert not inputs[0].get("optional", False)
    assert "Acme &lt;renewal&gt;" in json.dumps(view)
    assert "Only you and your manager can read it" in json.dumps(view)
    assert read_reflection_metadata(view["private_metadata"]) == ReflectionIds(
        outcome_id=7, commitment_id=None, win=True
    )
    # A loss's modal says it is not a win's.
    loss = reflection_modal("Acme", 7, None)
    assert read_reflection_metadata(loss["private_metadata"]).win is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("answer", "error"),
    [(None, "Please fill in what worked."), ("   ", "What worked can't be only spaces.")],
)
def test_a_win_lesson_must_say_what_worked(answer: str | None, error: str) -> None:
    values = {WIN_LESSON_KEY: {"value": state_value("plain_text_input", answer)}}
    submission, errors = parse_reflection_submission(values, asks_follow_up=False, win=True)
    assert submission is None and errors == {WIN_LESSON_KEY: error}


def test_a_win_lesson_is_read_alone_without_a_commitment() -> None:
    values = {
        WIN_LESSON_KEY: {"value": state_value("plain_text_input", "  Asked about budget  ")},
        "commitment": {"value": state_value("plain_text_input", "ignored")},
    }
    submission, errors = parse_reflection_submission(values, asks_follow_up=False, win=True)
    assert errors == {}
    assert submission is not None
    assert (submission.answers, submission.followed_up) == (
        {WIN_LESSON_KEY: "Asked about budget"},
        None,
    )
    assert reflection_questions(perfect_miss=False, win=True) == ((WIN_LESSON_KEY, WIN_QUESTION),)
