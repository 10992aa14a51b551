"""Check-in fan-out: 2,000 reps, three processes on one PostgreSQL, a rate-limited Slack.

The Slack stand-in allows `chat.postMessage` at `--rate` per second (token bucket; beyond it,
429 with Retry-After). A fresh PostgreSQL database gets one workspace whose reps are all due
for their Friday check-in at the same instant (their time zones are set so); then `--processes`
OS processes each run `rebound tick --at <that instant + elapsed time>` over and over (a tick
exits when it has nothing left it may send now), until every rep has their check-in and no
outbox row is left to settle, or `--time-limit` passes. Each one's outbox dispatcher paces
itself at the allowed rate (REBOUND_SEND_RATE) without knowing about the others, so together
they ask for more than Slack allows and the 429 handling has to share the capacity out.
All traffic stays on 127.0.0.1.

`--ambiguous-faults N`: N chat.postMessage calls, one every reps/(N+1)-th post the stand-in
would otherwise have accepted, are carried out (the DM IS posted) and then answered 502, so the
sender cannot know. `--kill-one` (on by default with faults; `--no-kill-one` turns it off):
once a third of the reps have their DM, one of the running tick processes is killed with
SIGKILL, and its slot is not restarted (what it held must be finished by the others). Unknown
sends are settled later (the outbox's reconcile delay, a killed process's lease, and
conversations.history at 1 request a minute per workspace, which the stand-in enforces as
Slack does for apps outside the Marketplace: https://docs.slack.dev/changelog/2025/05/29/
rate-limit-changes-for-non-marketplace-apps/). `--clock-speed S` runs the app's clock S times
faster than the wall clock (the stand-in's history limit becomes S a minute of wall time: one a
minute of app time), so that settling takes minutes of app time but not of bench time.

    .venv/bin/python bench/checkin_fanout.py                   # 2,000 reps, 25/s, 3 processes
    .venv/bin/python bench/checkin_fanout.py --reps 300 --rate 30
    .venv/bin/python bench/checkin_fanout.py --reps 2000 --rate 100 --ambiguous-faults 10

The last line is `fanout: sent N, duplicates D, lost L, achieved/allowed rate R.RR`: N reps got
their check-in, D extra copies went out (copies per rep DM the stand-in stored, a post
answered 502 included: Slack has it), L reps got none, and R is the sending rate of the main
fan-out (first delivered check-in to the last one before the first pause of over
`PAUSE_SECONDS`, past 90% of the reps) over the allowed rate. What came after that pause is
the settling of unknown sends, timed on its own line. Exit code 1 when D or L is not 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, insert, inspect, text
from sqlalchemy.engine import Engine, make_url

from storage.db import make_engine, upgrade
from storage.models import Member, Workspace
from testkit.live import start_tick
from testkit.standin import RecordedCall, SlackStandIn, StandInUser, _dm_channel_id, _Fault

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEAM_ID = "T0BENCH"
MANAGER_ID = "U0BENCHMGR"
# Friday 27 Nov 2026, 23:00 UTC: 14:00 has passed, within the day, in each of these zones.
AT = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
ZONES = ("Europe/London", "America/New_York", "America/Chicago", "Asia/Kolkata", "Europe/Berlin")
CHECKIN_TEXT = "Your weekly check-in"
# Deliveries after a pause this long (wall seconds) belong to settling, not the main fan-out.
PAUSE_SECONDS = 5.0
# Between two ticks of one slot: ticks that find nothing due cost a process start each.
TICK_GAP_SECONDS = 1.0
# Outbox rows not yet final (storage.outbox_queries): the run is not over while any is left.
UNSETTLED_STATES = ("pending", "sending", "unknown")


def rep_id(index: int) -> str:
    return f"U0B{index:06d}"


class FaultyStandIn(SlackStandIn):
    """The stand-in, with every `every`-th chat.postMessage it would have accepted (rate limit
    passed) carried out and then answered 502, `faults` times in all: spread over the run
    rather than bunched at its start, as the stand-in's own accept_then_fail would be."""

    def __init__(self, *, every: int, faults: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._every = max(1, every)
        self._faults_left = faults
        self._accepted = 0
        self._count_lock = threading.Lock()

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        fault = super()._take_fault(method, params)
        if fault is not None or method != "chat.postMessage":
            return fault
        with self._count_lock:
            self._accepted += 1
            if self._faults_left > 0 and self._accepted % self._every == 0:
                self._faults_left -= 1
                return _Fault(status=502, retry_after=0, remaining=0, mode="accept")
        return None


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


def rep_of(call: RecordedCall) -> str:
    """The user whose DM a post went to: by user id, or by the DM's D- id after
    conversations.open (the stand-in derives one from the other)."""
    channel = str(call.params.get("channel", ""))
    return _DM_OWNER.get(channel, channel)


_DM_OWNER: dict[str, str] = {}


def checkins(standin: SlackStandIn) -> list[RecordedCall]:
    """Check-in DMs Slack has (ok: posted, whatever the client was answered), oldest first."""
    return [
        c
        for c in standin.calls
        if c.method == "chat.postMessage"
        and c.ok
        and str(c.params.get("text", "")).startswith(CHECKIN_TEXT)
    ]


def unsettled(engine: Engine) -> int:
    """Outbox rows not yet sent or given up on; 0 where check-ins do not use the outbox."""
    if not inspect(engine).has_table("outbox"):
        return 0
    query = text("SELECT count(*) FROM outbox WHERE state IN :states").bindparams(
        bindparam("states", expanding=True)
    )
    with engine.connect() as connection:
        return int(connection.execute(query, {"states": list(UNSETTLED_STATES)}).scalar_one())


class Slot:
    """One of the `--processes`: `rebound tick --at <app time>` again and again."""

    def __init__(self, index: int, root: Path, env: dict[str, str]) -> None:
        self.index = index
        self._root = root
        self._env = env
        self.child: subprocess.Popen[str] | None = None
        self.killed = False
        self.ticks = 0
        self.output: list[str] = []

    def start_tick(self, at: datetime) -> None:
        self.ticks += 1
        self.child = start_tick(self._env, at, self._root)  # the test kit's launcher

    def poll(self) -> bool:
        """True while a tick is running; collects the output of one that ended."""
        if self.child is None:
            return False
        if self.child.poll() is None:
            return True
        output = self.child.stdout.read() if self.child.stdout else ""
        if output.strip():
            self.output.append(output.strip())
        self.child = None
        return False

    def kill(self) -> None:
        if self.child is not None and self.child.poll() is None:
            os.kill(self.child.pid, signal.SIGKILL)
        self.killed = True


def run_slots(
    standin: SlackStandIn,
    url: str,
    args: argparse.Namespace,
    started: float,
) -> dict[str, float | None]:
    """Run the slots until done or the time limit; returns wall times (since `started`) of
    the kill and of the moment the last unsettled row was settled."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=secrets.token_hex(16),
        SLACK_API_URL=standin.url,
        DATABASE_URL=url,
        REBOUND_SEND_RATE=str(args.rate),
        LOG_LEVEL="WARNING",
    )
    root = Path(__file__).resolve().parent.parent
    slots = [Slot(i, root, env) for i in range(args.processes)]
    engine = make_engine(url)
    wanted = {rep_id(i) for i in range(args.reps)}
    result: dict[str, float | None] = {"killed_at": None, "done_at": None}
    deadline = started + args.time_limit
    next_tick = [started] * len(slots)
    try:
        while True:
            now = time.monotonic()
            app_now = AT + timedelta(seconds=(now - started) * args.clock_speed)
            for i, slot in enumerate(slots):
                if slot.killed or slot.poll():
                    continue
                if now >= next_tick[i]:
                    slot.start_tick(app_now)
                    next_tick[i] = now + TICK_GAP_SECONDS
            delivered = {rep_of(c) for c in checkins(standin)}
            if args.kill_one and result["killed_at"] is None and len(delivered) >= args.reps / 3:
                victim = next((s for s in slots if s.poll()), None)
                if victim is not None:
                    victim.kill()
                    result["killed_at"] = now - started
                    print(
                        f"killed tick process of slot {victim.index} (SIGKILL) at "
                        f"{now - started:.1f} s, {len(delivered)} reps had their DM"
                    )
            if wanted <= delivered and unsettled(engine) == 0:
                result["done_at"] = now - started
                break
            if now >= deadline:
                print(
                    f"the {args.time_limit:.0f} s limit passed; {unsettled(engine)} rows unsettled"
                )
                break
            time.sleep(0.2)
    finally:
        for slot in slots:
            if slot.child is not None:
                try:
                    slot.child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    slot.child.kill()
                    slot.child.wait()
            slot.poll()
        engine.dispose()
    for slot in slots:
        print(f"slot {slot.index}: {slot.ticks} ticks{' (killed)' if slot.killed else ''}")
        errors = [o for o in slot.output if "Traceback" in o or "failed" in o]
        if errors:
            print(errors[-1][-1500:])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=25.0, help="chat.postMessage per second")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument(
        "--ambiguous-faults",
        type=int,
        default=0,
        metavar="N",
        help="N posts are stored by the stand-in, then answered 502 (spread over the run)",
    )
    parser.add_argument(
        "--kill-one",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="SIGKILL one tick process once a third of reps have their DM (default: with faults)",
    )
    parser.add_argument(
        "--clock-speed", type=float, default=1.0, help="app seconds per wall second (default 1)"
    )
    parser.add_argument(
        "--admin-url", default=os.environ.get("REBOUND_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    )
    parser.add_argument("--time-limit", type=float, default=None, help="seconds")
    args = parser.parse_args()
    if args.kill_one is None:
        args.kill_one = args.ambiguous_faults > 0
    if args.time_limit is None:
        # Settling unknown sends takes a 5-minute lease and a history read a minute each.
        args.time_limit = 240.0 if not (args.ambiguous_faults or args.kill_one) else 1200.0

    standin = FaultyStandIn(
        every=args.reps // (args.ambiguous_faults + 1) if args.ambiguous_faults else 1,
        faults=args.ambiguous_faults,
        team_id=TEAM_ID,
    ).start()
    standin.add_user(StandInUser(id=MANAGER_ID, name="mgr", real_name="Bench Manager", tz="UTC"))
    for i in range(args.reps):
        _DM_OWNER[_dm_channel_id(rep_id(i))] = rep_id(i)
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
        # One a minute of app time (Slack's limit for apps outside the Marketplace, above).
        standin.rate_limit("conversations.history", per_minute=args.clock_speed)
        print(
            f"{args.reps} reps, {args.processes} processes on PostgreSQL, chat.postMessage "
            f"allowed at {args.rate:g}/s; {args.ambiguous_faults} posts answered 502 after "
            f"being stored; kill one process: {'yes' if args.kill_one else 'no'}; "
            f"app clock x{args.clock_speed:g}"
        )
        started = time.monotonic()
        wall_started = time.time()
        result = run_slots(standin, url, args, started)
        elapsed = time.monotonic() - started
    finally:
        standin.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    posts = [c for c in standin.calls if c.method == "chat.postMessage"]
    delivered = checkins(standin)
    per_rep = Counter(rep_of(c) for c in delivered)
    sent = len(per_rep)
    duplicates = sum(count - 1 for count in per_rep.values())
    # Reps by their exact ids: the manager's id (U0BENCHMGR) shares their prefix.
    lost = len({rep_id(i) for i in range(args.reps)} - set(per_rep))
    limited = len([c for c in posts if c.error == "ratelimited"])
    answered_502 = len([c for c in posts if c.answered == 502])
    history = [c for c in standin.calls if c.method == "conversations.history"]
    times = sorted(c.at for c in delivered)
    # The main fan-out ends at the first pause past 90% of the reps; later posts are settling.
    main_end = len(times)
    for i in range(1, len(times)):
        if i >= 0.9 * args.reps and times[i] - times[i - 1] > PAUSE_SECONDS:
            main_end = i
            break
    fanout = times[:main_end]
    span = fanout[-1] - fanout[0] if len(fanout) > 1 else 0.0
    achieved = (len(fanout) - 1) / span if span > 0 else 0.0
    print(
        f"{len(delivered)} check-ins delivered, {len(fanout)} in the main fan-out of {span:.1f} s "
        f"({elapsed:.1f} s in all with start-up and settling); {limited} answered 429, "
        f"{answered_502} answered 502 after posting; {len(history)} conversations.history calls"
    )
    by_method = Counter(c.method for c in standin.calls)
    print("Slack calls: " + ", ".join(f"{m} {n}" for m, n in sorted(by_method.items())))
    pauses = sorted(
        ((b - a, a - wall_started) for a, b in zip(fanout, fanout[1:], strict=False)),
        reverse=True,
    )[:3]
    if pauses:
        # Where the main fan-out stalled (a tick process starting, a lease, a 429 hold).
        print(
            "longest pauses in the main fan-out: "
            + ", ".join(f"{gap:.1f} s at {at:.1f} s" for gap, at in pauses)
        )
    if fanout:
        fanout_end = fanout[-1] - wall_started
        done_at = result["done_at"]
        settled = f"{done_at - fanout_end:.1f} s" if done_at is not None else "not within the limit"
        print(
            f"main fan-out ended {fanout_end:.1f} s into the run; the rest settled "
            f"{settled} later ({len(times) - main_end} check-ins after it)"
        )
    print(
        f"fanout: sent {sent}, duplicates {duplicates}, lost {lost}, "
        f"achieved/allowed rate {achieved / args.rate:.2f}"
    )
    return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
