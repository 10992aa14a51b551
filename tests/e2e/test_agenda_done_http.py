"""The rep or their manager marks a one-on-one agenda item done from the agenda line on their
Home (issue 12 §6): over HTTP with signed requests against the stand-in, on SQLite and
PostgreSQL. The item leaves both Homes, each republished once through the outbox; nobody gets a
DM about it; a click by anyone else (forged) is refused with a private message and closes
nothing; an admin may close it; a double click closes nothing more."""

from __future__ import annotations

import time
from typing import Any

from bot.blocks.one_on_ones import AGENDA_DONE_ACTION_ID
from testkit.standin import RecordedCall
from tests.support.one_on_ones import (
    done_buttons,
    put_on_agenda,
    seed_answered_checkin,
    view_text,
)
from tests.support.slack import ADMIN, MANAGER, REP1, REP2, SlackDriver, in_dm

HOSTILE = "<!channel> & <@U0BOSS> legal wants *three* quotes"
ANSWERS = [
    ("win", "Your win this week?", "Booked the Initech demo"),
    ("challenge", "What's in your way?", HOSTILE),
]


def _done(slack: SlackDriver) -> dict[int, tuple[Any, Any]]:
    rows = slack.rows(
        "SELECT id, done_at, done_by FROM one_on_one_items WHERE team_id = :t", t=slack.team_id
    )
    return {int(r[0]): (r[1], r[2]) for r in rows}


def _republished(slack: SlackDriver, seen: int) -> dict[str, RecordedCall]:
    """The Homes published since `seen`, waited for both the rep's and the manager's."""
    slack.wait(seen, "views.publish", user_id=REP1)
    slack.wait(seen, "views.publish", user_id=MANAGER)
    return {user: slack.since(seen, "views.publish", user_id=user)[-1] for user in (REP1, MANAGER)}


def test_done_takes_the_item_off_both_homes_without_a_dm(slack: SlackDriver) -> None:
    slack.setup()
    checkin_id = seed_answered_checkin(slack, REP1, ANSWERS)
    legal = put_on_agenda(slack, checkin_id, "challenge", "Let's unblock legal on Thursday")
    demo = put_on_agenda(slack, checkin_id, "win", "Great demo, tell me how you booked it")

    home = slack.home(REP1)
    assert sorted(done_buttons(home)) == sorted([str(legal), str(demo)])
    shown = view_text(home)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in shown and "<!channel>" not in shown
    assert sorted(done_buttons(slack.home(MANAGER))) == sorted([str(legal), str(demo)])

    # The rep clicks Done on their Home (a Home click carries no message and no channel).
    seen = slack.mark()
    slack.click(REP1, AGENDA_DONE_ACTION_ID, str(legal))
    homes = _republished(slack, seen)
    for user, call in homes.items():
        shown = view_text(call)
        assert done_buttons(call) == [str(demo)], user
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
        shown = view_text(call)
        assert done_buttons(call) == []
        assert "*One-on-one agenda*" in shown and "Nothing open." in shown
        assert "2 done in the last four weeks." in shown
    # A Home opened later agrees.
    assert done_buttons(slack.home(REP1)) == []


def test_only_the_rep_their_manager_or_an_admin_can_mark_it_done(slack: SlackDriver) -> None:
    slack.setup()
    checkin_id = seed_answered_checkin(slack, REP1, ANSWERS)
    item = put_on_agenda(slack, checkin_id, "challenge", "Let's unblock legal on Thursday")

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
    assert all(done_buttons(call) == [] for call in homes.values())
    assert _done(slack)[item][1] == ADMIN
    assert slack.since(seen, "views.publish", user_id=ADMIN) == []
    assert slack.ephemerals(ADMIN, seen) == []
