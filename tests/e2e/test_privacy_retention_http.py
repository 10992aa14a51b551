"""Data rights over HTTP: reflection retention (the settings modal, then the scheduled job on
a FakeClock). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.app import Deps, build_ticker
from bot.clock import FakeClock
from bot.config import Settings
from storage.db import make_engine, make_session_factory
from storage.models import (
    CheckIn,
    Outcome,
    Reflection,
    Workspace,
)
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import SlackStandIn
from tests.support.factories import seed_person
from tests.support.privacy import ADMIN, db, new_team, new_user
from tests.support.settings_form import number_field, settings_form
from tests.support.standin_waits import first_call_since

__all__ = ["db"]  # the fixtures (tests/support/privacy.py)


# --- retention ----------------------------------------------------------------------------------


def _settings_values(retention: str | None) -> dict[str, dict[str, Any]]:
    return settings_form(
        recognition_channel={"value": state_value("channels_select", None)},
        reflection_retention=number_field(retention),
    )


def _open_settings(live: LiveApp, standin: SlackStandIn, team: str) -> dict[str, Any]:
    seen = len(standin.calls)
    live.sender(team).slash_command("/rebound", "settings", user_id=ADMIN)
    return first_call_since(standin, seen, "views.open").params["view"]


def test_retention_is_set_in_the_settings_modal(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    team = new_team()
    view = _open_settings(live, standin, team)
    block = {b.get("block_id"): b for b in view["blocks"]}["reflection_retention"]
    assert block["optional"] is True and "initial_value" not in block["element"]

    for bad in ("0", "abc", "99999"):
        reply = live.sender(team).view_submission(view, user_id=ADMIN, values=_settings_values(bad))
        assert reply.json()["response_action"] == "errors"
        assert "reflection_retention" in reply.json()["errors"]

    reply = live.sender(team).view_submission(view, user_id=ADMIN, values=_settings_values("30"))
    assert reply.status == 200 and "errors" not in (reply.body or "")
    db.expire_all()
    workspace = db.get(Workspace, team)
    assert workspace is not None and workspace.reflection_retention_days == 30
    reopened = _open_settings(live, standin, team)
    block = {b.get("block_id"): b for b in reopened["blocks"]}["reflection_retention"]
    assert block["element"]["initial_value"] == "30"

    # Emptied: keep reflections forever again.
    live.sender(team).view_submission(reopened, user_id=ADMIN, values=_settings_values(None))
    db.expire_all()
    workspace = db.get(Workspace, team)
    assert workspace is not None and workspace.reflection_retention_days is None


def test_retention_job_deletes_only_old_reflections_of_that_workspace(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    now = datetime.now(UTC)
    limited, unlimited = new_team(), new_team()
    rep = new_user(standin)
    db.add(Workspace(team_id=limited, reflection_retention_days=30))
    db.add(Workspace(team_id=unlimited))
    old = seed_person(db, limited, rep, "old", at=now - timedelta(days=40))
    recent = seed_person(db, limited, new_user(standin), "recent", at=now - timedelta(days=5))
    kept = seed_person(db, unlimited, rep, "kept", at=now - timedelta(days=400))
    db.commit()

    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_api_url=standin.url,
        database_url=live.database_url,
    )
    engine = make_engine(live.database_url)
    clock = FakeClock(now)
    deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
    ticker = build_ticker(deps)
    try:
        ticker.tick()
        db.expire_all()
        assert db.get(Reflection, old.reflection_id) is None
        assert db.get(Reflection, recent.reflection_id) is not None
        assert db.get(Reflection, kept.reflection_id) is not None
        # Only reflections go: the debrief itself and everything else stay.
        assert db.get(Outcome, old.outcome_id) is not None
        assert db.get(CheckIn, old.checkin_id) is not None

        clock.advance(days=26)
        ticker.tick()
        db.expire_all()
        assert db.get(Reflection, recent.reflection_id) is None
        assert db.get(Reflection, kept.reflection_id) is not None
        assert not [name for name, _ in ticker.failures if name.startswith("privacy")]
    finally:
        engine.dispose()
