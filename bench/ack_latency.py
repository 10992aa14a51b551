"""Slack acknowledgement latency: the real Rebound app against a bare Bolt app, in one run.

Slack waits 3 seconds for the HTTP answer to a slash command (the "ack"); after that the user
sees an error. This script measures that answer time for `rebound serve` (the real app, with its
database, middleware and listeners) and for a Bolt app that does nothing but `ack()`, served the
same way (waitress through `bot.server.make_http_server`, 8 threads, in a process of its own).
Both talk to the local Slack stand-in; every request is freshly signed, as Slack sends it; all
traffic stays on 127.0.0.1.

    .venv/bin/python bench/ack_latency.py                 # 1,000 requests per target and command
    .venv/bin/python bench/ack_latency.py --quick         # 200, for a fast check
    .venv/bin/python bench/ack_latency.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line printed is `ack p99 ratio vs bare bolt: X.XX`, the worse of the per-command p99
ratios (Rebound / bare). The exit code is 1 when any request failed (non-200 or no answer).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from testkit.simulator import SlackSender
from testkit.standin import SlackStandIn, StandInUser

HOST = "127.0.0.1"
SERVER_THREADS = 8  # what `rebound serve` uses by default
SLACK_ACK_DEADLINE_MS = 3_000.0
REQUEST_TIMEOUT_S = 10.0  # longer than Slack's deadline, so a slow ack is measured, not cut
STARTUP_TIMEOUT_S = 60.0
WARMUP_REQUESTS = 50
COMMANDS: tuple[tuple[str, str], ...] = (("/rebound", "help"), ("/lost", "Acme renewal"))
REBOUND = "rebound"
BARE = "bare bolt"
BENCH_USERS = (
    StandInUser(id="U0ADMIN", name="ada", real_name="Ada Admin", is_admin=True),
    StandInUser(id="U0REP1", name="leo", real_name="Leo Rep", tz="Europe/London"),
    StandInUser(id="U0REP2", name="priya", real_name="Priya Rep", tz="America/Los_Angeles"),
    StandInUser(id="U0MGR", name="maya", real_name="Maya Manager", tz="America/Chicago"),
)
_LISTENING = re.compile(r"listening on http://[^:\s]+:(\d+)")
# Transport failures (timeouts, resets) have no HTTP status; they are errors like a 500.
NO_ANSWER = 0


# ------------------------------------------------------------------------- the bare Bolt app


def run_bare_server(host: str, port: int, threads: int) -> int:
    """A Bolt app that only acks, behind the same WSGI wrapper and waitress as Rebound."""
    from slack_bolt import Ack, App
    from slack_sdk import WebClient
    from sqlalchemy import create_engine

    from bot.server import make_http_server, make_wsgi_app

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    token = os.environ["SLACK_BOT_TOKEN"]
    app = App(
        token=token,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=WebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
        token_verification_enabled=False,
    )

    @app.command("/rebound")
    def rebound_command(ack: Ack) -> None:
        ack()

    @app.command("/lost")
    def lost_command(ack: Ack) -> None:
        ack()

    # make_wsgi_app touches the engine only for /healthz; an in-memory one keeps the wrapper
    # identical to Rebound's without giving the bare app any database work.
    engine = create_engine("sqlite://")
    wsgi = make_wsgi_app(app, engine, os.environ["SLACK_SIGNING_SECRET"])
    server = make_http_server(wsgi, host=host, port=port, threads=threads)
    print(f"Bare Bolt listening on http://{host}:{server.effective_port}", flush=True)
    try:
        server.run()
    finally:
        server.close()
        engine.dispose()
    return 0


# ------------------------------------------------------------------------- processes


@dataclass
class ServerProcess:
    """A server child process whose output is drained (so it never blocks) and kept for errors."""

    name: str
    process: subprocess.Popen[str]
    port: int
    output: list[str] = field(default_factory=list)

    @property
    def events_url(self) -> str:
        return f"http://{HOST}:{self.port}/slack/events"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(
    name: str, command: Sequence[str], env: dict[str, str], cwd: Path
) -> ServerProcess:
    """Start `command`, wait for its "listening on" line, and return it with its port."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    port_found = threading.Event()
    ports: list[int] = []

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = _LISTENING.search(line)
            if match and not ports:
                ports.append(int(match.group(1)))
                port_found.set()

    threading.Thread(target=drain, name=f"{name}-output", daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not port_found.wait(0.05):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=10)
            raise RuntimeError(f"{name} did not start:\n" + "".join(output[-50:]))
    return ServerProcess(name, process, ports[0], output)


