"""The Slack drivers of the tests, side by side: send as Slack would (slash commands, clicks,
modal submissions, events) and read what the stand-in received.

- `StandInCalls`: the reading part they share (mark, wait for a method's calls, settle).
- `Slack`: one test's workspace on the live `rebound serve` (most e2e tests); `GridSlack` the
  same for a workspace of an Enterprise Grid org.
- `OAuthLive`: `rebound serve` in OAuth mode with workspaces installed (`alpha_and_beta_installed`);
  `Workspaces`: Alpha and Beta on it, each call naming its workspace (e2e/test_oauth_isolation.py).
- `Team`: a workspace with a recognition channel of its own (e2e/test_kudos_http.py).
- `Ctx`: a forger's clicks and submissions (e2e/test_forged_interactions.py).
- `World`: the scheduler alone on an injected clock, no server
  (integration/test_checkins_schedule.py).

Plus the team of testkit/live.py by role (manager, reps, their DMs, the wins channel).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import Session, col, select

from bot.app import Deps, build_ticker, make_web_client
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import PRACTICES
from bot.oauth import build_oauth
from bot.scheduler import Ticker
from storage import queries
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import (
    Kudos,
    OutboxMessage,
    Outcome,
    Reflection,
)
from testkit.live import CONFIGURED_ADMIN, LiveApp
from testkit.simulator import HttpReply, SlackSender
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.databases import fresh_database
from tests.support.oauth_live import CLIENT_ID, CLIENT_SECRET, install, oauth_app

if TYPE_CHECKING:  # factories import this module; Ctx only names the type
    from tests.support.factories import Seeded

MANAGER, REP1, REP2, ADMIN = "U0MGR", "U0REP1", "U0REP2", "U0ADMIN"
DM = {REP1: "D0REP1", REP2: "D0REP2", MANAGER: "D0MGR", ADMIN: "D0ADMIN"}
WINS = "C0WINS"
ALL_PRACTICES = list(PRACTICES)


class StandInCalls:
    """Reading what the stand-in received, for the drivers below: a mark before an action, then
    the successful calls of a method since it (waiting until `count` have arrived)."""

    standin: SlackStandIn
    # How long a wait lasts before it fails with the stand-in's summary of the calls it saw.
    wait_timeout: float = 10

    def mark(self) -> int:
        return len(self.standin.calls)

    def wait(self, seen: int, method: str, count: int = 1, **params: str) -> list[RecordedCall]:
        def matching(calls: list[RecordedCall]) -> list[RecordedCall]:
            return [
                c
                for c in calls[seen:]
                if c.method == method
                and c.ok
                and all(c.params.get(k) == v for k, v in params.items())
            ]

        self.standin.wait_for(
            lambda calls: len(matching(calls)) >= count, timeout=self.wait_timeout
        )
        return matching(self.standin.calls)

    def settle(self) -> None:
        """Wait (at most 5 s) until the server has made no Slack call for half a second: its
        work after the ack is done, so "nothing was sent" means nothing."""
        deadline = time.monotonic() + 5
        count, quiet_since = len(self.standin.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now_count = len(self.standin.calls)
            if now_count != count:
                count, quiet_since = now_count, time.monotonic()
            elif time.monotonic() - quiet_since >= 0.5:
                return


@dataclass
class Slack(StandInCalls):
    """One test's workspace: sends as Slack would, and reads what Slack received."""

    live: LiveApp
    standin: SlackStandIn
    team_id: str

    @property
    def sender(self) -> SlackSender:
        return self.live.sender(team_id=self.team_id)

    def since(self, seen: int, method: str, **params: str) -> list[RecordedCall]:
        return [
            c
            for c in self.standin.calls[seen:]
            if c.method == method and c.ok and all(c.params.get(k) == v for k, v in params.items())
        ]

    def posts_about(self, seen: int, words: str, **params: str) -> list[RecordedCall]:
        """Messages posted since `seen` that mention `words` (a deal of this test's)."""
        return [c for c in self.since(seen, "chat.postMessage", **params) if words in _text(c)]

    def post_log(self) -> list[OutboxMessage]:
        """What the bot posted (or is posting) in this test's workspace, by post key: its
        outbox rows that are in Slack or on their way (not those waiting or failed)."""
        for session in self.db():
            statement = select(OutboxMessage).where(
                OutboxMessage.team_id == self.team_id,
                col(OutboxMessage.state).in_(("sending", "sent")),
            )
            return list(session.exec(statement.order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]
        return []

    def open_modal(self, command: str, text: str, user_id: str) -> dict[str, Any]:
        seen = self.mark()
        reply = self.sender.slash_command(command, text, user_id=user_id)
        assert reply.status == 200
        opened = self.wait(seen, "views.open")
        assert len(opened) == 1
        return opened[0].response["view"]

    def submit(self, view: dict[str, Any], user_id: str, values: dict[str, Any]) -> HttpReply:
        reply = self.sender.view_submission(view, user_id=user_id, values=values)
        assert reply.status == 200, reply.body
        return reply

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        message: RecordedCall | None = None,
        response_url: str | None = None,
    ) -> HttpReply:
        posted = None
        channel = None
        if message is not None:
            posted = {**message.response["message"], "channel": message.response["channel"]}
            channel = message.response["channel"]
        reply = self.sender.block_actions(
            user_id=user_id,
            actions=[{"action_id": action_id, "value": value}],
            message=posted,
            channel_id=channel,
            response_url=response_url,
        )
        assert reply.status == 200
        return reply

    def db(self) -> Iterator[Session]:
        engine = make_engine(self.live.database_url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()

    def outcomes(self) -> list[Outcome]:
        for session in self.db():
            statement = select(Outcome).where(Outcome.team_id == self.team_id)
            return list(session.exec(statement.order_by(Outcome.id)).all())  # type: ignore[arg-type]
        return []

    def reflections(self) -> list[Reflection]:
        for session in self.db():
            statement = select(Reflection).where(Reflection.team_id == self.team_id)
            return list(session.exec(statement.order_by(Reflection.id)).all())  # type: ignore[arg-type]
        return []

    def setup(self, *, channel: str | None = WINS, threshold: float = 0.8) -> None:
        for session in self.db():
            queries.get_or_create_workspace(session=session, team_id=self.team_id)
            queries.update_workspace_settings(
                session=session,
                team_id=self.team_id,
                recognition_channel_id=channel,
                strong_process_threshold=threshold,
            )
            queries.set_reports(
                session=session,
                team_id=self.team_id,
                manager_user_id=MANAGER,
                report_user_ids=[REP1, REP2],
            )
            session.commit()

    def set_channel(self, channel: str) -> None:
        for session in self.db():
            queries.update_workspace_settings(
                session=session, team_id=self.team_id, recognition_channel_id=channel
            )
            session.commit()

    def ticker(self, clock: FakeClock) -> Any:
        settings = Settings(
            slack_bot_token=self.standin.bot_token,
            slack_api_url=self.standin.url,
            database_url=self.live.database_url,
        )
        engine = make_engine(self.live.database_url)
        deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
        return build_ticker(deps), engine


def _text(call: RecordedCall) -> str:
    return json.dumps(call.params.get("blocks") or []) + (call.params.get("text") or "")


GRID_ORG, GRID_ORG_NAME = "E0STARSHIP", "Starship Org"


@dataclass
class GridSlack(Slack):
    """The driver above, for a workspace of an Enterprise Grid org (requests name the org)."""

    enterprise_id: str = GRID_ORG

    @property
    def sender(self) -> SlackSender:
        return self.live.sender(team_id=self.team_id, enterprise_id=self.enterprise_id)


ALPHA, BETA = "T0ALPHA", "T0BETA"


class OAuthLive:
    def __init__(self, app: LiveApp, standin: SlackStandIn, key: str) -> None:
        self.app = app
        self.standin = standin
        self.key = key

    def slack(self, team_id: str) -> Slack:
        return Slack(self.app, self.standin, team_id)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        engine = make_engine(self.app.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def deps(self, clock: FakeClock) -> tuple[Deps, Any]:
        settings = Settings(
            slack_signing_secret=self.app.signing_secret,
            slack_api_url=self.standin.url,
            database_url=self.app.database_url,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            encryption_key=self.key,
        )
        engine = make_engine(self.app.database_url)
        client = make_web_client(settings)
        session_factory = make_session_factory(engine)
        deps = Deps(
            settings=settings,
            session_factory=session_factory,
            clock=clock,
            oauth=build_oauth(settings, engine, client, session_factory=session_factory),
        )
        return deps, engine


@contextmanager
def alpha_and_beta_installed(
    standin: SlackStandIn, backend: str, folder: Path
) -> Iterator[OAuthLive]:
    """`rebound serve` in OAuth mode on a fresh `backend` database, with the workspaces Alpha
    and Beta installed through the OAuth flow."""
    standin.add_team(ALPHA, "Alpha Sales")
    standin.add_team(BETA, "Beta Sales")
    key = Fernet.generate_key().decode()
    with fresh_database(backend, folder) as url, oauth_app(standin, url, folder, key) as app:
        install(app, ALPHA)
        install(app, BETA)
        yield OAuthLive(app, standin, key)


TZ = "Europe/London"


class Workspaces(StandInCalls):
    """Alpha and Beta on one live server: send as Slack would, read what Slack received."""

    wait_timeout = 15

    def __init__(self, live: OAuthLive) -> None:
        self.app = live.app
        self.standin: SlackStandIn = live.standin

    def sender(self, team_id: str) -> SlackSender:
        return self.app.sender(team_id=team_id)

    def since(self, seen: int, method: str | None = None) -> list[RecordedCall]:
        return [
            c for c in self.standin.calls[seen:] if c.ok and (method is None or c.method == method)
        ]

    def command(self, team_id: str, command: str, text: str, user_id: str) -> None:
        reply = self.sender(team_id).slash_command(command, text, user_id=user_id)
        assert reply.status == 200, reply.body

    def click(
        self, team_id: str, user_id: str, action_id: str, value: str, response_url: str = ""
    ) -> HttpReply:
        reply = self.sender(team_id).block_actions(
            user_id=user_id,
            actions=[{"action_id": action_id, "value": value}],
            message={"ts": "1700000000.000100", "channel": "D" + user_id[1:]},
            channel_id="D" + user_id[1:],
            response_url=response_url or None,
        )
        assert reply.status == 200
        return reply

    def click_answer(self, team_id: str, user_id: str, action_id: str, value: str) -> str:
        """Click, and return the text the app answered through the click's response_url."""
        response_url = self.sender(team_id).new_response_url("actions")
        self.click(team_id, user_id, action_id, value, response_url)
        answers = self.standin.wait_for_responses(response_url, timeout=10)
        assert len(answers) == 1, answers
        return str(answers[0]["text"])

    def submit(
        self, team_id: str, view: dict[str, Any], user_id: str, values: dict[str, Any]
    ) -> HttpReply:
        reply = self.sender(team_id).view_submission(view, user_id=user_id, values=values)
        assert reply.status == 200, reply.body
        return reply

    def open_modal(self, team_id: str, command: str, text: str, user_id: str) -> dict[str, Any]:
        """Run a command that opens a modal; the view as Slack stored it (with its id)."""
        seen = self.mark()
        self.command(team_id, command, text, user_id)
        opened = self.wait(seen, "views.open")
        assert len(opened) == 1
        assert team_of(opened[0]) == team_id
        return opened[0].response["view"]

    def home(self, team_id: str, user_id: str) -> RecordedCall:
        seen = self.mark()
        assert self.sender(team_id).app_home_opened(user_id).status == 200
        return self.wait(seen, "views.publish", user_id=user_id)[0]

    def db(self) -> Iterator[Session]:
        engine = make_engine(self.app.database_url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()

    def new_user(self, tag: str) -> str:
        """Someone new, in both workspaces (Slack user ids are the same across them here)."""
        user_id = "U" + uuid.uuid4().hex[:9].upper()
        self.standin.add_user(
            StandInUser(id=user_id, name=f"{tag}-{user_id.lower()}", real_name=tag.title(), tz=TZ)
        )
        return user_id


def team_of(call: RecordedCall) -> str | None:
    """The workspace whose bot token made the call (the stand-in's tokens name their team)."""
    parts = (call.token or "").split("-")
    return parts[1] if len(parts) > 2 and parts[0] == "xoxb" else None


@dataclass
class Team:
    """One test's own workspace and recognition channel on the shared live server."""

    team_id: str
    channel: str
    run: str  # a marker to tell this test's DMs apart in the shared stand-in
    live: LiveApp
    standin: SlackStandIn
    session_factory: SessionFactory

    @property
    def sender(self) -> SlackSender:
        return self.live.sender(team_id=self.team_id)

    def configure(self, **changes: Any) -> None:
        with self.session_factory() as session:
            queries.update_workspace_settings(session=session, team_id=self.team_id, **changes)
            session.commit()

    def make_team(self) -> None:
        with self.session_factory() as session:
            queries.set_reports(
                session=session,
                team_id=self.team_id,
                manager_user_id=MANAGER,
                report_user_ids=[REP1, REP2],
            )
            session.commit()

    def kudos(self, user_id: str, text: str) -> HttpReply:
        reply = self.sender.slash_command("/kudos", text, user_id=user_id)
        assert reply.status == 200
        return reply

    def channel_posts(self) -> list[RecordedCall]:
        return [
            c
            for c in self.standin.calls_to("chat.postMessage")
            if c.params["channel"] == self.channel
        ]

    def kudos_posts(self) -> list[RecordedCall]:
        """The channel's kudos posts, without the weekly digest (whose moment may fall within a
        test, depending on the day the suite runs)."""
        return [c for c in self.channel_posts() if "This week's recognition" not in _text_of(c)]

    def kudos_rows(self) -> list[Kudos]:
        with self.session_factory() as session:
            statement = select(Kudos).where(Kudos.team_id == self.team_id).order_by(Kudos.id)  # type: ignore[arg-type]
            return list(session.exec(statement).all())

    def deps(self, clock: FakeClock) -> Deps:
        settings = Settings(
            slack_bot_token=self.standin.bot_token,
            slack_api_url=self.standin.url,
            database_url=self.live.database_url,
            admins=frozenset({CONFIGURED_ADMIN}),
        )
        return Deps(settings=settings, session_factory=self.session_factory, clock=clock)

    def tick(self, clock: FakeClock) -> None:
        deps = self.deps(clock)
        ticker = build_ticker(deps)
        ticker.tick()
        assert not ticker.failures, ticker.failures

    def add_outcome(self, user_id: str, kind: str, at: datetime, **fields: Any) -> None:
        classification = fields.pop(
            "classification", "system-hit" if kind == "win" else "system-miss"
        )
        with self.session_factory() as session:
            session.add(
                Outcome(
                    team_id=self.team_id,
                    user_id=user_id,
                    kind=kind,
                    deal=f"Deal {uuid.uuid4().hex[:6]}",
                    amount=125_000.0,
                    process_score=1.0 if classification == "perfect-miss" else 0.4,
                    classification=classification,
                    occurred_at=at,
                    submission_key=uuid.uuid4().hex,
                    **fields,
                )
            )
            session.commit()


def _text_of(call: RecordedCall) -> str:
    return (call.params.get("text") or "") + json.dumps(call.params.get("blocks") or [])


@dataclass
class World(StandInCalls):
    """A workspace on the scheduler alone (no server): an injected clock and one ticker, for
    the scheduling tests of integration/test_checkins_schedule.py."""

    team_id: str
    clock: FakeClock
    ticker: Ticker
    session_factory: SessionFactory
    standin: SlackStandIn
    deps: Deps
    seen: int = 0

    def tick_at(self, moment: datetime) -> list[RecordedCall]:
        """Move the clock, tick once, and return the chat.postMessage calls it caused."""
        self.clock.set(moment)
        start = len(self.standin.calls)
        self.ticker.tick()
        assert self.ticker.failures == []
        return [c for c in self.standin.calls[start:] if c.method == "chat.postMessage" and c.ok]


# Ctx's clicks and submissions come from a rep with no rights over what they touch, on a
# message in #general (e2e/test_forged_interactions.py).
FORGER = REP2
WHERE = {"ts": "1700000000.000100", "channel": "C0GENERAL", "text": ""}


@dataclass
class Ctx:
    """One forgery scene (e2e/test_forged_interactions.py): a workspace whose owner has one of
    everything, and the forger's clicks and submissions against it."""

    live: LiveApp
    standin: SlackStandIn
    team_id: str
    owner: Seeded
    settings_view: dict[str, Any]

    def click(self, action_id: str, value: str) -> HttpReply:
        return self.live.sender(self.team_id).block_actions(
            user_id=FORGER,
            actions=[{"action_id": action_id, "value": value}],
            message=WHERE,
            channel_id=WHERE["channel"],
        )

    def submit(self, view: dict[str, Any], values: dict[str, Any]) -> HttpReply:
        return self.live.sender(self.team_id).view_submission(view, user_id=FORGER, values=values)
