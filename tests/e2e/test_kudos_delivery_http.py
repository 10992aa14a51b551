"""Kudos on their way over HTTP, against the Slack stand-in, on both backends: no recognition
channel yet, a channel Slack refuses, Slack slow to say who someone is, a failed DM retried
once and reported truthfully.

Each test works in a workspace and recognition channel of its own (tests/support/kudos.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_ticker, make_web_client
from bot.clock import FakeClock
from bot.config import Settings
from bot.scheduler import Ticker
from bot.slack_users import SlackUnavailable, fetch_profile, lookup_profile
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.kudos import (
    ADMIN,
    MANAGER,
    REP1,
    REP2,
    _dms_to,
    _ephemerals_after,
    _modal_values,
    _open_modal,
    team,
)
from tests.support.slack import SlackDriver, _text_of

__all__ = ["team"]  # the fixtures (tests/support/kudos.py)


# -- no recognition channel yet ----------------------------------------------------------------


def test_kudos_without_a_channel_is_kept_and_posted_once_when_one_is_set(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #resilience Back on the phones {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "no recognition channel yet" in answer
    assert "`/rebound settings`" in answer and "Ask an admin" in answer
    assert [row.status for row in team.kudos_rows()] == ["pending"]
    assert _dms_to(standin, REP1, team.run) == []

    clock = FakeClock(datetime.now(UTC))
    team.tick(clock)  # still no channel: nothing happens
    assert team.channel_posts() == []

    team.configure(recognition_channel_id=team.channel)
    # Two processes tick at once, then one ticks again: one post, one DM.
    threads = [threading.Thread(target=team.tick, args=(clock,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    clock.advance(minutes=1)
    team.tick(clock)
    assert len(team.kudos_posts()) == 1
    assert "Back on the phones" in _text_of(team.kudos_posts()[0])
    (dm,) = _dms_to(standin, REP1, team.run)
    assert f"/archives/{team.channel}/" in _text_of(dm)
    assert [row.status for row in team.kudos_rows()] == ["posted"]
    # Maya, told it would go up later, hears once that it has.
    told = [c for c in standin.messages_to(MANAGER) if team.channel in _text_of(c)]
    assert len(told) == 1 and "Your kudos is up" in _text_of(told[0])


def test_a_kudos_slack_refuses_to_post_is_told_later_once_and_goes_up_when_the_channel_changes(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    refusing = f"C0NOPE{team.run.upper()}"  # a channel Slack answers channel_not_found for
    team.configure(recognition_channel_id=refusing)
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #process Clean handover to CS {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert f"I couldn't post in <#{refusing}> just now" in answer
    assert "Your kudos is up" not in answer
    assert [row.status for row in team.kudos_rows()] == ["pending"]
    assert _dms_to(standin, REP1, team.run) == []

    # An admin picks a channel the bot is in: the kept kudos goes up on the next tick, Leo gets
    # his DM, and Maya (told it would come later) hears once that it is up.
    team.configure(recognition_channel_id=team.channel)
    clock = FakeClock(datetime.now(UTC))
    team.tick(clock)
    clock.advance(minutes=1)
    team.tick(clock)
    assert len(team.kudos_posts()) == 1
    (dm,) = _dms_to(standin, REP1, team.run)
    assert f"/archives/{team.channel}/" in _text_of(dm)
    told = [c for c in standin.messages_to(MANAGER) if team.channel in _text_of(c)]
    assert len(told) == 1 and "Your kudos is up" in _text_of(told[0])
    assert [row.status for row in team.kudos_rows()] == ["posted"]


def test_an_admin_without_a_channel_is_told_to_set_one(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    team.kudos(ADMIN, f"@leo #learning Shared the loss review {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, ADMIN)[0])
    assert "Set one with `/rebound settings`" in answer


# -- Slack being slow or failing ----------------------------------------------------------------


def test_the_modal_closes_at_once_while_users_info_is_rate_limited_and_posts_afterwards(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    view = _open_modal(team, standin, MANAGER)
    seen = len(standin.calls)
    standin.fail_next("users.info", status=429, retry_after=2)
    values = _modal_values([REP1, REP2], "process", f"Clean handover {team.run}")
    reply = team.sender.view_submission(view, user_id=MANAGER, values=values)
    # Answered (the modal closes) before Slack has let any users.info call through: the
    # ack no longer waits for the giver and recipient checks.
    answered_lookups = [c for c in standin.calls[seen:] if c.method == "users.info" and c.ok]
    assert reply.status == 200 and reply.body in ("", "{}")
    assert answered_lookups == []

    standin.wait_for(lambda calls: len(team.channel_posts()) == 1, timeout=15)
    for recipient in (REP1, REP2):
        standin.wait_for(
            lambda calls, user=recipient: len(_dms_to(standin, user, team.run)) == 1, timeout=10
        )
    limited = [c for c in standin.calls[seen:] if c.method == "users.info" and not c.ok]
    assert [c.error for c in limited] == ["ratelimited"]
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert len(team.kudos_rows()) == 1


def test_when_slack_cannot_say_who_the_giver_is_they_are_asked_to_try_again(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    # Ada is an admin only in Slack's eyes: while users.info fails, that can't be known.
    team.configure(recognition_channel_id=team.channel)
    seen = len(standin.calls)
    standin.fail_next("users.info", status=500, times=3)  # the first try and both retries
    team.kudos(ADMIN, f"@leo #process Textbook discovery call {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, ADMIN)[0])
    assert "Slack didn't answer just now" in answer
    assert "managers and admins" not in answer and "couldn't find" not in answer
    assert team.kudos_rows() == [] and team.channel_posts() == []

    seen = len(standin.calls)
    team.kudos(ADMIN, f"@leo #process Textbook discovery call {team.run}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, ADMIN)[0])
    assert len(team.channel_posts()) == 1


def test_slack_users_tells_no_such_person_from_slack_not_answering(
    standin: SlackStandIn,
) -> None:
    client = make_web_client(Settings(slack_bot_token=standin.bot_token, slack_api_url=standin.url))
    assert lookup_profile(client, "U0NOBODY") is None
    assert lookup_profile(client, REP1) is not None
    standin.fail_next("users.info", status=429, retry_after=0, times=4)
    with pytest.raises(SlackUnavailable):
        lookup_profile(client, REP1)
    # The older helper keeps its contract: None on any Slack error.
    standin.fail_next("users.info", status=500, times=3)
    assert fetch_profile(client, REP1) is None


def test_a_failed_dm_is_reported_truthfully_and_retried_once_by_the_scheduler(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    # Leo's DM is refused for now (a definite answer: the outbox dispatcher tries it again after
    # a backoff, bot.dispatcher); Priya's goes out.
    standin.fail_next("chat.postMessage", error="internal_error", to=REP1)
    team.kudos(MANAGER, f"@leo @priya #win Closed Initech {team.run}")

    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "Your kudos is up" in answer
    assert f"I've let <@{REP2}> know" in answer
    assert f"couldn't reach <@{REP1}> by DM just now" in answer and "try once more" in answer
    assert "couldn't post" not in answer and "`" not in answer and "fatal_error" not in answer
    assert len(team.channel_posts()) == 1
    assert _dms_to(standin, REP1, team.run) == []
    assert len(_dms_to(standin, REP2, team.run)) == 1
    assert [row.status for row in team.kudos_rows()] == ["pending"]

    # The scheduler's retry (its tick's outbox dispatch, past the first backoff) reaches Leo;
    # Maya, already told it's up, hears nothing more.
    clock = FakeClock(datetime.now(UTC) + timedelta(minutes=1))

    def told_giver() -> list[RecordedCall]:
        return [c for c in standin.messages_to(MANAGER) if team.channel in _text_of(c)]

    told_before = len(told_giver())
    team.tick(clock)
    assert len(_dms_to(standin, REP1, team.run)) == 1
    assert len(_dms_to(standin, REP2, team.run)) == 1
    assert len(team.kudos_posts()) == 1
    assert [row.status for row in team.kudos_rows()] == ["posted"]
    clock.advance(minutes=1)
    team.tick(clock)
    assert len(_dms_to(standin, REP1, team.run)) == 1
    assert len(told_giver()) == told_before


def test_a_dm_that_fails_again_on_its_retry_is_given_up_and_the_giver_told_once(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    standin.fail_next("chat.postMessage", error="internal_error", to=REP1)
    team.kudos(MANAGER, f"@leo #learning Wrote up the Globex review {team.run}")
    assert "couldn't reach" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])

    def dm_tries() -> int:
        return len([c for c in standin.messages_to(REP1, ok_only=False) if not c.ok])

    # Only the kudos jobs and the outbox dispatch run here; the injected failure is Leo's alone.
    # Past the first backoff, the retry meets a refusal that can never work (Leo turned off
    # DMs from apps): the dispatcher gives up on it (bot.slack_errors).
    clock = FakeClock(datetime.now(UTC) + timedelta(minutes=1))
    deps = team.deps(clock)
    ticker = build_ticker(deps)
    kudos_ticker = Ticker(
        jobs=[job for job in ticker.jobs if job[0].startswith(("kudos", "outbox"))], clock=clock
    )
    tries_before = dm_tries()
    standin.fail_next("chat.postMessage", error="messages_tab_disabled", to=REP1)
    kudos_ticker.tick()
    assert dm_tries() == tries_before + 1  # one retry (the dispatcher's client never re-sends)
    assert _dms_to(standin, REP1, team.run) == []
    assert [row.status for row in team.kudos_rows()] == ["posted"]

    def told_unreached() -> list[RecordedCall]:
        return [
            c
            for c in standin.messages_to(MANAGER)
            if "still couldn't reach" in _text_of(c) and team.channel in _text_of(c)
        ]

    (told,) = told_unreached()
    assert f"<@{REP1}>" in _text_of(told)

    clock.advance(minutes=1)
    kudos_ticker.tick()
    assert dm_tries() == tries_before + 1
    assert _dms_to(standin, REP1, team.run) == []
    assert len(told_unreached()) == 1
