"""A PostgreSQL database of its own, created empty and dropped afterwards: for the tests (through
tests/support/databases.py, which adds SQLite and the skip when no server is configured) and the
benches, so runs never see each other's rows."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def fresh_postgres(admin_url: str, *, prefix: str = "rebound_t") -> Iterator[str]:
    """Create an empty database on the server of `admin_url`, yield its URL, drop it after (with
    FORCE: connections a crashed child left open must not keep it alive)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
