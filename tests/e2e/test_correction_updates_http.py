"""When a rep corrects or removes an outcome from their Home, the messages already posted about it
follow (issue 12), over HTTP against the real app and the stand-in: the manager's note and the
rep's DM are updated in place (chat.update of the ts they were sent with), or replaced by a short
note after a removal, with no buttons left; a shout-out is updated, or taken down when the
outcome no longer is what it celebrates; a stale button saves nothing and says why. A message
not sent yet goes out corrected (no update), one whose send is unknown is updated once it is
found in Slack: each exactly once.

Each test has a workspace of its own; Slack calls are read from a mark and filtered by channel,
because the stand-in is shared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Deps, make_dispatcher
from bot.blocks.correction_updates import CALIBRATION_CLEARED, OUTCOME_GONE, OUTCOME_GONE_ERROR
from bot.blocks.corrections import CORRECT_ACTION_ID, REMOVE_ACTION_ID
from bot.blocks.debriefs import (
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
    TAKE_BACK_ACTION_ID,
)
from bot.clock import FakeClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.uploads import message_renderer_for
from bot.usecases.correction_updates import OUTCOME_MESSAGE
from storage.db import make_engine, make_session_factory
from storage.models import Outcome
from testkit.standin import RecordedCall
from tests.support.factories import _lose, log_win, lost_values, reflection_values, won_values
from tests.support.slack import ALL_PRACTICES, DM, MANAGER, REP1, REP2, WINS, SlackDriver, _text

HOSTILE = "<!channel> *Big* & <https://evil.example|deal>"
ESCAPED = "&lt;!channel&gt; *Big* &amp; &lt;https://evil.example|deal&gt;"


@pytest.fixture
def dispatcher(slack: SlackDriver) -> Iterator[tuple[FakeClock, Dispatcher]]:
    """Another replica's outbox dispatcher on a test clock that starts at the app's now: what
    a scheduler tick sends later (a backoff's retry, an unknown send looked for in Slack)."""
    clock = FakeClock(slack.live.clock())
    settings = Settings(
        slack_bot_token=slack.standin.bot_token,
        slack_api_url=slack.standin.url,
        database_url=slack.live.database_url,
    )
    # Every process of the app registers the corrections' renderer (bot.features imports it).
    assert message_renderer_for({"renderer": OUTCOME_MESSAGE}) is not None
    engine = make_engine(slack.live.database_url)
    deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
    try:
        yield clock, make_dispatcher(deps)
    finally:
        engine.dispose()


def _tick(dispatcher: tuple[FakeClock, Dispatcher]) -> None:
    clock, outbox = dispatcher
    clock.advance(minutes=1)
    outbox.run_once(clock())


def _correct(
    slack: SlackDriver, outcome_id: int | None, values: dict[str, Any], user_id: str = REP1
) -> None:
    """Correct from Home: *Correct*, then the filled-in form submitted with `values`; waits
    until the rep's Home is published again (the correction is saved)."""
    seen = slack.mark()
    slack.click(user_id, CORRECT_ACTION_ID, str(outcome_id))
    (opened,) = slack.wait(seen, "views.open")
    seen = slack.mark()
    reply = slack.submit(opened.response["view"], user_id, values)
    assert "errors" not in (reply.body or "")
    slack.wait(seen, "views.publish", user_id=user_id)


def _note_about(slack: SlackDriver, seen: int, outcome: Outcome) -> RecordedCall:
    """The manager's note about `outcome` once the outbox has sent and recorded it."""
    slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])
    slack.wait_recorded(f"debrief:{outcome.id}:manager")
    return slack.since(seen, "chat.postMessage", channel=DM[MANAGER])[0]


def _lose_with_note(
    slack: SlackDriver, deal: str, practices: list[str]
) -> tuple[RecordedCall, Outcome, RecordedCall]:
    """REP1 logs a loss; (their DM, the outcome, the manager's note about it)."""
    start = slack.mark()
    dm, outcome = _lose(slack, REP1, deal, practices=practices)
    return dm, outcome, _note_about(slack, start, outcome)