def server_env(standin: SlackStandIn, signing_secret: str, database_url: str) -> dict[str, str]:
    # Nothing from the caller's Slack or Rebound settings may leak into the servers.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=standin.url,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def bench_database(database_url: str | None, folder: Path) -> Iterator[str]:
    """SQLite in `folder` by default; on PostgreSQL a fresh database, dropped afterwards."""
    if database_url is None:
        yield f"sqlite:///{folder / 'rebound.db'}"
        return
    from sqlalchemy import create_engine, text

    admin_url = make_url(database_url)
    if not admin_url.drivername.startswith("postgresql"):
        yield database_url  # another backend: used as given, not created or dropped
        return
    name = f"rebound_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# ------------------------------------------------------------------------- load


@dataclass
class Sample:
    status: int  # HTTP status, or NO_ANSWER
    elapsed_ms: float


@dataclass
class Target:
    name: str
    sender: SlackSender


def send_one(sender: SlackSender, command: str, text: str, user_id: str) -> Sample:
    # Built before the clock starts: only signing, sending and the answer are timed.
    fields = sender.slash_command_fields(command, text, user_id=user_id)
    started = time.perf_counter()
    try:
        status = sender.post_form(fields, timeout=REQUEST_TIMEOUT_S).status
    except OSError:  # timeouts, refused or reset connections: Slack would see no ack
        status = NO_ANSWER
    return Sample(status, (time.perf_counter() - started) * 1000.0)


def run_batch(
    pool: ThreadPoolExecutor, target: Target, command: str, text: str, count: int
) -> list[Sample]:
    """`count` requests, as many in flight at once as the pool has threads."""
    users = [user.id for user in BENCH_USERS]
    futures = [
        pool.submit(send_one, target.sender, command, text, users[i % len(users)])
        for i in range(count)
    ]
    return [future.result() for future in futures]


def split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of values at or below it."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Summary:
    target: str
    command: str
    requests: int
    errors: int
    error_statuses: Counter[int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_deadline_share: float


def summarize(target: str, command: str, samples: Sequence[Sample]) -> Summary:
    # Every request counts in the timings, failed ones too: a slow 500 is still a slow answer.
    latencies = sorted(sample.elapsed_ms for sample in samples)
    failed = Counter(sample.status for sample in samples if sample.status != 200)
    over = sum(1 for value in latencies if value > SLACK_ACK_DEADLINE_MS)
    return Summary(
        target=target,
        command=command,
        requests=len(samples),
        errors=sum(failed.values()),
        error_statuses=failed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        over_deadline_share=over / len(latencies) if latencies else math.nan,
    )


def measure(
    targets: Sequence[Target], requests: int, concurrency: int, rounds: int
) -> dict[tuple[str, str], list[Sample]]:
    """Warm up, then run `rounds` rounds; each round sends a slice to every target and command,
    the target order flipping each round (A B, B A, ...) so drifting machine noise hits both."""
    samples: dict[tuple[str, str], list[Sample]] = {
        (target.name, f"{command} {text}"): [] for target in targets for command, text in COMMANDS
    }
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="slack") as pool:
        for target in targets:
            for command, text in COMMANDS:
                run_batch(pool, target, command, text, WARMUP_REQUESTS)
        for round_index, count in enumerate(split_evenly(requests, rounds)):
            order = list(targets) if round_index % 2 == 0 else list(reversed(targets))
            for target in order:
                for command, text in COMMANDS:
                    batch = run_batch(pool, target, command, text, count)
                    samples[(target.name, f"{command} {text}")].extend(batch)
    return samples


# ------------------------------------------------------------------------- report


def format_table(summaries: Sequence[Summary]) -> list[str]:
    header = (
        f"{'target':<10} {'command':<20} {'requests':>8} {'errors':>6} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'>3 s':>6}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        lines.append(
            f"{s.target:<10} {s.command:<20} {s.requests:>8} {s.errors:>6} "
            f"{s.p50_ms:>8.1f} {s.p99_ms:>8.1f} {s.max_ms:>8.1f} "
            f"{s.over_deadline_share * 100:>5.1f}%"
        )
    return lines


def p99_ratios(summaries: Sequence[Summary]) -> dict[str, float]:
    by_key = {(s.target, s.command): s for s in summaries}
    ratios: dict[str, float] = {}
    for command, text in COMMANDS:
        label = f"{command} {text}"
        rebound, bare = by_key[(REBOUND, label)], by_key[(BARE, label)]
        ratios[label] = rebound.p99_ms / bare.p99_ms if bare.p99_ms > 0 else math.inf
    return ratios


