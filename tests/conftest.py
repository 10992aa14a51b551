"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``REBOUND_TEST_POSTGRES_URL`` (``./test.sh`` sets it and starts the local
server when it is down). Each test gets a database of its own, so tests never see each other's
rows and can run in any order.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from testkit.standin import SlackStandIn
from tests.live import LiveApp, live_app, make_standin

POSTGRES_ENV = "REBOUND_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--at",
        default=None,
        metavar="INSTANT",
        help="run the tests with every clock at this ISO-8601 instant (time-machine; ticking)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dates: depends on the calendar; ./test.sh also runs it at fixed instants"
    )
    at = config.getoption("--at")
    if at is not None:
        # Before collection, so module-level "now"s are at the instant too. time-machine patches
        # every clock function; the app under test follows through testkit.clock's shared clock.
        import time_machine

        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None:
            raise pytest.UsageError(f"--at {at!r} needs a UTC offset (add Z or +00:00)")
        traveller = time_machine.travel(instant, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


# The modules whose tests depend on the calendar (goals and cycles, check-in weeks, reminders,
# retention, digests, streaks): ./test.sh runs them again at fixed instants with --at -m dates.
DATE_SENSITIVE_MODULES = frozenset(
    f"test_{name}.py"
    for name in (
        "checkins",
        "checkins_schedule",
        "dashboard",
        "debriefs_blocks",
        "debriefs_http",
        "debriefs_retry",
        "delivery",
        "domain",
        "goals",
        "home_blocks",
        "kudos_http",
        "kudos_units",
        "oauth_http",
        "privacy_http",
        "privacy_units",
        "clock",
    )
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in DATE_SENSITIVE_MODULES:
            item.add_marker(pytest.mark.dates)


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """Create an empty database of its own on `backend`, yield its URL, drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'rebound.db'}"
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set; CI must run the suite on PostgreSQL too")
        pytest.skip(f"{POSTGRES_ENV} not set (./test.sh sets it)")
    name = f"rebound_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of its own, on each backend."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rebound.db'}"


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    """The Slack stand-in, with a small team; shared by one test module."""
    server = make_standin()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApp]:
    """The real app as a `rebound serve` process, on each backend, for one test module."""
    folder = tmp_path_factory.mktemp(f"live-{request.param}")
    with fresh_database(request.param, folder) as url, live_app(standin, url, folder) as app:
        yield app