def _celebrate(slack: SlackDriver, outcome: Outcome, dm: RecordedCall) -> RecordedCall:
    """The rep says yes to celebrating their perfect miss; the shout-out once it is posted (and
    the DM telling them it is up, with "Take it back")."""
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    (shout,) = slack.wait(seen, "chat.postMessage", channel=WINS)
    slack.wait_recorded(f"debrief:{outcome.id}:perfect-miss")
    slack.wait_recorded(f"debrief:{outcome.id}:celebration-choice")
    return shout


def _ts(call: RecordedCall) -> str:
    return str(call.response["ts"])


def _by_channel(calls: list[RecordedCall]) -> dict[str | None, RecordedCall]:
    return {c.conversation: c for c in calls}


def _outcome(slack: SlackDriver, outcome_id: int | None) -> Outcome:
    return next(o for o in slack.outcomes() if o.id == outcome_id)


def test_a_corrected_loss_updates_the_managers_note_and_the_reps_dm_in_place(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome, note = _lose_with_note(slack, "Old name", ["discovery"])
    assert "System miss" in _text(note)

    seen = slack.mark()
    _correct(
        slack,
        outcome.id,
        lost_values(HOSTILE, amount="51000", practices=ALL_PRACTICES, reason="competitor"),
    )
    updates = _by_channel(slack.wait(seen, "chat.update", count=2))
    manager = updates[DM[MANAGER]]
    assert manager.params["ts"] == _ts(note)  # the note itself, where it was sent
    text = _text(manager)
    assert ESCAPED in text and "<!channel>" not in text and "Old name" not in text
    assert "51,000" in text and "Perfect miss" in text
    assert f"Corrected by <@{REP1}> on <!date^" in text
    # Not calibrated yet: the manager can still agree or see it differently, on the new facts.
    assert CALIBRATE_AGREE_ACTION_ID in json.dumps(manager.params["blocks"])
    rep = updates[DM[REP1]]
    assert rep.params["ts"] == _ts(dm)
    assert ESCAPED in _text(rep) and "Perfect miss" in _text(rep)
    assert "You corrected this on" in _text(rep)
    # Now a perfect miss, the rep may celebrate it from the updated DM.
    assert CELEBRATE_YES_ACTION_ID in json.dumps(rep.params["blocks"])
    # What the conversations hold now, and nothing new posted about it.
    held = slack.standin.message_at(DM[MANAGER], _ts(note))
    assert held is not None and held["blocks"] == manager.params["blocks"]
    slack.settle()
    assert slack.since(seen, "chat.postMessage") == []
    assert len(slack.since(seen, "chat.update")) == 2


def test_removing_a_loss_replaces_its_notes_takes_its_shout_out_down_and_stale_buttons_save_nothing(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome, note = _lose_with_note(slack, "Doomed & <deal>", ALL_PRACTICES)
    shout = _celebrate(slack, outcome, dm)
    # The rep opens the questions, then removes the outcome from Home before answering.
    opened = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(outcome.id), message=dm)
    (questions,) = slack.wait(opened, "views.open")

    seen = slack.mark()
    slack.click(REP1, REMOVE_ACTION_ID, str(outcome.id))  # from Home, after Slack's confirm
    (delete,) = slack.wait(seen, "chat.delete")
    assert (delete.params["channel"], delete.params["ts"]) == (WINS, _ts(shout))
    assert not slack.standin.has_message(WINS, _ts(shout))
    # The manager's note, the rep's debrief DM and the DM where they agreed to the shout-out.
    updates = {u.params["ts"]: u for u in slack.wait(seen, "chat.update", count=3)}
    manager = updates[_ts(note)]
    assert manager.conversation == DM[MANAGER]
    assert f"<@{REP1}> removed the loss *Doomed &amp; &lt;deal&gt;*" in _text(manager)
    assert all(b["type"] != "actions" for b in manager.params["blocks"])  # nothing to click
    rep = updates[_ts(dm)]
    assert "You removed the loss" in _text(rep)
    assert all(b["type"] != "actions" for b in rep.params["blocks"])
    choice = next(u for ts, u in updates.items() if ts not in (_ts(note), _ts(dm)))
    assert "You removed the loss" in _text(choice) and TAKE_BACK_ACTION_ID not in _text(choice)

    # Buttons clicked on the messages as they were before (a client that hadn't refreshed).
    stale = slack.mark()
    slack.click(MANAGER, CALIBRATE_AGREE_ACTION_ID, str(outcome.id), message=note)
    (answer,) = slack.wait(stale, "chat.postEphemeral", user=MANAGER)
    assert "isn't in the rep's record any more" in _text(answer)
    stale = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(outcome.id), message=dm)
    (answer,) = slack.wait(stale, "chat.postEphemeral", user=REP1)
    assert OUTCOME_GONE in _text(answer)
    body = slack.submit(
        questions.response["view"], REP1, reflection_values("Keep the pilot plan")
    ).json()
    assert body["response_action"] == "errors"
    assert OUTCOME_GONE_ERROR in body["errors"].values()
    slack.settle()
    assert slack.outcomes() == [] and slack.reflections() == []
    assert slack.since(stale, "views.open") == []
    assert len(slack.since(seen, "chat.delete")) == 1
    assert len(slack.since(seen, "chat.update")) == 3


