"""A rep removes their newest loss from Home and logs another: over HTTP against the real app,
the new loss's DM and its manager note both arrive. Post keys name the outcome's id
(``debrief:<id>:rep``) and outlive the removed row in the outbox; on SQLite a table without
AUTOINCREMENT gave the new outcome the removed one's id back, so both messages were taken as
already sent (https://www.sqlite.org/autoinc.html)."""

from __future__ import annotations

from bot.blocks.corrections import REMOVE_ACTION_ID
from tests.support.factories import _lose
from tests.support.slack import DM, MANAGER, REP1, SlackDriver, _text


def _wait_for_note_about(slack: SlackDriver, seen: int, deal: str) -> None:
    slack.standin.wait_for(
        lambda _calls: bool(slack.posts_about(seen, deal, channel=DM[MANAGER])),
        timeout=slack.wait_timeout,
    )


def test_a_loss_logged_after_the_newest_was_removed_gets_its_dm_and_manager_note(
    slack: SlackDriver,
) -> None:
    slack.setup()
    seen = slack.mark()
    _, removed = _lose(slack, REP1, "Logged by mistake")
    _wait_for_note_about(slack, seen, "Logged by mistake")
    assert removed.id is not None
    slack.wait_recorded(f"debrief:{removed.id}:manager")

    seen = slack.mark()
    slack.click(REP1, REMOVE_ACTION_ID, str(removed.id))
    slack.wait(seen, "views.publish", user_id=REP1)
    assert [o.deal for o in slack.outcomes()] == []

    seen = slack.mark()
    dm, fresh = _lose(slack, REP1, "The real loss")
    _wait_for_note_about(slack, seen, "The real loss")

    assert fresh.id is not None and fresh.id != removed.id
    assert "The real loss" in _text(dm)
    (note,) = slack.posts_about(seen, "The real loss", channel=DM[MANAGER])
    assert "The real loss" in _text(note)
