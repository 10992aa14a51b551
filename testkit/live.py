"""The test kit's launcher: the real `rebound serve` process on a test's clock, against the Slack
stand-in and its small team, for the e2e tests (through tests/conftest.py's `live` fixture) and
the benches (which must not import tests/)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from testkit.clock import SharedClock
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
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
