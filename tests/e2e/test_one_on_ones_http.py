"""A manager replies to a check-in answer from the digest and puts it on the one-on-one agenda
both see on their Home, with the rep's open commitments (issue 12 §6, seed 004): over HTTP with
signed requests against the stand-in, on SQLite and PostgreSQL.

The digest's Reply button carries the check-in's id (tests/integration/test_checkins_schedule.py
sees it in a digest the scheduler sends); here the check-in is seeded answered and the button
is clicked as Slack would send the click.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.blocks.one_on_ones import AGENDA_ON, REPLY_ACTION_ID
from tests.support.factories import _lose, _reflect, reflection_values
from tests.support.one_on_ones import open_reply, reply_values, seed_answered_checkin
from tests.support.slack import DM, MANAGER, REP1, REP2, SlackDriver, _text

HOSTILE = "<!channel> & <@U0BOSS> legal wants *three* quotes"
ANSWERS = [
    ("win", "Your win this week?", "Booked the Initech demo"),
    ("challenge", "What's in your way?", HOSTILE),
    ("rating_discovery", "Discovery", "4"),
]


def _items(slack: SlackDriver) -> list[Any]:
    return slack.rows("SELECT id FROM one_on_one_items WHERE team_id = :t", t=slack.team_id)


def _home_text(slack: SlackDriver, user_id: str) -> str:
    return json.dumps(slack.home(user_id).params["view"], ensure_ascii=False)


def test_a_manager_replies_from_the_digest_and_both_see_the_agenda(slack: SlackDriver) -> None:
    slack.setup()
    _, loss = _lose(slack, REP1, "Initech")
    _reflect(slack, REP1, loss, reflection_values("Call the CFO before the proposal"))
    checkin_id = seed_answered_checkin(slack, REP1, ANSWERS)

    view = open_reply(slack, MANAGER, checkin_id)
    assert view["callback_id"] == "checkin_reply"
    shown = json.dumps(view)
    assert "Booked the Initech demo" in shown
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in shown and "<!channel>" not in shown
    select = next(b for b in view["blocks"] if b.get("block_id") == "answer")
    assert [o["value"] for o in select["element"]["options"]] == ["win", "challenge"]
    agenda = next(b for b in view["blocks"] if b.get("block_id") == AGENDA_ON)
    assert agenda["element"]["initial_options"][0]["value"] == AGENDA_ON  # ticked at first

    # An empty reply keeps the form open; nothing is kept or sent.
    body = slack.submit(view, MANAGER, reply_values("   ")).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["reply"]
    assert _items(slack) == []

    seen = slack.mark()
    slack.submit(view, MANAGER, reply_values("Let's unblock legal together on Thursday"))
    dm = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    slack.submit(view, MANAGER, reply_values("Let's unblock legal together on Thursday"))
    said = _text(dm)
    assert f"<@{MANAGER}> replied to your check-in" in said
    assert "Let's unblock legal together on Thursday" in said
    assert "What's in your way?" in said and "&lt;!channel&gt;" in said and "<!channel>" not in said
    assert "It's on the agenda of your next one-on-one" in said
    time.sleep(0.3)
    assert len(slack.posts_about(seen, "unblock legal", channel=DM[REP1])) == 1  # once
    keys = [p.post_key for p in slack.post_log() if p.post_key.startswith("checkin-reply:")]
    assert keys == [f"checkin-reply:view:{view['id']}"]
    assert len(_items(slack)) == 1

    rep_home = _home_text(slack, REP1)
    assert "*One-on-one agenda*" in rep_home
    assert f"with <@{MANAGER}>" in rep_home and "unblock legal together" in rep_home
    assert "Your open commitments: _Call the CFO before the proposal_" in rep_home
    assert "<!channel>" not in rep_home
    manager_home = _home_text(slack, MANAGER)
    assert "*One-on-one agenda*" in manager_home and f"• <@{REP1}>" in manager_home
    assert f"<@{REP1}>'s open commitments: _Call the CFO before the proposal_" in manager_home
    assert "One-on-one agenda" not in _home_text(slack, REP2)  # not theirs


def test_a_reply_left_off_the_agenda_is_only_a_dm(slack: SlackDriver) -> None:
    slack.setup()
    checkin_id = seed_answered_checkin(slack, REP1, ANSWERS)
    view = open_reply(slack, MANAGER, checkin_id)
    seen = slack.mark()
    slack.submit(view, MANAGER, reply_values("Great demo booking!", answer="win", agenda=False))
    said = _text(slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0])
    assert "Great demo booking!" in said and "Your win this week?" in said
    assert "on the agenda" not in said
    assert _items(slack) == []
    assert "One-on-one agenda" not in _home_text(slack, REP1)


def test_only_the_reps_manager_can_reply(slack: SlackDriver) -> None:
    slack.setup()
    checkin_id = seed_answered_checkin(slack, REP1, ANSWERS)
    seen = slack.mark()
    slack.click(REP2, REPLY_ACTION_ID, str(checkin_id))
    told = slack.wait(seen, "chat.postMessage", channel=DM[REP2])[0]
    assert f"Only <@{REP1}>'s manager can reply to their check-in" in _text(told)
    assert slack.since(seen, "views.open") == []

    # A form opened while they were the manager, submitted after they no longer are.
    view = open_reply(slack, MANAGER, checkin_id)
    slack.make_team(manager=MANAGER, reps=[REP2])
    seen = slack.mark()
    body = slack.submit(view, MANAGER, reply_values("Still on for Thursday?")).json()
    assert body["response_action"] == "errors"
    assert "Only their manager can reply" in body["errors"]["reply"]
    time.sleep(0.3)
    assert slack.since(seen, "chat.postMessage", channel=DM[REP1]) == []
    assert _items(slack) == []
