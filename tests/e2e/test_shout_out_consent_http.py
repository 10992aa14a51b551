"""Consent for every public post about a rep (issue 12, section 4), over HTTP against the
stand-in: a bounce-back is shared only when the rep says yes, after a long enough streak; a
shout-out the rep agreed to can be taken back (deleted once, through the outbox), by them only.
Each test has a workspace of its own; calls are read from a mark and filtered by deal."""

from __future__ import annotations

import json
import time

from bot.blocks.debriefs import (
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    TAKE_BACK_ACTION_ID,
)
from bot.clock import FakeClock, utc_now
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import _lose, log_win
from tests.support.settings_form import number_field, settings_form, team_fields
from tests.support.slack import (
    ADMIN,
    ALL_PRACTICES,
    DM,
    MANAGER,
    REP1,
    REP2,
    WINS,
    SlackDriver,
    _text,
)


def _win(slack: SlackDriver, user_id: str, deal: str) -> tuple[RecordedCall, int]:
    """Log a win of 75,000 and wait for the rep's DM; (the DM, the outcome id)."""
    dm, outcome = log_win(slack, user_id, deal, amount="75000")
    assert outcome.id is not None
    return dm, outcome.id


def _outcome(slack: SlackDriver, deal: str):  # type: ignore[no-untyped-def]
    return [o for o in slack.outcomes() if o.deal == deal][-1]


def _dm_saying(slack: SlackDriver, seen: int, user_id: str, words: str) -> RecordedCall:
    """Wait for the DM to `user_id` since `seen` that says `words`."""
    slack.standin.wait_for(
        lambda calls: bool(slack.posts_about(seen, words, channel=DM[user_id])),
        timeout=slack.wait_timeout,
    )
    return slack.posts_about(seen, words, channel=DM[user_id])[0]


def _deletes(slack: SlackDriver, seen: int) -> list[RecordedCall]:
    return slack.since(seen, "chat.delete")


def _agree(slack: SlackDriver, user_id: str, outcome_id: int, dm: RecordedCall) -> RecordedCall:
    """Say yes on the DM; the confirmation DM (with "Take it back") once it is posted."""
    seen = slack.mark()
    slack.click_replacing(user_id, CELEBRATE_YES_ACTION_ID, str(outcome_id), message=dm)
    return _dm_saying(slack, seen, user_id, TAKE_BACK_ACTION_ID)


def test_a_bounce_back_after_one_loss_gets_no_public_post_and_no_ask(slack: SlackDriver) -> None:
    slack.setup()
    _lose(slack, REP2, "Only loss")
    seen = slack.mark()
    dm, outcome_id = _win(slack, REP2, "Quick comeback")
    # Told privately, as every recovery is: it counts in their own figures.
    assert "bounced back after 1 loss" in _text(dm) and "Resilience is a skill" in _text(dm)
    assert CELEBRATE_YES_ACTION_ID not in _text(dm) and "Share it" not in _text(dm)
    # A forged "yes" for a bounce-back nobody was asked about changes nothing.
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(outcome_id), message=dm)
    slack.settle()
    assert slack.posts_about(seen, "Quick comeback", channel=WINS) == []
    win = _outcome(slack, "Quick comeback")
    assert win.bounce_back_losses == 1 and win.bounce_back_offered_at is None
    assert win.celebrate_consent is None


def test_after_two_losses_the_rep_is_asked_and_yes_posts_once(slack: SlackDriver) -> None:
    slack.setup()
    _lose(slack, REP2, "Loss one")
    _lose(slack, REP2, "Loss two")
    seen = slack.mark()
    dm, outcome_id = _win(slack, REP2, "Globex")
    assert "Share it with the team?" in _text(dm) and f"<#{WINS}>" in _text(dm)
    assert CELEBRATE_YES_ACTION_ID in _text(dm) and "75" not in _text(dm).split("Share it")[1]
    slack.settle()
    assert slack.posts_about(seen, "Globex", channel=WINS) == []  # nothing before a yes

    # Someone else's yes is refused, and posts nothing.
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome_id), message=dm)
    slack.settle()
    assert slack.posts_about(seen, "Globex", channel=WINS) == []
    assert _outcome(slack, "Globex").celebrate_consent is None

    clicked = slack.mark()
    # The ask is replaced (through the click's response_url) by the choice and "Take it back".
    replaced = slack.click_replacing(REP2, CELEBRATE_YES_ACTION_ID, str(outcome_id), message=dm)
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(outcome_id), message=dm)  # double click
    slack.wait(clicked, "chat.postMessage", channel=WINS)
    confirmation = _dm_saying(slack, clicked, REP2, "bounce-back is up")
    slack.settle()
    (shout,) = slack.posts_about(seen, "Globex", channel=WINS)
    assert "bounced back after 2 losses" in _text(shout) and f"<@{REP2}>" in _text(shout)
    assert "75" not in _text(shout)
    assert f"<#{WINS}>" in _text(confirmation) and TAKE_BACK_ACTION_ID in _text(confirmation)
    assert CELEBRATE_YES_ACTION_ID not in json.dumps(replaced["blocks"])
    assert TAKE_BACK_ACTION_ID in json.dumps(replaced["blocks"])
    # Answered, the message no longer asks: the choice stands where the question was.
    assert "Share it with the team?" not in json.dumps(replaced["blocks"])
    assert "You chose to share it." in json.dumps(replaced["blocks"])
    # The direct answer to the click never bypasses the outbox with a Web API update.
    assert slack.since(clicked, "chat.update") == []
    win = _outcome(slack, "Globex")
    assert win.celebrate_consent is True and win.bounce_back_pending_since is None


