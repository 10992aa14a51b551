"""Slack acknowledgement latency and time-to-modal: the real Rebound app against a bare Bolt app.

Slack waits 3 seconds for the HTTP answer to a slash command (the "ack"); after that the user
sees an error. This script measures that answer time for `rebound serve` (the real app, with its
database, middleware and listeners) and for a bare Bolt app, served the same way (waitress
through `bot.server.make_http_server`, 8 threads, in a process of its own). For `/lost` it also
measures time-to-modal: from sending the command to the Slack stand-in receiving the
`views.open` call for that command's trigger_id ("Pass a valid trigger_id within 3 seconds of
receiving it", https://docs.slack.dev/tools/bolt-python/concepts/opening-modals). The bare
app's `/lost` acks and opens the same modal, built by Rebound's own `lost_modal`, and its
`/rebound` answers with Rebound's help message in the ack, as Rebound answers `/rebound help`:
both apps send the same bytes. Both talk to the local Slack stand-in; every request is freshly
signed, as Slack sends it; all traffic stays on 127.0.0.1. The two servers are measured at the
same time, each by its own `--concurrency` senders (its commands interleaved): a stall of the
shared machine then lands on both instead of on whichever target's batch was running, which
is what made the p99 ratio of batches sent one target after the other swing from run to run.
Sharing the machine does not hide a cost: with a fixed number of senders each, a server's
latency is its CPU per request over its share of the CPU, so a server that costs 10% more per
request is 10% slower beside the other as on its own. `--in-turns` measures the old way (one
target at a time, in alternating rounds), to compare.

    .venv/bin/python bench/ack_latency.py                 # 2,000 requests per target and command
    .venv/bin/python bench/ack_latency.py --quick         # 200, for a fast check
    .venv/bin/python bench/ack_latency.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line printed is `ack p99 ratio vs bare bolt: X.XX; time-to-modal p99 ratio: Y.YY`: X is
the worse of the per-command ack p99 ratios (Rebound / bare), Y the `/lost` time-to-modal p99
ratio. Before it, each server's CPU time per request (from /proc, Linux), steadier than p99 on a
shared machine. The exit code is 1 when any request failed (non-200 or no answer) or any modal
was not opened.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from testkit.databases import fresh_postgres
from testkit.live import start_listening
from testkit.simulator import SlackSender
from testkit.standin import RecordedCall, SlackStandIn, StandInUser

HOST = "127.0.0.1"
SERVER_THREADS = 8  # what `rebound serve` uses by default
SLACK_ACK_DEADLINE_MS = 3_000.0
REQUEST_TIMEOUT_S = 10.0  # longer than Slack's deadline, so a slow ack is measured, not cut
STARTUP_TIMEOUT_S = 60.0
WARMUP_REQUESTS = 50
COMMANDS: tuple[tuple[str, str], ...] = (("/rebound", "help"), ("/lost", "Acme renewal"))
MODAL_COMMANDS = frozenset({"/lost"})  # commands whose answer is a modal: time-to-modal too
MODAL_WAIT_S = 10.0  # after a batch's acks, how long its views.open calls may take to arrive
ACK, MODAL = "ack", "modal"
REBOUND = "rebound"
BARE = "bare bolt"
BENCH_USERS = (
    StandInUser(id="U0ADMIN", name="ada", real_name="Ada Admin", is_admin=True),
    StandInUser(id="U0REP1", name="leo", real_name="Leo Rep", tz="Europe/London"),
    StandInUser(id="U0REP2", name="priya", real_name="Priya Rep", tz="America/Los_Angeles"),
    StandInUser(id="U0MGR", name="maya", real_name="Maya Manager", tz="America/Chicago"),
)
# Transport failures (timeouts, resets) have no HTTP status; they are errors like a 500.
NO_ANSWER = 0


# ------------------------------------------------------------------------- the bare Bolt app


def burn_cpu(milliseconds: float) -> None:
    """Spend `milliseconds` of this thread's CPU time (a busy loop holding the GIL, as Python
    work does): `--bare-extra-cpu-ms` gives the bare app a known extra cost per request, to
    check that the measuring method sees a cost of that size."""
    end = time.thread_time() + milliseconds / 1000.0
    while time.thread_time() < end:
        pass


def run_bare_server(host: str, port: int, threads: int, extra_cpu_ms: float = 0.0) -> int:
    """A Bolt app behind the same WSGI wrapper and waitress as Rebound, written as a Bolt
    tutorial would: `/rebound` answers with Rebound's help message in the ack, `/lost` acks and
    opens Rebound's loss modal (both built by Rebound's own builders: the same bytes go out)."""
    from typing import Any

    from slack_bolt import Ack, App
    from slack_sdk import WebClient
    from sqlalchemy import create_engine

    from bot.blocks.debriefs import lost_modal
    from bot.blocks.help import help_message
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
        burn_cpu(extra_cpu_ms)
        ack(**help_message())

    @app.command("/lost")
    def lost_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        burn_cpu(extra_cpu_ms)
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=lost_modal(command["text"]))

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
    """Start `command`, wait for its "listening on" line, and return it with its port (the test
    kit's launcher, testkit.live.start_listening)."""
    process, port, output = start_listening(command, env, cwd, name=name, timeout=STARTUP_TIMEOUT_S)
    return ServerProcess(name, process, port, output)


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
    if not make_url(database_url).drivername.startswith("postgresql"):
        yield database_url  # another backend: used as given, not created or dropped
        return
    with fresh_postgres(database_url, prefix="rebound_bench") as url:
        yield url


# ------------------------------------------------------------------------- load


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere). Less noisy than
    latency on a shared machine: it is what each request costs, not how long it waited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # Fields 14 and 15 of proc(5) (utime, stime), counted after the ")" closing the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    status: int  # HTTP status, or NO_ANSWER
    elapsed_ms: float
    trigger_id: str = ""
    started: float = 0.0  # time.perf_counter() when the request was sent


