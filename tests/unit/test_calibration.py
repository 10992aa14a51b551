"""A manager's calibration (issue 12): the domain rule and the pure blocks, as dicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.blocks.debriefs import (
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_CALLBACK_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    calibrated_manager_note,
    calibration_modal,
    calibration_rep_dm,
    manager_note,
    parse_calibration_submission,
    read_calibration_metadata,
)
from bot.domain import NONE_HELD, PRACTICES, Classification
from bot.domain.calibration import (
    CALIBRATED_LABEL,
    MAX_CALIBRATION_NOTE,
    calibrated_classification,
    make_calibration,
    practices_from_text,
    practices_text,
)
from bot.domain.debriefs import OutcomeFacts
from testkit.simulator import state_value
from testkit.standin import BlockKitChecker
from tests.support.block_kit import valid_message
from tests.support.quadrant_upload import quadrant_payload

WHEN = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ONE_HELD = {p: p == "discovery" for p in PRACTICES}
ALL_HELD = dict.fromkeys(PRACTICES, True)


def _facts(**overrides: Any) -> OutcomeFacts:
    values: dict[str, Any] = {
        "id": 7,
        "user_id": "U0LEO",
        "kind": "loss",
        "deal": "Acme <renewal>",
        "classification": Classification.SYSTEM_MISS,
        "practices": ONE_HELD,
        "occurred_at": WHEN,
        "stage": "proposal",
        "reason": "price",
    }
    values.update(overrides)
    return OutcomeFacts(**values)


def _state(practices: list[str] | None, note: str | None) -> dict[str, Any]:
    return {
        "practices": {"value": state_value("checkboxes", practices)},
        "note": {"value": state_value("plain_text_input", note)},
    }


# --- the domain rule -------------------------------------------------------------------------


def test_a_loss_the_manager_saw_held_is_a_perfect_miss_and_one_they_saw_slip_a_system_miss() -> (
    None
):
    assert calibrated_classification("loss", ALL_HELD, luck=None) == (
        1.0,
        Classification.PERFECT_MISS,
    )
    score, label = calibrated_classification("loss", ONE_HELD, luck=None)
    assert (score, label) == (pytest.approx(0.2), Classification.SYSTEM_MISS)


def test_a_win_keeps_the_reps_luck_and_is_judged_by_the_practices_the_manager_saw() -> None:
    assert calibrated_classification("win", ALL_HELD, luck=25)[1] is Classification.SYSTEM_HIT
    assert calibrated_classification("win", ONE_HELD, luck=25)[1] is Classification.LUCKY_HIT
    # "Mostly luck" stays a lucky hit whatever held (the rep's own estimate of luck).
    assert calibrated_classification("win", ALL_HELD, luck=90)[1] is Classification.LUCKY_HIT


def test_the_workspace_threshold_decides_strong_process() -> None:
    four = {p: p != "pipeline_full" for p in PRACTICES}
    assert calibrated_classification("loss", four, luck=None, threshold=0.8)[1] is (
        Classification.PERFECT_MISS
    )
    assert calibrated_classification("loss", four, luck=None, threshold=1.0)[1] is (
        Classification.SYSTEM_MISS
    )


def test_a_calibration_carries_its_recomputed_label_and_the_practices_round_trip() -> None:
    calibration = make_calibration(
        kind="loss",
        luck=None,
        manager_user_id="U0MGR",
        practices=ALL_HELD,
        note="You did it all right.",
        agrees=False,
        threshold=0.8,
        now=WHEN,
    )
    assert calibration.classification is Classification.PERFECT_MISS
    assert calibration.process_score == 1.0
    assert practices_from_text(practices_text(ONE_HELD)) == ONE_HELD
    assert practices_text(dict.fromkeys(PRACTICES, False)) == ""
    assert practices_from_text("") == dict.fromkeys(PRACTICES, False)


# --- the note's buttons and the modal --------------------------------------------------------


def test_the_managers_note_has_agree_and_see_it_differently_buttons() -> None:
    note = manager_note(_facts())
    valid_message(note)
    buttons = [
        element
        for block in note["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in buttons] == [
        (CALIBRATE_AGREE_ACTION_ID, "Agree", "7"),
        (CALIBRATE_DIFFER_ACTION_ID, "I see it differently", "7"),
    ]
    assert "actions" not in json.dumps(manager_note(_facts(), with_buttons=False))


def test_the_modal_is_the_reps_checklist_ticked_as_they_answered_with_one_sentence() -> None:
    view = calibration_modal(_facts())
    checker = BlockKitChecker()
    checker.check_view(view)
    assert checker.problems == []
    assert view["callback_id"] == CALIBRATE_CALLBACK_ID
    assert read_calibration_metadata(view["private_metadata"]) == 7
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    checklist = blocks["practices"]["element"]
    assert [o["value"] for o in checklist["options"]] == [*PRACTICES, NONE_HELD]
    assert [o["value"] for o in checklist["initial_options"]] == ["discovery"]
    assert blocks["note"]["optional"] is False
    assert blocks["note"]["element"]["max_length"] == MAX_CALIBRATION_NOTE
    assert "Acme &lt;renewal&gt;" in json.dumps(view)
    # A rep who said none held: the manager starts from "None of these held".
    nothing = calibration_modal(_facts(practices=dict.fromkeys(PRACTICES, False)))
    checklist = {b.get("block_id"): b for b in nothing["blocks"]}["practices"]["element"]
    assert [o["value"] for o in checklist["initial_options"]] == [NONE_HELD]


@pytest.mark.parametrize(
    ("practices", "note", "field", "words"),
    [
        (["discovery"], None, "note", "Please fill in"),
        (["discovery"], "   ", "note", "only spaces"),
        (["discovery"], "x" * (MAX_CALIBRATION_NOTE + 1), "note", "Keep it to 280"),
        ([], "Fine.", "practices", "None of these held"),
        (["discovery", NONE_HELD], "Fine.", "practices", "can't go with"),
    ],
)
def test_the_modal_refuses_what_it_cannot_save_with_field_errors(
    practices: list[str], note: str | None, field: str, words: str
) -> None:
    submission, errors = parse_calibration_submission(_state(practices, note))
    assert submission is None
    assert list(errors) == [field]
    assert words in errors[field]


def test_the_modal_reads_the_managers_view() -> None:
    submission, errors = parse_calibration_submission(
        _state(["discovery", "qualification"], "  You qualified well.  ")
    )
    assert errors == {}
    assert submission is not None
    assert submission.note == "You qualified well."
    assert [p for p, held in submission.practices.items() if held] == ["discovery", "qualification"]
    none, _ = parse_calibration_submission(_state([NONE_HELD], "Nothing held."))
    assert none is not None and not any(none.practices.values())


# --- what the rep and the manager read -------------------------------------------------------


def _calibration(*, agrees: bool, practices: dict[str, bool] = ALL_HELD) -> Any:
    return make_calibration(
        kind="loss",
        luck=None,
        manager_user_id="U0MGR",
        practices=practices,
        note=None if agrees else "Your *discovery* was <great> & thorough.",
        agrees=agrees,
        threshold=0.8,
        now=WHEN,
    )


def test_the_reps_dm_gives_the_managers_view_as_coaching_with_both_views() -> None:
    dm = calibration_rep_dm(_facts(), _calibration(agrees=False))
    valid_message(dm)
    text = json.dumps(dm)
    assert "<@U0MGR> looked at your debrief of *Acme &lt;renewal&gt;*" in text
    assert "can't see their own swing" in text
    assert "&lt;great&gt; &amp; thorough" in text
    assert "You said these held: discovery was on point." in text
    assert "Your manager saw these hold: kept the pipeline full" in text
    assert f"*Perfect miss* ({CALIBRATED_LABEL})" in text
    assert "Go out and do exactly what you did again." in text  # the new label's coaching
    assert "someone else's eyes" in text


def test_an_agreement_tells_the_rep_their_own_read_was_right() -> None:
    dm = calibration_rep_dm(_facts(), _calibration(agrees=True, practices=ONE_HELD))
    valid_message(dm)
    text = json.dumps(dm)
    assert "sees it the way you do: *System miss*" in text
    assert "scored this one honestly" in text


def test_the_calibrated_note_loses_its_buttons_and_says_what_was_decided() -> None:
    agreed = calibrated_manager_note(_facts(), _calibration(agrees=True, practices=ONE_HELD))
    differed = calibrated_manager_note(_facts(), _calibration(agrees=False))
    for note in (agreed, differed):
        valid_message(note)
        assert CALIBRATE_AGREE_ACTION_ID not in json.dumps(note)
        assert "<@U0LEO> has it privately, as coaching." in json.dumps(note)
    assert "Calibrated by <@U0MGR>: agreed with <@U0LEO>'s own score." in json.dumps(agreed)
    assert "Calibrated by <@U0MGR>: *Perfect miss*" in json.dumps(differed)
    assert "&lt;great&gt; &amp; thorough" in json.dumps(differed)


# --- reviews, Home and the chart say when a manager's view counts ------------------------------


def _reviews(calibrated: int) -> list[Any]:
    from bot.domain.goals import CycleReview, GoalProgress
    from storage.models import Goal

    goal = Goal(
        team_id="T1",
        user_id="U1",
        metric="deals_won",
        target=4,
        cycle_start=WHEN.date(),
        cycle_end=WHEN.date(),
    )
    progress = GoalProgress(goal=goal, attainment=1, metric_label="Deals won")
    return [
        CycleReview(
            "U1",
            progress,
            0.9,
            Classification.PERFECT_MISS,
            scored_outcomes=3,
            calibrated_outcomes=calibrated,
        )
    ]


def test_a_review_says_how_many_outcomes_a_manager_calibrated() -> None:
    from bot.blocks.goals import review_message, review_table_lines

    (calibrated,) = _reviews(2)
    (own,) = _reviews(0)
    assert "90% of the practices held (2 outcomes calibrated by your manager)" in json.dumps(
        review_message(calibrated)
    )
    assert "calibrated" not in json.dumps(review_message(own))
    assert review_table_lines([calibrated], ended=True)[0].endswith(
        "process 90% (2 calibrated by a manager)"
    )
    payload = quadrant_payload([calibrated, own], {"U1": "Leo"})
    assert [point[0] for point in payload["points"]] == ["Leo (calibrated)", "Leo"]


def test_home_says_which_outcomes_count_the_managers_view() -> None:
    from datetime import timedelta

    from bot.blocks.dashboard import rep_dashboard_blocks, team_row_line
    from bot.domain import Resilience
    from bot.domain.dashboard import RepDashboard, Streak, TeamRow

    def rep(calibrated: int) -> str:
        dashboard = RepDashboard(
            user_id="U1",
            progress=None,
            cycle_start=WHEN.date(),
            cycle_end=WHEN.date() + timedelta(days=30),
            record={"perfect-miss": 1},
            resilience=Resilience(0, None, 0, 0),
            streak=Streak("loss", 1),
            outcomes_considered=1,
            lessons=[],
            calibrated=calibrated,
        )
        return json.dumps(rep_dashboard_blocks(dashboard))

    assert "Of these, 1 outcome calibrated by your manager" in rep(1)
    assert "calibrated" not in rep(0)
    row = TeamRow(
        user_id="U1",
        quadrant=None,
        attainment_ratio=0.25,
        checkins_answered=0,
        checkins_sent=0,
        last_debrief_at=None,
        streak=Streak("loss", 1),
        losing_streak=1,
        too_early="1 scored outcome so far",
        calibrated=1,
    )
    assert "(1 scored outcome so far, 25% of goal, 1 calibrated by a manager)" in team_row_line(
        row, WHEN
    )
