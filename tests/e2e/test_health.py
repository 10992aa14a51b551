"""/healthz follows the database: 200 while it answers, 503 during an outage, 200 again after."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from testkit.live import allow_postgres_connections, live_app
from testkit.standin import SlackStandIn
from tests.support.databases import fresh_database


def _health(base_url: str) -> int:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=10) as response:
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_healthz_is_503_while_postgresql_refuses_and_recovers_after(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    from tests.support.databases import postgres_admin_url

    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured")
    with fresh_database("postgresql", tmp_path) as url, live_app(standin, url, tmp_path) as app:
        assert _health(app.base_url) == 200
        database = make_url(url).database
        assert database
        allow_postgres_connections(admin_url, database, allowed=False)
        try:
            assert _health(app.base_url) == 503
        finally:
            allow_postgres_connections(admin_url, database, allowed=True)
        # The pool reconnects by itself once the database is back.
        deadline = time.monotonic() + 10
        while _health(app.base_url) != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _health(app.base_url) == 200


def test_readyz_needs_the_schema_at_this_builds_newest_migration(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    from storage.db import make_engine

    def ready(base_url: str) -> int:
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with fresh_database("sqlite", tmp_path) as url, live_app(standin, url, tmp_path) as app:
        assert ready(app.base_url) == 200
        engine = make_engine(url)
        with engine.begin() as connection:  # as if this build's newer migrations had not run
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
        engine.dispose()
        assert ready(app.base_url) == 503


def test_starting_with_a_working_token_cancels_a_pending_uninstall_deletion(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    """Single workspace: after `app_uninstalled`, an admin reinstalls and restarts Rebound with
    the new token; the data must then not be deleted when the grace period ends."""
    from sqlmodel import Session

    from storage import queries
    from storage.db import make_engine

    def uninstalled_at(url: str) -> object:
        engine = make_engine(url)
        with Session(engine) as session:
            workspace = queries.get_workspace(session=session, team_id=standin.team_id)
            value = workspace.uninstalled_at if workspace else "missing"
        engine.dispose()
        return value

    with fresh_database("sqlite", tmp_path) as url:
        with live_app(standin, url, tmp_path) as app:
            sender = app.sender(team_id=standin.team_id)
            reply = sender.send_event(sender.event_envelope({"type": "app_uninstalled"}))
            assert reply.status == 200
            deadline = time.monotonic() + 10
            while uninstalled_at(url) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert uninstalled_at(url) not in (None, "missing")
        with live_app(standin, url, tmp_path):
            assert uninstalled_at(url) is None
