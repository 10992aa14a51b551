"""Correcting or removing a recent outcome: the Home section and the filled-in form (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.corrections import (
    CORRECT_ACTION_ID,
    CORRECT_LOST_CALLBACK_ID,
    CORRECT_WON_CALLBACK_ID,
    REMOVE_ACTION_ID,
    correction_modal,
    read_correction_metadata,
    recent_outcomes_blocks,
)
from bot.blocks.debriefs import parse_lost_submission, parse_won_submission
from bot.domain import NONE_HELD, PRACTICES, Classification
from bot.domain.corrections import correctable
from bot.domain.debriefs import OutcomeFacts
from testkit.standin import BlockKitChecker

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _facts(kind: str = "loss", **changes: object) -> OutcomeFacts:
    values: dict[str, object] = {
        "id": 41,
        "user_id": "U0REP1",
        "kind": kind,
        "deal": "Acme & <renewal>",
        "classification": Classification.SYSTEM_MISS
        if kind == "loss"
        else Classification.SYSTEM_HIT,
        "practices": {p: p in ("discovery", "qualification") for p in PRACTICES},
        "occurred_at": NOW - timedelta(days=2),
        "amount": 1_000_000.0,
        "stage": "proposal",
        "reason": "follow_up",
        "competitor": "Hooli",
        "buyer_feedback": "Too slow",
        "luck": 25 if kind == "win" else None,
    }
    values.update(changes)
    return OutcomeFacts(**values)  # type: ignore[arg-type]


def _state(view: dict[str, object]) -> dict[str, dict[str, object]]:
    """The submitted state of a view whose fields are left as they were filled in."""
    values: dict[str, dict[str, object]] = {}
    for block in view["blocks"]:  # type: ignore[attr-defined]
        element = block.get("element")
        if not element:
            continue
        kind = element["type"]
        answer: dict[str, object] = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            answer["value"] = element.get("initial_value")
        elif kind == "static_select":
            answer["selected_option"] = element.get("initial_option")
        elif kind == "checkboxes":
            answer["selected_options"] = element.get("initial_options", [])
        values[block["block_id"]] = {"value": answer}
    return values


@pytest.mark.unit
def test_only_the_last_7_days_are_correctable() -> None:
    assert correctable(NOW - timedelta(days=7), NOW)
    assert not correctable(NOW - timedelta(days=7, seconds=1), NOW)


@pytest.mark.unit
def test_the_loss_form_is_filled_in_with_what_was_saved_and_reads_back_the_same() -> None:
    view = correction_modal(_facts())
    checker = BlockKitChecker()
    checker.check_view(view)
    assert checker.problems == []
    assert view["callback_id"] == CORRECT_LOST_CALLBACK_ID
    assert read_correction_metadata(view["private_metadata"]) == 41
    assert view["title"]["text"] == "Correct a loss"
    submission, errors = parse_lost_submission(_state(view))
    assert errors == {} and submission is not None
    assert submission.deal == "Acme & <renewal>"
    assert submission.amount == 1_000_000.0  # "1000000", never "1e+06"
    assert (submission.stage, submission.reason) == ("proposal", "follow_up")
    assert submission.competitor == "Hooli" and submission.buyer_feedback == "Too slow"
    assert [p for p, held in submission.practices.items() if held] == [
        "discovery",
        "qualification",
    ]


@pytest.mark.unit
def test_the_win_form_keeps_the_luck_and_none_held_is_an_answer() -> None:
    view = correction_modal(_facts("win", practices={p: False for p in PRACTICES}, luck=60))
    assert view["callback_id"] == CORRECT_WON_CALLBACK_ID
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["practices"]["element"]["initial_options"][0]["value"] == NONE_HELD
    submission, errors = parse_won_submission(_state(view))
    assert errors == {} and submission is not None
    assert submission.luck == 60
    assert not any(submission.practices.values())


@pytest.mark.unit
def test_the_home_section_lists_each_outcome_with_correct_and_remove() -> None:
    blocks = recent_outcomes_blocks(
        [_facts(), _facts("win", id=42, deal="Globex", occurred_at=NOW - timedelta(hours=5))],
        now=NOW,
    )
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*Logged in the last 7 days*" in text
    assert "Lost *Acme &amp; &lt;renewal&gt;* · System miss · 2 days ago" in text
    assert "Won *Globex* · System hit · 5 hours ago" in text
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (CORRECT_ACTION_ID, "41"),
        (REMOVE_ACTION_ID, "41"),
        (CORRECT_ACTION_ID, "42"),
        (REMOVE_ACTION_ID, "42"),
    ]
    assert all("confirm" in b for b in buttons if b["action_id"] == REMOVE_ACTION_ID)
    assert recent_outcomes_blocks([], now=NOW) == []


@pytest.mark.unit
@pytest.mark.parametrize("metadata", ["", "{}", "[]", '{"outcome_id": "x"}', "nope"])
def test_forged_metadata_reads_as_nothing(metadata: str) -> None:
    assert read_correction_metadata(metadata) is None
