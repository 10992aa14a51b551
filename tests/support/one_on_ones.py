"""What the one-on-one tests over HTTP share (tests/e2e/test_one_on_ones*_http.py and
test_agenda_done_http.py): a check-in the rep answered, seeded (the digest's Reply button
carries its id; the scheduler's digest is tested in tests/integration), the manager's reply to
one of its answers put on the agenda, and the agenda as a Home shows it."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.one_on_ones import AGENDA_DONE_ACTION_ID, AGENDA_ON, REPLY_ACTION_ID
from storage.models import CheckIn, CheckInAnswer
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.slack import DM, MANAGER, REP1, SlackDriver


def seed_answered_checkin(
    slack: SlackDriver, user_id: str, answers: list[tuple[str, str, str]]
) -> int:
    """This week's check-in of `user_id`, answered now: `answers` are (question key, question,
    answer), asked in that order. Its id."""
    now = slack.live.clock()
    year, week, _ = now.isocalendar()
    with slack.session_factory() as session:
        checkin = CheckIn(
            team_id=slack.team_id,
            user_id=user_id,
            week_key=f"{year}-W{week:02d}",
            due_at=now,
            status="answered",
            answered_at=now,
            questions=[{"key": key, "text": question} for key, question, _ in answers],
        )
        session.add(checkin)
        session.flush()
        assert checkin.id is not None
        for key, question, answer in answers:
            session.add(
                CheckInAnswer(
                    team_id=slack.team_id,
                    checkin_id=checkin.id,
                    question_key=key,
                    question=question,
                    answer=answer,
                )
            )
        session.commit()
        return checkin.id


def reply_values(
    reply: str | None, answer: str = "challenge", agenda: bool = True
) -> dict[str, Any]:
    """The reply modal filled in: the answer replied to, the reply, and the agenda box."""
    return {
        "answer": {"value": state_value("static_select", answer)},
        "reply": {"value": state_value("plain_text_input", reply)},
        AGENDA_ON: {"value": state_value("checkboxes", [AGENDA_ON] if agenda else [])},
    }


def open_reply(slack: SlackDriver, user_id: str, checkin_id: int) -> dict[str, Any]:
    """`user_id` clicks the digest's Reply on the check-in; the modal Slack opened."""
    seen = slack.mark()
    slack.click(user_id, REPLY_ACTION_ID, str(checkin_id))
    return slack.wait(seen, "views.open")[0].response["view"]


def put_on_agenda(slack: SlackDriver, checkin_id: int, answer: str, reply: str) -> int:
    """The manager replies to one answer of REP1's check-in and puts it on the agenda; waits
    for REP1's DM; the item's id."""
    view = open_reply(slack, MANAGER, checkin_id)
    seen = slack.mark()
    slack.submit(view, MANAGER, reply_values(reply, answer))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    rows = slack.rows(
        "SELECT id FROM one_on_one_items WHERE team_id = :t AND reply = :r",
        t=slack.team_id,
        r=reply,
    )
    return int(rows[0][0])


def view_text(call: RecordedCall) -> str:
    """A published view (a Home) as text, to look for words in."""
    return json.dumps(call.params["view"], ensure_ascii=False)


def done_buttons(call: RecordedCall) -> list[str]:
    """The agenda items a published Home offers a Done button for (their ids)."""
    return [
        b["accessory"]["value"]
        for b in call.params["view"]["blocks"]
        if (b.get("accessory") or {}).get("action_id") == AGENDA_DONE_ACTION_ID
    ]
