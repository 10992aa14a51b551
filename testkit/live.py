"""The test kit's launchers: the real `rebound serve` process on a test's clock, against the Slack
stand-in and its small team (`live_app`, `serve_process`); replicas of it behind a round-robin
front (`scale_out`); `rebound run` in Socket Mode (`socket_mode_app`); and `rebound tick`
processes (`start_tick`, `run_ticks`). For the e2e tests (tests/conftest.py's `live` fixture and
the modules that need more than one process) and the benches (which must not import tests/)."""

from __future__ import annotations

import http.client
import itertools
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from testkit.clock import SharedClock
from testkit.local_http import LocalHTTPServer
from testkit.simulator import Directory, SlackSender
from testkit.standin import SlackStandIn, StandInUser

TEAM_USERS = (
    StandInUser(
        id="U0ADMIN", name="ada", real_name="Ada Admin", tz="America/New_York", is_admin=True
    ),
    StandInUser(
        id="U0OWNER", name="olga", real_name="Olga Owner", tz="Europe/Berlin", is_owner=True
    ),
    StandInUser(id="U0CFGADMIN", name="cora", real_name="Cora Config", tz="Asia/Kolkata"),
    StandInUser(id="U0MGR", name="maya", real_name="Maya Manager", tz="America/Chicago"),
    StandInUser(id="U0REP1", name="leo", real_name="Leo Rep", tz="Europe/London"),
    StandInUser(id="U0REP2", name="priya", real_name="Priya Rep", tz="America/Los_Angeles"),
)
# Named in REBOUND_ADMINS without being a workspace admin in Slack.
CONFIGURED_ADMIN = "U0CFGADMIN"
_LISTENING = re.compile(r"listening on http://[^:]+:(\d+)")


def make_standin() -> SlackStandIn:
    standin = SlackStandIn().start()
    for user in TEAM_USERS:
        standin.add_user(user)
    standin.add_channel("C0WINS", "wins")
    standin.add_channel("C0GENERAL", "general")
    return standin


@dataclass
class LiveApp:
    """A `rebound serve` child process; its output is collected for failure messages."""

    process: subprocess.Popen[str]
    port: int
    signing_secret: str
    database_url: str
    # The app's "now": moving it moves the server's clock (see testkit.clock).
    clock: SharedClock
    output: list[str] = field(default_factory=list)
    # Resolves typed @names and #channels in slash commands, as Slack does (the stand-in).
    directory: Directory | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sender(
        self, team_id: str = "T0REBOUND", *, enterprise_id: str | None = None
    ) -> SlackSender:
        """Slack's side for `team_id` (a workspace of the Grid org `enterprise_id`, if given)."""
        return SlackSender(
            f"{self.base_url}/slack/events",
            self.signing_secret,
            team_id=team_id,
            directory=self.directory,
            response_origin=self.slack_origin,
            enterprise_id=enterprise_id,
        )

    @property
    def slack_origin(self) -> str | None:
        """The stand-in's origin (from SLACK_API_URL), where response_urls are served."""
        api_url = self.env.get("SLACK_API_URL") or ""
        return api_url.removesuffix("/").removesuffix("/api") or None

    def logs(self) -> str:
        return "".join(self.output[-200:])


def app_env(standin: SlackStandIn, database_url: str, signing_secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=standin.url,
        DATABASE_URL=database_url,
        REBOUND_ADMINS=CONFIGURED_ADMIN,
        LOG_LEVEL="WARNING",
        # Scheduled work is driven by the tests themselves, with a FakeClock (see Ticker).
        REBOUND_SCHEDULER="off",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def live_app(
    standin: SlackStandIn, database_url: str, workdir: Path, clock: SharedClock | None = None
) -> Iterator[LiveApp]:
    """Start `rebound serve --port 0` for one workspace, wait until it listens, stop it after."""
    secret = secrets.token_hex(16)
    with serve_process(app_env(standin, database_url, secret), workdir, secret, clock) as app:
        app.directory = standin
        yield app


def start_listening(
    command: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    *,
    name: str,
    timeout: float = 30,
) -> tuple[subprocess.Popen[str], int, list[str]]:
    """Start a server `command` that prints "listening on http://HOST:PORT" (as `rebound serve`
    does), wait for that line, and return the process, its port and its output so far (kept
    filling by a thread, so the pipe never blocks it). The tests' launcher and the benches'."""
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
    port_box: list[int] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = _LISTENING.search(line)
            if match and not port_box:
                port_box.append(int(match.group(1)))
                port_found.set()

    threading.Thread(target=pump, name=f"{name}-output", daemon=True).start()
    deadline = time.monotonic() + timeout
    while not port_found.wait(0.05):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=10)
            raise RuntimeError(f"{name} did not start:\n" + "".join(output))
    return process, port_box[0], output


