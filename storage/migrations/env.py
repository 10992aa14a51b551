"""Alembic environment for Rebound.

Two ways in:
- ``storage.db.upgrade(url)`` passes an open connection in ``config.attributes["connection"]``
  (no alembic.ini needed at run time);
- developers run ``alembic -c storage/alembic.ini ...``; the URL then comes from
  ``sqlalchemy.url`` in that file or, when it is empty, from ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString

from storage.db import make_engine
from storage.models import UTCDateTime, metadata
from storage.oauth_store import oauth_metadata

config = context.config

# Only the command line configures logging; the app keeps its own logging set-up.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write the app's column types as plain SQLAlchemy types in generated migrations.

    Migrations then do not import sqlmodel or storage.models, whose code may change later.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    return False


def _target_metadata() -> list[MetaData]:
    """The app's tables and slack-sdk's OAuth tables (Alembic accepts a sequence)."""
    return [metadata, oauth_metadata()]


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_target_metadata(),
        # SQLite cannot ALTER most things in place; batch mode copies the table there and
        # emits plain ALTERs on PostgreSQL, so generated migrations run on both.
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _database_url() -> str:
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or "sqlite:///rebound.db"
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=_target_metadata(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_migrations(connection)
        return
    engine = make_engine(_database_url())
    try:
        with engine.begin() as connection:
            _run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
