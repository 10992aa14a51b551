"""The fixtures of the upgrade tests (rows the code before the outbox left behind, sent once
after the upgrade): a fresh stand-in per test, and the migrated database with the scheduler's
ticker over it, on the clock the seeded rows are dated by; and the workspace the old rows
belong to (`add_workspace_with_wins`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

import pytest
from sqlmodel import Session

from bot.app import Deps, build_ticker
from bot.clock import FakeClock
from bot.config import Settings
from bot.scheduler import Ticker
from storage import queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from testkit.live import make_standin
from testkit.standin import SlackStandIn

# Any instant: nothing in the upgrade tests depends on the calendar; the ticker runs on it.
UPGRADE_AT = datetime(2026, 11, 27, 12, tzinfo=UTC)


class UpgradeWorld(NamedTuple):
    session_factory: SessionFactory
    ticker: Ticker


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    """A stand-in of the test's own: what the upgrade sends is all it records."""
    server = make_standin()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def world(database_url: str, standin: SlackStandIn) -> Iterator[UpgradeWorld]:
    """The database upgraded to head, and the ticker (every job, then the outbox dispatch)
    that sends to `standin`, at UPGRADE_AT."""
    upgrade(database_url)
    engine = make_engine(database_url)
    session_factory = make_session_factory(engine)
    settings = Settings(
        slack_bot_token=standin.bot_token, slack_api_url=standin.url, database_url=database_url
    )
    deps = Deps(settings=settings, session_factory=session_factory, clock=FakeClock(UPGRADE_AT))
    try:
        yield UpgradeWorld(session_factory, build_ticker(deps))
    finally:
        engine.dispose()


def add_workspace_with_wins(session: Session, team_id: str) -> None:
    """A workspace whose recognition channel is #wins (C0WINS), where the old code posted."""
    queries.get_or_create_workspace(session=session, team_id=team_id)
    queries.update_workspace_settings(
        session=session, team_id=team_id, recognition_channel_id="C0WINS"
    )
