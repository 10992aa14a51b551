"""The rep or their manager marks a one-on-one agenda item done from the agenda line on their
Home (issue 12 §6): over HTTP with signed requests against the stand-in, on SQLite and
PostgreSQL. The item leaves both Homes, each republished once through the outbox; nobody gets a
DM about it; a click by anyone else (forged) is refused with a private message and closes
nothing; an admin may close it; a double click closes nothing more."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.blocks.one_on_ones import AGENDA_DONE_ACTION_ID, AGENDA_ON, REPLY_ACTION_ID
from storage.models import CheckIn, CheckInAnswer
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.slack import ADMIN, DM, MANAGER, REP1, REP2, SlackDriver, in_dm

HOSTILE = "<!channel> & <@U0BOSS> legal wants *three* quotes"


def _seed_checkin(slack: SlackDriver, user_id: str) -> int:
    """A check-in the rep answered (the digest's Reply carries its id)."""
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
            questions=[
                {"key": "win", "text": "Your win this week?"},
                {"key": "challenge", "text": "What's in your way?"},
            ],
        )
        session.add(checkin)
        session.flush()
        assert checkin.id is not None
        for key, question, answer in (
            ("win", "Your win this week?", "Booked the Initech demo"),
            ("challenge", "What's in your way?", HOSTILE),
        ):
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


def _put_on_agenda(slack: SlackDriver, checkin_id: int, answer: str, reply: str) -> int:
    """The manager replies to one answer and puts it on the agenda; the item's id."""
    seen = slack.mark()
    slack.click(MANAGER, REPLY_ACTION_ID, str(checkin_id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    seen = slack.mark()
    values = {
        "answer": {"value": state_value("static_select", answer)},
        "reply": {"value": state_value("plain_text_input", reply)},
        AGENDA_ON: {"value": state_value("checkboxes", [AGENDA_ON])},
    }
    slack.submit(view, MANAGER, values)
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    rows = slack.rows(
        "SELECT id FROM one_on_one_items WHERE team_id = :t AND reply = :r",
        t=slack.team_id,
        r=reply,
    )
    return int(rows[0][0])


def _done(slack: SlackDriver) -> dict[int, tuple[Any, Any]]:
    rows = slack.rows(
        "SELECT id, done_at, done_by FROM one_on_one_items WHERE team_id = :t", t=slack.team_id
    )
    return {int(r[0]): (r[1], r[2]) for r in rows}


def _view(call: RecordedCall) -> str:
    return json.dumps(call.params["view"], ensure_ascii=False)


def _done_buttons(call: RecordedCall) -> list[str]:
    return [
        b["accessory"]["value"]
        for b in call.params["view"]["blocks"]
        if (b.get("accessory") or {}).get("action_id") == AGENDA_DONE_ACTION_ID
    ]


def _republished(slack: SlackDriver, seen: int) -> dict[str, RecordedCall]:
    """The Homes published since `seen`, waited for both the rep's and the manager's."""
    slack.wait(seen, "views.publish", user_id=REP1)
    slack.wait(seen, "views.publish", user_id=MANAGER)
    return {user: slack.since(seen, "views.publish", user_id=user)[-1] for user in (REP1, MANAGER)}


def test_done_takes_the_item_off_both_homes_without_a_dm(slack: SlackDriver) -> None:
    slack.setup()
    checkin_id = _seed_checkin(slack, REP1)
    legal = _put_on_agenda(slack, checkin_id, "challenge", "Let's unblock legal on Thursday")
    demo = _put_on_agenda(slack, checkin_id, "win", "Great demo, tell me how you booked it")

    home = slack.home(REP1)
    assert sorted(_done_buttons(home)) == sorted([str(legal), str(demo)])
    shown = _view(home)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in shown and "<!channel>" not in shown
    assert sorted(_done_buttons(slack.home(MANAGER))) == sorted([str(legal), str(demo)])

    # The rep clicks Done on their Home (a Home click carries no message and no channel).
    seen = slack.mark()
    slack.click(REP1, AGENDA_DONE_ACTION_ID, str(legal))
    homes = _republished(slack, seen)
    for user, call in homes.items():
        shown = _view(call)
        assert _done_buttons(call) == [str(demo)], user
        assert "unblock legal" not in shown and "&lt;!channel&gt;" not in shown
        assert "Great demo" in shown
        assert "1 done in the last four weeks." in shown
    done_at, done_by = _done(slack)[legal]
    assert done_at is not None and done_by == REP1
    assert _done(slack)[demo][0] is None
    # Through the outbox, once per person; nobody was sent a message about it.
    keys = sorted(p.post_key for p in slack.post_log() if p.post_key.startswith("agenda-done:"))
    assert keys == sorted(f"agenda-done:{legal}:home:{u}" for u in (REP1, MANAGER))
    assert slack.since(seen, "chat.postMessage") == []

    # The manager's stale Home still showed it: a second Done closes and publishes nothing.
    seen = slack.mark()
    slack.click(MANAGER, AGENDA_DONE_ACTION_ID, str(legal))
    time.sleep(0.5)
    assert slack.since(seen, "views.publish") == []
    assert slack.since(seen, "chat.postMessage") == [] and slack.ephemerals(MANAGER, seen) == []
    assert _done(slack)[legal][1] == REP1

    # The manager closes the other one: nothing open, two done lately, on both Homes.
    seen = slack.mark()
    slack.click(MANAGER, AGENDA_DONE_ACTION_ID, str(demo))
    for call in _republished(slack, seen).values():
        shown = _view(call)
        assert _done_buttons(call) == []
        assert "*One-on-one agenda*" in shown and "Nothing open." in shown
        assert "2 done in the last four weeks." in shown
    # A Home opened later agrees.
    assert _done_buttons(slack.home(REP1)) == []


def test_only_the_rep_their_manager_or_an_admin_can_mark_it_done(slack: SlackDriver) -> None:
    slack.setup()
    checkin_id = _seed_checkin(slack, REP1)
    item = _put_on_agenda(slack, checkin_id, "challenge", "Let's unblock legal on Thursday")

    # A teammate's forged click (the item's id in their own DM): told privately, nothing closes.
    seen = slack.mark()
    slack.click(REP2, AGENDA_DONE_ACTION_ID, str(item), in_dm(REP2))
    (told,) = slack.wait(seen, "chat.postEphemeral", user=REP2)
    assert told.params["text"] == (
        f"Only <@{REP1}> or their manager can mark this agenda item done, so I left it open."
    )
    time.sleep(0.5)
    assert _done(slack)[item] == (None, None)
    assert slack.since(seen, "views.publish") == []
    assert slack.since(seen, "chat.postMessage") == []
    # A made-up id: nothing to close, nothing said.
    seen = slack.mark()
    slack.click(REP2, AGENDA_DONE_ACTION_ID, "987654", in_dm(REP2))
    time.sleep(0.3)
    assert slack.ephemerals(REP2, seen) == [] and slack.since(seen, "views.publish") == []

    # A workspace admin (Slack says so) may close it: both Homes follow, not the admin's.
    seen = slack.mark()
    slack.click(ADMIN, AGENDA_DONE_ACTION_ID, str(item), in_dm(ADMIN))
    homes = _republished(slack, seen)
    assert all(_done_buttons(call) == [] for call in homes.values())
    assert _done(slack)[item][1] == ADMIN
    assert slack.since(seen, "views.publish", user_id=ADMIN) == []
    assert slack.ephemerals(ADMIN, seen) == []
