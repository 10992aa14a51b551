"""A database outage while someone submits a modal: a clear error in the modal, nothing lost,
and the same submission works once the database is back (PostgreSQL: a real refused server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.standin import SlackStandIn
from storage.db import make_engine
from storage.models import Outcome
from tests.conftest import _postgres_admin_url, fresh_database
from tests.live import live_app
from tests.test_debriefs_http import lost_values
from tests.test_goals import goal_values

REP = "U0REP1"


def _allow_connections(admin_url: str, database: str, allowed: bool) -> None:
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


def test_a_loss_debrief_submitted_during_an_outage_is_kept_open_and_saved_after(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured")
    with fresh_database("postgresql", tmp_path) as url, live_app(standin, url, tmp_path) as app:
        database = make_url(url).database
        assert database
        sender = app.sender()
        seen = len(standin.calls)
        assert sender.slash_command("/lost", "Outage deal", user_id=REP).status == 200
        calls = standin.wait_for(
            lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
        )
        view = [c for c in calls[seen:] if c.method == "views.open"][0].response["view"]
        values = lost_values("Outage deal")

        _allow_connections(admin_url, database, allowed=False)
        try:
            reply = sender.view_submission(view, user_id=REP, values=values)
        finally:
            _allow_connections(admin_url, database, allowed=True)
        # The modal stays open with a clear, specific message; nothing the rep typed is lost.
        assert reply.status == 200, reply.body
        body = reply.json()
        assert body["response_action"] == "errors", body
        message = " ".join(body["errors"].values()).lower()
        assert "save" in message and "again" in message, body
        assert "traceback" not in reply.body.lower()

        # The database is back: the very same submission now saves, once.
        reply = sender.view_submission(view, user_id=REP, values=values)
        assert reply.status == 200
        assert not reply.body.strip() or reply.json().get("response_action") != "errors"
        engine = make_engine(url)
        with Session(engine) as session:
            rows = session.execute(select(Outcome).where(Outcome.deal == "Outage deal")).all()
        engine.dispose()
        assert len(rows) == 1


def test_a_goal_submitted_during_an_outage_keeps_the_modal_open(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from storage.models import Goal

    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured")
    with fresh_database("postgresql", tmp_path) as url, live_app(standin, url, tmp_path) as app:
        database = make_url(url).database
        assert database
        sender = app.sender()
        seen = len(standin.calls)
        assert sender.slash_command("/goal", "", user_id=REP).status == 200
        calls = standin.wait_for(
            lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
        )
        view = [c for c in calls[seen:] if c.method == "views.open"][0].response["view"]
        today = datetime.now(UTC).date()
        values = goal_values(
            start=(today - timedelta(days=5)).isoformat(),
            end=(today + timedelta(days=30)).isoformat(),
        )
        _allow_connections(admin_url, database, allowed=False)
        try:
            reply = sender.view_submission(view, user_id=REP, values=values)
        finally:
            _allow_connections(admin_url, database, allowed=True)
        assert reply.status == 200, reply.body
        body = reply.json()
        assert body["response_action"] == "errors", body
        assert "try save again" in " ".join(body["errors"].values()).lower()

        reply = sender.view_submission(view, user_id=REP, values=values)
        assert reply.status == 200
        assert not reply.body.strip() or reply.json().get("response_action") != "errors"
        engine = make_engine(url)
        with Session(engine) as session:
            goals = session.execute(select(Goal)).all()
        engine.dispose()
        assert len(goals) == 1


def test_checkin_answers_submitted_during_an_outage_keep_the_modal_open(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    from bot.simulator import state_value
    from storage.models import CheckInAnswer

    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured")
    with fresh_database("postgresql", tmp_path) as url, live_app(standin, url, tmp_path) as app:
        database = make_url(url).database
        assert database
        sender = app.sender()
        seen = len(standin.calls)
        assert sender.slash_command("/checkin", "", user_id=REP).status == 200
        calls = standin.wait_for(
            lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
        )
        view = [c for c in calls[seen:] if c.method == "views.open"][0].response["view"]
        first = next(
            b["block_id"]
            for b in view["blocks"]
            if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
        )
        values = {first: {"answer": state_value("plain_text_input", "Asked for the next step")}}

        _allow_connections(admin_url, database, allowed=False)
        try:
            reply = sender.view_submission(view, user_id=REP, values=values)
        finally:
            _allow_connections(admin_url, database, allowed=True)
        assert reply.status == 200, reply.body
        body = reply.json()
        assert body["response_action"] == "errors", body
        assert "try save again" in " ".join(body["errors"].values()).lower()

        reply = sender.view_submission(view, user_id=REP, values=values)
        assert reply.status == 200
        assert not reply.body.strip() or reply.json().get("response_action") != "errors"
        engine = make_engine(url)
        with Session(engine) as session:
            answers = session.execute(select(CheckInAnswer)).all()
        engine.dispose()
        assert len(answers) == 1
