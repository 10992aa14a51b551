"""Scheduled work. APScheduler only ticks; the truth about what is due lives in our tables.

APScheduler 3.x cannot share a job store between processes, so every app process runs its own
BackgroundScheduler whose single job calls `Ticker.tick()`. Each feature contributes a job
`(now) -> None` that finds due work in the database and claims it there (unique keys, or
`FOR UPDATE SKIP LOCKED` on PostgreSQL) before sending, so any number of processes send each
message once. Tests call `tick()` with a FakeClock instead of waiting for real time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock

log = logging.getLogger(__name__)

ScheduledJob = Callable[[datetime], None]
DEFAULT_TICK_SECONDS = 30


@dataclass
class Ticker:
    jobs: Sequence[tuple[str, ScheduledJob]]
    clock: Clock
    failures: list[tuple[str, BaseException]] = field(default_factory=list)

    def tick(self) -> None:
        """Run every job once for the clock's `now`; one job's failure never stops the rest."""
        now = self.clock()
        for name, job in self.jobs:
            try:
                job(now)
            except Exception as error:  # logged, retried next tick
                log.exception("scheduled job %s failed", name)
                self.failures.append((name, error))


def start_scheduler(
    ticker: Ticker, *, interval_seconds: int = DEFAULT_TICK_SECONDS
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            # A tick that ran late still runs (the default grace of 1 s would silently skip it),
            # missed ticks collapse into one, and ticks never overlap in one process.
            "misfire_grace_time": interval_seconds * 10,
            "coalesce": True,
            "max_instances": 1,
        },
    )
    scheduler.add_job(
        ticker.tick,
        IntervalTrigger(seconds=interval_seconds),
        id="rebound-tick",
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
