"""Resilience support after a losing streak (seed 003), over HTTP against the real app.

Three losses in a row bring the rep one private DM (one practice, an offer to talk) and their
manager one private prompt — exactly once, with Slack retrying the submission and a second
dispatcher (another replica's) sending beside the app's own; a 4th loss brings nothing more; a
win, then three more losses, bring them again; "I'd like to talk" tells the manager once; and
nothing goes to a channel. The manager's Home lists who is on a streak and who recovered
fastest this cycle.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from bot.app import make_dispatch_client
from bot.blocks.corrections import REMOVE_ACTION_ID
from bot.blocks.resilience import TALK_ACTION_ID
from bot.dispatcher import Dispatcher
from storage.db import make_engine, make_session_factory
from testkit.standin import RecordedCall
from tests.support.factories import _lose, log_win, lost_values
from tests.support.settings_form import number_field, settings_form
from tests.support.slack import (
    ADMIN,
    MANAGER,
    REP1,
    REP2,
    SlackDriver,
    in_dm,
    team_of,
)

SUPPORT_WORDS = "Here's one thing that helps after"
PROMPT_WORDS = "a question for your next one-on-one"
TALK_WORDS = "would like to talk"


def _sent(slack: SlackDriver, post_key: str) -> None:
    """Wait until the outbox row `post_key` is in Slack (sent) and its result recorded."""
    deadline = time.monotonic() + slack.wait_timeout
    while (row := slack.wait_recorded(post_key)).state != "sent":
        assert row.state == "pending" and time.monotonic() < deadline, (post_key, row.state)
        time.sleep(0.05)


def _ours(slack: SlackDriver, calls: list[RecordedCall]) -> list[RecordedCall]:
    """This workspace's calls, where the token names it (OAuth); the live app's one token
    doesn't, and each test settles before the next starts."""
    return [c for c in calls if team_of(c) in (None, slack.team_id)]


def _streak_rows(slack: SlackDriver) -> list[str]:
    """The post keys of this workspace's streak messages that are in Slack."""
    return sorted(row.post_key for row in slack.post_log() if row.post_key.startswith("streak:"))


def _support_dms(slack: SlackDriver, user_id: str, seen: int = 0) -> list[RecordedCall]:
    return [
        c for c in _ours(slack, slack.dms_to(user_id, seen)) if SUPPORT_WORDS in c.params["text"]
    ]


def _prompts(slack: SlackDriver, seen: int = 0, words: str = PROMPT_WORDS) -> list[RecordedCall]:
    return [c for c in _ours(slack, slack.dms_to(MANAGER, seen)) if words in c.params["text"]]


def _click(slack: SlackDriver, user_id: str, value: str) -> str:
    """Click "I'd like to talk" in the person's DM; the private answer they see."""
    seen = slack.mark()
    slack.click(user_id, TALK_ACTION_ID, value, in_dm(user_id))
    (answer,) = slack.wait(seen, "chat.postEphemeral", user=user_id)
    return str(answer.params["text"])


def _channel_posts(slack: SlackDriver, seen: int) -> list[RecordedCall]:
    """Everything this workspace posted anywhere but a DM since `seen`."""
    return [
        c
        for c in _ours(slack, slack.since(seen, "chat.postMessage"))
        if not str(c.conversation).startswith("D")
    ]


def _first_loss_id(slack: SlackDriver, deal: str) -> int:
    (outcome,) = [o for o in slack.outcomes() if o.deal == deal]
    assert outcome.id is not None
    return outcome.id


def _streak(user_id: str, after: int | None = None) -> str:
    """A streak's post-key prefix: named by the win before it (`after`), "start" before any."""
    return f"streak:{user_id}:{'start' if after is None else f'after-{after}'}"