def test_a_perfect_miss_renamed_updates_its_shout_out_and_corrected_away_takes_it_down(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome = _lose(slack, REP1, "Shout deal", practices=ALL_PRACTICES)
    shout = _celebrate(slack, outcome, dm)

    seen = slack.mark()
    _correct(slack, outcome.id, lost_values(HOSTILE, practices=ALL_PRACTICES))
    (update,) = slack.wait(seen, "chat.update", channel=WINS)
    assert update.params["ts"] == _ts(shout)
    assert ESCAPED in _text(update) and "Celebrating a perfect miss" in _text(update)
    assert "<!channel>" not in _text(update)
    slack.settle()
    assert slack.since(seen, "chat.delete") == []

    seen = slack.mark()
    _correct(slack, outcome.id, lost_values(HOSTILE, practices=["discovery"]))
    (delete,) = slack.wait(seen, "chat.delete")
    assert (delete.params["channel"], delete.params["ts"]) == (WINS, _ts(shout))
    assert not slack.standin.has_message(WINS, _ts(shout))
    updates = slack.wait(seen, "chat.update", count=2, channel=DM[REP1])
    debrief = next(u for u in updates if "System miss" in _text(u))
    assert "took that down from the channel" in _text(debrief)
    # The DM where the rep agreed no longer offers "Take it back": it came down already.
    choice = next(u for u in updates if u is not debrief)
    assert "Taken back. The shout-out is coming down" in _text(choice)
    assert TAKE_BACK_ACTION_ID not in json.dumps(choice.params["blocks"])
    slack.settle()
    assert slack.since(seen, "chat.update", channel=WINS) == []
    assert _outcome(slack, outcome.id).shout_out_taken_back_at is not None


def test_a_note_not_sent_yet_goes_out_corrected_once_and_is_never_updated(
    slack: SlackDriver, dispatcher: tuple[FakeClock, Dispatcher]
) -> None:
    slack.setup()
    # Slack refuses the manager's note for now (a definite error): it waits for a retry.
    slack.standin.fail_next("chat.postMessage", error="internal_error", to=MANAGER)
    start = slack.mark()
    _, outcome = _lose(slack, REP1, "Pending name", practices=["discovery"])
    assert slack.wait_recorded(f"debrief:{outcome.id}:manager").state == "pending"
    assert slack.since(start, "chat.postMessage", channel=DM[MANAGER]) == []

    seen = slack.mark()
    _correct(slack, outcome.id, lost_values(HOSTILE, practices=ALL_PRACTICES))
    slack.wait(seen, "chat.update", channel=DM[REP1])  # the rep's DM was in Slack: updated
    _tick(dispatcher)  # the retry
    (note,) = slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])
    assert ESCAPED in _text(note) and "Perfect miss" in _text(note)
    assert "Pending name" not in _text(note)
    _tick(dispatcher)
    slack.settle()
    assert len(slack.since(start, "chat.postMessage", channel=DM[MANAGER])) == 1
    assert slack.since(seen, "chat.update", channel=DM[MANAGER]) == []


