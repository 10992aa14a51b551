"""Shared fixtures (every database test runs on SQLite and on PostgreSQL, see
tests/support/databases.py), the layer markers (unit, integration, e2e: by folder) and the
`dates` marker with `--at`."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from testkit.live import LiveApp, live_app, make_standin
from testkit.standin import SlackStandIn
from tests.support.databases import BACKENDS, fresh_database
from tests.support.slack import SlackDriver


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
    # A module moved or renamed without this list would silently leave the fixed-instant runs.
    missing = sorted(m for m in DATE_SENSITIVE_MODULES if not (TESTS / m).is_file())
    if missing:
        raise pytest.UsageError(f"DATE_SENSITIVE_MODULES names missing files: {missing}")
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
# Paths under tests/ (pytest_configure refuses to run if one is missing).
DATE_SENSITIVE_MODULES = frozenset(
    {
        "e2e/test_checkins.py",
        "integration/test_checkins_schedule.py",
        "e2e/test_dashboard.py",
        "unit/test_debriefs_blocks.py",
        "unit/test_debriefs_modals.py",
        "unit/test_debriefs_ack.py",
        "e2e/test_debriefs_http.py",
        "e2e/test_debriefs_retry.py",
        "unit/test_domain.py",
        "unit/test_domain_resilience.py",
        "unit/test_domain_weeks.py",
        "e2e/test_goals.py",
        "e2e/test_goals_http.py",
        "e2e/test_goals_review.py",
        "unit/test_home_blocks.py",
        "e2e/test_kudos_http.py",
        "e2e/test_kudos_modal_http.py",
        "e2e/test_kudos_delivery_http.py",
        "e2e/test_kudos_digest_http.py",
        "unit/test_kudos_units.py",
        "e2e/test_oauth_http.py",
        "e2e/test_privacy_http.py",
        "e2e/test_privacy_forget_http.py",
        "e2e/test_privacy_retention_http.py",
        "integration/test_privacy_units.py",
        "e2e/test_clock.py",
    }
)
TESTS = Path(__file__).resolve().parent
# tests/<layer>/: unit (no server, no database), integration (use cases and storage on both
# databases, the stand-in, the wheel; no app process), e2e (the real `rebound` process or HTTP
# app against the stand-in). Each test is marked with its folder's layer: `-m unit`.
LAYERS = ("unit", "integration", "e2e")


def _under_tests(path: Path) -> Path | None:
    try:
        return path.resolve().relative_to(TESTS)
    except ValueError:
        return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip importing the layer folders a `-m` expression can never select (e.g. `-m unit`
    leaves tests/integration and tests/e2e unimported), so the unit run stays a few seconds.
    Only when the answer is certain: for every combination of the expression's other names."""
    relative = _under_tests(collection_path)
    if relative is None or len(relative.parts) != 1 or relative.parts[0] not in LAYERS:
        return None
    expression = config.getoption("markexpr")
    if not expression:
        return None
    layer = relative.parts[0]
    try:
        from _pytest.mark.expression import Expression

        compiled = Expression.compile(expression)
    except Exception:  # a private API: when it changes, collect everything (always correct)
        return None
    others = sorted(
        set(re.findall(r"[A-Za-z_][\w.:+-]*", expression)) - {"and", "or", "not", *LAYERS}
    )
    for values in itertools.product((False, True), repeat=len(others)):
        truth = dict(zip(others, values, strict=True))

        def matcher(name: str, /, truth: dict[str, bool] = truth, **kwargs: object) -> bool:
            return name == layer if name in LAYERS else truth.get(name, False)

        if compiled.evaluate(matcher):
            return None
    return True


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = _under_tests(item.path)
        if relative is None:
            continue
        if relative.as_posix() in DATE_SENSITIVE_MODULES:
            item.add_marker(pytest.mark.dates)
        if relative.parts[0] in LAYERS:
            item.add_marker(getattr(pytest.mark, relative.parts[0]))


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


@pytest.fixture
def slack(live: LiveApp, standin: SlackStandIn) -> Iterator[SlackDriver]:
    """The Slack driver for one test's own workspace (a new team id) on the module's live app,
    so the rows other tests leave in the shared database never change what a test sees."""
    driver = SlackDriver.for_app(live, standin, f"T{uuid.uuid4().hex[:10].upper()}")
    yield driver
    driver.close()
