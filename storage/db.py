"""The one place that builds database engines and sessions, and runs migrations.

Nothing here runs at import time: the app calls ``make_engine(url)`` once at start-up,
``upgrade(url)`` to bring the schema to the newest migration, and hands
``make_session_factory(engine)`` to the code that needs sessions (one session per request
or job; sessions are not shared between threads).

The same code runs on SQLite (the default, a file next to the app) and PostgreSQL
(``postgresql+psycopg://...`` in production).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from storage import due_times

SessionFactory = Callable[[], Session]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant works; it only has to be the same for every replica running migrations.
_MIGRATION_LOCK_KEY = 0x5EB0_0DD


def normalize_database_url(url: str) -> str:
    """Rewrite the URL forms hosting providers hand out to the driver Rebound ships (psycopg 3).

    ``postgres://`` (Heroku and friends) and plain ``postgresql://`` (which SQLAlchemy would
    map to psycopg2, not installed) both become ``postgresql+psycopg://``.
    """
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _is_sqlite_memory(url: str) -> bool:
    database = make_url(url).database
    return database in (None, "", ":memory:") or "mode=memory" in url


class _OneAtATimePool(StaticPool):
    """StaticPool's one connection, lent to one holder at a time: a ``:memory:`` database is
    that one connection, and two threads (the dispatcher's, a request's) using it at once would
    interleave their transactions on it — one's commit committing the other's half-done work.
    A second checkout waits until the first is returned (a re-entrant lock: one thread that
    opens a session inside another's shares the connection as before)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holder = threading.RLock()

    def _do_get(self) -> Any:
        self._holder.acquire()
        try:
            return super()._do_get()
        except BaseException:
            self._holder.release()
            raise

    def _do_return_conn(self, record: Any) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self._holder.release()


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers carry on while one writer writes; busy_timeout makes a second
        # writer wait for the lock instead of failing at once; SQLite leaves foreign keys
        # off unless asked on every connection.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """Build the engine for ``url`` with the settings each backend needs."""
    url = normalize_database_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if _is_sqlite_memory(url):
            # Every connection to ":memory:" is a new, empty database: share one connection,
            # one holder at a time (tests and scripts; `rebound serve` refuses such a URL).
            kwargs["poolclass"] = _OneAtATimePool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    # Replicas sit idle between scheduler ticks; drop connections the server has closed.
    # connect_timeout: an unreachable server fails fast (a pre-ack write, /healthz) instead of
    # hanging past Slack's 3 seconds.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 3})


def make_session_factory(engine: Engine) -> SessionFactory:
    """A callable that opens a new session on ``engine`` each time it is called.

    ``expire_on_commit=False`` keeps loaded rows readable after the caller commits (handlers
    commit, then build Slack messages from the same objects).
    """

    # Writes that move a due time clear the stored one (see storage.due_times).
    due_times.install()

    def new_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return new_session


def ping(engine: Engine) -> bool:
    """True when the database answers ``SELECT 1`` (for ``/healthz``)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at ``storage/migrations`` wherever the package is installed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates "%": escape it (URL-encoded passwords contain it).
    config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision id (several heads, while branches await a merge, are
    joined with commas)."""
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if not heads:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return ",".join(sorted(heads))


def upgrade(url: str, revision: str = "heads") -> None:
    """Migrate the database at ``url`` to ``revision`` (a no-op when it is already there).

    Safe to call from every replica at start-up: on PostgreSQL the migration runs under an
    advisory lock, so a second replica waits and then finds nothing to do.
    """
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None before any migration ran."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
            return ",".join(sorted(heads)) if heads else None
    finally:
        engine.dispose()
