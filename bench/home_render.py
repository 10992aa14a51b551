"""Home-tab render time: a rep with 10 outcomes against a rep with 10,000, in the same run.

Builds and publishes the Home tab (`bot.features.home.publish_home`: profile lookup, every
dashboard query, the Block Kit builders, `views.publish` to the local Slack stand-in) for two
reps of one team, alternating them so machine noise hits both, on SQLite and PostgreSQL.

    .venv/bin/python bench/home_render.py                  # SQLite, plus PostgreSQL when
                                                           # REBOUND_TEST_POSTGRES_URL is set
    .venv/bin/python bench/home_render.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/home_render.py --rounds 20       # fewer rounds, for a fast check

Each PostgreSQL run uses a fresh database of its own, dropped afterwards. The last line printed
is `home render ratio 10000/10: X.XX`, the worse backend's ratio of median times (aim: <= 2).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bot.app import Deps, make_web_client
from bot.clock import FakeClock
from bot.config import Settings
from bot.features.home import publish_home
from storage import queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import Goal, Outcome, Reflection
from testkit.databases import fresh_postgres
from testkit.standin import SlackStandIn, StandInUser

TEAM = "T0BENCH"
MANAGER, SMALL, LARGE = "U0BMGR", "U0BSMALL", "U0BLARGE"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
REASONS = ("price", "competitor", "timing", "no_decision", "product_fit")
HARD_LIMIT_S = 600.0


def outcome_rows(user_id: str, count: int) -> list[dict[str, object]]:
    """`count` outcomes ending just before NOW, an hour apart, about one in three a win."""
    rows = []
    for index in range(count):
        win = index % 3 == 0
        score = min((index % 6) / 5, 1.0)
        strong = score >= 0.8
        rows.append(
            {
                "team_id": TEAM,
                "user_id": user_id,
                "kind": "win" if win else "loss",
                "deal": f"Deal {index}",
                "amount": 1000.0 if win else None,
                "reason": None if win else REASONS[index % len(REASONS)],
                "process_score": score,
                "classification": ("system-hit" if strong else "lucky-hit")
                if win
                else ("perfect-miss" if strong else "system-miss"),
                "occurred_at": NOW - timedelta(hours=count - index),
                "submission_key": f"{user_id}-{index}",
                "created_at": NOW,
            }
        )
    return rows


def seed(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        queries.set_reports(
            session=session, team_id=TEAM, manager_user_id=MANAGER, report_user_ids=[SMALL, LARGE]
        )
        for user_id, count in ((SMALL, 10), (LARGE, 10_000)):
            rows = outcome_rows(user_id, count)
            for start in range(0, len(rows), 2_000):
                session.execute(insert(Outcome), rows[start : start + 2_000])
            session.add(
                Goal(
                    team_id=TEAM,
                    user_id=user_id,
                    metric="revenue",
                    target=50_000,
                    cycle_start=date(2026, 11, 1),
                    cycle_end=date(2026, 11, 30),
                    why="bench",
                    submission_key=f"goal-{user_id}",
                )
            )
        session.flush()
        for user_id, lessons in ((SMALL, 5), (LARGE, 3_000)):
            first = session.execute(
                text("SELECT id FROM outcomes WHERE user_id = :u ORDER BY id LIMIT 1"),
                {"u": user_id},
            ).scalar_one()
            session.execute(
                insert(Reflection),
                [
                    {
                        "team_id": TEAM,
                        "user_id": user_id,
                        "outcome_id": first,
                        "question_key": f"q{index}",
                        "question": "What did you learn?",
                        "answer": f"Lesson {index}",
                        "is_commitment": False,
                        "created_at": NOW - timedelta(minutes=index),
                    }
                    for index in range(lessons)
                ],
            )
        session.commit()
    engine.dispose()


def time_home(database_url: str, standin: SlackStandIn, rounds: int) -> tuple[float, float]:
    """Median seconds to build and publish Home for the small rep and the large one."""
    settings = Settings(
        slack_bot_token=standin.bot_token, slack_api_url=standin.url, database_url=database_url
    )
    engine = make_engine(database_url)
    deps = Deps(
        settings=settings, session_factory=make_session_factory(engine), clock=FakeClock(NOW)
    )
    client = make_web_client(settings)
    timings: dict[str, list[float]] = {SMALL: [], LARGE: []}
    for user_id in (SMALL, LARGE, SMALL, LARGE):  # warm-up: connections, caches, imports
        publish_home(client, deps, team_id=TEAM, user_id=user_id)
    for round_number in range(rounds):
        order = (SMALL, LARGE) if round_number % 2 == 0 else (LARGE, SMALL)
        for user_id in order:
            started = time.perf_counter()
            publish_home(client, deps, team_id=TEAM, user_id=user_id)
            timings[user_id].append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(timings[SMALL]), statistics.median(timings[LARGE])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args(argv)
    postgres_url = args.database_url or os.environ.get("REBOUND_TEST_POSTGRES_URL")
    deadline = time.monotonic() + HARD_LIMIT_S

    standin = SlackStandIn(team_name="Bench").start()
    for user_id, name in ((MANAGER, "Maya Manager"), (SMALL, "Sam Small"), (LARGE, "Lara Large")):
        standin.add_user(StandInUser(id=user_id, name=name.split()[0].lower(), real_name=name))
    ratios: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rebound-bench-") as folder:
            backends: list[tuple[str, contextlib.AbstractContextManager[str]]] = [
                ("sqlite", contextlib.nullcontext(f"sqlite:///{Path(folder) / 'bench.db'}"))
            ]
            if postgres_url:
                backends.append(
                    ("postgresql", fresh_postgres(postgres_url, prefix="rebound_bench"))
                )
            for backend, database in backends:
                with database as url:
                    seed_started = time.perf_counter()
                    seed(url)
                    seeded_s = time.perf_counter() - seed_started
                    small, large = time_home(url, standin, args.rounds)
                    ratio = large / small
                    ratios.append(ratio)
                    print(
                        f"{backend:<10} seeded in {seeded_s:5.1f}s; Home median over "
                        f"{args.rounds} rounds: 10 outcomes {small * 1000:6.1f} ms, "
                        f"10,000 outcomes {large * 1000:6.1f} ms, ratio {ratio:.2f}"
                    )
                if time.monotonic() > deadline:
                    print("hard time limit reached; stopping", file=sys.stderr)
                    break
    finally:
        standin.stop()
    print(f"home render ratio 10000/10: {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