def test_three_losses_bring_one_private_dm_and_one_manager_prompt_once(
    slack: SlackDriver,
) -> None:
    slack.setup()
    seen = slack.mark()
    _lose(slack, REP1, "Streak one")
    _lose(slack, REP1, "Streak two")
    slack.settle()
    assert _support_dms(slack, REP1, seen) == [] and _prompts(slack, seen) == []

    # The third loss, submitted twice (Slack's retry), while a second dispatcher (another
    # replica's, with its own engine) sends beside the app's own.
    engine = make_engine(slack.database_url)
    other = Dispatcher(
        make_session_factory(engine),
        make_dispatch_client(slack.settings()),
        slack.live.clock,
        worker="replica-2",
    )
    stop = threading.Event()

    def replica() -> None:
        while not stop.is_set():
            other.run_once(slack.live.clock())

    thread = threading.Thread(target=replica)
    thread.start()
    try:
        view = slack.open_modal("/lost", "<!channel> & Co", REP1)
        values = lost_values("<!channel> & Co", reason="follow_up")
        slack.submit(view, REP1, values)
        slack.submit(view, REP1, values)
        key = _streak(REP1)
        _sent(slack, f"{key}:rep")
        _sent(slack, f"{key}:manager")
        slack.settle()
    finally:
        stop.set()
        thread.join(timeout=10)
        engine.dispose()

    (dm,) = _support_dms(slack, REP1, seen)
    (prompt,) = _prompts(slack, seen)
    rep_text, manager_text = json.dumps(dm.params["blocks"]), json.dumps(prompt.params["blocks"])
    assert "When you lose an opportunity, it hurts" in rep_text
    assert "3 losses in a row" in rep_text
    # The deal's name is the rep's words: escaped, never a live @channel.
    assert "&lt;!channel&gt; &amp; Co" in rep_text and "<!channel>" not in rep_text
    assert TALK_ACTION_ID in rep_text
    assert f"<@{REP1}> has lost 3 deals in a row" in manager_text
    assert "One question for your next one-on-one" in manager_text
    assert _streak_rows(slack) == [f"{key}:manager", f"{key}:rep"]
    # Never public.
    assert _channel_posts(slack, seen) == []

    # A 4th loss of the same streak sends nothing more.
    more = slack.mark()
    _lose(slack, REP1, "Streak four")
    slack.settle()
    assert _support_dms(slack, REP1, more) == [] and _prompts(slack, more) == []
    assert len([o for o in slack.outcomes() if o.user_id == REP1]) == 4
    assert _streak_rows(slack) == [f"{key}:manager", f"{key}:rep"]


def test_a_win_ends_the_streak_and_three_more_losses_bring_support_again(
    slack: SlackDriver,
) -> None:
    slack.setup()
    seen = slack.mark()
    for deal in ("Again 1", "Again 2", "Again 3"):
        _lose(slack, REP2, deal)
    _sent(slack, f"{_streak(REP2)}:rep")
    first = _support_dms(slack, REP2, seen)
    assert len(first) == 1
    log_win(slack, REP2, "The bounce")
    for deal in ("Again 4", "Again 5"):
        _lose(slack, REP2, deal)
    slack.settle()
    assert len(_support_dms(slack, REP2, seen)) == 1  # two losses after the win: not yet
    _lose(slack, REP2, "Again 6")
    _sent(slack, f"{_streak(REP2, _first_loss_id(slack, 'The bounce'))}:rep")
    slack.settle()
    dms = _support_dms(slack, REP2, seen)
    assert len(dms) == 2
    assert len(_prompts(slack, seen)) == 2
    # The second streak brings the next practice: the two DMs differ.
    assert dms[0].params["blocks"][2] != dms[1].params["blocks"][2]
    # The win's bounce-back is the only post in the channel (nothing about the streaks).
    posts = _channel_posts(slack, seen)
    assert all("The bounce" in json.dumps(c.params) for c in posts)
    assert not any(PROMPT_WORDS in json.dumps(c.params) for c in posts)


def test_removing_the_streaks_first_loss_does_not_bring_support_again(
    slack: SlackDriver,
) -> None:
    """The streak is named by the win before it, not its first loss: a rep who removes that
    loss from Home and loses again is still on the streak that had its support."""
    slack.setup()
    log_win(slack, REP1, "Before")
    seen = slack.mark()
    for deal in ("Gone 1", "Gone 2", "Gone 3"):
        _lose(slack, REP1, deal)
    key = _streak(REP1, _first_loss_id(slack, "Before"))
    _sent(slack, f"{key}:rep")
    _sent(slack, f"{key}:manager")
    slack.settle()
    assert len(_support_dms(slack, REP1, seen)) == 1 and len(_prompts(slack, seen)) == 1

    # The rep removes the streak's first loss from Home: the run is two losses now, and the
    # next loss makes it three again.
    slack.click(REP1, REMOVE_ACTION_ID, str(_first_loss_id(slack, "Gone 1")))
    slack.settle()
    assert "Gone 1" not in [o.deal for o in slack.outcomes()]
    _lose(slack, REP1, "Gone 4")
    slack.settle()
    assert len(_support_dms(slack, REP1, seen)) == 1 and len(_prompts(slack, seen)) == 1
    assert _streak_rows(slack) == [f"{key}:manager", f"{key}:rep"]

    # A win ends the streak: three losses after it bring support again.
    log_win(slack, REP1, "After")
    for deal in ("New 1", "New 2", "New 3"):
        _lose(slack, REP1, deal)
    _sent(slack, f"{_streak(REP1, _first_loss_id(slack, 'After'))}:rep")
    slack.settle()
    assert len(_support_dms(slack, REP1, seen)) == 2 and len(_prompts(slack, seen)) == 2


