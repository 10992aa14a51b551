"""A win's lesson question gets one gentle reminder, like a loss's questions (issue 12 §6, seed
004), over HTTP with signed requests against the stand-in: after the workspace's debrief-reminder
hours, once across replicas (its post key), never once answered or after the rep's "Skip this one".
The scheduler is ticked on a fake clock, as a replica's scheduler would tick."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text

from bot.blocks.debriefs import LESSON_NOT_NOW_ACTION_ID, REFLECT_ACTION_ID
from bot.blocks.debriefs.lesson_reminder import NOT_NOW_NOTE
from bot.clock import FakeClock
from bot.domain.debriefs import WIN_LESSON_KEY, WIN_QUESTION
from storage.models import Outcome
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import log_win
from tests.support.slack import DM, REP1, REP2, SlackDriver, _text

HOSTILE_DEAL = "<!channel> *Acme* & <@U0BOSS>"
NUDGE = "A gentle nudge about your win"


def _reminder_hours(slack: SlackDriver, hours: int) -> None:
    with slack.engine.begin() as connection:
        connection.execute(
            text("UPDATE workspaces SET reflection_reminder_hours = :h WHERE team_id = :t"),
            {"h": hours, "t": slack.team_id},
        )


def _nudges(slack: SlackDriver, seen: int, user_id: str) -> list[RecordedCall]:
    return [
        c for c in slack.since(seen, "chat.postMessage", channel=DM[user_id]) if NUDGE in _text(c)
    ]


def _answer(slack: SlackDriver, user_id: str, outcome: Outcome, answer: str) -> None:
    seen = slack.mark()
    slack.click(user_id, REFLECT_ACTION_ID, str(outcome.id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    seen = slack.mark()
    values: dict[str, Any] = {WIN_LESSON_KEY: {"value": state_value("plain_text_input", answer)}}
    assert slack.submit(view, user_id, values).body in ("", "{}")
    slack.wait(seen, "chat.postMessage", channel=DM[user_id])


def test_an_unanswered_win_question_gets_one_reminder_after_the_debrief_reminder_hours(
    slack: SlackDriver,
) -> None:
    slack.setup()
    _reminder_hours(slack, 4)  # the workspace's debrief-reminder setting, not a fixed day
    dm, outcome = log_win(slack, REP1, HOSTILE_DEAL)
    assert outcome.reflection_requested_at is not None  # the question went out with the DM
    assert "Skip this one" in _text(dm) and LESSON_NOT_NOW_ACTION_ID in _text(dm)
    _, answered = log_win(slack, REP2, "Answered deal")
    _answer(slack, REP2, answered, "Multi-threaded early")

    clock = FakeClock(slack.live.clock())
    # Two replicas' schedulers ticking together: the reminder's post key keeps it one.
    first, second = slack.ticker(clock), slack.ticker(clock)
    seen = slack.mark()
    clock.advance(hours=3, minutes=50)
    first.tick()
    assert _nudges(slack, seen, REP1) == []  # not yet: the setting says four hours
    clock.advance(minutes=20)
    first.tick()
    second.tick()
    clock.advance(days=2)
    first.tick()
    second.tick()
    time.sleep(0.3)
    (nudge,) = _nudges(slack, seen, REP1)
    said = _text(nudge)
    assert WIN_QUESTION in said and REFLECT_ACTION_ID in said
    # The deal's name is the rep's text: escaped, so it can't ping anyone.
    assert "&lt;!channel&gt; *Acme* &amp; &lt;@U0BOSS&gt;" in said
    assert "<!channel>" not in said and "<@U0BOSS>" not in said
    assert "still waiting" in nudge.params["text"]  # the notification's text names it too
    assert _nudges(slack, seen, REP2) == []  # answered: no reminder
    keys = [p.post_key for p in slack.post_log() if p.post_key.endswith(":reminder")]
    assert keys == [f"debrief:{outcome.id}:reminder"]
    reminded = {o.id: o.reflection_reminded_at for o in slack.outcomes()}
    assert reminded[outcome.id] is not None and reminded[answered.id] is None

    # The reminder's button opens the same one-question form.
    seen = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(outcome.id), nudge)
    view = slack.wait(seen, "views.open")[0].response["view"]
    assert view["title"]["text"] == "Your lesson"


def test_not_now_means_no_reminder_and_only_the_rep_can_say_it(slack: SlackDriver) -> None:
    slack.setup()
    dm, outcome = log_win(slack, REP1, "Quiet deal")

    # Someone else's click (a forged or forwarded button): told privately, nothing changes.
    seen = slack.mark()
    answer = slack.click_answer(REP2, LESSON_NOT_NOW_ACTION_ID, str(outcome.id), dm)
    assert answer == f"That question is for <@{REP1}>, so I left it as it was."
    assert slack.since(seen, "chat.update") == []
    assert [o.reflection_reminded_at for o in slack.outcomes()] == [None]

    # The win DM is replaced through the click's response_url (the direct answer to a click).
    replaced = slack.click_replacing(REP1, LESSON_NOT_NOW_ACTION_ID, str(outcome.id), dm)
    blocks = replaced["blocks"]
    shown = json.dumps(blocks)
    assert NOT_NOW_NOTE in shown
    assert LESSON_NOT_NOW_ACTION_ID not in shown  # can't be clicked again
    assert REFLECT_ACTION_ID in shown  # the question is still answerable
    assert WIN_QUESTION in shown
    slack.click(REP1, LESSON_NOT_NOW_ACTION_ID, str(outcome.id), dm)  # a double click

    clock = FakeClock(slack.live.clock())
    ticker = slack.ticker(clock)
    seen = slack.mark()
    for _ in range(3):
        clock.advance(hours=25)
        ticker.tick()
    time.sleep(0.3)
    assert _nudges(slack, seen, REP1) == []
    assert [p.post_key for p in slack.post_log() if p.post_key.endswith(":reminder")] == []

    # Skipping is not never: the lesson can still be written, once.
    _answer(slack, REP1, outcome, "Got the champion to the pricing call")
    assert [r.answer for r in slack.reflections()] == ["Got the champion to the pricing call"]
