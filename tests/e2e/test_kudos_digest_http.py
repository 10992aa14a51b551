"""The weekly recognition digest over HTTP, against the Slack stand-in, on both backends: what
it names, once across processes and dead claims, one workspace's failure holding up no
other, and switching it off.

Each test works in a workspace and recognition channel of its own (tests/support/kudos.py).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app import Deps, make_dispatch_client
from bot.blocks.kudos import DigestFacts, digest_message
from bot.clock import FakeClock
from bot.dispatcher import DEFAULT_LEASE, Dispatcher
from bot.domain import local_checkin_time, week_key
from bot.features import kudos as kudos_feature
from bot.scheduler import Ticker
from storage import outbox_queries, queries
from storage.db import make_engine, make_session_factory
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.kudos import ADMIN, MANAGER, MANAGER_TZ, REP1, REP2, _ephemerals_after, team
from tests.support.settings_form import settings_form
from tests.support.slack import SlackDriver, _text_of
from tests.support.standin_waits import first_call_since

__all__ = ["team"]  # the fixtures (tests/support/kudos.py)


# -- the weekly digest -------------------------------------------------------------------------


def _digest_posts(team: SlackDriver) -> list[RecordedCall]:
    return [c for c in team.channel_posts() if "This week's recognition" in _text_of(c)]


def _schedule_digest_tomorrow(team: SlackDriver, now: datetime) -> datetime:
    """Set the check-in day and hour so this week's digest falls about a day from now, in the
    manager's time zone (the digest's time zone); return that moment."""
    local = (now + timedelta(days=1)).astimezone(ZoneInfo(MANAGER_TZ))
    team.configure(checkin_weekday=local.weekday(), checkin_hour=local.hour)
    due = local_checkin_time(week_key(local, MANAGER_TZ), MANAGER_TZ, local.weekday(), local.hour)
    return due.astimezone(UTC)


def test_the_weekly_digest_names_the_weeks_perfect_misses_bounce_backs_and_kudos(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    # Maya gives kudos: her Slack profile (America/Chicago) becomes the digest's time zone.
    team.kudos(MANAGER, f"@leo #resilience Kept going {team.run}")
    _ephemerals_after(standin, seen, MANAGER)
    now = datetime.now(UTC)
    due = _schedule_digest_tomorrow(team, now)

    perfect_miss = {"classification": "perfect-miss"}
    team.add_outcome(REP1, "loss", now - timedelta(hours=3), celebrate_consent=True, **perfect_miss)
    # REP2: three losses in a row (the last a perfect miss they keep private), then a win.
    team.add_outcome(REP2, "loss", now - timedelta(days=20))
    team.add_outcome(REP2, "loss", now - timedelta(days=12))
    team.add_outcome(
        REP2, "loss", now - timedelta(hours=4), celebrate_consent=False, **perfect_miss
    )
    # ... and agreed to share the bounce-back (issue 12: only then is it public).
    team.add_outcome(REP2, "win", now - timedelta(hours=2), celebrate_consent=True)
    # REP1's win after their perfect miss is a bounce-back they were never asked to share (one
    # loss), and one they say no to would be the same: it is in no public post.
    team.add_outcome(REP1, "win", now - timedelta(hours=1))
    # A win after a win is no bounce-back.
    team.add_outcome(MANAGER, "win", now - timedelta(days=30))
    team.add_outcome(MANAGER, "win", now - timedelta(hours=1))
    # A perfect miss shared, then taken back: in no public post any more.
    team.add_outcome(
        MANAGER,
        "loss",
        now - timedelta(minutes=30),
        celebrate_consent=True,
        shout_out_taken_back_at=now - timedelta(minutes=20),
        **perfect_miss,
    )

    clock = FakeClock(due - timedelta(minutes=1))
    team.tick(clock)
    assert _digest_posts(team) == []

    clock.set(due)
    team.tick(clock)
    clock.advance(minutes=5)
    team.tick(clock)
    (digest,) = _digest_posts(team)
    blocks = digest.params["blocks"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    perfect = next(s for s in sections if "Perfect misses" in s)
    assert "Perfect misses (1)" in perfect
    assert f"<@{REP1}>" in perfect and f"<@{REP2}>" not in perfect
    assert f"<@{MANAGER}>" not in perfect
    # Said about the reps, to the whole channel: not the rep-facing coaching line.
    assert "a win masquerading as a loss" in perfect
    assert "You did great" not in perfect and "dashboard" not in perfect
    bounce = next(s for s in sections if "Bounce-backs" in s)
    assert "Bounce-backs (1)" in bounce
    assert f"<@{REP2}> won after 3 losses in a row, back in 19 days" in bounce
    assert f"<@{MANAGER}>" not in bounce and f"<@{REP1}>" not in bounce
    kudos = next(s for s in sections if "Kudos" in s)
    assert "Kudos (1)" in kudos and f"<@{REP1}> ×1 (resilience)" in kudos
    # Privacy: no amounts or deal names.
    assert "125" not in json.dumps(blocks) and "Deal " not in json.dumps(blocks)


def test_three_processes_ticking_at_once_post_the_digest_once(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.configure(recognition_channel_id=team.channel, checkin_weekday=0, checkin_hour=9)
    # No manager or admin time zone known in this workspace: the digest runs on UTC.
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def process(number: int) -> None:
        """One app process: its own engine and connection pool, its own worker name."""
        engine = make_engine(team.live.database_url)
        try:
            clock = FakeClock(monday_nine + timedelta(seconds=5))
            deps = Deps(
                settings=team.deps(clock).settings,
                session_factory=make_session_factory(engine),
                clock=clock,
            )
            dispatcher = Dispatcher(
                deps.session_factory,
                make_dispatch_client(deps.settings),
                clock,
                worker=f"replica-{number}",
            )
            jobs = kudos_feature.scheduled_jobs(deps)
            ticker = Ticker(jobs=[*jobs, ("outbox-dispatch", dispatcher.run_once)], clock=clock)
            barrier.wait()
            ticker.tick()
            errors.extend(error for _, error in ticker.failures)
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=process, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    (digest,) = _digest_posts(team)
    # A week with nothing to celebrate gets a short encouraging note.
    assert "A quiet week" in _text_of(digest)
    assert "/kudos" in _text_of(digest)

    # The next week has its own digest.
    team.tick(FakeClock(monday_nine + timedelta(days=7, minutes=1)))
    assert len(_digest_posts(team)) == 2


def test_a_digest_claimed_by_a_process_that_died_is_posted_once_its_lease_runs_out(
    team: SlackDriver,
) -> None:
    team.configure(recognition_channel_id=team.channel, checkin_weekday=0, checkin_hour=9)
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    # A process queued this week's digest and claimed it, then died before sending it.
    week = week_key(monday_nine, "UTC")
    with team.session_factory() as session:
        claim = outbox_queries.enqueue(
            session=session,
            team_id=team.team_id,
            post_key=f"digest:{week}",
            kind="digest",
            target_kind="recognition_channel",
            target_id=None,
            payload=digest_message(DigestFacts(week, (), (), ())),
            now=monday_nine,
        )
        row = outbox_queries.get(session=session, team_id=team.team_id, post_key=f"digest:{week}")
        assert row is not None
        row.state, row.claimed_by = "sending", "replica-that-died"
        row.lease_until = monday_nine + DEFAULT_LEASE
        session.add(row)
        session.commit()
    assert claim

    team.tick(FakeClock(monday_nine + timedelta(minutes=1)))  # the claim may still be live
    assert _digest_posts(team) == []
    # Once the lease ran out, the dispatcher looks for it in the channel, then sends it.
    team.tick(FakeClock(monday_nine + DEFAULT_LEASE + timedelta(minutes=1)))
    assert len(_digest_posts(team)) == 1
    team.tick(FakeClock(monday_nine + DEFAULT_LEASE + timedelta(minutes=2)))
    assert len(_digest_posts(team)) == 1


def test_a_workspace_whose_digest_fails_does_not_hold_up_the_others(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    wednesday_three = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    broken, healthy = team.team_id, f"{team.team_id}B"  # the broken one comes first by id
    team.configure(
        recognition_channel_id=f"C0ARCHIVED{team.run.upper()}", checkin_weekday=2, checkin_hour=15
    )
    with team.session_factory() as session:
        queries.update_workspace_settings(
            session=session,
            team_id=healthy,
            recognition_channel_id=team.channel,
            checkin_weekday=2,
            checkin_hour=15,
        )
        session.commit()

    def failed_posts() -> list[RecordedCall]:
        return [
            c
            for c in standin.calls_to("chat.postMessage", ok_only=False)
            if c.conversation == f"C0ARCHIVED{team.run.upper()}"
        ]

    team.tick(FakeClock(wednesday_three + timedelta(minutes=1)))
    assert [c.error for c in failed_posts()] == ["channel_not_found"]
    assert len(_digest_posts(team)) == 1
    # A later tick in the window (past the dispatcher's wait for a channel the bot can't post
    # in: bot.dispatcher.REFUSED_CHANNEL_RETRY) tries the broken one again, and posts nothing
    # twice.
    team.tick(FakeClock(wednesday_three + timedelta(hours=7)))
    assert len(failed_posts()) == 2
    assert len(_digest_posts(team)) == 1
    with team.session_factory() as session:
        key = f"digest:{week_key(wednesday_three, 'UTC')}"
        sent = outbox_queries.get(session=session, team_id=healthy, post_key=key)
        assert sent is not None and sent.state == "sent"
        waiting = outbox_queries.get(session=session, team_id=broken, post_key=key)
        assert waiting is not None and waiting.state == "pending"  # kept, to be tried again


def test_no_digest_when_switched_off_or_when_it_is_days_late(team: SlackDriver) -> None:
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    team.configure(
        recognition_channel_id=team.channel,
        checkin_weekday=0,
        checkin_hour=9,
        digest_enabled=False,
    )
    team.tick(FakeClock(monday_nine))
    assert _digest_posts(team) == []
    team.configure(digest_enabled=True)
    team.tick(FakeClock(monday_nine + timedelta(days=2)))  # past the 24-hour grace
    assert _digest_posts(team) == []
    team.tick(FakeClock(monday_nine + timedelta(hours=3)))
    assert len(_digest_posts(team)) == 1


def test_an_admin_switches_the_digest_off_in_settings(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    team.sender.slash_command("/rebound", "settings", user_id=ADMIN)
    view = first_call_since(standin, seen, "views.open").response["view"]
    digest_block = next(b for b in view["blocks"] if b.get("block_id") == "digest_enabled")
    assert digest_block["element"]["type"] == "checkboxes"
    assert digest_block["element"]["initial_options"][0]["value"] == "on"

    values = settings_form(
        recognition_channel={"value": state_value("channels_select", team.channel)},
        digest_enabled={"value": state_value("checkboxes", [])},
    )
    reply = team.sender.view_submission(view, user_id=ADMIN, values=values)
    assert reply.status == 200 and reply.body in ("", "{}")
    with team.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team.team_id)
        assert workspace.digest_enabled is False

    # A submission without the checkbox (an older modal) leaves the setting alone.
    del values["digest_enabled"]
    team.sender.view_submission(view, user_id=ADMIN, values=values)
    with team.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team.team_id)
        assert workspace.digest_enabled is False