def test_id_like_to_talk_tells_the_manager_once_and_only_the_rep_may_ask(
    slack: SlackDriver,
) -> None:
    slack.setup()
    for deal in ("Talk 1", "Talk 2", "Talk 3"):
        _lose(slack, REP1, deal)
    first_loss = _first_loss_id(slack, "Talk 1")
    _sent(slack, f"{_streak(REP1)}:rep")
    seen = slack.mark()

    # Someone else's click changes nothing.
    answer = _click(slack, REP2, str(first_loss))
    assert f"<@{REP1}>'s" in answer
    slack.settle()
    assert _prompts(slack, seen, TALK_WORDS) == []

    answer = _click(slack, REP1, str(first_loss))
    assert f"I've let <@{MANAGER}> know you'd like to talk" in answer
    _sent(slack, f"streak:{REP1}:{first_loss}:talk")
    again = _click(slack, REP1, str(first_loss))
    assert f"<@{MANAGER}> already knows" in again
    slack.settle()
    (note,) = _prompts(slack, seen, TALK_WORDS)
    assert note.params["text"] == f"<@{REP1}> would like to talk"
    assert "3 losses in a row" in json.dumps(note.params["blocks"])
    assert _channel_posts(slack, seen) == []

    # A forged value (not a row id, or no such loss) tells nobody anything.
    slack.click(REP1, TALK_ACTION_ID, "not-a-number", in_dm(REP1))
    assert "isn't in your record any more" in _click(slack, REP1, "987654321")
    slack.settle()
    assert len(_prompts(slack, seen, TALK_WORDS)) == 1


def test_the_streak_length_is_the_workspace_setting(slack: SlackDriver) -> None:
    slack.setup()
    slack.configure(support_streak=2)
    seen = slack.mark()
    _lose(slack, REP1, "Two 1")
    _lose(slack, REP1, "Two 2")
    _sent(slack, f"{_streak(REP1)}:rep")
    (dm,) = _support_dms(slack, REP1, seen)
    assert "2 losses in a row" in json.dumps(dm.params["blocks"])


def test_the_managers_home_lists_streaks_and_fastest_recoveries(slack: SlackDriver) -> None:
    slack.setup()
    now = slack.live.clock()
    for days in (5, 4, 3):
        slack.add_outcome(REP1, "loss", now - timedelta(days=days, hours=1))
    slack.add_outcome(REP2, "loss", now - timedelta(hours=3))
    slack.add_outcome(REP2, "win", now - timedelta(minutes=1))
    home = slack.home(MANAGER)
    texts = [block.get("text", {}).get("text", "") for block in home.params["view"]["blocks"]]
    streaks = next(t for t in texts if t.startswith("*On a losing streak*"))
    assert f"• <@{REP1}>: 3 losses in a row, for 5 days" in streaks
    assert f"<@{REP2}>" not in streaks
    fastest = next(t for t in texts if t.startswith("*Fastest recoveries this cycle*"))
    assert f"• <@{REP2}>: won 2 hours after their last loss (a streak of 1 loss)" in fastest


def test_the_managers_home_on_an_empty_team_says_nobody_is_on_a_streak(
    slack: SlackDriver,
) -> None:
    slack.setup()
    home = slack.home(MANAGER)
    text = json.dumps(home.params["view"]["blocks"])
    assert "Nobody on your team is on a losing streak right now." in text
    assert "No bounce-backs yet this cycle." in text


def _settings(losses: str) -> dict[str, dict[str, object]]:
    return settings_form(support_streak=number_field(losses))


def test_the_streak_setting_is_validated_saved_and_shown_again(slack: SlackDriver) -> None:
    view = slack.open_modal("/rebound", "settings", ADMIN)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["support_streak"]["element"]["initial_value"] == "3"
    for raw in ("1", "21", "2.5"):
        body = slack.submit(view, ADMIN, _settings(raw)).json()
        assert body["response_action"] == "errors", raw
        assert list(body["errors"]) == ["support_streak"]
        assert "whole number from 2 to 20" in body["errors"]["support_streak"]
    config = slack.team_config()
    assert config is None or config.support_streak == 3

    reply = slack.submit(view, ADMIN, _settings("4"))
    assert "errors" not in (reply.body or "")
    slack.settle()
    config = slack.team_config()
    assert config is not None and config.support_streak == 4
    reopened = slack.open_modal("/rebound", "settings", ADMIN)
    blocks = {b.get("block_id"): b for b in reopened["blocks"]}
    assert blocks["support_streak"]["element"]["initial_value"] == "4"