@dataclass
class ModalSample:
    opened: bool  # the stand-in got an ok views.open for the command's trigger_id
    elapsed_ms: float  # sent -> views.open received; the wait given up after, when not opened


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
    return Sample(status, (time.perf_counter() - started) * 1000.0, fields["trigger_id"], started)


def modal_samples(standin: SlackStandIn, samples: Sequence[Sample]) -> list[ModalSample]:
    """For each command sent, when the stand-in received its views.open (the stand-in runs in
    this process, so its perf_counter stamps compare with the senders'). Waits up to
    MODAL_WAIT_S for stragglers, so one target's modals never spill into the next batch."""
    deadline = time.monotonic() + MODAL_WAIT_S
    found: dict[str, RecordedCall] = {}
    while True:
        for sample in samples:
            if sample.trigger_id not in found:
                opened = [
                    call
                    for call in standin.calls_with_trigger(sample.trigger_id)
                    if call.method == "views.open"
                ]
                if opened:
                    found[sample.trigger_id] = opened[0]
        if len(found) == len(samples) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    waited = time.perf_counter()
    result: list[ModalSample] = []
    for sample in samples:
        call = found.get(sample.trigger_id)
        if call is None:
            result.append(ModalSample(False, (waited - sample.started) * 1000.0))
        else:
            result.append(ModalSample(call.ok, (call.received - sample.started) * 1000.0))
    return result


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
    measure: str  # ACK or MODAL
    requests: int
    errors: int
    error_statuses: Counter[int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_deadline_share: float


def summarize(
    target: str, command: str, measure: str, samples: Sequence[Sample] | Sequence[ModalSample]
) -> Summary:
    # Every request counts in the timings, failed ones too: a slow 500 is still a slow answer.
    latencies = sorted(sample.elapsed_ms for sample in samples)
    failed: Counter[int] = Counter()
    for sample in samples:
        if isinstance(sample, ModalSample):
            if not sample.opened:
                failed[NO_ANSWER] += 1
        elif sample.status != 200:
            failed[sample.status] += 1
    over = sum(1 for value in latencies if value > SLACK_ACK_DEADLINE_MS)
    return Summary(
        target=target,
        command=command,
        measure=measure,
        requests=len(samples),
        errors=sum(failed.values()),
        error_statuses=failed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        over_deadline_share=over / len(latencies) if latencies else math.nan,
    )


@dataclass
class Measured:
    acks: dict[tuple[str, str], list[Sample]]
    modals: dict[tuple[str, str], list[ModalSample]]

    @classmethod
    def empty(cls, targets: Sequence[Target]) -> Measured:
        """No samples yet, for every target and command (and modal command)."""
        return cls(
            acks={(t.name, f"{c} {x}"): [] for t in targets for c, x in COMMANDS},
            modals={
                (t.name, f"{c} {x}"): []
                for t in targets
                for c, x in COMMANDS
                if c in MODAL_COMMANDS
            },
        )


def measure_together(
    standin: SlackStandIn,
    targets: Sequence[Target],
    requests: int,
    concurrency: int,
    rounds: int,
) -> Measured:
    """Warm up, then measure every target at the same time: each target has `concurrency`
    senders of its own, sending its commands interleaved (one queue per target, so a slower
    server never draws the other's senders to itself). Both servers are under the same load
    at the same moments, so a stall of the machine lands on both alike instead of on one
    target's batch: a p99 is the worst 1%, and one stall can fill it. The requests go in
    `rounds` slices only so the stand-in's recorded calls can be dropped between them."""
    measured = Measured.empty(targets)
    users = [user.id for user in BENCH_USERS]
    with contextlib.ExitStack() as pools:
        pool_of = {
            target.name: pools.enter_context(
                ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"slack-{i}")
            )
            for i, target in enumerate(targets)
        }
        for target in targets:
            for command, text in COMMANDS:
                run_batch(pool_of[target.name], target, command, text, WARMUP_REQUESTS)
        standin.clear_calls()
        for count in split_evenly(requests, rounds):
            sends: list[tuple[tuple[str, str], str, Future[Sample]]] = []
            for index in range(count):
                for command, text in COMMANDS:
                    for target in targets:
                        future = pool_of[target.name].submit(
                            send_one, target.sender, command, text, users[index % len(users)]
                        )
                        sends.append(((target.name, f"{command} {text}"), command, future))
            modal_sent: list[tuple[tuple[str, str], Sample]] = []
            for key, command, future in sends:
                sample = future.result()
                measured.acks[key].append(sample)
                if command in MODAL_COMMANDS:
                    modal_sent.append((key, sample))
            opened = modal_samples(standin, [sample for _, sample in modal_sent])
            for (key, _), modal in zip(modal_sent, opened, strict=True):
                measured.modals[key].append(modal)
            # The recorded calls are done with; dropping them keeps each look-up small.
            standin.clear_calls()
    return measured


