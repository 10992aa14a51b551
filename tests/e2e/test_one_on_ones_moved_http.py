"""A rep moves to another manager (an admin changes it in `/rebound settings`): their one-on-one
agenda items and open commitments follow them. The former manager's Home shows nothing more of
that rep — not the check-in answer they had put on the agenda, not a commitment the rep made
after the move — and their "Done" on an old item is refused; the new manager sees the items
(with whose reply each was) and may close them. Over HTTP with signed requests against the
stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from bot.blocks.one_on_ones import AGENDA_DONE_ACTION_ID
from tests.support.factories import _lose, _reflect, new_user, reflection_values
from tests.support.one_on_ones import (
    done_buttons,
    put_on_agenda,
    seed_answered_checkin,
    view_text,
)
from tests.support.settings_form import settings_form, team_fields
from tests.support.slack import ADMIN, MANAGER, REP1, REP2, SlackDriver, dm_channel, in_dm

ANSWER = "Legal keeps stalling the Initech paper"
REPLY = "Let's unblock legal together on Thursday"
BEFORE = "Call the CFO before the proposal"
AFTER = "Bring the security review forward"
ANSWERS = [("challenge", "What's in your way?", ANSWER)]  # Leo's check-in, answered


def _put_on_agenda(slack: SlackDriver, checkin_id: int) -> int:
    """Maya replies to Leo's answer from the digest and puts it on the agenda; the item's id,
    the workspace's one item."""
    item = put_on_agenda(slack, checkin_id, "challenge", REPLY)
    (row,) = slack.rows("SELECT id FROM one_on_one_items WHERE team_id = :t", t=slack.team_id)
    assert int(row[0]) == item
    return item


def _move_leo_to(slack: SlackDriver, new_manager: str) -> None:
    """An admin saves `/rebound settings` with Leo under `new_manager` (Priya stays with Maya)."""
    view = slack.open_modal("/rebound", "settings", ADMIN)
    seen = slack.mark()
    values = settings_form(**team_fields(0, MANAGER, [REP2]), **team_fields(1, new_manager, [REP1]))
    reply = slack.submit(view, ADMIN, values)
    assert "errors" not in (reply.body or ""), reply.body
    slack.wait(seen, "chat.postMessage", channel=dm_channel(ADMIN))
    (manager,) = slack.rows(
        "SELECT manager_user_id FROM members WHERE team_id = :t AND user_id = :u",
        t=slack.team_id,
        u=REP1,
    )
    assert manager[0] == new_manager


def _state(slack: SlackDriver, item: int) -> tuple[Any, Any]:
    (row,) = slack.rows(
        "SELECT done_at, done_by FROM one_on_one_items WHERE team_id = :t AND id = :i",
        t=slack.team_id,
        i=item,
    )
    return row[0], row[1]


def test_a_former_manager_sees_nothing_more_of_a_rep_and_the_agenda_follows_the_rep(
    slack: SlackDriver,
) -> None:
    slack.setup()  # Maya manages Leo and Priya
    noah = new_user(slack.standin, tag="noah")
    _, before = _lose(slack, REP1, "Initech")
    _reflect(slack, REP1, before, reflection_values(BEFORE))
    item = _put_on_agenda(slack, seed_answered_checkin(slack, REP1, ANSWERS))
    # While Maya is Leo's manager her Home shows the item and his commitment (so the checks
    # below can fail).
    maya = view_text(slack.home(MANAGER))
    assert ANSWER in maya and BEFORE in maya and f"<@{REP1}>'s open commitments" in maya

    _move_leo_to(slack, noah)
    # After the move Leo writes a loss debrief (saying he kept the commitment before): a new
    # commitment only he and Noah may read.
    _, after = _lose(slack, REP1, "Globex")
    _reflect(slack, REP1, after, reflection_values(AFTER, followed_up="yes"))

    home = slack.home(MANAGER)
    maya = view_text(home)
    for private in (ANSWER, REPLY, BEFORE, AFTER, f"<@{REP1}>"):
        assert private not in maya, private
    assert "One-on-one agenda" not in maya and done_buttons(home) == []

    # Noah, Leo's manager now, sees the item Maya added (as hers) and all Leo's commitments.
    home = slack.home(noah)
    shown = view_text(home)
    assert done_buttons(home) == [str(item)]
    assert f"• <@{REP1}>" in shown and ANSWER in shown
    assert f"<@{MANAGER}>'s reply: {REPLY}" in shown
    assert f"<@{REP1}>'s open commitments: _{AFTER}_" in shown
    # Leo still has it, with the reply as Maya's.
    leo = view_text(slack.home(REP1))
    assert ANSWER in leo and AFTER in leo and f"<@{MANAGER}>'s reply" in leo

    # Maya's Done on the old item (a stale Home, or a forged click): refused, nothing closes.
    seen = slack.mark()
    slack.click(MANAGER, AGENDA_DONE_ACTION_ID, str(item), in_dm(MANAGER))
    (told,) = slack.wait(seen, "chat.postEphemeral", user=MANAGER)
    assert told.params["text"] == (
        f"Only <@{REP1}> or their manager can mark this agenda item done, so I left it open."
    )
    assert _state(slack, item) == (None, None)
    assert slack.since(seen, "views.publish") == []

    # Noah closes it: Leo's and Noah's Homes are published again, Maya's is not.
    seen = slack.mark()
    slack.click(noah, AGENDA_DONE_ACTION_ID, str(item))
    for user in (REP1, noah):
        (published,) = slack.wait(seen, "views.publish", user_id=user)
        assert done_buttons(published) == [] and "1 done in the last four weeks." in view_text(
            published
        )
    done_at, done_by = _state(slack, item)
    assert done_at is not None and done_by == noah
    keys = sorted(p.post_key for p in slack.post_log() if p.post_key.startswith("agenda-done:"))
    assert keys == sorted(f"agenda-done:{item}:home:{u}" for u in (REP1, noah))
    # Maya's Home doesn't count it among hers either.
    assert "done in the last four weeks" not in view_text(slack.home(MANAGER))
