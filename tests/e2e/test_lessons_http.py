"""A win's lesson and lessons shared with the team (issue 12 §6, seed 004), over HTTP with signed
requests against the stand-in, on SQLite and PostgreSQL.

/won → the win DM asks "What worked that you would do again?" → the answer is kept as a lesson
(the thanks DM comes through the outbox) → "Share with my team" → teammates find it with
`/rebound lessons`. Each test has a workspace of its own (the `slack` fixture).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.blocks.debriefs import (
    REFLECT_ACTION_ID,
    SHARE_LESSON_ACTION_ID,
    SHARE_LESSON_BLOCK_ID,
    UNSHARE_LESSON_ACTION_ID,
)
from bot.domain.debriefs import WIN_LESSON_KEY, WIN_QUESTION
from storage.models import Outcome, Reflection
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import (
    _lose,
    _reflect,
    log_win,
    new_user,
    reflection_values,
)
from tests.support.slack import (
    ADMIN,
    DM,
    MANAGER,
    REP1,
    REP2,
    SlackDriver,
    _text,
)

HOSTILE = "<!channel> & <@U0BOSS> *bold* 100%_off"


def _lesson_values(answer: str | None) -> dict[str, Any]:
    return {WIN_LESSON_KEY: {"value": state_value("plain_text_input", answer)}}


def _open_lesson(slack: SlackDriver, user_id: str, outcome: Outcome) -> dict[str, Any]:
    seen = slack.mark()
    slack.click(user_id, REFLECT_ACTION_ID, str(outcome.id))
    return slack.wait(seen, "views.open")[0].response["view"]


def _keep(slack: SlackDriver, user_id: str, outcome: Outcome, answer: str) -> RecordedCall:
    """Answer the win's question; the thanks DM (with the share button)."""
    view = _open_lesson(slack, user_id, outcome)
    seen = slack.mark()
    reply = slack.submit(view, user_id, _lesson_values(answer))
    assert reply.body in ("", "{}"), reply.body
    return slack.wait(seen, "chat.postMessage", channel=DM[user_id])[0]


def _lesson_row(slack: SlackDriver, outcome: Outcome) -> Reflection:
    rows = [r for r in slack.reflections() if r.outcome_id == outcome.id]
    assert len(rows) == 1
    return rows[0]


def _click_share(
    slack: SlackDriver, user_id: str, action_id: str, reflection_id: int, dm: RecordedCall
) -> dict[str, Any]:
    """Click a share button on the lesson DM; what the app answered through the response_url."""
    response_url = slack.sender.new_response_url("actions")
    slack.click(user_id, action_id, str(reflection_id), dm, response_url)
    answers = slack.standin.wait_for_responses(response_url, timeout=10)
    assert len(answers) == 1
    return answers[0]


def _lessons(slack: SlackDriver, user_id: str, words: str = "") -> str:
    seen = slack.mark()
    reply = slack.sender.slash_command("/rebound", f"lessons {words}".strip(), user_id=user_id)
    assert reply.status == 200
    return _text(slack.wait(seen, "chat.postEphemeral", user=user_id)[0])


def test_a_win_asks_what_worked_and_keeps_the_answer_as_a_private_lesson(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome = log_win(slack, REP1, "Globex")
    shown = _text(dm)
    assert WIN_QUESTION in shown and REFLECT_ACTION_ID in shown
    assert "Private to you and your manager, unless you choose to share it." in shown

    view = _open_lesson(slack, REP1, outcome)
    assert view["title"]["text"] == "Your lesson"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["label"]["text"], b.get("optional", False)) for b in inputs] == [
        (WIN_LESSON_KEY, WIN_QUESTION, False)
    ]
    # Only spaces: the field says so, nothing is kept, nothing is sent.
    body = slack.submit(view, REP1, _lesson_values("   ")).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == [WIN_LESSON_KEY]
    assert [r for r in slack.reflections() if r.outcome_id == outcome.id] == []

    seen = slack.mark()
    slack.submit(view, REP1, _lesson_values("Asked about budget on the first call"))
    thanks = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    slack.submit(view, REP1, _lesson_values("Asked about budget on the first call"))  # a retry
    row = _lesson_row(slack, outcome)
    assert (row.user_id, row.question, row.answer) == (
        REP1,
        WIN_QUESTION,
        "Asked about budget on the first call",
    )
    assert row.shared_at is None  # private by default
    # The thanks went out once, through the outbox.
    assert slack.wait_recorded(f"debrief:{outcome.id}:reflected").state == "sent"
    time.sleep(0.3)
    assert len(slack.posts_about(seen, "Lesson kept", channel=DM[REP1])) == 1
    said = _text(thanks)
    assert "Kept as your lesson from *Globex*" in said
    assert "Private: only you and your manager can read it." in said
    assert "Share with my team" in said and SHARE_LESSON_ACTION_ID in said

    # The rep and their manager find it; a teammate doesn't, it isn't shared.
    assert "Asked about budget on the first call" in _lessons(slack, REP1, "budget")
    assert "Asked about budget on the first call" in _lessons(slack, MANAGER, "budget")
    assert "Asked about budget" not in _lessons(slack, REP2, "budget")
    assert "Asked about budget" not in _lessons(slack, REP2)
    # Opened again: the answer as kept, not a second form.
    again = _open_lesson(slack, REP1, outcome)
    assert "You already kept your lessons" in json.dumps(again)


