"""The digest's Reply, its form, the reply DM and the Home's one-on-one agenda, as plain dicts
(issue 12 §6; no Slack, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.blocks.checkins import digest_message
from bot.blocks.one_on_ones import (
    AGENDA_DONE_ACTION_ID,
    AGENDA_ON,
    AGENDA_SHOWN,
    REPLY_ACTION_ID,
    REPLY_CALLBACK_ID,
    agenda_blocks,
    not_on_their_agenda_message,
    parse_reply_submission,
    read_reply_metadata,
    reply_dm,
    reply_modal,
)
from bot.domain.checkins import RepWeek
from bot.domain.one_on_ones import (
    Agenda,
    AgendaItem,
    CheckInAnswerShown,
    ReplySubmission,
    ReplyTarget,
)
from testkit.simulator import state_value
from testkit.standin import MAX_MESSAGE_BLOCKS, BlockKitChecker

WHEN = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
MANAGER, REP = "U0MAYA", "U0LEO"


def _checked_blocks(blocks: list[dict[str, Any]]) -> None:
    checker = BlockKitChecker()
    checker.check_blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    assert checker.problems == []


def test_the_digest_has_a_reply_button_beside_each_answered_check_in() -> None:
    reps = [
        RepWeek(REP, "answered", answers=[("Your win?", "Booked a demo")], checkin_id=41),
        RepWeek("U0PRIYA", "sent", checkin_id=42),
    ]
    message = digest_message("week of 23 Nov", reps)
    _checked_blocks(message["blocks"])
    buttons = [b["accessory"] for b in message["blocks"] if "accessory" in b]
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons] == [
        (REPLY_ACTION_ID, "41", "Reply")
    ]
    assert "put it on your next one-on-one's agenda" in json.dumps(message)


def _target() -> ReplyTarget:
    return ReplyTarget(
        checkin_id=41,
        rep_user_id=REP,
        answers=[
            CheckInAnswerShown("win", "Your win this week?", "Booked <the> demo"),
            CheckInAnswerShown("challenge", "What's in your way? " * 10, "Legal"),
        ],
    )


def test_the_reply_form_quotes_the_answers_and_starts_on_the_agenda() -> None:
    view = reply_modal(_target())
    checker = BlockKitChecker()
    checker.check_view(view)
    assert checker.problems == []
    assert view["callback_id"] == REPLY_CALLBACK_ID
    assert read_reply_metadata(view["private_metadata"]) == 41
    shown = json.dumps(view)
    assert f"<@{REP}>'s check-in" in shown and "Booked &lt;the&gt; demo" in shown
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    options = blocks["answer"]["element"]["options"]
    assert [o["value"] for o in options] == ["win", "challenge"]
    assert len(options[1]["text"]["text"]) <= 75  # Slack's limit for an option's text
    assert blocks["answer"]["element"]["initial_option"] == options[0]
    assert blocks[AGENDA_ON]["element"]["initial_options"][0]["value"] == AGENDA_ON
    assert blocks["reply"].get("optional") is None  # required
    assert read_reply_metadata("nope") is None


def _values(answer: str | None, reply: str | None, agenda: bool) -> dict[str, Any]:
    return {
        "answer": {"value": state_value("static_select", answer)},
        "reply": {"value": state_value("plain_text_input", reply)},
        AGENDA_ON: {"value": state_value("checkboxes", [AGENDA_ON] if agenda else [])},
    }


def test_a_reply_is_read_with_whether_it_goes_on_the_agenda() -> None:
    assert parse_reply_submission(_values("win", "  Nice work  ", True)) == (
        ReplySubmission("win", "Nice work", add_to_agenda=True),
        {},
    )
    assert parse_reply_submission(_values("win", "Nice", False))[0] == ReplySubmission(
        "win", "Nice", add_to_agenda=False
    )


@pytest.mark.parametrize(
    ("answer", "reply", "errors"),
    [
        ("win", None, {"reply": "Please fill in your reply."}),
        ("win", "  ", {"reply": "Your reply can't be only spaces."}),
        ("win", "x" * 1001, {"reply": "Keep it to 1,000 characters (yours has 1,001)."}),
        (None, "Hi", {"answer": "Pick the answer you're replying to."}),
    ],
)
def test_a_reply_must_say_something_about_one_answer(
    answer: str | None, reply: str | None, errors: dict[str, str]
) -> None:
    assert parse_reply_submission(_values(answer, reply, True)) == (None, errors)


def test_the_reply_dm_names_the_manager_and_quotes_both_and_says_where_it_is() -> None:
    message = reply_dm(MANAGER, "What's in your way?", "Legal & <b>", "Thursday?", on_agenda=True)
    _checked_blocks(message["blocks"])
    shown = json.dumps(message)
    assert f"<@{MANAGER}> replied to your check-in" in shown
    assert "Legal &amp; &lt;b&gt;" in shown and "Thursday?" in shown
    assert "on the agenda of your next one-on-one" in shown
    alone = json.dumps(reply_dm(MANAGER, "Q?", "A", "R", on_agenda=False))
    assert "agenda" not in alone


def _item(n: int) -> AgendaItem:
    return AgendaItem(MANAGER, REP, "Your win?", f"Answer {n}", f"Reply {n}", WHEN)


def test_the_agenda_on_each_home_says_who_it_is_with_and_the_open_commitments() -> None:
    items = [_item(n) for n in range(AGENDA_SHOWN + 2)]
    commitments = {REP: ["Call the CFO first"]}
    rep_side = agenda_blocks(Agenda(REP, items, commitments))
    _checked_blocks(rep_side)
    shown = json.dumps(rep_side)
    assert "*One-on-one agenda*" in shown and f"with <@{MANAGER}>" in shown
    assert f"Answer {AGENDA_SHOWN - 1}" in shown and f"Answer {AGENDA_SHOWN}" not in shown
    assert "Your open commitments: _Call the CFO first_" in shown
    assert f"<@{MANAGER}>'s reply: Reply 0" in shown
    manager_side = json.dumps(
        agenda_blocks(Agenda(MANAGER, items, commitments)), ensure_ascii=False
    )
    assert f"<@{REP}> · " in manager_side and "Your reply: Reply 0" in manager_side
    assert f"<@{REP}>'s open commitments: _Call the CFO first_" in manager_side
    assert agenda_blocks(Agenda(REP)) == []
    no_commitments = agenda_blocks(Agenda(REP, items[:1], {REP: []}))
    assert len(no_commitments) == 2  # the heading and the one item: no context line


def test_each_open_item_has_its_done_button_and_the_counts_say_what_is_not_shown() -> None:
    items = [
        AgendaItem(MANAGER, REP, "Your win?", f"Answer {n}", f"Reply {n}", WHEN, item_id=40 + n)
        for n in range(AGENDA_SHOWN)
    ]
    blocks = agenda_blocks(Agenda(REP, items, {}, more_open=3, done_lately=2))
    _checked_blocks(blocks)
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons] == [
        (AGENDA_DONE_ACTION_ID, str(40 + n), "Done") for n in range(AGENDA_SHOWN)
    ]
    # Each button sits on its own item's line.
    lines = [b["text"]["text"] for b in blocks if "accessory" in b]
    assert all(f"Answer {n}" in line for n, line in enumerate(lines))
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "3 more open — mark the ones you've talked about done." in shown
    assert "2 done in the last four weeks." in shown


def test_with_nothing_open_the_agenda_says_so_and_counts_what_was_done() -> None:
    blocks = agenda_blocks(Agenda(REP, [], {}, done_lately=1))
    _checked_blocks(blocks)
    shown = json.dumps(blocks)
    assert "*One-on-one agenda*" in shown and "Nothing open." in shown
    assert "1 done in the last four weeks." in shown
    assert AGENDA_DONE_ACTION_ID not in shown


def test_hostile_text_in_an_item_is_escaped_beside_its_button() -> None:
    item = AgendaItem(MANAGER, REP, "<!here> *q*", "<@U0BOSS> & co", "<!channel>", WHEN, 9)
    (_, line) = agenda_blocks(Agenda(MANAGER, [item]))
    text = line["text"]["text"]
    assert "&lt;!here&gt;" in text and "&lt;@U0BOSS&gt; &amp; co" in text
    assert "&lt;!channel&gt;" in text
    assert "<!here>" not in text and "<!channel>" not in text and "<@U0BOSS>" not in text
    assert line["accessory"]["value"] == "9"


def test_someone_elses_done_click_is_told_whose_item_it_is() -> None:
    assert not_on_their_agenda_message(REP)["text"] == (
        f"Only <@{REP}> or their manager can mark this agenda item done, so I left it open."
    )
