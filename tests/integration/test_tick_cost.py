"""A scheduler tick reads what is due, not every installed workspace, on SQLite and PostgreSQL.

The tick's SQL is recorded with a SQLAlchemy event listener; the assertions are on what it
touched (no idle workspace's id in any statement's parameters, the same statements whatever the
number of idle workspaces) and on the Slack calls, never on time. The stored due times must
also follow every change they depend on, or a check-in or digest would be missed: the settings'
day and hour, a time zone read at last, a resumed pause.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert
from sqlmodel import col, select

from bot.app import Deps, build_ticker
from bot.clock import FakeClock
from bot.config import Settings
from bot.scheduler import Ticker
from storage import queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import CheckIn, Member, Workspace
from testkit.standin import SlackStandIn, StandInUser

MANAGER = "U0TCMGR"
REP = "U0TCREP"
USERS = (
    StandInUser(id=MANAGER, name="tess", real_name="Tess Manager", tz="Europe/London"),
    StandInUser(id=REP, name="rui", real_name="Rui Rep", tz="America/New_York"),
)
# Wednesday 25 Nov 2026, 12:00 UTC; check-ins default to Fridays at 14:00 local.
WEDNESDAY = datetime(2026, 11, 25, 12, tzinfo=UTC)


@dataclass
class World:
    engine: Engine
    session_factory: SessionFactory
    clock: FakeClock
    ticker: Ticker
    standin: SlackStandIn
    statements: list[tuple[str, Any]] = field(default_factory=list)
    recording: bool = False

    def tick_at(self, moment: datetime) -> list[Any]:
        """Tick once at ``moment``; the Slack calls it made."""
        self.clock.set(moment)
        start = len(self.standin.calls)
        self.ticker.tick()
        assert self.ticker.failures == []
        return [c for c in self.standin.calls[start:] if c.ok]

    def recorded_tick_at(self, moment: datetime) -> list[tuple[str, Any]]:
        """The SQL statements (text, parameters) one tick at ``moment`` ran."""
        self.statements.clear()
        self.recording = True
        try:
            self.tick_at(moment)
        finally:
            self.recording = False
        return list(self.statements)


@pytest.fixture
def world(database_url: str, standin: SlackStandIn) -> Iterator[World]:
    for user in USERS:
        standin.add_user(user)
    upgrade(database_url)
    engine = make_engine(database_url)
    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_api_url=standin.url,
        database_url=database_url,
        send_rate_per_second=500,
    )
    clock = FakeClock(WEDNESDAY)
    deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
    world = World(engine, deps.session_factory, clock, build_ticker(deps), standin)

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if world.recording:
            world.statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield world
    event.remove(engine, "before_cursor_execute", record)
    engine.dispose()


def add_idle_workspaces(world: World, count: int) -> list[str]:
    """Installed workspaces with a manager and two reps whose zones were read: nothing due
    on a Wednesday (their check-ins are on Fridays)."""
    prefix = "T" + uuid.uuid4().hex[:8].upper()
    teams = [f"{prefix}{index:04d}" for index in range(count)]
    read = WEDNESDAY - timedelta(days=1)
    with world.engine.begin() as connection:
        connection.execute(insert(Workspace.__table__), [{"team_id": t} for t in teams])  # type: ignore[attr-defined]
        connection.execute(
            insert(Member.__table__),  # type: ignore[attr-defined]
            [
                {
                    "team_id": team,
                    "user_id": user,
                    "tz": "Europe/Paris",
                    "tz_refreshed_at": read,
                    "is_manager": user == "UBOSS",
                    "manager_user_id": None if user == "UBOSS" else "UBOSS",
                    "is_bot": False,
                    "deleted": False,
                    "display_name": user,
                    "created_at": read,
                }
                for team in teams
                for user in ("UBOSS", "UREPA", "UREPB")
            ],
        )
    return teams


def mentions(statements: list[tuple[str, Any]], team_ids: list[str]) -> list[str]:
    """The statements whose parameters name one of ``team_ids``."""
    wanted = set(team_ids)
    found = []
    for statement, parameters in statements:
        groups = parameters if isinstance(parameters, list) else [parameters]
        for group in groups:
            values = group.values() if isinstance(group, dict) else group
            if any(isinstance(v, str) and v in wanted for v in values or ()):
                found.append(statement)
    return found


def shapes(statements: list[tuple[str, Any]]) -> list[str]:
    return [" ".join(statement.split()) for statement, _ in statements]


def test_an_idle_workspace_is_not_read_by_a_tick(world: World) -> None:
    few = add_idle_workspaces(world, 2)
    # The first tick after start-up (or the migration) works out every due time once.
    first = world.recorded_tick_at(WEDNESDAY)
    assert mentions(first, few), "the first tick looks at each workspace once"
    later = world.recorded_tick_at(WEDNESDAY + timedelta(minutes=1))
    assert mentions(later, few) == []
    # Twenty more idle workspaces: after their first look, the tick runs the same statements.
    many = add_idle_workspaces(world, 20)
    world.tick_at(WEDNESDAY + timedelta(minutes=2))
    again = world.recorded_tick_at(WEDNESDAY + timedelta(minutes=3))
    assert mentions(again, few + many) == []
    assert shapes(again) == shapes(later)


def test_idle_workspaces_get_their_check_ins_when_their_time_comes(world: World) -> None:
    teams = add_idle_workspaces(world, 3)
    world.tick_at(WEDNESDAY)
    # Friday 27 Nov, 14:00 in Paris = 13:00 UTC: every rep of every workspace is due.
    world.tick_at(datetime(2026, 11, 27, 12, 59, tzinfo=UTC))
    with world.session_factory() as session:
        assert session.exec(select(CheckIn).where(col(CheckIn.team_id).in_(teams))).all() == []
    world.tick_at(datetime(2026, 11, 27, 13, 0, tzinfo=UTC))
    with world.session_factory() as session:
        planned = session.exec(select(CheckIn).where(col(CheckIn.team_id).in_(teams))).all()
    assert sorted((c.team_id, c.user_id, c.week_key) for c in planned) == [
        (team, user, "2026-W48") for team in teams for user in ("UREPA", "UREPB")
    ]


def dm_of(user_id: str) -> str:
    """The person's DM with the app: the outbox sends to the conversation conversations.open
    gives, which the stand-in names "D" + the user id without its "U"."""
    return "D" + user_id[1:]


def checkin_dms(calls: list[Any], user_id: str) -> list[Any]:
    return [
        c
        for c in calls
        if c.method == "chat.postMessage"
        and c.conversation == dm_of(user_id)
        and str(c.params.get("text", "")).startswith("Your weekly check-in")
    ]


def team_with(world: World, **settings: Any) -> str:
    team_id = "T" + uuid.uuid4().hex[:10].upper()
    with world.session_factory() as session:
        queries.get_or_create_workspace(session=session, team_id=team_id)
        if settings:
            queries.update_workspace_settings(session=session, team_id=team_id, **settings)
        queries.set_reports(
            session=session, team_id=team_id, manager_user_id=MANAGER, report_user_ids=[REP]
        )
        session.commit()
    return team_id


def test_a_new_check_in_day_takes_effect_at_once(world: World) -> None:
    team_id = team_with(world)  # Fridays at 14:00
    world.tick_at(WEDNESDAY)  # reads the zones and stores Friday as the next look
    with world.session_factory() as session:
        rep = queries.get_member(session=session, team_id=team_id, user_id=REP)
        assert rep is not None and rep.next_checkin_at is not None
        queries.update_workspace_settings(
            session=session, team_id=team_id, checkin_weekday=3, checkin_hour=9
        )
        session.commit()
    # Thursday 26 Nov, 09:00 in New York = 14:00 UTC.
    assert checkin_dms(world.tick_at(datetime(2026, 11, 26, 13, 59, tzinfo=UTC)), REP) == []
    assert len(checkin_dms(world.tick_at(datetime(2026, 11, 26, 14, 0, tzinfo=UTC)), REP)) == 1


def test_a_zone_that_changes_moves_the_check_in(world: World) -> None:
    team_id = team_with(world)
    world.tick_at(WEDNESDAY)  # New York: Friday 14:00 EST = 19:00 UTC, stored
    with world.session_factory() as session:
        queries.upsert_member(session=session, team_id=team_id, user_id=REP, tz="Asia/Tokyo")
        session.commit()
    # Friday 27 Nov, 14:00 in Tokyo = 05:00 UTC.
    assert checkin_dms(world.tick_at(datetime(2026, 11, 27, 4, 59, tzinfo=UTC)), REP) == []
    assert len(checkin_dms(world.tick_at(datetime(2026, 11, 27, 5, 0, tzinfo=UTC)), REP)) == 1


def digests_to(calls: list[Any], user_id: str) -> list[Any]:
    return [c for c in calls if c.method == "chat.postMessage" and c.conversation == dm_of(user_id)]


def test_a_resumed_rep_makes_the_skipped_digest_due_again(world: World) -> None:
    """The manager's digest (Saturday 14:00 London) skips a week in which nobody was asked;
    a rep who resumes within the digest's window makes it due again, as it was before the
    digest time was stored."""
    team_id = team_with(world)
    with world.session_factory() as session:
        queries.upsert_member(
            session=session,
            team_id=team_id,
            user_id=REP,
            checkin_paused_until=datetime(2026, 12, 5, tzinfo=UTC),
        )
        session.commit()
    world.tick_at(WEDNESDAY)
    # Friday 14:00 in New York: the paused rep's week is recorded as skipped.
    assert checkin_dms(world.tick_at(datetime(2026, 11, 27, 19, 0, tzinfo=UTC)), REP) == []
    assert digests_to(world.tick_at(datetime(2026, 11, 28, 14, 0, tzinfo=UTC)), MANAGER) == []
    assert digests_to(world.tick_at(datetime(2026, 11, 28, 14, 1, tzinfo=UTC)), MANAGER) == []
    with world.session_factory() as session:
        queries.upsert_member(
            session=session, team_id=team_id, user_id=REP, checkin_paused_until=None
        )
        session.commit()
    digests = digests_to(world.tick_at(datetime(2026, 11, 28, 14, 5, tzinfo=UTC)), MANAGER)
    assert len(digests) == 1