def test_a_shared_lesson_is_found_by_teammates_and_only_them(slack: SlackDriver) -> None:
    slack.setup()
    # Another team in the same workspace: ADMIN manages someone else.
    outsider = new_user(slack.standin, tag="outsider")
    slack.make_team(manager=ADMIN, reps=[outsider])
    _, loss = _lose(slack, REP1, "Initech")
    _reflect(slack, REP1, loss, reflection_values("Send the recap with the budget the same day"))
    dm, outcome = log_win(slack, REP1, "Globex")
    thanks = _keep(slack, REP1, outcome, "Recapped the budget in writing the same day")
    lesson = _lesson_row(slack, outcome)
    assert lesson.id is not None

    # Only the rep decides: a teammate clicking the button changes nothing.
    seen = slack.mark()
    slack.click(REP2, SHARE_LESSON_ACTION_ID, str(lesson.id))
    refusal = slack.wait(seen, "chat.postMessage", channel=DM[REP2])[0]
    assert f"That lesson is <@{REP1}>'s" in _text(refusal)
    assert _lesson_row(slack, outcome).shared_at is None

    answer = _click_share(slack, REP1, SHARE_LESSON_ACTION_ID, lesson.id, thanks)
    assert answer["replace_original"] is True
    assert "Shared with your team." in answer["blocks"][1]["text"]["text"]
    buttons = [b for b in answer["blocks"] if b.get("block_id") == SHARE_LESSON_BLOCK_ID]
    assert buttons[0]["elements"][0]["action_id"] == UNSHARE_LESSON_ACTION_ID
    assert _lesson_row(slack, outcome).shared_at is not None

    found = _lessons(slack, REP2, "budget")
    assert "*Shared by your team*" in found
    assert "Recapped the budget in writing the same day" in found and f"<@{REP1}>" in found
    assert "Send the recap" not in found  # the loss's reflections stay private
    assert "Recapped the budget" in _lessons(slack, REP2)  # no words: the newest
    assert "No lessons match “zebra”" in _lessons(slack, REP2, "zebra")
    mine = _lessons(slack, REP1, "budget")
    assert "shared with your team" in mine and "Shared by your team" not in mine
    # Outside the team: nothing of REP1's.
    assert "Recapped" not in _lessons(slack, outsider, "budget")
    assert "Recapped" not in _lessons(slack, ADMIN, "budget")

    # Made private again: gone for the teammate, kept for the rep.
    answer = _click_share(slack, REP1, UNSHARE_LESSON_ACTION_ID, lesson.id, thanks)
    assert "Private: only you and your manager" in json.dumps(answer)
    assert _lesson_row(slack, outcome).shared_at is None
    assert "Recapped" not in _lessons(slack, REP2, "budget")
    assert "Recapped" in _lessons(slack, REP1, "budget")


def test_another_workspaces_shared_lessons_never_appear(slack: SlackDriver) -> None:
    elsewhere = slack.workspace(f"T{uuid.uuid4().hex[:10].upper()}")
    elsewhere.setup()  # the same people, the same team, in another workspace
    dm, outcome = log_win(elsewhere, REP1, "Umbrella")
    thanks = _keep(elsewhere, REP1, outcome, "Brought a pilot plan to the first call")
    lesson = _lesson_row(elsewhere, outcome)
    assert lesson.id is not None
    _click_share(elsewhere, REP1, SHARE_LESSON_ACTION_ID, lesson.id, thanks)
    assert "Brought a pilot plan" in _lessons(elsewhere, REP2, "pilot")

    slack.setup()
    assert "Brought a pilot plan" not in _lessons(slack, REP2, "pilot")
    assert "No lessons yet" in _lessons(slack, REP2)
    # Its lesson id clicked in this workspace shares nothing here.
    seen = slack.mark()
    slack.click(REP1, SHARE_LESSON_ACTION_ID, str(lesson.id), thanks)
    time.sleep(0.3)
    assert slack.since(seen, "chat.postEphemeral", user=REP1) == []
    assert "Brought a pilot plan" not in _lessons(slack, REP2)


def test_a_shared_lesson_is_shown_escaped_to_teammates(slack: SlackDriver) -> None:
    slack.setup()
    _, outcome = log_win(slack, REP1, "AT&T <renewal>")
    thanks = _keep(slack, REP1, outcome, HOSTILE)
    said = _text(thanks)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in said and "<!channel>" not in said
    lesson = _lesson_row(slack, outcome)
    assert lesson.id is not None and lesson.answer == HOSTILE  # kept as typed
    answer = _click_share(slack, REP1, SHARE_LESSON_ACTION_ID, lesson.id, thanks)
    assert "<!channel>" not in json.dumps(answer)

    found = _lessons(slack, REP2, "100%_off")  # the words as typed, % and _ included
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in found
    assert "AT&amp;T &lt;renewal&gt;" in found
    assert "<!channel>" not in found and "<@U0BOSS>" not in found
    assert "No lessons match" in _lessons(slack, REP2, "1000off")