@contextmanager
def serve_process(
    env: dict[str, str], workdir: Path, signing_secret: str, clock: SharedClock | None = None
) -> Iterator[LiveApp]:
    """Start `rebound serve --port 0` with `env` on the test's `clock` (a new one starting at the
    test's now unless given; replicas share one), wait until it listens, stop it afterwards."""
    if clock is None:
        clock = SharedClock(workdir / f"clock-{secrets.token_hex(4)}.json")
    command = [sys.executable, "-m", "testkit.clocked_cli", str(clock.path)]
    command += ["serve", "--host", "127.0.0.1", "--port", "0"]
    # cwd: no stray .env is read from the repository.
    process, port, output = start_listening(command, env, workdir, name="rebound serve")
    app = LiveApp(process, port, signing_secret, env["DATABASE_URL"], clock, output, env=env)
    try:
        yield app
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[str]) -> None:
    """Ask a child process to stop (SIGTERM: the app shuts down cleanly); kill it if it is still
    running 10 s later."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# The headers a Slack request is checked by: the front passes them on unchanged.
_FORWARDED_HEADERS = ("Content-Type", "X-Slack-Request-Timestamp", "X-Slack-Signature")


@dataclass
class RoundRobinFront:
    """A tiny threaded HTTP proxy on loopback, a load balancer's stand-in: each request goes to
    the next replica; `served_by` lists the replica port of each request, in order."""

    ports: list[int]
    served_by: list[int] = field(default_factory=list)
    _next: Iterator[int] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LocalHTTPServer | None = None

    def __post_init__(self) -> None:
        self._next = itertools.cycle(self.ports)

    def pick(self) -> int:
        with self._lock:
            port = next(self._next)
            self.served_by.append(port)
            return port

    def start(self) -> int:
        """Listen on a free loopback port (returned), forwarding POSTs until `stop`."""
        front = self

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {h: self.headers[h] for h in _FORWARDED_HEADERS if self.headers[h]}
                connection = http.client.HTTPConnection("127.0.0.1", front.pick(), timeout=10)
                try:
                    connection.request("POST", self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.getheader("Content-Type") or "")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                finally:
                    connection.close()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = LocalHTTPServer(("127.0.0.1", 0), Forward)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def serve_replicas(
    standin: SlackStandIn,
    database_url: str,
    workdir: Path,
    count: int,
    clock: SharedClock | None = None,
) -> Iterator[list[LiveApp]]:
    """`count` `rebound serve` replicas on one database with one signing secret, started one
    after the other (each migrates the database before it listens); on one shared `clock` when
    given."""
    secret = secrets.token_hex(16)
    with ExitStack() as stack:
        apps = [
            stack.enter_context(
                serve_process(app_env(standin, database_url, secret), workdir, secret, clock)
            )
            for _ in range(count)
        ]
        for app in apps:
            app.directory = standin
        yield apps


@dataclass
class ScaleOut:
    """Replicas behind a round-robin front; `app` is the front as Slack sees the app (requests
    to it are signed with the replicas' shared secret)."""

    front: RoundRobinFront
    app: LiveApp
    replicas: list[LiveApp]


@contextmanager
def scale_out(
    standin: SlackStandIn, database_url: str, workdir: Path, count: int = 3
) -> Iterator[ScaleOut]:
    """`count` replicas on one "now" (a shared clock) behind a round-robin front."""
    clock = SharedClock(workdir / "clock.json")
    with serve_replicas(standin, database_url, workdir, count, clock) as apps:
        front = RoundRobinFront([r.port for r in apps])
        port = front.start()
        try:
            first = apps[0]
            front_app = LiveApp(
                first.process,
                port,
                first.signing_secret,
                database_url,
                clock,
                directory=standin,
                env=first.env,
            )
            yield ScaleOut(front, front_app, apps)
        finally:
            front.stop()


# Socket Mode's app-level token (xapp-…), which the stand-in accepts for apps.connections.open.
APP_TOKEN = "xapp-1-A0REBOUND-1-standin"


@dataclass
class SocketModeApp:
    """A `rebound run` child process; its output is kept for failure messages."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def logs(self) -> str:
        return "".join(self.output[-200:])


def socket_mode_env(standin: SlackStandIn, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=standin.url,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def socket_mode_app(
    standin: SlackStandIn, database_url: str, workdir: Path, *, timeout: float = 30
) -> Iterator[SocketModeApp]:
    """Start `rebound run`, wait until its WebSocket is connected, stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=workdir,  # no stray .env is read from the repository
        env=socket_mode_env(standin, database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app = SocketModeApp(process)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            app.output.append(line)

    threading.Thread(target=pump, name="rebound-run-output", daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        while standin.socket_connection_count == 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rebound run did not connect:\n" + app.logs())
            time.sleep(0.05)
        yield app
    finally:
        stop_process(process)


def start_tick(env: dict[str, str], at: datetime, cwd: Path) -> subprocess.Popen[str]:
    """Start one `rebound tick --at <at>` (as cron would, at the app's time `at`); its output
    (stdout and stderr) is read from the returned process."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "tick", "--at", at.isoformat()],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_ticks(
    env: dict[str, str], at: datetime, cwd: Path, count: int, timeout: float = 120
) -> list[tuple[int, str]]:
    """`count` `rebound tick --at <at>` processes at once (replicas' cron firing together);
    waits for them all, and returns each one's exit code and output."""
    processes = [start_tick(env, at, cwd) for _ in range(count)]
    outputs = [p.communicate(timeout=timeout)[0] for p in processes]
    return [(p.returncode, output) for p, output in zip(processes, outputs, strict=True)]


def allow_postgres_connections(admin_url: str, database: str, allowed: bool) -> None:
    """Simulate a PostgreSQL outage for one database: refuse new connections and end the
    open ones (allowed=False), or let connections in again (allowed=True)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        )
        if not allowed:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
    admin.dispose()