def test_an_update_waits_for_a_dm_whose_send_is_unknown_and_lands_once(
    slack: SlackDriver, dispatcher: tuple[FakeClock, Dispatcher]
) -> None:
    slack.setup()
    # The rep's DM (queued first) is posted, but its answer is lost: the outbox can't tell.
    slack.standin.accept_then_fail("chat.postMessage", status=502)
    start = slack.mark()
    dm, outcome = _lose(slack, REP1, "Unknown name", practices=["discovery"])
    assert slack.wait_recorded(f"debrief:{outcome.id}:rep").state == "unknown"

    seen = slack.mark()
    _correct(slack, outcome.id, lost_values(HOSTILE, practices=["discovery"]))
    slack.wait(seen, "chat.update", channel=DM[MANAGER])  # the manager's note was sent
    slack.settle()
    assert slack.since(seen, "chat.update", channel=DM[REP1]) == []  # waiting for the DM

    _tick(dispatcher)  # the DM is found in Slack (its post key), then the update goes
    _tick(dispatcher)
    (update,) = slack.wait(seen, "chat.update", channel=DM[REP1])
    assert update.params["ts"] == _ts(dm)
    assert ESCAPED in _text(update) and "Unknown name" not in _text(update)
    _tick(dispatcher)
    slack.settle()
    assert len(slack.since(seen, "chat.update", channel=DM[REP1])) == 1
    assert len(slack.posts_about(start, "Unknown name", channel=DM[REP1])) == 1  # never resent


def test_removing_a_loss_of_a_streak_updates_the_bounce_back_and_takes_a_short_one_down(
    slack: SlackDriver,
) -> None:
    slack.setup()
    now = slack.live.clock()
    slack.add_outcome(REP2, "loss", now - timedelta(days=3), deal="First loss")
    _lose(slack, REP2, "Second loss")
    view = slack.open_modal("/won", "Comeback", REP2)
    seen = slack.mark()
    slack.submit(view, REP2, won_values("Comeback", practices=ALL_PRACTICES))
    (dm,) = slack.wait(seen, "chat.postMessage", channel=DM[REP2])
    win = next(o for o in slack.outcomes() if o.deal == "Comeback")
    slack.wait_recorded(f"debrief:{win.id}:rep")
    assert "bounced back after 2 losses" in _text(dm)
    seen = slack.mark()
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(win.id), message=dm)
    (shout,) = slack.wait(seen, "chat.postMessage", channel=WINS)
    slack.wait_recorded(f"debrief:{win.id}:bounce-back")

    # Renamed: the shout-out says the new name, and stays up.
    seen = slack.mark()
    _correct(slack, win.id, won_values(HOSTILE, practices=ALL_PRACTICES), user_id=REP2)
    (renamed,) = slack.wait(seen, "chat.update", channel=WINS)
    assert renamed.params["ts"] == _ts(shout)
    assert ESCAPED in _text(renamed) and "bounced back after 2 losses" in _text(renamed)
    assert "<!channel>" not in _text(renamed)
    (own,) = slack.wait(seen, "chat.update", channel=DM[REP2])  # and the win's DM
    assert own.params["ts"] == _ts(dm) and ESCAPED in _text(own)
    slack.settle()

    # The second loss was logged by mistake: one loss is no public bounce-back any more.
    second = next(o for o in slack.outcomes() if o.deal == "Second loss")
    seen = slack.mark()
    slack.click(REP2, REMOVE_ACTION_ID, str(second.id))
    (delete,) = slack.wait(seen, "chat.delete")
    assert (delete.params["channel"], delete.params["ts"]) == (WINS, _ts(shout))
    # The removed loss's DM, the win's DM (its streak now one loss long) and the DM where the
    # rep agreed to share it.
    updates = slack.wait(seen, "chat.update", count=3, channel=DM[REP2])
    by_ts = {u.params["ts"]: u for u in updates}
    assert "bounced back after 1 loss " in _text(by_ts[_ts(dm)])
    # Both of the win's DMs say the shout-out is coming down; neither offers "Take it back".
    assert sum("Taken back. The shout-out is coming down" in _text(u) for u in updates) == 2
    assert all(TAKE_BACK_ACTION_ID not in json.dumps(u.params["blocks"]) for u in updates)
    assert _outcome(slack, win.id).bounce_back_losses == 1


