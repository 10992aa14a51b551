"""Resilience support after a losing streak (seed 003): the domain rule (once per streak, at
exactly the workspace's length, rotating practices), the Home figures, and the pure builders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.dashboard import manager_dashboard_blocks
from bot.blocks.resilience import (
    TALK_ACTION_ID,
    fastest_recoveries_text,
    losing_streaks_text,
    streak_manager_prompt,
    streak_support_dm,
    talk_request_note,
    talk_requested_reply,
)
from bot.blocks.settings import parse_settings_submission, settings_modal
from bot.blocks.settings.messages import settings_saved_message
from bot.domain import OutcomeEvent, OutcomeKind
from bot.domain.dashboard import ManagerDashboard, Streak, TeamRow
from bot.domain.resilience import (
    ONE_ON_ONE_QUESTIONS,
    RESILIENCE_PRACTICES,
    OngoingStreak,
    Recovery,
    StreakOutcome,
    fastest_recovery,
    ongoing_losing_streak,
    recoveries,
    support_due,
    support_reached,
)
from testkit.simulator import state_value
from tests.support.block_kit import valid_message
from tests.support.settings_form import current_settings, settings_form

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
L, W = OutcomeKind.LOSS, OutcomeKind.WIN


def _history(kinds: str) -> list[StreakOutcome]:
    """ "LLWLLL" as outcomes a day apart, ids 1.."""
    return [
        StreakOutcome(id=i + 1, kind=L if k == "L" else W, at=START + timedelta(days=i))
        for i, k in enumerate(kinds)
    ]


def _events(kinds: str, *, hours: float = 24) -> list[OutcomeEvent]:
    return [
        OutcomeEvent(kind=L if k == "L" else W, at=START + timedelta(hours=i * hours))
        for i, k in enumerate(kinds)
    ]


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("kinds", "due"),
    [
        ("", False),
        ("L", False),
        ("LL", False),
        ("LLL", True),  # the loss that makes it three
        ("LLLL", False),  # a 4th loss brings nothing more
        ("LLLLL", False),
        ("LLLW", False),  # a win ends it
        ("LLLWLL", False),
        ("LLLWLLL", True),  # a new streak of three after a win triggers again
        ("WLLL", True),
        ("LLWL", False),
    ],
)
def test_support_is_due_once_when_the_streak_reaches_its_length(kinds: str, due: bool) -> None:
    assert (support_due(_history(kinds), streak=3) is not None) is due


@pytest.mark.unit
@pytest.mark.parametrize(
    ("kinds", "first_loss", "losses"),
    [
        ("", None, None),
        ("LL", None, None),  # shorter than the setting
        ("LLL", 1, 3),
        ("WLLLLL", 2, 5),  # past the setting: the same streak, named by its first loss
        ("LLLLW", None, None),  # ended by a win
        ("LLLLWLLL", 6, 3),
    ],
)
def test_a_streak_reached_is_one_at_least_as_long_as_the_setting(
    kinds: str, first_loss: int | None, losses: int | None
) -> None:
    """What lowering the setting mid-streak looks at: the current run, at least `streak` long."""
    support = support_reached(_history(kinds), streak=3)
    found = (support.first_loss_id, support.losses) if support is not None else (None, None)
    assert found == (first_loss, losses)


@pytest.mark.unit
def test_the_support_names_the_streak_by_its_first_loss_and_counts_it() -> None:
    support = support_due(_history("WLWLLL"), streak=3)
    assert support is not None
    assert support.first_loss_id == 4
    assert support.losses == 3
    assert support.started_at == START + timedelta(days=3)


@pytest.mark.unit
def test_the_streak_is_named_by_the_win_before_it_whichever_loss_is_gone() -> None:
    assert support_due(_history("WLWLLL"), streak=3).after_win_id == 3  # type: ignore[union-attr]
    assert support_due(_history("LLL"), streak=3).after_win_id is None  # type: ignore[union-attr]
    # The first loss (id 4) removed, a 4th loss (id 7): the same name, so no second support.
    history = [o for o in _history("WLWLLLL") if o.id != 4]
    support = support_due(history, streak=3)
    assert support is not None and (support.first_loss_id, support.after_win_id) == (5, 3)


@pytest.mark.unit
def test_the_order_is_by_time_then_by_id_not_as_given() -> None:
    shuffled = list(reversed(_history("WLLL")))
    support = support_due(shuffled, streak=3)
    assert support is not None and support.first_loss_id == 2
    # Two outcomes at one instant: the later id is the newer one.
    same = [
        StreakOutcome(1, L, START),
        StreakOutcome(2, L, START),
        StreakOutcome(4, L, START),
        StreakOutcome(3, W, START),
    ]
    assert support_due(same, streak=3) is None  # 1, 2 lost; 3 won; 4 lost: a streak of one


@pytest.mark.unit
def test_the_practice_and_question_rotate_with_each_streak_that_reached_the_length() -> None:
    seen = []
    kinds = ""
    for _ in range(len(RESILIENCE_PRACTICES) + 1):
        kinds += "LLL"
        support = support_due(_history(kinds), streak=3)
        assert support is not None
        seen.append((support.practice, support.question))
        kinds += "W"
    assert [p for p, _ in seen[: len(RESILIENCE_PRACTICES)]] == list(RESILIENCE_PRACTICES)
    assert seen[len(RESILIENCE_PRACTICES)][0] == RESILIENCE_PRACTICES[0]  # round again
    assert {q for _, q in seen} <= set(ONE_ON_ONE_QUESTIONS)
    # A streak that never reached the length doesn't move the rotation.
    assert support_due(_history("LLWLLL"), streak=3).practice == RESILIENCE_PRACTICES[0]  # type: ignore[union-attr]


@pytest.mark.unit
def test_the_length_is_the_setting() -> None:
    assert support_due(_history("LL"), streak=2) is not None
    assert support_due(_history("LLL"), streak=2) is None
    assert support_due(_history("LLLLL"), streak=5) is not None
    with pytest.raises(ValueError):
        support_due(_history("L"), streak=0)


@pytest.mark.unit
def test_the_practices_are_seed_003s_words() -> None:
    lines = [p.seed_line for p in RESILIENCE_PRACTICES]
    assert lines == [
        "Get up the next morning and correct the mistake in question.",
        "Press on to other accounts without missing a beat.",
        "Be willing to acknowledge your own role in defeat.",
        "Resilience draws from a core set of values that motivate you to overcome the setback.",
    ]
    assert len(ONE_ON_ONE_QUESTIONS) == 4
    assert all(q.endswith("?") for q in ONE_ON_ONE_QUESTIONS)


# --- the Home figures -------------------------------------------------------------------------


@pytest.mark.unit
def test_an_ongoing_streak_counts_losses_and_time_since_the_first() -> None:
    now = START + timedelta(days=10)
    streak = ongoing_losing_streak(_events("WLLL"), now)
    assert streak == OngoingStreak(
        losses=3, since=START + timedelta(days=1), duration=timedelta(days=9)
    )
    assert ongoing_losing_streak(_events("LLLW"), now) is None
    assert ongoing_losing_streak(_events("WL"), now) is None  # one loss is not a streak
    assert ongoing_losing_streak([], now) is None


@pytest.mark.unit
def test_recovery_runs_from_the_streaks_last_loss_to_the_win() -> None:
    found = recoveries(_events("LLWLW"))
    assert [(r.losses, r.time) for r in found] == [(2, timedelta(days=1)), (1, timedelta(days=1))]
    events = [
        OutcomeEvent(L, START),
        OutcomeEvent(L, START + timedelta(days=1)),
        OutcomeEvent(W, START + timedelta(days=6)),  # 5 days after the last loss
        OutcomeEvent(L, START + timedelta(days=7)),
        OutcomeEvent(W, START + timedelta(days=9)),  # 2 days
    ]
    quickest = fastest_recovery(events, START, START + timedelta(days=30))
    assert quickest is not None and quickest.time == timedelta(days=2)
    # Only wins within the cycle count.
    early = fastest_recovery(events, START, START + timedelta(days=8))
    assert early is not None and early.time == timedelta(days=5)
    assert fastest_recovery(events, START + timedelta(days=10), START + timedelta(days=20)) is None


# --- builders ---------------------------------------------------------------------------------


@pytest.mark.unit
def test_the_reps_dm_is_warm_first_then_one_practice_then_the_offer() -> None:
    support = support_due(_history("LLL"), streak=3)
    assert support is not None
    dm = streak_support_dm(support, latest_deal="Acme & <Co>", manager_user_id="U0MGR")
    valid_message(dm)
    texts = [json.dumps(b, ensure_ascii=False) for b in dm["blocks"]]
    assert texts[0].startswith('{"type": "section"')
    assert "When you lose an opportunity, it hurts" in texts[0]
    assert "Acme &amp; &lt;Co&gt;" in texts[0]
    assert "3 losses in a row" in texts[0]
    assert "the ability to recover from stumbles, mistakes and failures" in texts[1]
    assert support.practice.seed_line in texts[2]
    assert "<@U0MGR>" in texts[3]
    (button,) = dm["blocks"][4]["elements"]
    assert button["action_id"] == TALK_ACTION_ID and button["value"] == str(support.first_loss_id)
    assert "Nothing about it is posted in a channel" in texts[-1]
    assert dm["text"].startswith("When you lose an opportunity, it hurts.")


@pytest.mark.unit
def test_without_a_manager_there_is_no_offer_to_talk() -> None:
    support = support_due(_history("LLL"), streak=3)
    assert support is not None
    dm = streak_support_dm(support, latest_deal="Acme", manager_user_id=None)
    assert TALK_ACTION_ID not in json.dumps(dm, ensure_ascii=False)
    assert "one-on-one" not in json.dumps(dm, ensure_ascii=False)


@pytest.mark.unit
def test_the_managers_prompt_has_one_question_for_the_one_on_one() -> None:
    support = support_due(_history("LLL"), streak=3)
    assert support is not None
    prompt = streak_manager_prompt(support, rep_user_id="U0REP1", latest_deal="<!channel>")
    valid_message(prompt)
    text = json.dumps(prompt, ensure_ascii=False)
    assert "<@U0REP1> has lost 3 deals in a row" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert f"*One question for your next one-on-one:* {support.question}" in text
    assert text.count("?") >= 1
    assert "start with how they are" in text


@pytest.mark.unit
def test_the_talk_note_and_the_replies() -> None:
    note = talk_request_note(rep_user_id="U0REP1", losses=4)
    assert "<@U0REP1> would like to talk" in note["text"]
    assert "4 losses in a row" in json.dumps(note, ensure_ascii=False)
    assert "I've let <@U0MGR> know" in talk_requested_reply("U0MGR", first_time=True)["text"]
    assert "already knows" in talk_requested_reply("U0MGR", first_time=False)["text"]


@pytest.mark.unit
def test_home_lines_on_empty_data() -> None:
    assert losing_streaks_text([]) == (
        "*On a losing streak*\nNobody on your team is on a losing streak right now."
    )
    assert fastest_recoveries_text([]) == (
        "*Fastest recoveries this cycle*\nNo bounce-backs yet this cycle."
    )


@pytest.mark.unit
def test_home_lines_on_crowded_data_stay_short_and_in_order() -> None:
    streaks = [
        (f"U0R{i:03d}", OngoingStreak(2 + i, START, timedelta(days=i, hours=3))) for i in range(25)
    ]
    text = losing_streaks_text(streaks)
    assert text.count("\n•") == 10
    assert "• <@U0R000>: 2 losses in a row, for 3 hours" in text
    assert "• <@U0R002>: 4 losses in a row, for 2 days" in text
    assert text.endswith("…and 15 more.")
    fast = [
        (f"U0R{i:03d}", Recovery(1 + i, START, START + timedelta(days=i + 1))) for i in range(25)
    ]
    lines = fastest_recoveries_text(fast)
    assert lines.count("\n•") == 10
    assert "• <@U0R000>: won 1 day after their last loss (a streak of 1 loss)" in lines
    row = TeamRow(
        user_id="U0R000",
        quadrant=None,
        attainment_ratio=None,
        checkins_answered=0,
        checkins_sent=0,
        last_debrief_at=None,
        streak=Streak("loss", 2),
        losing_streak=2,
    )
    dashboard = ManagerDashboard(
        rows=[row] * 25,
        more_reps=0,
        loss_reasons=[],
        vital_few=[],
        pareto_days=90,
        coaching=[],
        on_streak=streaks,
        fastest=fast,
    )
    blocks = manager_dashboard_blocks(dashboard, now=START)
    texts = [b.get("text", {}).get("text", "") for b in blocks]
    assert text in texts and lines in texts
    assert len(blocks) <= 45
    valid_message({"text": "Home", "blocks": blocks})


# --- the setting ------------------------------------------------------------------------------


def _settings_values(losses: str) -> dict[str, dict[str, object]]:
    return settings_form(support_streak={"value": state_value("number_input", losses)})


@pytest.mark.unit
def test_the_settings_modal_shows_the_streak_length() -> None:
    current = current_settings(support_streak=4)
    blocks = {b.get("block_id"): b for b in settings_modal(current)["blocks"]}
    element = blocks["support_streak"]["element"]
    assert element["initial_value"] == "4"
    assert (element["min_value"], element["max_value"]) == ("2", "20")
    assert "Never posted in a channel" in blocks["support_streak"]["hint"]["text"]


@pytest.mark.unit
@pytest.mark.parametrize("raw", ["2", "3", "20"])
def test_a_streak_length_from_2_to_20_is_saved(raw: str) -> None:
    saved, errors = parse_settings_submission(_settings_values(raw))
    assert errors == {} and saved is not None
    assert saved.more["support_streak"] == int(raw)
    text = settings_saved_message(saved)["blocks"][0]["text"]["text"]
    assert f"Resilience support after {raw} losses in a row (private)" in text


@pytest.mark.unit
@pytest.mark.parametrize("raw", ["1", "0", "21", "2.5", "three", ""])
def test_any_other_streak_length_is_a_field_error(raw: str) -> None:
    saved, errors = parse_settings_submission(_settings_values(raw))
    assert saved is None
    assert list(errors) == ["support_streak"]
    assert "whole number from 2 to 20" in errors["support_streak"]
