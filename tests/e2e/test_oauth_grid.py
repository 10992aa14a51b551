"""A workspace of an Enterprise Grid org on `rebound serve` (OAuth mode), on SQLite and
PostgreSQL: installed through the OAuth flow (Slack answers `enterprise: {id, name}` with the
team), then every request carries the org's id, and installations are stored per (enterprise,
team). The workspace gets its debriefs answered and, on schedule, its check-ins.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_ticker
from bot.clock import FakeClock
from bot.domain import next_checkin_at
from storage import queries
from storage.models import Workspace
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.databases import BACKENDS
from tests.support.factories import _lose
from tests.support.slack import (
    DM,
    GRID_ORG,
    GRID_ORG_NAME,
    MANAGER,
    REP1,
    WINS,
    SlackDriver,
    oauth_driver,
)

GRID_TEAM = "T0GRIDSALES"


@pytest.fixture(scope="module", params=BACKENDS)
def grid(
    request: pytest.FixtureRequest, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SlackDriver]:
    folder: Path = tmp_path_factory.mktemp(f"grid-{request.param}")
    standin.add_team(GRID_TEAM, "Grid Sales", enterprise_id=GRID_ORG, enterprise_name=GRID_ORG_NAME)
    with oauth_driver(standin, request.param, folder, GRID_TEAM, enterprise_id=GRID_ORG) as driver:
        yield driver


def _team_of(call: RecordedCall) -> str | None:
    parts = (call.token or "").split("-")
    return parts[1] if len(parts) > 2 and parts[0] == "xoxb" else None


def test_a_grid_install_is_stored_under_its_org_and_workspace(grid: SlackDriver) -> None:
    rows = grid.rows(
        "SELECT enterprise_id, is_enterprise_install FROM slack_installations WHERE team_id = :t",
        t=GRID_TEAM,
    )
    assert rows and {(r[0], bool(r[1])) for r in rows} == {(GRID_ORG, False)}
    assert grid.rows("SELECT enterprise_id FROM slack_bots WHERE team_id = :t", t=GRID_TEAM) == [
        (GRID_ORG,)
    ]
    slack = grid.workspace(GRID_TEAM)
    for session in slack.db():
        workspace = session.get(Workspace, GRID_TEAM)
        assert workspace is not None and workspace.enterprise_id == GRID_ORG


def test_a_grid_workspace_gets_its_debrief_and_its_scheduled_checkin(grid: SlackDriver) -> None:
    standin = grid.standin
    slack = grid.workspace(GRID_TEAM)
    slack.setup(channel=WINS)

    # A debrief: /lost opens the modal, the submission is saved, the rep hears in a DM, each
    # call made with the Grid workspace's own token.
    seen = slack.mark()
    deal = f"Grid renewal {uuid.uuid4().hex[:6]}"
    dm, outcome = _lose(slack, REP1, deal)
    assert outcome.team_id == GRID_TEAM
    assert dm.conversation == DM[REP1]
    assert {_team_of(c) for c in standin.calls[seen:] if c.method in ("views.open",)} == {GRID_TEAM}
    assert _team_of(dm) == GRID_TEAM

    # A scheduled check-in: a rep of this test only, due at this week's check-in time.
    rep = "U0GRIDREP"
    standin.add_user(StandInUser(id=rep, name="gwen", real_name="Gwen Grid", tz="Europe/London"))
    for session in slack.db():
        queries.set_reports(
            session=session, team_id=GRID_TEAM, manager_user_id=MANAGER, report_user_ids=[rep]
        )
        session.commit()
    due = next_checkin_at(datetime.now(UTC), "Europe/London", 4, 14)
    clock = FakeClock(due - timedelta(hours=1))
    deps = grid.deps(clock)
    ticker = build_ticker(deps)
    ticker.tick()  # reads the rep's time zone
    seen = slack.mark()
    clock.set(due)
    ticker.tick()
    ticker.tick()
    assert ticker.failures == []
    checkins = [
        c
        for c in standin.calls[seen:]
        # The outbox posts in the rep's DM (the stand-in's D + the id without U).
        if c.method == "chat.postMessage" and c.ok and c.conversation == "D" + rep[1:]
    ]
    assert len(checkins) == 1, [(c.method, c.response.get("error")) for c in standin.calls[seen:]]
    assert _team_of(checkins[0]) == GRID_TEAM
    assert any(b["type"] == "actions" for b in checkins[0].params["blocks"])


INSTALLER, OTHER_ADMIN, BOT_USER = "U0ADMIN", "U0OWNER", "U0REBOUNDBOT"


@pytest.mark.parametrize(
    "tokens",
    [
        # Slack's documented shape: both kinds revoked at once.
        {"oauth": [INSTALLER], "bot": [BOT_USER]},
        # Someone else's user token with the bot token: the installer's row held the bot token.
        {"oauth": [OTHER_ADMIN], "bot": [BOT_USER]},
        {"bot": [BOT_USER]},
    ],
    ids=["installer-and-bot", "other-user-and-bot", "bot-only"],
)
def test_a_revoked_bot_token_removes_the_grid_installation(
    grid: SlackDriver, tokens: dict[str, list[str]]
) -> None:
    standin = grid.standin
    team_id = f"T0G{uuid.uuid4().hex[:8].upper()}"
    standin.add_team(team_id, f"Grid {team_id}", enterprise_id=GRID_ORG)
    grid.install(team_id)
    slack = grid.workspace(team_id)
    seen = slack.mark()
    assert slack.sender.app_home_opened(REP1).status == 200
    slack.wait(seen, "views.publish", user_id=REP1)  # installed and answering

    reply = slack.sender.tokens_revoked(oauth=tokens.get("oauth"), bot=tokens.get("bot"))
    assert reply.status == 200
    deadline = time.monotonic() + 5
    while grid.rows(
        "SELECT 1 FROM slack_installations WHERE team_id = :t UNION ALL"
        " SELECT 1 FROM slack_bots WHERE team_id = :t",
        t=team_id,
    ):
        assert time.monotonic() < deadline, "the revoked bot token is still stored"
        time.sleep(0.05)

    # Neither requests nor scheduled sends find a token any more.
    deps = grid.deps(FakeClock(datetime.now(UTC)))
    assert deps.oauth is not None and deps.oauth.bot_token_for(team_id) is None
    seen = slack.mark()
    assert slack.sender.app_home_opened(REP1).status == 200
    time.sleep(0.5)
    assert slack.since(seen, "views.publish") == []
    # The workspace's data stays (only app_uninstalled starts the deletion grace period).
    for session in slack.db():
        workspace = session.get(Workspace, team_id)
        assert workspace is not None and workspace.uninstalled_at is None


def test_a_grid_workspace_whose_row_was_deleted_is_still_found_by_its_installation(
    database_url: str,
) -> None:
    # /rebound delete-workspace-data keeps the installation but deletes the workspace row (and
    # the org id it held); the bot token must still be found under (enterprise, team).
    from sqlalchemy import text as sql

    from storage import oauth_queries
    from storage.db import make_engine, make_session_factory, upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sql(
                    "INSERT INTO slack_installations (client_id, app_id, enterprise_id, team_id,"
                    " user_id, is_enterprise_install, installed_at)"
                    " VALUES ('1.2', 'A1', 'E0ORG', 'T0GONE', 'U1', false, :at)"
                ),
                {"at": datetime.now(UTC) - timedelta(days=3)},
            )
        with make_session_factory(engine)() as session:
            assert oauth_queries.enterprise_of(session=session, team_id="T0GONE") == "E0ORG"
            assert oauth_queries.enterprise_of(session=session, team_id="T0NEVER") is None
    finally:
        engine.dispose()