def test_a_win_corrected_into_a_lucky_hit_tells_the_manager_once(slack: SlackDriver) -> None:
    slack.setup()
    seen = slack.mark()
    _, win = log_win(slack, REP1, "Globex")
    assert win.classification == "system-hit"
    slack.settle()
    assert slack.since(seen, "chat.postMessage", channel=DM[MANAGER]) == []  # no note for it

    seen = slack.mark()
    _correct(slack, win.id, won_values(HOSTILE, practices=["discovery"], luck="mostly"))
    (note,) = slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])
    assert "Lucky hit" in _text(note) and ESCAPED in _text(note)
    assert f"Corrected by <@{REP1}>" in _text(note)
    (rep,) = slack.wait(seen, "chat.update", channel=DM[REP1])
    assert "Lucky hit" in _text(rep)
    # Corrected again: the note now in Slack is updated, not sent twice.
    slack.wait_recorded(f"debrief:{win.id}:manager")
    again = slack.mark()
    _correct(slack, win.id, won_values("Globex again", practices=["discovery"], luck="mostly"))
    (update,) = slack.wait(again, "chat.update", channel=DM[MANAGER])
    assert update.params["ts"] == _ts(note) and "Globex again" in _text(update)
    slack.settle()
    assert slack.since(again, "chat.postMessage", channel=DM[MANAGER]) == []


def _agree(slack: SlackDriver, outcome: Outcome, note: RecordedCall) -> RecordedCall:
    """The manager agrees from their note; the note's update once it is in Slack."""
    seen = slack.mark()
    slack.click(MANAGER, CALIBRATE_AGREE_ACTION_ID, str(outcome.id), message=note)
    (update,) = slack.wait(seen, "chat.update", channel=DM[MANAGER])
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])  # the rep hears it
    return update


def test_correcting_what_was_calibrated_clears_it_and_the_manager_can_calibrate_again(
    slack: SlackDriver,
) -> None:
    slack.setup()
    _, outcome, note = _lose_with_note(slack, "Stale Corp", ["discovery"])
    agreed = _agree(slack, outcome, note)
    assert f"agreed with <@{REP1}>'s own score" in _text(agreed)

    # All five practices now: a perfect miss, and the agreement with a system miss is gone.
    seen = slack.mark()
    _correct(slack, outcome.id, lost_values("Stale Corp", practices=ALL_PRACTICES))
    saved = _outcome(slack, outcome.id)
    assert saved.classification == "perfect-miss"
    assert (saved.calibrated_at, saved.calibrated_classification) == (None, None)
    home = json.dumps(slack.home(REP1).params["view"]["blocks"], ensure_ascii=False)
    assert "Lost *Stale Corp* · Perfect miss" in home
    assert "Perfect miss 1" in home and "System miss 0" in home  # Home and "This cycle" agree
    assert "calibrated by your manager" not in home
    (update,) = slack.wait(seen, "chat.update", channel=DM[MANAGER])
    assert update.params["ts"] == _ts(note)
    text = _text(update)
    assert "agreed with" not in text and CALIBRATION_CLEARED in text
    blocks = json.dumps(update.params["blocks"])
    assert CALIBRATE_AGREE_ACTION_ID in blocks and CALIBRATE_DIFFER_ACTION_ID in blocks

    # The manager calibrates the corrected outcome: the rep hears it, the note says it.
    again = slack.mark()
    agreed = _agree(slack, outcome, note)
    assert f"agreed with <@{REP1}>'s own score" in _text(agreed)
    assert CALIBRATION_CLEARED not in _text(agreed)
    dms = [c for c in slack.posts_about(again, "Stale Corp", channel=DM[REP1])]
    assert any("sees it the way you do: *Perfect miss*" in _text(c) for c in dms)
    assert _outcome(slack, outcome.id).calibrated_classification == "perfect-miss"

    # A new name (or amount, or reason) keeps the calibration.
    renamed = slack.mark()
    _correct(slack, outcome.id, lost_values("Stale Corp II", practices=ALL_PRACTICES))
    kept = _outcome(slack, outcome.id)
    assert (kept.calibrated_by, kept.calibrated_classification) == (MANAGER, "perfect-miss")
    (update,) = slack.wait(renamed, "chat.update", channel=DM[MANAGER])
    assert "Stale Corp II" in _text(update) and "agreed with" in _text(update)
    assert CALIBRATION_CLEARED not in _text(update)
    assert CALIBRATE_AGREE_ACTION_ID not in json.dumps(update.params["blocks"])
    slack.settle()
    keys = [row.post_key.rsplit(":", 1)[-1] for row in slack.post_log()]
    assert keys.count("calibration") == 1 and keys.count("calibration-2") == 1
