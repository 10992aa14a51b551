"""The scheduler's tick: every job runs with the clock's now, whatever another job does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from bot.scheduler import Ticker

START = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)


def test_ticker_runs_every_job_with_the_clocks_now_even_when_one_fails() -> None:
    clock = FakeClock(START)
    seen: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("boom")

    ticker = Ticker(jobs=[("broken", broken), ("records", seen.append)], clock=clock)
    ticker.tick()
    clock.advance(hours=1)
    ticker.tick()
    assert seen == [START, START + timedelta(hours=1)]
    assert [name for name, _ in ticker.failures] == ["broken", "broken"]