def test_declining_a_bounce_back_posts_nothing(slack: SlackDriver) -> None:
    slack.setup()
    _lose(slack, REP1, "Loss three")
    _lose(slack, REP1, "Loss four")
    seen = slack.mark()
    dm, outcome_id = _win(slack, REP1, "Initech")
    slack.click(REP1, CELEBRATE_NO_ACTION_ID, str(outcome_id), message=dm)
    reply = _dm_saying(slack, seen, REP1, "Kept private")
    assert TAKE_BACK_ACTION_ID not in _text(reply)
    slack.click(
        REP1, CELEBRATE_YES_ACTION_ID, str(outcome_id), message=dm
    )  # the first answer stands
    slack.settle()
    assert slack.posts_about(seen, "Initech", channel=WINS) == []
    assert _outcome(slack, "Initech").celebrate_consent is False


def test_taking_back_a_bounce_back_deletes_it_once_and_only_for_the_rep(
    slack: SlackDriver,
) -> None:
    slack.setup()
    _lose(slack, REP2, "Loss five")
    _lose(slack, REP2, "Loss six")
    seen = slack.mark()
    dm, outcome_id = _win(slack, REP2, "Umbrella")
    confirmation = _agree(slack, REP2, outcome_id, dm)
    (shout,) = slack.posts_about(seen, "Umbrella", channel=WINS)
    shout_ts = str(shout.response["ts"])
    assert slack.standin.has_message(WINS, shout_ts)

    # Another rep can't take it back: told so, nothing deleted.
    other = slack.mark()
    refusal = slack.click_answer(REP1, TAKE_BACK_ACTION_ID, str(outcome_id), message=confirmation)
    assert f"shout-out is <@{REP2}>'s" in refusal
    slack.settle()
    assert _deletes(slack, other) == [] and slack.standin.has_message(WINS, shout_ts)
    assert _outcome(slack, "Umbrella").shout_out_taken_back_at is None

    took = slack.mark()
    replaced = slack.click_replacing(
        REP2, TAKE_BACK_ACTION_ID, str(outcome_id), message=confirmation
    )
    (delete,) = slack.wait(took, "chat.delete")
    # The channel and ts recorded when the shout-out was sent.
    assert (delete.params["channel"], delete.params["ts"]) == (WINS, shout_ts)
    assert not slack.standin.has_message(WINS, shout_ts)
    assert "Taken back" in json.dumps(replaced["blocks"])
    assert TAKE_BACK_ACTION_ID not in json.dumps(replaced["blocks"])
    assert slack.since(took, "chat.update") == []

    again = slack.mark()
    slack.click(REP2, TAKE_BACK_ACTION_ID, str(outcome_id), message=confirmation)
    (answer,) = slack.wait(again, "chat.postEphemeral")
    assert "Already taken back" in _text(answer)
    slack.settle()
    assert len(_deletes(slack, took)) == 1
    assert slack.wait_recorded(f"debrief:{outcome_id}:take-back").state == "sent"
    assert _outcome(slack, "Umbrella").shout_out_taken_back_at is not None


def test_taking_back_a_perfect_miss_deletes_its_celebration(slack: SlackDriver) -> None:
    slack.setup()
    dm, outcome = _lose(slack, REP1, "Stark Industries", practices=ALL_PRACTICES)
    assert outcome.id is not None
    seen = slack.mark()
    confirmation = _agree(slack, REP1, outcome.id, dm)
    assert "perfect miss is celebrated" in _text(confirmation)
    (shout,) = slack.posts_about(seen, "Stark Industries", channel=WINS)
    took = slack.mark()
    slack.click(REP1, TAKE_BACK_ACTION_ID, str(outcome.id), message=confirmation)
    (delete,) = slack.wait(took, "chat.delete")
    assert delete.params["ts"] == shout.response["ts"]
    assert not slack.standin.has_message(WINS, str(shout.response["ts"]))