def measure_in_turns(
    standin: SlackStandIn,
    targets: Sequence[Target],
    requests: int,
    concurrency: int,
    rounds: int,
) -> Measured:
    """The method until 2026-12-03 (`--in-turns`): warm up, then run `rounds` rounds; each
    round sends a slice to every target and command, one target at a time, the target order
    flipping each round (A B, B A, ...) so drifting machine noise hits both. Neither server
    shares the machine with the other while measured, but a stall lands on whichever target's
    batch is running, and one stall can fill a p99."""
    measured = Measured.empty(targets)

    def batch(
        target: Target, command: str, text: str, count: int
    ) -> tuple[list[Sample], list[ModalSample]]:
        sent = run_batch(pool, target, command, text, count)
        modals = modal_samples(standin, sent) if command in MODAL_COMMANDS else []
        # The recorded calls are done with; dropping them keeps each look-up small.
        standin.clear_calls()
        return sent, modals

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="slack") as pool:
        for target in targets:
            for command, text in COMMANDS:
                batch(target, command, text, WARMUP_REQUESTS)
        for round_index, count in enumerate(split_evenly(requests, rounds)):
            order = list(targets) if round_index % 2 == 0 else list(reversed(targets))
            for target in order:
                for command, text in COMMANDS:
                    sent, modals = batch(target, command, text, count)
                    key = (target.name, f"{command} {text}")
                    measured.acks[key].extend(sent)
                    if command in MODAL_COMMANDS:
                        measured.modals[key].extend(modals)
    return measured


# ------------------------------------------------------------------------- report


def format_table(summaries: Sequence[Summary]) -> list[str]:
    header = (
        f"{'target':<10} {'command':<20} {'measure':<7} {'requests':>8} {'errors':>6} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'>3 s':>6}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        lines.append(
            f"{s.target:<10} {s.command:<20} {s.measure:<7} {s.requests:>8} {s.errors:>6} "
            f"{s.p50_ms:>8.1f} {s.p99_ms:>8.1f} {s.max_ms:>8.1f} "
            f"{s.over_deadline_share * 100:>5.1f}%"
        )
    return lines


