"""Check-in fan-out: 2,000 reps, three processes on one PostgreSQL, a rate-limited Slack.

The Slack stand-in allows `chat.postMessage` at `--rate` per second (token bucket; beyond it,
429 with Retry-After). A fresh PostgreSQL database gets one workspace whose reps are all due
for their Friday check-in at the same instant (their time zones are set so); then `--processes`
OS processes run `rebound tick --at <that instant>` at the same time. Each one's outbox
dispatcher paces itself at the allowed rate (REBOUND_SEND_RATE) without knowing about the
others, so together they ask for more than Slack allows and the 429 handling has to share the
capacity out. All traffic stays on 127.0.0.1.

    .venv/bin/python bench/checkin_fanout.py                   # 2,000 reps, 25/s, 3 processes
    .venv/bin/python bench/checkin_fanout.py --reps 300 --rate 30

The last line is `fanout: sent N, duplicates D, lost L, achieved/allowed rate R.RR`: N reps got
their check-in, D extra copies went out, L reps got none, and R is the sending rate from the
first to the last delivered check-in over the allowed rate. Exit code 1 when D or L is not 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from storage.db import make_engine, upgrade
from storage.models import Member, Workspace
from testkit.standin import SlackStandIn, StandInUser

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEAM_ID = "T0BENCH"
MANAGER_ID = "U0BENCHMGR"
# Friday 27 Nov 2026, 23:00 UTC: 14:00 has passed, within the day, in each of these zones.
AT = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
ZONES = ("Europe/London", "America/New_York", "America/Chicago", "Asia/Kolkata", "Europe/Berlin")
CHECKIN_TEXT = "Your weekly check-in"


def rep_id(index: int) -> str:
    return f"U0B{index:06d}"


def seed(url: str, reps: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    refreshed = AT - timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(insert(Workspace.__table__).values(team_id=TEAM_ID, name="Bench"))  # type: ignore[arg-type]
        people = [(MANAGER_ID, "UTC", None)] + [
            (rep_id(i), ZONES[i % len(ZONES)], MANAGER_ID) for i in range(reps)
        ]
        rows = [
            {
                "team_id": TEAM_ID,
                "user_id": user_id,
                "display_name": user_id,
                "tz": tz,
                "tz_refreshed_at": refreshed,
                "is_manager": manager is None,
                "manager_user_id": manager,
                "is_bot": False,
                "deleted": False,
                "created_at": refreshed,
            }
            for user_id, tz, manager in people
        ]
        connection.execute(insert(Member.__table__), rows)  # type: ignore[arg-type]
    engine.dispose()


def run_ticks(standin: SlackStandIn, url: str, processes: int, rate: float, limit: float) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=secrets.token_hex(16),
        SLACK_API_URL=standin.url,
        DATABASE_URL=url,
        REBOUND_SEND_RATE=str(rate),
        LOG_LEVEL="WARNING",
    )
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "bot.cli", "tick", "--at", AT.isoformat()]
    children = [
        subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(processes)
    ]
    deadline = time.monotonic() + limit
    for child in children:
        try:
            output, _ = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
            print(f"a tick process ran past the {limit:.0f} s limit and was stopped")
        if output.strip():
            print(output.strip()[-2000:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=25.0, help="chat.postMessage per second")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument(
        "--admin-url", default=os.environ.get("REBOUND_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    )
    parser.add_argument("--time-limit", type=float, default=240.0, help="seconds")
    args = parser.parse_args()

    standin = SlackStandIn(team_id=TEAM_ID).start()
    standin.add_user(StandInUser(id=MANAGER_ID, name="mgr", real_name="Bench Manager", tz="UTC"))
    for i in range(args.reps):
        standin.add_user(
            StandInUser(
                id=rep_id(i), name=f"rep{i}", real_name=f"Rep {i}", tz=ZONES[i % len(ZONES)]
            )
        )
    name = f"rebound_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        seed(url, args.reps)
        standin.rate_limit("chat.postMessage", args.rate)
        print(
            f"{args.reps} reps, {args.processes} processes on PostgreSQL, chat.postMessage "
            f"allowed at {args.rate:g}/s"
        )
        started = time.monotonic()
        run_ticks(standin, url, args.processes, args.rate, args.time_limit)
        elapsed = time.monotonic() - started
    finally:
        standin.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    posts = [c for c in standin.calls if c.method == "chat.postMessage"]
    delivered = [
        c for c in posts if c.ok and str(c.params.get("text", "")).startswith(CHECKIN_TEXT)
    ]
    # The outbox posts in each rep's DM, which the stand-in names D + the user id without U.
    per_rep = Counter("U" + str(c.params.get("channel"))[1:] for c in delivered)
    sent = len(per_rep)
    duplicates = sum(count - 1 for count in per_rep.values())
    # Reps by their exact ids: the manager's id (U0BENCHMGR) shares their prefix.
    lost = len({rep_id(i) for i in range(args.reps)} - set(per_rep))
    limited = len([c for c in posts if c.error == "ratelimited"])
    times = sorted(c.at for c in delivered)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / span if span > 0 else 0.0
    print(
        f"{len(delivered)} check-ins delivered in {span:.1f} s ({elapsed:.1f} s with start-up); "
        f"{limited} answered 429"
    )
    print(
        f"fanout: sent {sent}, duplicates {duplicates}, lost {lost}, "
        f"achieved/allowed rate {achieved / args.rate:.2f}"
    )
    return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