def test_a_shout_out_taken_back_before_it_was_sent_is_never_posted(slack: SlackDriver) -> None:
    slack.setup(channel=None)
    _lose(slack, REP2, "Loss seven")
    _lose(slack, REP2, "Loss eight")
    seen = slack.mark()
    dm, outcome_id = _win(slack, REP2, "Wayne Corp")
    assert "the team channel" in _text(dm)
    confirmation = _agree(slack, REP2, outcome_id, dm)
    assert "no recognition channel" in _text(confirmation)

    took = slack.mark()
    replaced = slack.click_replacing(
        REP2, TAKE_BACK_ACTION_ID, str(outcome_id), message=confirmation
    )
    assert "before it went up. Nothing was posted." in json.dumps(replaced["blocks"])

    # A channel is set later: the shout-out stays called off.
    slack.set_channel(WINS)
    ticker = slack.ticker(FakeClock(utc_now()))
    ticker.tick()
    ticker.tick()
    time.sleep(0.3)
    assert slack.posts_about(seen, "Wayne Corp", channel=WINS) == []
    assert _deletes(slack, took) == []
    row = slack.wait_recorded(f"debrief:{outcome_id}:bounce-back")
    assert (row.state, row.last_error) == ("failed", "taken_back")


def _settings(min_losses: str) -> dict[str, dict[str, object]]:
    return settings_form(
        recognition_channel={"value": state_value("channels_select", WINS)},
        bounce_back_min_losses=number_field(min_losses),
        **team_fields(0, MANAGER, [REP1, REP2]),
    )


def test_the_streak_a_public_bounce_back_needs_is_a_setting(slack: SlackDriver) -> None:
    view = slack.open_modal("/rebound", "settings", ADMIN)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["bounce_back_min_losses"]["element"]["initial_value"] == "2"
    body = slack.submit(view, ADMIN, _settings("0")).json()
    assert list(body["errors"]) == ["bounce_back_min_losses"]
    assert "whole number from 1 to 10" in body["errors"]["bounce_back_min_losses"]
    seen = slack.mark()
    slack.submit(view, ADMIN, _settings("3"))
    saved = _dm_saying(slack, seen, ADMIN, "Settings saved")
    assert "after 3 losses in a row" in _text(saved)
    config = slack.team_config()
    assert config is not None and config.bounce_back_min_losses == 3
    reopened = slack.open_modal("/rebound", "settings", ADMIN)
    blocks = {b.get("block_id"): b for b in reopened["blocks"]}
    assert blocks["bounce_back_min_losses"]["element"]["initial_value"] == "3"

    # Two losses are no longer enough to be asked; three are.
    _lose(slack, REP2, "Setting loss 1")
    _lose(slack, REP2, "Setting loss 2")
    dm, _ = _win(slack, REP2, "Two-loss win")
    assert "bounced back after 2 losses" in _text(dm) and CELEBRATE_YES_ACTION_ID not in _text(dm)
    for deal in ("Setting loss 3", "Setting loss 4", "Setting loss 5"):
        _lose(slack, REP2, deal)
    dm, _ = _win(slack, REP2, "Three-loss win")
    assert "bounced back after 3 losses" in _text(dm) and CELEBRATE_YES_ACTION_ID in _text(dm)


def test_a_shout_out_slack_will_not_delete_is_owned_up_to(slack: SlackDriver) -> None:
    slack.setup()
    dm, outcome = _lose(slack, REP2, "Cyberdyne", practices=ALL_PRACTICES)
    assert outcome.id is not None
    seen = slack.mark()
    confirmation = _agree(slack, REP2, outcome.id, dm)
    (shout,) = slack.posts_about(seen, "Cyberdyne", channel=WINS)
    # chat.delete's documented refusal: the token may not delete this message.
    slack.standin.fail_next("chat.delete", error="cant_delete_message")
    took = slack.mark()
    slack.click(REP2, TAKE_BACK_ACTION_ID, str(outcome.id), message=confirmation)
    told = _dm_saying(slack, took, REP2, "couldn't take your shout-out down")
    assert f"<#{WINS}>" in _text(told) and "admin can delete it" in _text(told)
    assert "cant_delete_message" not in _text(told)
    assert slack.standin.has_message(WINS, str(shout.response["ts"]))
