"""A manager's calibration and the perfect-miss shout-out (issue 12, sections 1 and 4), over HTTP
against the stand-in: the shout-out follows the calibrated classification.

- Calibrated out of a perfect miss with the rep's question still open: the question is withdrawn
  (their debrief DM updated through the outbox, warmly; a click that still comes posts nothing).
- Calibrated out with the shout-out already up: it stays (the rep agreed to it), the rep is told
  privately and offered "Take it back"; the weekly digest no longer counts it.
- Calibrated out, agreed to but not posted yet: held back, never posted.
- Calibrated into a perfect miss: the rep is asked once, in the calibration DM; a yes posts the
  shout-out naming what the manager saw held, and the digest counts it.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.corrections import CORRECT_ACTION_ID
from bot.blocks.debriefs import (
    CALIBRATE_DIFFER_ACTION_ID,
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    TAKE_BACK_ACTION_ID,
)
from bot.clock import FakeClock
from bot.domain import PRACTICE_LABELS, local_checkin_time, week_key
from bot.usecases.kudos import digest_timezone
from storage import outbox_queries
from storage.models import Outcome
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import _lose, lost_values
from tests.support.slack import ALL_PRACTICES, DM, MANAGER, REP1, WINS, SlackDriver, _text

HOSTILE_DEAL = "<!channel> *Calib* & Co"
WITHDRAWN_WORDS = "saw this one differently, so there's no shout-out to decide on"


def _outcome(slack: SlackDriver, outcome_id: int | None) -> Outcome:
    return [o for o in slack.outcomes() if o.id == outcome_id][0]


def _loss_with_note(
    slack: SlackDriver, deal: str, practices: list[str]
) -> tuple[RecordedCall, Outcome, RecordedCall]:
    """REP1 debriefs a loss: (their debrief DM, the outcome, the manager's note once sent)."""
    start = slack.mark()
    dm, outcome = _lose(slack, REP1, deal, practices=practices)
    slack.wait_recorded(f"debrief:{outcome.id}:manager")
    note = [c for c in slack.since(start, "chat.postMessage", channel=DM[MANAGER])][0]
    return dm, outcome, note


def _calibrate(
    slack: SlackDriver, outcome: Outcome, note: RecordedCall, practices: list[str]
) -> RecordedCall:
    """The manager sees it differently (`practices` held); the rep's calibration DM."""
    seen = slack.mark()
    slack.click(MANAGER, CALIBRATE_DIFFER_ACTION_ID, str(outcome.id), message=note)
    view = slack.wait(seen, "views.open")[0].response["view"]
    values: dict[str, Any] = {
        "practices": {"value": state_value("checkboxes", practices)},
        "note": {"value": state_value("plain_text_input", "What I saw, in one sentence.")},
    }
    seen = slack.mark()
    reply = slack.submit(view, MANAGER, values)
    assert reply.body in ("", "{}"), reply.body

    def coaching() -> list[RecordedCall]:
        return [
            c
            for c in slack.since(seen, "chat.postMessage", channel=DM[REP1])
            if "looked at your debrief" in _text(c)
        ]

    slack.standin.wait_for(lambda _: bool(coaching()), timeout=slack.wait_timeout)
    (dm,) = coaching()
    return dm


def _wins_posts(slack: SlackDriver, seen: int) -> list[RecordedCall]:
    return slack.since(seen, "chat.postMessage", channel=WINS)


def _agree(slack: SlackDriver, outcome: Outcome, message: RecordedCall) -> RecordedCall:
    """REP1 says yes to the shout-out; the post in the channel."""
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=message)
    (shout,) = slack.wait(seen, "chat.postMessage", channel=WINS)
    slack.wait_recorded(f"debrief:{outcome.id}:perfect-miss")
    return shout


