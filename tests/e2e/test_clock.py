"""The test's clock is the app's clock: `rebound serve` under test reads "now" from the test
(testkit.clock), so no test depends on the day the suite runs. Also run at fixed instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.usecases.goals import local_today, offered_cycle
from testkit.clock import FileClock, SharedClock, real_time
from testkit.live import LiveApp
from testkit.standin import SlackStandIn
from tests.support.factories import new_user, open_goal_modal


def test_the_app_side_clock_reads_what_the_test_side_set(tmp_path: Path) -> None:
    shared = SharedClock(tmp_path / "clock.json")
    app_side = FileClock(shared.path)
    # Starts at the test's now: the real time, or the travelled instant under --at.
    assert abs(app_side() - datetime.now(UTC)) < timedelta(seconds=5)
    target = datetime.now(UTC) + timedelta(days=400, hours=3)
    shared.set(target)
    assert abs(app_side() - target) < timedelta(seconds=5)
    later = shared.advance(days=2)
    assert abs(app_side() - later) < timedelta(seconds=5)
    assert abs(later - target - timedelta(days=2)) < timedelta(seconds=5)


def test_a_missing_clock_file_means_the_real_time(tmp_path: Path) -> None:
    # Real even under --at: the app process is not the one travelling.
    assert abs(FileClock(tmp_path / "nowhere.json")().timestamp() - real_time()) < 5


def _offered(live: LiveApp, standin: SlackStandIn) -> tuple[date, date]:
    view = open_goal_modal(live, standin, new_user(standin))
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    return (
        date.fromisoformat(blocks["cycle_start"]["element"]["initial_date"]),
        date.fromisoformat(blocks["cycle_end"]["element"]["initial_date"]),
    )


def test_the_server_under_test_lives_on_the_tests_clock(
    live: LiveApp, standin: SlackStandIn
) -> None:
    start = live.clock()
    try:
        for jump in (timedelta(0), timedelta(days=45), timedelta(days=400)):
            live.clock.set(start + jump)
            before = live.clock()
            offered = _offered(live, standin)
            after = live.clock()
            # The /goal modal offers the cycle of the server's "today": the test's, moved.
            assert offered in {
                offered_cycle(local_today(moment, "Europe/London"), "monthly")
                for moment in (before, after)
            }
    finally:
        live.clock.set(start)
