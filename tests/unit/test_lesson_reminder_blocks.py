"""The win's lesson question followed up (issue 12 §6): the win DM's "Skip this one", the one
reminder, and the win DM after "Skip this one" — pure builders, checked as Slack would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks.debriefs import (
    CELEBRATE_BLOCK_ID,
    LESSON_NOT_NOW_ACTION_ID,
    REFLECT_ACTION_ID,
    lesson_not_now_blocks,
    lesson_not_now_not_yours,
    win_lesson_reminder_dm,
    win_logged_dm,
)
from bot.blocks.debriefs.lesson_reminder import NOT_NOW_NOTE
from bot.domain import PRACTICES, Classification
from bot.domain.debriefs import WIN_QUESTION, OutcomeFacts
from tests.support.block_kit import action_buttons, valid_message

# A value the builders print, never compared with "now".
WHEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
HOSTILE = "<!here> *Initech* & <@U0BOSS> `x`"


def _win(deal: str = HOSTILE, **overrides: Any) -> OutcomeFacts:
    values: dict[str, Any] = {
        "id": 41,
        "user_id": "U0PRIYA",
        "kind": "win",
        "deal": deal,
        "classification": Classification.SYSTEM_HIT,
        "practices": dict.fromkeys(PRACTICES, True),
        "occurred_at": WHEN,
        "amount": 75000.0,
    }
    values.update(overrides)
    return OutcomeFacts(**values)


def test_the_win_dm_offers_not_now_beside_the_question() -> None:
    dm = win_logged_dm(_win("Globex"), None, shout_out_channel=None)
    valid_message(dm)
    answer, not_now = action_buttons(dm["blocks"])
    assert (answer["action_id"], answer["value"]) == (REFLECT_ACTION_ID, "41")
    assert (not_now["action_id"], not_now["value"]) == (LESSON_NOT_NOW_ACTION_ID, "41")
    assert not_now["text"]["text"] == "Skip this one"


def test_the_reminder_asks_the_one_question_again_gently_with_the_deal_escaped() -> None:
    for classification in (Classification.SYSTEM_HIT, Classification.LUCKY_HIT):
        reminder = win_lesson_reminder_dm(_win(classification=classification))
        valid_message(reminder)
        rendered = json.dumps(reminder)
        assert "A gentle nudge about your win" in rendered and WIN_QUESTION in rendered
        assert "&lt;!here&gt; *Initech* &amp; &lt;@U0BOSS&gt;" in rendered
        assert "<!here>" not in rendered and "<@U0BOSS>" not in rendered
        assert "&lt;!here&gt;" in reminder["text"]  # the notification's text too
        assert "75" not in rendered  # never the amount
        # Only "Answer now": after the one reminder there is nothing to decline.
        assert [b["action_id"] for b in action_buttons(reminder["blocks"])] == [REFLECT_ACTION_ID]
        assert "Private to you and your manager" in rendered


def test_not_now_keeps_the_question_answerable_and_says_no_reminder_comes() -> None:
    dm = win_logged_dm(
        _win(bounce_back_losses=2, bounce_back_recovery=timedelta(days=9)),
        None,
        shout_out_channel=None,
        share_offer=True,
    )
    after = lesson_not_now_blocks(dm["blocks"], 41)
    valid_message({"text": dm["text"], "blocks": after})
    assert [b["action_id"] for b in action_buttons(after)][-1:] == [REFLECT_ACTION_ID]
    assert LESSON_NOT_NOW_ACTION_ID not in json.dumps(after)
    assert NOT_NOW_NOTE in json.dumps(after)
    # Everything else is as it was: the bounce-back ask is still there to answer.
    assert [b for b in after if b.get("block_id") == CELEBRATE_BLOCK_ID]
    assert len(after) == len(dm["blocks"]) + 1
    # A DM without the question (an older one) is left as it was.
    assert lesson_not_now_blocks([{"type": "divider"}], 41) == [{"type": "divider"}]


def test_someone_elses_not_now_names_whose_question_it_is() -> None:
    assert lesson_not_now_not_yours("U0PRIYA")["text"] == (
        "That question is for <@U0PRIYA>, so I left it as it was."
    )