def _digest(slack: SlackDriver) -> str:
    """The weekly recognition digest, due within the next two hours and ticked just after."""
    now = slack.live.clock()
    with slack.session_factory() as session:
        tz = digest_timezone(
            session=session, team_id=slack.team_id, admin_user_ids=slack.settings().admins
        )
    local = (now + timedelta(hours=2)).astimezone(ZoneInfo(tz))
    slack.configure(checkin_weekday=local.weekday(), checkin_hour=local.hour)
    due = local_checkin_time(week_key(local, tz), tz, local.weekday(), local.hour)
    seen = slack.mark()
    slack.tick(FakeClock(due.astimezone(UTC) + timedelta(minutes=1)))
    slack.standin.wait_for(
        lambda _: any("This week's recognition" in _text(c) for c in _wins_posts(slack, seen)),
        timeout=slack.wait_timeout,
    )
    (digest,) = [c for c in _wins_posts(slack, seen) if "This week's recognition" in _text(c)]
    return _text(digest)


def test_an_open_question_is_withdrawn_when_the_manager_calibrates_it_out(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome, note = _loss_with_note(slack, HOSTILE_DEAL, ALL_PRACTICES)
    assert CELEBRATE_YES_ACTION_ID in _text(dm)
    seen = slack.mark()
    calibration_dm = _calibrate(slack, outcome, note, ["discovery"])
    assert "no perfect-miss shout-out to decide on any more" in _text(calibration_dm)

    # The rep's debrief, updated in place through the outbox: the buttons give way to why.
    slack.wait_recorded(f"debrief:{outcome.id}:ask-withdrawn")
    (update,) = slack.since(seen, "chat.update", channel=DM[REP1])
    assert update.params["ts"] == dm.response["ts"]
    blocks = json.dumps(update.params["blocks"])
    assert CELEBRATE_YES_ACTION_ID not in blocks and "Celebrate the perfect miss?" not in blocks
    assert f"<@{MANAGER}> {WITHDRAWN_WORDS}" in blocks
    # The rest of the debrief stays, the deal's name still escaped.
    assert "&lt;!channel&gt;" in blocks and "<!channel>" not in blocks

    # A click on the old buttons (a stale client) posts nothing and records nothing; the
    # clicked message says why.
    answer = json.dumps(
        slack.click_replacing(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    )
    assert WITHDRAWN_WORDS in answer and CELEBRATE_YES_ACTION_ID not in answer
    slack.click(REP1, CELEBRATE_NO_ACTION_ID, str(outcome.id), message=dm)
    slack.settle()
    assert _wins_posts(slack, seen) == []
    assert _outcome(slack, outcome.id).celebrate_consent is None
    keys = [row.post_key for row in slack.post_log()]
    assert keys.count(f"debrief:{outcome.id}:ask-withdrawn") == 1
    assert f"debrief:{outcome.id}:perfect-miss" not in keys


def test_a_posted_shout_out_stays_up_the_rep_is_told_and_can_take_it_back(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome, note = _loss_with_note(slack, "Stays Up Ltd", ALL_PRACTICES)
    _agree(slack, outcome, dm)
    seen = slack.mark()
    calibration_dm = _calibrate(slack, outcome, note, ["discovery"])
    text = _text(calibration_dm)
    assert f"Your shout-out about *Stays Up Ltd* is still up in <#{WINS}>" in text
    assert "no longer counts as a perfect miss in the weekly digest" in text
    assert TAKE_BACK_ACTION_ID in text
    slack.settle()
    assert slack.since(seen, "chat.delete") == []  # never deleted without asking

    # The digest counts the manager's view: no perfect miss this week.
    assert "Perfect misses" not in _digest(slack)

    # The rep takes it back from the calibration DM: the post comes down, once.
    clicked = slack.mark()
    slack.click(REP1, TAKE_BACK_ACTION_ID, str(outcome.id), message=calibration_dm)
    (delete,) = slack.wait(clicked, "chat.delete")
    assert delete.params["channel"] == WINS
    assert _outcome(slack, outcome.id).shout_out_taken_back_at is not None


def test_an_agreed_shout_out_not_posted_yet_is_held_back(slack: SlackDriver) -> None:
    slack.setup(channel=None)  # no recognition channel yet: the shout-out waits for one
    dm, outcome, note = _loss_with_note(slack, "Held Back Inc", ALL_PRACTICES)
    seen = slack.mark()
    slack.click_replacing(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    slack.settle()
    calibration_dm = _calibrate(slack, outcome, note, ["discovery", "qualification"])
    assert "so I've held it back. Nothing was posted." in _text(calibration_dm)

    # An admin picks a channel later: nothing goes up there.
    slack.set_channel(WINS)
    slack.tick(FakeClock(slack.live.clock() + timedelta(hours=2)))
    slack.settle()
    assert _wins_posts(slack, seen) == []
    with slack.session_factory() as session:
        row = outbox_queries.get(
            session=session, team_id=slack.team_id, post_key=f"debrief:{outcome.id}:perfect-miss"
        )
    assert row is not None and (row.state, row.last_error) == ("failed", "calibrated")


def test_a_loss_calibrated_into_a_perfect_miss_is_asked_once_and_counted(
    slack: SlackDriver,
) -> None:
    slack.setup()
    dm, outcome, note = _loss_with_note(slack, HOSTILE_DEAL, ["discovery"])
    assert CELEBRATE_YES_ACTION_ID not in _text(dm)  # a system miss: nothing to ask, yet
    seen = slack.mark()
    calibration_dm = _calibrate(slack, outcome, note, ALL_PRACTICES)
    text = _text(calibration_dm)
    assert "Now that it reads as a perfect miss, shall we celebrate it?" in text
    assert f"<#{WINS}>" in text and CELEBRATE_YES_ACTION_ID in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text

    shout = _agree(slack, outcome, calibration_dm)
    shout_text = _text(shout)
    # It names what the manager saw held, not only what the rep ticked.
    assert PRACTICE_LABELS["objection_handling"] in shout_text
    assert "&lt;!channel&gt;" in shout_text and "<!channel>" not in shout_text
    slack.settle()
    # Asked once: one calibration DM, one shout-out, one consent.
    asks = [
        c
        for c in slack.since(seen, "chat.postMessage", channel=DM[REP1])
        if CELEBRATE_YES_ACTION_ID in _text(c)
    ]
    assert len(asks) == 1 and len(_wins_posts(slack, seen)) == 1
    assert _outcome(slack, outcome.id).celebrate_consent is True

    digest = _digest(slack)
    assert "Perfect misses (1)" in digest and f"<@{REP1}>" in digest


def test_a_calibrated_perfect_miss_renamed_keeps_its_shout_out_up(slack: SlackDriver) -> None:
    """A rename keeps the manager's calibration (bot.usecases.corrections), so the shout-out of
    the perfect miss the manager saw stays up, renamed, though the rep scored a system miss."""
    slack.setup()
    _, outcome, note = _loss_with_note(slack, "Seen Corp", ["discovery"])
    shout = _agree(slack, outcome, _calibrate(slack, outcome, note, ALL_PRACTICES))

    seen = slack.mark()
    slack.click(REP1, CORRECT_ACTION_ID, str(outcome.id))  # from their Home
    (opened,) = slack.wait(seen, "views.open")
    seen = slack.mark()
    values = lost_values("Seen Corp renamed", practices=["discovery"])
    assert "errors" not in (slack.submit(opened.response["view"], REP1, values).body or "")
    (update,) = slack.wait(seen, "chat.update", channel=WINS)
    assert update.params["ts"] == shout.response["ts"]
    assert "Seen Corp renamed" in _text(update)
    assert PRACTICE_LABELS["objection_handling"] in _text(update)  # what the manager saw held
    slack.settle()
    assert slack.since(seen, "chat.delete") == []
    saved = _outcome(slack, outcome.id)
    assert (saved.classification, saved.calibrated_classification) == (
        "system-miss",
        "perfect-miss",
    )
