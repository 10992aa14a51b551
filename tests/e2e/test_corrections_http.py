"""A rep corrects or removes an outcome they logged in the last 7 days, from their Home, over
HTTP against the real app: the classification and the figures follow; older outcomes and other
people's are left as they were."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.blocks.corrections import CORRECT_ACTION_ID, REMOVE_ACTION_ID
from bot.blocks.debriefs import CELEBRATE_YES_ACTION_ID
from bot.clock import FakeClock
from testkit.standin import RecordedCall
from tests.support.factories import _lose, lost_values
from tests.support.slack import (
    ALL_PRACTICES,
    DM,
    REP1,
    REP2,
    WINS,
    SlackDriver,
    _text,
    in_dm,
)


def _home_text(call: RecordedCall) -> str:
    return json.dumps(call.params["view"]["blocks"], ensure_ascii=False)


def _click_from_home(slack: SlackDriver, user_id: str, action_id: str, value: str) -> int:
    seen = slack.mark()
    # A click on the Home tab carries no message and no channel.
    slack.click(user_id, action_id, value)
    return seen


def _open_correction(slack: SlackDriver, user_id: str, outcome_id: int) -> dict[str, Any]:
    seen = _click_from_home(slack, user_id, CORRECT_ACTION_ID, str(outcome_id))
    (opened,) = slack.wait(seen, "views.open")
    return opened.response["view"]


def test_a_loss_corrected_from_home_is_classified_again_and_home_follows(
    slack: SlackDriver,
) -> None:
    slack.setup()
    _, outcome = _lose(slack, REP1, "Fix & <me>")
    assert outcome.classification == "system-miss" and outcome.id is not None
    home = _home_text(slack.home(REP1))
    assert "*Logged in the last 7 days*" in home
    assert "Lost *Fix &amp; &lt;me&gt;* · System miss" in home

    view = _open_correction(slack, REP1, outcome.id)
    assert view["title"]["text"] == "Correct a loss"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == "Fix & <me>"
    assert blocks["reason"]["element"]["initial_option"]["value"] == "price"

    seen = slack.mark()
    reply = slack.submit(
        view, REP1, lost_values("Fix & <me>", practices=ALL_PRACTICES, reason="competitor")
    )
    assert "errors" not in (reply.body or "")
    (published,) = slack.wait(seen, "views.publish", user_id=REP1)
    (saved,) = [o for o in slack.outcomes() if o.id == outcome.id]
    assert saved.classification == "perfect-miss"
    assert (saved.reason, saved.process_score) == ("competitor", 1.0)
    text = _home_text(published)
    assert "Lost *Fix &amp; &lt;me&gt;* · Perfect miss" in text
    assert "Perfect miss 1" in text and "System miss 0" in text  # this cycle's record follows
    assert len(slack.outcomes()) == 1


def test_a_loss_removed_from_home_is_gone_and_the_next_wins_bounce_back_follows(
    slack: SlackDriver,
) -> None:
    slack.setup()
    now = slack.live.clock()
    slack.add_outcome(REP1, "loss", now - timedelta(days=3), deal="First loss")
    slack.add_outcome(REP1, "loss", now - timedelta(days=2), deal="Logged by mistake")
    slack.add_outcome(
        REP1,
        "win",
        now - timedelta(days=1),
        deal="The win",
        bounce_back_losses=2,
        bounce_back_recovery_seconds=int(timedelta(days=2).total_seconds()),
    )
    (mistake,) = [o for o in slack.outcomes() if o.deal == "Logged by mistake"]
    assert mistake.id is not None
    seen = _click_from_home(slack, REP1, REMOVE_ACTION_ID, str(mistake.id))
    (published,) = slack.wait(seen, "views.publish", user_id=REP1)
    assert "Logged by mistake" not in _home_text(published)
    assert sorted(o.deal for o in slack.outcomes()) == ["First loss", "The win"]
    (win,) = [o for o in slack.outcomes() if o.deal == "The win"]
    assert win.bounce_back_losses == 1
    assert win.bounce_back_recovery_seconds == int(timedelta(days=2).total_seconds())
    # A second click (Slack's retry, a double click) changes nothing more.
    seen = _click_from_home(slack, REP1, REMOVE_ACTION_ID, str(mistake.id))
    slack.wait(seen, "views.publish", user_id=REP1)
    assert len(slack.outcomes()) == 2


def test_older_outcomes_and_other_peoples_are_left_as_they_were(slack: SlackDriver) -> None:
    slack.setup()
    now = slack.live.clock()
    slack.add_outcome(REP1, "loss", now - timedelta(days=8), deal="Last month's")
    (old,) = slack.outcomes()
    assert old.id is not None
    assert "Last month's" not in _home_text(slack.home(REP1))

    for action in (CORRECT_ACTION_ID, REMOVE_ACTION_ID):
        seen = slack.mark()
        slack.click(REP1, action, str(old.id), in_dm(REP1))
        (answer,) = slack.wait(seen, "chat.postEphemeral", user=REP1)
        assert "7 days after they're logged" in answer.params["text"]

    _, mine = _lose(slack, REP1, "Mine")
    assert mine.id is not None
    for action in (CORRECT_ACTION_ID, REMOVE_ACTION_ID):
        seen = slack.mark()
        slack.click(REP2, action, str(mine.id), in_dm(REP2))
        (answer,) = slack.wait(seen, "chat.postEphemeral", user=REP2)
        assert "someone else's" in answer.params["text"]
    assert len(slack.outcomes()) == 2

    # A correction form submitted by someone else (forged) saves nothing, said in the form.
    view = _open_correction(slack, REP1, mine.id)
    body = slack.submit(view, REP2, lost_values("Hijacked", practices=ALL_PRACTICES)).json()
    assert body["response_action"] == "errors"
    assert "someone else's" in body["errors"]["deal"]
    (kept,) = [o for o in slack.outcomes() if o.id == mine.id]
    assert kept.deal == "Mine" and kept.classification == "system-miss"


def test_a_perfect_miss_corrected_away_calls_off_its_waiting_shout_out(
    slack: SlackDriver,
) -> None:
    """The rep agreed to celebrate a perfect miss while no channel was set, then corrected it:
    not every practice held after all. The shout-out still waiting would celebrate a perfect
    miss that isn't one, in public: it is called off, and a channel set later posts nothing."""
    slack.setup(channel=None)
    dm, outcome = _lose(slack, REP1, "Stark & Sons", practices=ALL_PRACTICES)
    assert outcome.classification == "perfect-miss" and outcome.id is not None
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])  # "I'll post it once a channel is set"
    assert slack.wait_recorded(f"debrief:{outcome.id}:perfect-miss").state == "pending"

    view = _open_correction(slack, REP1, outcome.id)
    seen = slack.mark()
    slack.submit(view, REP1, lost_values("Stark & Sons", practices=["discovery"]))
    slack.wait(seen, "views.publish", user_id=REP1)
    (saved,) = [o for o in slack.outcomes() if o.id == outcome.id]
    assert saved.classification == "system-miss"
    row = slack.wait_recorded(f"debrief:{outcome.id}:perfect-miss")
    # Called off as a take-back would be (bot.usecases.correction_updates), never posted.
    assert (row.state, row.last_error) == ("failed", "taken_back")

    slack.set_channel(WINS)
    slack.tick(FakeClock(slack.live.clock()))
    assert slack.posts_about(seen, "Stark", channel=WINS) == []


def test_a_perfect_miss_corrected_to_another_perfect_miss_keeps_its_shout_out(
    slack: SlackDriver,
) -> None:
    """A correction that keeps it a perfect miss (a typo in the reason) leaves the agreed
    shout-out waiting for its channel."""
    slack.setup(channel=None)
    dm, outcome = _lose(slack, REP2, "Wayne Enterprises", practices=ALL_PRACTICES)
    assert outcome.id is not None
    seen = slack.mark()
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    slack.wait(seen, "chat.postMessage", channel=DM[REP2])
    view = _open_correction(slack, REP2, outcome.id)
    seen = slack.mark()
    slack.submit(
        view, REP2, lost_values("Wayne Enterprises", practices=ALL_PRACTICES, reason="competitor")
    )
    slack.wait(seen, "views.publish", user_id=REP2)
    assert slack.wait_recorded(f"debrief:{outcome.id}:perfect-miss").state == "pending"
    slack.set_channel(WINS)
    slack.tick(FakeClock(slack.live.clock()))
    (shout,) = slack.wait(seen, "chat.postMessage", channel=WINS)
    assert "Wayne Enterprises" in _text(shout)