def p99_ratios(summaries: Sequence[Summary], measure: str) -> dict[str, float]:
    """Rebound's p99 over the bare app's, per command measured that way."""
    by_key = {(s.target, s.command): s for s in summaries if s.measure == measure}
    ratios: dict[str, float] = {}
    for command, text in COMMANDS:
        label = f"{command} {text}"
        if (REBOUND, label) not in by_key:
            continue
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
            "--bare-extra-cpu-ms",
            str(args.bare_extra_cpu_ms),
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
    method = (
        f"{args.concurrency} concurrent senders, targets in turns ({args.rounds} rounds)"
        if args.in_turns
        else f"{args.concurrency} concurrent senders per target, both targets at once "
        f"({args.rounds} slices)"
    )
    print(
        f"ack latency, {date.today().isoformat()}: {args.requests} requests per target and "
        f"command, {method}, database {backend}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    started = time.monotonic()
    cpu_before = {s.name: cpu_seconds(s.process.pid) for s in (rebound, bare)}
    measure = measure_in_turns if args.in_turns else measure_together
    measured = measure(standin, targets, args.requests, args.concurrency, args.rounds)
    cpu_after = {s.name: cpu_seconds(s.process.pid) for s in (rebound, bare)}
    elapsed = time.monotonic() - started

    summaries: list[Summary] = []
    for command, text in COMMANDS:
        label = f"{command} {text}"
        for target in targets:
            summaries.append(
                summarize(target.name, label, ACK, measured.acks[(target.name, label)])
            )
        if command in MODAL_COMMANDS:
            for target in targets:
                key = (target.name, label)
                summaries.append(summarize(target.name, label, MODAL, measured.modals[key]))
    for line in format_table(summaries):
        print(line)
    print(f"measured in {elapsed:.1f} s")
    sent = (args.requests + WARMUP_REQUESTS) * len(COMMANDS)
    cpu_ms: list[str] = []
    for name in (REBOUND, BARE):
        before, after = cpu_before[name], cpu_after[name]
        if before is not None and after is not None:
            cpu_ms.append(f"{name} {(after - before) / sent * 1000:.2f}")
    if cpu_ms:
        # Rebound's includes its scheduler's ticks: the real `rebound serve` runs them.
        print(f"server CPU ms per request (warm-up included): {', '.join(cpu_ms)}")
    failed = [s for s in summaries if s.errors]
    for s in failed:
        statuses = ", ".join(
            f"{'no answer' if status == NO_ANSWER else status} x{n}"
            for status, n in sorted(s.error_statuses.items())
        )
        print(f"errors: {s.target} {s.command} {s.measure}: {statuses}")
    if failed:
        for server in (rebound, bare):
            tail = "".join(server.output[-5:]).strip()
            if tail:
                print(f"last output of {server.name}:\n{tail}")
    ratios = p99_ratios(summaries, ACK)
    modal_ratios = p99_ratios(summaries, MODAL)
    for label, ratio in ratios.items():
        print(f"p99 ratio rebound/bare, {label}: {ratio:.2f}")
    for label, ratio in modal_ratios.items():
        print(f"time-to-modal p99 ratio rebound/bare, {label}: {ratio:.2f}")
    # The first half keeps its old wording: docs and scripts read `ack p99 ratio vs bare bolt`.
    print(
        f"ack p99 ratio vs bare bolt: {max(ratios.values()):.2f}; "
        f"time-to-modal p99 ratio: {max(modal_ratios.values()):.2f}",
        flush=True,
    )
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Slack ack latency of Rebound vs a bare Bolt app (local, 127.0.0.1 only)."
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2_000,
        help="measured requests per target and command (default 2000)",
    )
    parser.add_argument("--quick", action="store_true", help="200 requests: a fast check")
    parser.add_argument(
        "--in-turns",
        action="store_true",
        help="the method until 2026-12-03: one target at a time, in alternating rounds "
        "(a server never shares the machine with the other, but a stall lands on one target)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=50,
        help="requests in flight at once to each target (default 50)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="slices the requests are sent in (default 10)",
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
    parser.add_argument(
        "--bare-extra-cpu-ms",
        type=float,
        default=0.0,
        help="a check of the method: the bare app spends this much more CPU per request "
        "(before its ack), so the ratios should fall by about that share (default 0)",
    )
    # Internal: the bare Bolt server child process.
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=SERVER_THREADS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.bare_server:
        return run_bare_server(HOST, args.port, args.threads, args.bare_extra_cpu_ms)
    if args.quick:
        args.requests = 200
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1:
        print("--requests, --concurrency and --rounds must be at least 1", file=sys.stderr)
        return 2
    return run_benchmark(args)


if __name__ == "__main__":
    raise SystemExit(main())
