"""What a rep's correction or removal changes in messages already in Slack (pure builders): the
line saying who corrected it when, the short notes after a removal (no buttons left), the
lessons-kept DM with its deal renamed, and the answer to a stale button."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.blocks.correction_updates import (
    CORRECTED_BLOCK_ID,
    OUTCOME_GONE,
    corrected_note_line,
    corrected_rep_line,
    lessons_kept_renamed,
    outcome_gone_message,
    removed_manager_note,
    removed_rep_dm,
    with_line,
)
from bot.blocks.debriefs import manager_note, reflection_saved_dm, win_lesson_saved_dm
from bot.domain import PRACTICES, Classification
from bot.domain.debriefs import LessonShare, OutcomeFacts
from testkit.standin import BlockKitChecker

WHEN = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> *Acme* & <https://evil.example|co>"
ESCAPED = "&lt;!channel&gt; *Acme* &amp; &lt;https://evil.example|co&gt;"


def _facts(kind: str = "loss", deal: str = HOSTILE) -> OutcomeFacts:
    return OutcomeFacts(
        id=7,
        user_id="U0REP1",
        kind=kind,
        deal=deal,
        classification=Classification.SYSTEM_MISS if kind == "loss" else Classification.LUCKY_HIT,
        practices={p: p == "discovery" for p in PRACTICES},
        occurred_at=WHEN - timedelta(days=1),
        amount=1200.0,
    )


def _valid(blocks: list[dict[str, object]]) -> None:
    checker = BlockKitChecker()
    checker.check_blocks(blocks, "/blocks", 50)
    assert checker.problems == []


def _actions(message: dict[str, object]) -> list[object]:
    return [b for b in message["blocks"] if b["type"] == "actions"]  # type: ignore[index, union-attr]


def test_the_corrected_line_names_the_rep_and_a_date_every_reader_sees_in_their_zone() -> None:
    line = corrected_note_line(_facts(), WHEN)
    text = json.dumps(line)
    assert "Corrected by <@U0REP1> on <!date^" in text
    assert f"<!date^{int(WHEN.timestamp())}^{{date_short}}|Nov 26, 2026>" in text
    assert line["block_id"] == CORRECTED_BLOCK_ID
    rep = json.dumps(corrected_rep_line(WHEN, shout_out_down=True))
    assert "You corrected this on" in rep and "took that down from the channel" in rep
    assert "channel" not in json.dumps(corrected_rep_line(WHEN, shout_out_down=False))


def test_a_second_correction_replaces_the_first_line_instead_of_adding_one() -> None:
    note = manager_note(_facts())
    once = with_line(note, corrected_note_line(_facts(), WHEN))
    twice = with_line(once, corrected_note_line(_facts(), WHEN + timedelta(days=1)))
    ids = [b.get("block_id") for b in twice["blocks"]]
    assert ids.count(CORRECTED_BLOCK_ID) == 1 and ids[-1] == CORRECTED_BLOCK_ID
    assert len(twice["blocks"]) == len(note["blocks"]) + 1
    assert with_line(twice, None)["blocks"] == note["blocks"]
    _valid(twice["blocks"])


def test_after_a_removal_the_notes_keep_no_buttons_and_escape_the_deal() -> None:
    for message in (removed_manager_note(_facts(), WHEN), removed_rep_dm(_facts("win"), WHEN)):
        text = json.dumps(message, ensure_ascii=False)
        assert ESCAPED in text and "<!channel>" not in text
        assert _actions(message) == []
        _valid(message["blocks"])
    manager = json.dumps(removed_manager_note(_facts(), WHEN))
    assert "<@U0REP1> removed the loss" in manager and "Nothing to calibrate" in manager
    assert "You removed the win" in json.dumps(removed_rep_dm(_facts("win"), WHEN))


def test_the_lessons_kept_dm_gets_the_new_name_and_keeps_the_rest_word_for_word() -> None:
    sent = reflection_saved_dm("Old & <name>", "Call the *champion* <@U0X>", True)
    renamed = lessons_kept_renamed(sent, HOSTILE)
    assert renamed is not None
    first = renamed["blocks"][0]["text"]["text"]
    assert first.startswith(f"Kept as your lessons from *{ESCAPED}*. Find them any time")
    assert "Old" not in json.dumps(renamed)
    # The commitment and the follow-up line are as they were.
    assert first.split("\n")[1:] == sent["blocks"][0]["text"]["text"].split("\n")[1:]
    assert renamed["text"] == f"Lessons kept: {ESCAPED}"
    assert sent["text"] == "Lessons kept: Old &amp; &lt;name&gt;"  # the original is untouched
    # Renaming again (a second correction) starts from the renamed one.
    again = lessons_kept_renamed(renamed, "Third")
    assert again is not None and again["text"] == "Lessons kept: Third"
    # Not a lessons-kept DM: nothing to rename.
    lesson = LessonShare(reflection_id=1, deal="Win", answer="Kept it simple", shared=False)
    assert lessons_kept_renamed(win_lesson_saved_dm(lesson), "New") is None


def test_a_stale_button_is_answered_plainly() -> None:
    assert outcome_gone_message()["text"] == OUTCOME_GONE
    assert "nothing was saved" in OUTCOME_GONE