# ------------------------------------------------------------------------- orchestration


def run_benchmark(args: argparse.Namespace) -> int:
    """Run under a hard time limit; on expiry the watchdog stops the servers, drops the
    database and ends the process, wherever the run is."""
    with contextlib.ExitStack() as stack:

        def on_timeout() -> None:
            print(
                f"ack_latency: hard timeout of {args.timeout:.0f} s reached; stopping",
                file=sys.stderr,
                flush=True,
            )
            try:
                stack.close()
            finally:
                os._exit(3)

        watchdog = threading.Timer(args.timeout, on_timeout)
        watchdog.daemon = True
        watchdog.start()
        stack.callback(watchdog.cancel)
        return _run(args, stack)


def _run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ack-bench-")))
    standin = SlackStandIn(host=HOST)
    for user in BENCH_USERS:
        standin.add_user(user)
    standin.add_channel("C0GENERAL", "general")
    standin.start()
    stack.callback(standin.stop)
    database_url = stack.enter_context(bench_database(args.database_url, folder))
    backend = make_url(database_url).get_backend_name()

    signing_secret = secrets.token_hex(16)
    env = server_env(standin, signing_secret, database_url)
    rebound_dir, bare_dir = folder / "rebound", folder / "bare"
    rebound_dir.mkdir()
    bare_dir.mkdir()
    # cwd is a temp dir so no stray .env from the repository is read.
    rebound = start_server(
        REBOUND,
        [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--host",
            HOST,
            "--port",
            "0",
            "--threads",
            str(SERVER_THREADS),
        ],
        env,
        rebound_dir,
    )
    stack.callback(rebound.stop)
    bare = start_server(
        BARE,
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--bare-server",
            "--port",
            "0",
            "--threads",
            str(SERVER_THREADS),
        ],
        env,
        bare_dir,
    )
    stack.callback(bare.stop)

    targets = [
        Target(REBOUND, SlackSender(rebound.events_url, signing_secret)),
        Target(BARE, SlackSender(bare.events_url, signing_secret)),
    ]
    print(
        f"ack latency, {date.today().isoformat()}: {args.requests} requests per target and "
        f"command, {args.concurrency} concurrent senders, {args.rounds} alternating rounds, "
        f"database {backend}, {os.cpu_count()} cores, Python {platform.python_version()}",
        flush=True,
    )
    started = time.monotonic()
    samples = measure(targets, args.requests, args.concurrency, args.rounds)
    elapsed = time.monotonic() - started

    summaries = [
        summarize(target.name, f"{command} {text}", samples[(target.name, f"{command} {text}")])
        for command, text in COMMANDS
        for target in targets
    ]
    for line in format_table(summaries):
        print(line)
    print(f"measured in {elapsed:.1f} s")
    failed = [s for s in summaries if s.errors]
    for s in failed:
        statuses = ", ".join(
            f"{'no answer' if status == NO_ANSWER else status} x{n}"
            for status, n in sorted(s.error_statuses.items())
        )
        print(f"errors: {s.target} {s.command}: {statuses}")
    if failed:
        for server in (rebound, bare):
            tail = "".join(server.output[-5:]).strip()
            if tail:
                print(f"last output of {server.name}:\n{tail}")
    ratios = p99_ratios(summaries)
    for label, ratio in ratios.items():
        print(f"p99 ratio rebound/bare, {label}: {ratio:.2f}")
    print(f"ack p99 ratio vs bare bolt: {max(ratios.values()):.2f}", flush=True)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Slack ack latency of Rebound vs a bare Bolt app (local, 127.0.0.1 only)."
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=1_000,
        help="measured requests per target and command (default 1000)",
    )
    parser.add_argument("--quick", action="store_true", help="200 requests: a fast check")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="requests in flight at once (default 50)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternating rounds the requests are split into (default 4)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL admin URL (a fresh database is made and dropped); "
        "default: SQLite in a temp dir",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1_200.0,
        help="hard limit for the whole run in seconds (default 1200)",
    )
    # Internal: the bare Bolt server child process.
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=SERVER_THREADS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.bare_server:
        return run_bare_server(HOST, args.port, args.threads)
    if args.quick:
        args.requests = 200
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1:
        print("--requests, --concurrency and --rounds must be at least 1", file=sys.stderr)
        return 2
    return run_benchmark(args)


if __name__ == "__main__":
    raise SystemExit(main())
