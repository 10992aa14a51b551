"""A database of its own for each test, on SQLite and on PostgreSQL.

PostgreSQL comes from ``REBOUND_TEST_POSTGRES_URL`` (``./test.sh`` sets it and starts the local
server when it is down). Each test gets a database of its own, so tests never see each other's
rows and can run in any order.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.databases import fresh_postgres

POSTGRES_ENV = "REBOUND_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """Create an empty database of its own on `backend`, yield its URL, drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'rebound.db'}"
        return
    admin_url = postgres_admin_url()
    if admin_url is None:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set; CI must run the suite on PostgreSQL too")
        pytest.skip(f"{POSTGRES_ENV} not set (./test.sh sets it)")
    with fresh_postgres(admin_url) as url:
        yield url
