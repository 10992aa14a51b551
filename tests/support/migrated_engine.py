"""The `engine` fixture of the integration tests that work through a session factory: the test's
own database (the `database_url` fixture, SQLite or PostgreSQL) migrated to head, and an engine
on it, disposed after the test. A module takes it with
`from tests.support.migrated_engine import engine` (and names it in its `__all__`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from storage.db import make_engine, upgrade


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
