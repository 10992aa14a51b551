"""Scheduler tick cost: the same due work beside 10 installed, idle workspaces and beside 10,000.

Every app process runs `Ticker.tick()` every 30 s, so a tick must cost what is due, not what is
installed. This script builds two databases holding the same handful of busy workspaces (due
check-ins to plan and send, check-in reminders, a manager's check-in digest, a kudos digest,
cycle reviews, pending kudos, reflection reminders) and either 10 or 10,000 idle workspaces
(a manager and four reps each, settings, a few weeks of past check-ins, outcomes, reflections,
kudos and goals, all done: nothing due at the bench's instant). It then times one tick of the
real `build_ticker` (every feature's jobs, talking to the local Slack stand-in) on each, in
alternating rounds; before each round the busy workspaces are put back as seeded, and a fresh
ticker is built, so every round does the same work. A warm-up tick runs first on each database:
it is the first tick after the upgrade to 0010_due_indexes, which visits every workspace once to
store its next due times (they are kept in the database, so a restart does not repeat it); the
rounds measure the steady state.

    .venv/bin/python bench/tick_cost.py                      # SQLite
    .venv/bin/python bench/tick_cost.py --postgres     # and PostgreSQL, on the server that
                                                       # REBOUND_TEST_POSTGRES_URL names
    .venv/bin/python bench/tick_cost.py --rounds 3 --idle 2000   # a quick check

Each PostgreSQL run uses fresh databases of its own, dropped afterwards. The last line printed
is `tick_cost ratio (10000 idle / 10 idle): X.XX`, the worse backend's ratio of median tick
times (target: <= 1.2). `--profile` prints the cProfile of one large tick.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Engine

from bot.app import Deps, build_ticker
from bot.clock import FakeClock
from bot.config import Settings
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    OutboxMessage,
    Outcome,
    PostLog,
    ProcessedEvent,
    Reflection,
    Workspace,
)
from testkit.databases import fresh_postgres
from testkit.standin import SlackStandIn, StandInUser

# Wednesday 25 Nov 2026, 15:00 UTC. Busy workspaces ask on Wednesdays at 14:00 (check-ins and
# the kudos digest are due) or on Tuesdays at 14:00 (yesterday's check-ins want reminders, the
# manager's digest is due today); idle ones ask on Fridays, so nothing of theirs is due.
NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
BUSY_TEAMS = ("T0BUSYWED0", "T0BUSYWED1", "T0BUSYTUE0", "T0BUSYTUE1")
REPS_PER_TEAM = 4
PAST_WEEKS = ("2026-W44", "2026-W45", "2026-W46", "2026-W47")
IDLE_ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
HARD_LIMIT_S = 1500.0
BATCH = 5_000
# Children before parents, so a restore can delete and re-insert in these orders.
TABLES_PARENTS_FIRST = (
    Workspace,
    Member,
    Outcome,
    Reflection,
    Kudos,
    KudosRecipient,
    CheckIn,
    CheckInAnswer,
    Goal,
    PostLog,
    ProcessedEvent,
    # What a tick queued (none when seeded): without putting it back, a round's enqueues find
    # last round's sent rows by their post keys and send nothing.
    OutboxMessage,
)


def people(team_id: str) -> tuple[str, list[str]]:
    # Slack user ids start with U (the stand-in only opens DMs with those).
    user = f"U{team_id[1:]}"
    return f"{user}M", [f"{user}R{index}" for index in range(REPS_PER_TEAM)]


class Rows:
    """Rows to bulk-insert, by model, in insertion order; ids are given here so children can
    point at their parents without reading anything back."""

    def __init__(self, first_id: int) -> None:
        self.rows: dict[type, list[dict[str, Any]]] = {model: [] for model in TABLES_PARENTS_FIRST}
        self.next_id = first_id

    def add(self, model: type, **values: Any) -> int:
        if model is not Workspace:
            values.setdefault("id", self.next_id)
            self.next_id += 1
        # Through the model, so every row carries every column (its defaults included): a
        # bulk insert needs the same keys in each row.
        self.rows[model].append(model(**values).model_dump())  # type: ignore[operator]
        return int(values.get("id", 0))


def add_meetings_goal(
    rows: Rows,
    team_id: str,
    rep: str,
    *,
    target: int,
    progress: int,
    cycle: tuple[date, date],
    created_at: datetime,
    reviewed_at: datetime | None = None,
) -> None:
    """A rep's goal of `target` meetings over `cycle` (first and last day), `progress` so far;
    reviewed at `reviewed_at` (None: not yet)."""
    rows.add(
        Goal,
        team_id=team_id,
        user_id=rep,
        metric="meetings",
        target=target,
        progress=progress,
        cycle_start=cycle[0],
        cycle_end=cycle[1],
        reviewed_at=reviewed_at,
        created_at=created_at,
    )


def add_team(rows: Rows, team_id: str, *, weekday: int, zones: tuple[str, ...]) -> None:
    """A workspace with a manager and reps, settings, and a month of finished history."""
    manager, reps = people(team_id)
    rows.add(
        Workspace,
        team_id=team_id,
        name=team_id,
        recognition_channel_id="C0WINS",
        checkin_weekday=weekday,
        checkin_hour=14,
        reflection_retention_days=365,
        created_at=NOW - timedelta(days=60),
        updated_at=NOW - timedelta(days=60),
    )
    for index, user_id in enumerate([manager, *reps]):
        rows.add(
            Member,
            team_id=team_id,
            user_id=user_id,
            display_name=user_id,
            tz=zones[index % len(zones)],
            tz_refreshed_at=NOW - timedelta(days=1),
            is_manager=user_id == manager,
            manager_user_id=None if user_id == manager else manager,
            created_at=NOW - timedelta(days=60),
        )
    for week_index, week in enumerate(PAST_WEEKS):
        sent = NOW - timedelta(weeks=len(PAST_WEEKS) - week_index, hours=1)
        for rep_index, rep in enumerate(reps):
            answered = (week_index + rep_index) % 2 == 0
            checkin_id = rows.add(
                CheckIn,
                team_id=team_id,
                user_id=rep,
                week_key=week,
                due_at=sent,
                status="answered" if answered else "sent",
                sent_at=sent,
                reminder_sent_at=None if answered else sent + timedelta(hours=24),
                answered_at=sent + timedelta(hours=2) if answered else None,
                questions=[{"key": "worked", "text": "What worked?"}],
                created_at=sent,
            )
            rows.add(
                PostLog,
                team_id=team_id,
                post_key=f"checkin:{checkin_id}",
                kind="checkin",
                status="sent",
                claimed_at=sent,
                sent_at=sent,
            )
            if answered:
                rows.add(
                    CheckInAnswer,
                    team_id=team_id,
                    checkin_id=checkin_id,
                    question_key="worked",
                    question="What worked?",
                    answer="Discovery calls",
                    updated_at=sent,
                )
    for index, rep in enumerate(reps):
        occurred = NOW - timedelta(days=10 + index)
        outcome_id = rows.add(
            Outcome,
            team_id=team_id,
            user_id=rep,
            kind="loss",
            deal=f"Deal {index}",
            reason="price",
            process_score=0.8,
            classification="perfect-miss",
            occurred_at=occurred,
            submission_key=f"{team_id}-{rep}-loss",
            reflection_requested_at=occurred,
            reflection_answered_at=occurred + timedelta(hours=3),
            created_at=occurred,
        )
        rows.add(
            Reflection,
            team_id=team_id,
            user_id=rep,
            outcome_id=outcome_id,
            question_key="lesson",
            question="What will you do differently?",
            answer="Qualify earlier",
            is_commitment=True,
            answered_at=occurred + timedelta(hours=3),
            created_at=occurred,
        )
        # A win, shouted out long ago; its lesson question was answered.
        rows.add(
            Outcome,
            team_id=team_id,
            user_id=rep,
            kind="win",
            deal=f"Win {index}",
            amount=5000.0,
            luck=10,
            process_score=0.9,
            classification="system-hit",
            occurred_at=occurred + timedelta(days=2),
            submission_key=f"{team_id}-{rep}-win",
            celebrate_consent=True,
            celebration_posted_at=occurred + timedelta(days=2),
            reflection_requested_at=occurred + timedelta(days=2),
            reflection_answered_at=occurred + timedelta(days=2, hours=1),
            created_at=occurred + timedelta(days=2),
        )
        kudos_id = rows.add(
            Kudos,
            team_id=team_id,
            giver_user_id=manager,
            category="",
            message="Great call",
            status="posted",
            channel_id="C0WINS",
            message_ts="1.0",
            created_at=occurred,
        )
        rows.add(KudosRecipient, team_id=team_id, kudos_id=kudos_id, user_id=rep, dm_status="sent")
        add_meetings_goal(
            rows, team_id, rep, target=20, progress=12,
            cycle=(date(2026, 10, 1), date(2026, 10, 31)), created_at=NOW - timedelta(days=55),
            reviewed_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
        )  # fmt: skip
        add_meetings_goal(
            rows, team_id, rep, target=20, progress=5,
            cycle=(date(2026, 11, 1), date(2026, 11, 30)), created_at=NOW - timedelta(days=24),
        )  # fmt: skip


def add_due_work(rows: Rows) -> None:
    """What the busy workspaces have due at NOW, on top of their history."""
    for team_id in BUSY_TEAMS:
        tuesday = "TUE" in team_id
        manager, reps = people(team_id)
        add_team(rows, team_id, weekday=1 if tuesday else 2, zones=("UTC", "Europe/London"))
        if tuesday:
            # Yesterday's check-ins, sent 25 h ago and unanswered: reminders are due, and the
            # manager's digest (the day after the check-in day, 14:00) is due today.
            sent = NOW - timedelta(hours=25)
            for index, rep in enumerate(reps):
                rows.add(
                    CheckIn,
                    team_id=team_id,
                    user_id=rep,
                    week_key="2026-W48",
                    due_at=sent,
                    status="answered" if index == 0 else "sent",
                    sent_at=sent,
                    answered_at=sent + timedelta(hours=1) if index == 0 else None,
                    questions=[{"key": "worked", "text": "What worked?"}],
                    created_at=sent,
                )
        # A cycle that ended yesterday, not reviewed: each rep's review DM and the team's.
        for rep in reps:
            add_meetings_goal(
                rows, team_id, rep, target=10, progress=7,
                cycle=(date(2026, 10, 25), date(2026, 11, 24)), created_at=NOW - timedelta(days=30),
            )  # fmt: skip
        # A kudos kept while its post failed, waiting to go up.
        kudos_id = rows.add(
            Kudos,
            team_id=team_id,
            giver_user_id=manager,
            category="",
            message="Thanks for the cover",
            status="pending",
            created_at=NOW - timedelta(hours=2),
        )
        rows.add(KudosRecipient, team_id=team_id, kudos_id=kudos_id, user_id=reps[1])
        # A loss debriefed 25 h ago whose reflection is still unanswered: a reminder is due.
        requested = NOW - timedelta(hours=25)
        outcome_id = rows.add(
            Outcome,
            team_id=team_id,
            user_id=reps[2],
            kind="loss",
            deal="Globex",
            reason="timing",
            process_score=0.4,
            classification="system-miss",
            occurred_at=requested,
            submission_key=f"{team_id}-due-loss",
            reflection_requested_at=requested,
            created_at=requested,
        )
        rows.add(
            Reflection,
            team_id=team_id,
            user_id=reps[2],
            outcome_id=outcome_id,
            question_key="lesson",
            question="What will you do differently?",
            is_commitment=True,
            created_at=requested,
        )


def seed(database_url: str, idle: int) -> Engine:
    upgrade(database_url)
    engine = make_engine(database_url)
    rows = Rows(first_id=1)
    add_due_work(rows)
    for index in range(idle):
        zones = IDLE_ZONES[index % len(IDLE_ZONES) :] + IDLE_ZONES[: index % len(IDLE_ZONES)]
        add_team(rows, f"T0IDLE{index:06d}", weekday=4, zones=zones)
    with engine.begin() as connection:
        for model in TABLES_PARENTS_FIRST:
            table_rows = rows.rows[model]
            for start in range(0, len(table_rows), BATCH):
                connection.execute(insert(model.__table__), table_rows[start : start + BATCH])  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            # The ids were given explicitly: move each sequence past them.
            for model in TABLES_PARENTS_FIRST:
                if model is Workspace:
                    continue
                name = model.__tablename__  # type: ignore[attr-defined]
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    return engine


def busy_snapshot(engine: Engine) -> dict[type, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {
            model: [
                dict(row._mapping)
                for row in connection.execute(
                    select(model.__table__).where(model.__table__.c.team_id.in_(BUSY_TEAMS))  # type: ignore[attr-defined]
                )
            ]
            for model in TABLES_PARENTS_FIRST
        }


def restore(engine: Engine, snapshot: dict[type, list[dict[str, Any]]]) -> None:
    """Put the busy workspaces back as seeded (what a tick sent or marked, it sends again)."""
    with engine.begin() as connection:
        for model in reversed(TABLES_PARENTS_FIRST):
            table = model.__table__  # type: ignore[attr-defined]
            connection.execute(delete(table).where(table.c.team_id.in_(BUSY_TEAMS)))
        for model in TABLES_PARENTS_FIRST:
            if snapshot[model]:
                connection.execute(insert(model.__table__), snapshot[model])  # type: ignore[attr-defined]


class Target:
    """One database (10 or 10,000 idle workspaces) and what it takes to tick it."""

    def __init__(self, label: str, url: str, idle: int, standin: SlackStandIn) -> None:
        self.label, self.url, self.standin = label, url, standin
        started = time.perf_counter()
        self.engine = seed(url, idle)
        self.seeded_s = time.perf_counter() - started
        self.snapshot = busy_snapshot(self.engine)
        self.settings = Settings(
            slack_bot_token=standin.bot_token,
            slack_api_url=standin.url,
            database_url=url,
            send_rate_per_second=1000,
        )
        self.app_engine = make_engine(url)
        self.deps = Deps(
            settings=self.settings,
            session_factory=make_session_factory(self.app_engine),
            clock=FakeClock(NOW),
        )
        self.times: list[float] = []
        self.posts: list[Counter[str]] = []
        self.job_times: dict[str, list[float]] = {}

    def tick(self, *, timed: bool = True, profile: cProfile.Profile | None = None) -> None:
        restore(self.engine, self.snapshot)
        ticker = build_ticker(self.deps)
        spent: dict[str, float] = {}
        ticker.jobs = [(name, self._timed(name, job, spent)) for name, job in ticker.jobs]
        before = len(self.standin.calls)
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        ticker.tick()
        if profile is not None:
            profile.disable()
        elapsed = time.perf_counter() - started
        if ticker.failures:
            raise SystemExit(f"{self.label}: jobs failed: {ticker.failures}")
        calls = Counter(c.method for c in self.standin.calls[before:] if c.ok)
        if timed:
            self.times.append(elapsed)
            self.posts.append(calls)
            for name, seconds in spent.items():
                self.job_times.setdefault(name, []).append(seconds)

    @staticmethod
    def _timed(name: str, job: Any, spent: dict[str, float]) -> Any:
        def run(now: datetime) -> None:
            started = time.perf_counter()
            try:
                job(now)
            finally:
                spent[name] = time.perf_counter() - started

        return run

    def close(self) -> None:
        self.app_engine.dispose()
        self.engine.dispose()


def run_backend(
    backend: str,
    urls: tuple[str, str],
    idle: int,
    rounds: int,
    standin: SlackStandIn,
    profile: bool,
) -> float:
    small = Target("10 idle", urls[0], 10, standin)
    large = Target(f"{idle} idle", urls[1], idle, standin)
    try:
        for target in (small, large):
            print(f"{backend:<10} {target.label:>11}: seeded in {target.seeded_s:5.1f}s")
            warm = time.perf_counter()
            target.tick(timed=False)  # the first tick after the upgrade stores every due time
            warm_s = time.perf_counter() - warm
            print(f"{backend:<10} {target.label:>11}: first tick after the upgrade {warm_s:6.3f}s")
        for round_number in range(rounds):
            order = (small, large) if round_number % 2 == 0 else (large, small)
            for target in order:
                target.tick()
        for target in (small, large):
            posted = target.posts[-1]
            if any(p != target.posts[0] for p in target.posts):
                raise SystemExit(f"{target.label}: the rounds did different work: {target.posts}")
            if not posted.get("chat.postMessage"):
                # A round that sent nothing timed an idle tick, not the due work.
                raise SystemExit(f"{target.label}: the timed rounds sent nothing: {posted}")
            median_ms = statistics.median(target.times) * 1000
            print(
                f"{backend:<10} {target.label:>11}: median tick {median_ms:8.1f} ms "
                f"over {rounds} rounds; Slack calls per tick: {dict(sorted(posted.items()))}"
            )
        print(f"{backend:<10} median ms per job, 10 idle vs {idle} idle:")
        for name in small.job_times:
            print(
                f"{backend:<10}   {name:<34} {statistics.median(small.job_times[name]) * 1000:8.1f}"
                f" {statistics.median(large.job_times[name]) * 1000:8.1f}"
            )
        if small.posts[0] != large.posts[0]:
            raise SystemExit(f"different due work: {small.posts[0]} vs {large.posts[0]}")
        if profile:
            profiler = cProfile.Profile()
            large.tick(timed=False, profile=profiler)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return statistics.median(large.times) / statistics.median(small.times)
    finally:
        small.close()
        large.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL as well as SQLite")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (fresh databases are made)")
    parser.add_argument("--idle", type=int, default=10_000, help="idle workspaces, large case")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one large tick")
    args = parser.parse_args(argv)
    # The jobs log every message they send; only failures are worth reading here.
    logging.basicConfig(level=logging.ERROR)
    postgres_url = args.database_url or (
        os.environ.get("REBOUND_TEST_POSTGRES_URL") if args.postgres else None
    )
    if args.postgres and not postgres_url:
        parser.error("--postgres needs --database-url or REBOUND_TEST_POSTGRES_URL")
    deadline = time.monotonic() + HARD_LIMIT_S

    standin = SlackStandIn(team_name="Bench").start()
    for team_id in BUSY_TEAMS:
        manager, reps = people(team_id)
        for user_id in [manager, *reps]:
            standin.add_user(StandInUser(id=user_id, name=user_id.lower(), real_name=user_id))
    standin.add_channel("C0WINS", "wins")
    ratios: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rebound-bench-") as folder:
            backends: list[tuple[str, Any, Any]] = [
                (
                    "sqlite",
                    contextlib.nullcontext(f"sqlite:///{Path(folder) / 'small.db'}"),
                    contextlib.nullcontext(f"sqlite:///{Path(folder) / 'large.db'}"),
                )
            ]
            if postgres_url:
                backends.append(
                    (
                        "postgresql",
                        fresh_postgres(postgres_url, prefix="rebound_bench"),
                        fresh_postgres(postgres_url, prefix="rebound_bench"),
                    )
                )
            for backend, small_db, large_db in backends:
                with small_db as small_url, large_db as large_url:
                    ratio = run_backend(
                        backend,
                        (small_url, large_url),
                        args.idle,
                        args.rounds,
                        standin,
                        args.profile,
                    )
                ratios.append(ratio)
                print(f"{backend:<10} ratio {ratio:.2f}")
                if time.monotonic() > deadline:
                    print("hard time limit reached; stopping", file=sys.stderr)
                    break
    finally:
        standin.stop()
    print(f"tick_cost ratio ({args.idle} idle / 10 idle): {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
