"""Lowering the losing-streak setting mid-streak (issue 12, seed 003), over HTTP: a rep already
on a run of losses as long as the new setting gets the private support DM, and their manager the
one-on-one prompt, when the admin saves `/rebound settings` — once per streak, whatever is saved
after (lowered again, raised, saved unchanged, a Slack retry of the save, another loss); a run
nobody has added to for a month is left alone; raising the setting sends nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bot.blocks.corrections import REMOVE_ACTION_ID
from testkit.standin import RecordedCall
from tests.support.factories import _lose
from tests.support.settings_form import number_field, settings_form, team_fields
from tests.support.slack import ADMIN, MANAGER, REP1, REP2, SlackDriver, dm_channel, team_of

SUPPORT_WORDS = "Here's one thing that helps after"
PROMPT_WORDS = "a question for your next one-on-one"


def _ours(slack: SlackDriver, calls: list[RecordedCall]) -> list[RecordedCall]:
    return [c for c in calls if team_of(c) in (None, slack.team_id)]


def _support_dms(slack: SlackDriver, user_id: str, seen: int = 0) -> list[RecordedCall]:
    return [
        c for c in _ours(slack, slack.dms_to(user_id, seen)) if SUPPORT_WORDS in c.params["text"]
    ]


def _prompts(slack: SlackDriver, seen: int = 0) -> list[RecordedCall]:
    return [
        c for c in _ours(slack, slack.dms_to(MANAGER, seen)) if PROMPT_WORDS in c.params["text"]
    ]


def _streak_rows(slack: SlackDriver) -> list[str]:
    return sorted(row.post_key for row in slack.post_log() if row.post_key.startswith("streak:"))


def _values(losses: int) -> dict[str, dict[str, object]]:
    """The settings modal as the admin submits it: the team kept as it is, the streak length
    changed."""
    return settings_form(
        **team_fields(0, MANAGER, [REP1, REP2]), support_streak=number_field(str(losses))
    )


def _save(slack: SlackDriver, losses: int, *, retried: bool = False) -> None:
    """An admin saves `/rebound settings` with the streak length `losses` (and, `retried`,
    Slack delivers the same submission twice); waits for the "settings saved" DM."""
    view = slack.open_modal("/rebound", "settings", ADMIN)
    seen = slack.mark()
    reply = slack.submit(view, ADMIN, _values(losses))
    assert "errors" not in (reply.body or ""), reply.body
    if retried:
        slack.submit(view, ADMIN, _values(losses))
    slack.wait(seen, "chat.postMessage", channel=dm_channel(ADMIN))
    slack.settle()
    config = slack.team_config()
    assert config is not None and config.support_streak == losses


def _first_loss_id(slack: SlackDriver, deal: str) -> int:
    (outcome,) = [o for o in slack.outcomes() if o.deal == deal]
    assert outcome.id is not None
    return outcome.id


def test_lowering_the_setting_to_a_reps_streak_brings_support_once(slack: SlackDriver) -> None:
    slack.setup()
    slack.configure(support_streak=4)
    seen = slack.mark()
    for deal in ("Low 1", "Low 2", "<!channel> & Low 3"):
        _lose(slack, REP1, deal)
    slack.settle()
    assert _support_dms(slack, REP1, seen) == [] and _prompts(slack, seen) == []

    # The admin lowers it to 3, and Slack retries the submission: one DM, one prompt.
    _save(slack, 3, retried=True)
    (dm,) = _support_dms(slack, REP1, seen)
    (prompt,) = _prompts(slack, seen)
    rep_text = json.dumps(dm.params["blocks"])
    assert "3 losses in a row" in rep_text
    # The newest deal is named, escaped: the rep's words never ping the channel.
    assert "&lt;!channel&gt; &amp; Low 3" in rep_text and "<!channel>" not in rep_text
    assert f"<@{REP1}> has lost 3 deals in a row" in json.dumps(prompt.params["blocks"])
    key = f"streak:{REP1}:start"  # named by the win before it: REP1 has none
    assert _streak_rows(slack) == [f"{key}:manager", f"{key}:rep"]
    # Nobody else was on a streak: REP2 has no losses.
    assert _support_dms(slack, REP2, seen) == []

    # Lowered again, raised, a 4th and 5th loss at the raised length, lowered back: it is the
    # same streak, so nothing more.
    _save(slack, 2)
    _save(slack, 5)
    _lose(slack, REP1, "Low 4")
    _lose(slack, REP1, "Low 5")
    _save(slack, 3)
    slack.settle()
    assert len(_support_dms(slack, REP1, seen)) == 1 and len(_prompts(slack, seen)) == 1
    assert _streak_rows(slack) == [f"{key}:manager", f"{key}:rep"]

    # The rep removes the streak's first loss from Home, and the setting is lowered again: it
    # is still the same streak (no win since), so still nothing more.
    slack.click(REP1, REMOVE_ACTION_ID, str(_first_loss_id(slack, "Low 1")))
    slack.settle()
    assert "Low 1" not in [o.deal for o in slack.outcomes()]
    _save(slack, 2)
    slack.settle()
    assert len(_support_dms(slack, REP1, seen)) == 1 and len(_prompts(slack, seen)) == 1
    assert _streak_rows(slack) == [f"{key}:manager", f"{key}:rep"]


def test_raising_or_keeping_the_setting_sends_nothing_and_old_streaks_stay_quiet(
    slack: SlackDriver,
) -> None:
    slack.setup()
    slack.configure(support_streak=5)
    now = slack.live.clock()
    # REP1: three losses in a row, the latest 40 days ago (nothing since). REP2: two recent
    # losses, the setting raised past them.
    for days in (45, 42, 40):
        slack.add_outcome(REP1, "loss", now - timedelta(days=days))
    seen = slack.mark()
    _save(slack, 5)  # saved unchanged
    _save(slack, 3)  # lowered, but REP1's run is a month old
    assert _support_dms(slack, REP1, seen) == [] and _prompts(slack, seen) == []

    _lose(slack, REP2, "Raise 1")
    _lose(slack, REP2, "Raise 2")
    _save(slack, 4)  # raised: REP2 is on 2, nothing is due
    slack.settle()
    assert _support_dms(slack, REP2, seen) == [] and _prompts(slack, seen) == []
    assert _streak_rows(slack) == []

    # Lowered to 2 now REP2 is on 2: support for REP2's streak, none for REP1's old one.
    _save(slack, 2)
    (dm,) = _support_dms(slack, REP2, seen)
    assert "2 losses in a row" in json.dumps(dm.params["blocks"])
    assert "Raise 2" in json.dumps(dm.params["blocks"])
    assert _support_dms(slack, REP1, seen) == []
    assert _streak_rows(slack) == [
        f"streak:{REP2}:start:manager",
        f"streak:{REP2}:start:rep",
    ]
