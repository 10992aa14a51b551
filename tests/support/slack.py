"""The tests' one Slack driver: `SlackDriver` sends as Slack would (slash commands, clicks, modal
submissions, events, through testkit/simulator.py's signed-request sender) to the app under test,
and reads what the Slack stand-in (testkit/standin/) received and what the app stored.

A test gets it from a fixture. What varies between tests is configuration, not a subclass:

- one workspace of the live `rebound serve` (`app=`, a `team_id` of the test's own);
- a workspace of an Enterprise Grid org (`enterprise_id=`: requests name the org);
- OAuth mode, many workspaces on one server (`oauth_key=`; `install()` installs one, and
  `workspace(team_id)` is the same driver aimed at another workspace; `oauth_driver()` starts it
  with Alpha and Beta installed);
- the scheduler alone, no server (`app=None`, a test `clock=` and `tick_at()`).

Plus the team of testkit/live.py by role (manager, reps, their DMs, the wins channel).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot.app import Deps, build_ticker, make_web_client
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.domain import PRACTICES
from bot.oauth import build_oauth
from bot.scheduler import Ticker
from storage import queries
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import Kudos, OutboxMessage, Outcome, Reflection, Workspace
from testkit.live import LiveApp
from testkit.simulator import HttpReply, SlackSender
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.databases import fresh_database
from tests.support.oauth_live import install, oauth_app

MANAGER, REP1, REP2, ADMIN = "U0MGR", "U0REP1", "U0REP2", "U0ADMIN"
DM = {REP1: "D0REP1", REP2: "D0REP2", MANAGER: "D0MGR", ADMIN: "D0ADMIN"}
WINS = "C0WINS"
ALL_PRACTICES = list(PRACTICES)
DEFAULT_TEAM = "T0REBOUND"  # the workspace of `LiveApp.sender()` when none is named
GRID_ORG, GRID_ORG_NAME = "E0STARSHIP", "Starship Org"
ALPHA, BETA = "T0ALPHA", "T0BETA"
TZ = "Europe/London"


def dm_channel(user_id: str) -> str:
    """The app's DM with the person: the stand-in's conversations.open answers D + the user id
    without its U (DM above names the same channels for the team's people)."""
    return "D" + user_id[1:]


def in_dm(user_id: str) -> dict[str, Any]:
    """A message of the bot's in the person's DM, as a click's `message` (for clicks on a
    button whose own post the test doesn't hold)."""
    return {"ts": "1700000000.000100", "channel": dm_channel(user_id)}


def team_of(call: RecordedCall) -> str | None:
    """The workspace whose bot token made the call (the stand-in's tokens name their team)."""
    parts = (call.token or "").split("-")
    return parts[1] if len(parts) > 2 and parts[0] == "xoxb" else None


def text_of(call: RecordedCall) -> str:
    """A message's text and blocks, to look for words in."""
    return json.dumps(call.params.get("blocks") or []) + (call.params.get("text") or "")


# The old names of text_of, kept for the modules that import them.
_text = text_of


def _text_of(call: RecordedCall) -> str:
    return (call.params.get("text") or "") + json.dumps(call.params.get("blocks") or [])


@dataclass
class _Shared:
    """What a driver and its `workspace()` copies share: one engine on the app's database, and
    the scheduler of `tick_at` (the ticker ticks every workspace)."""

    engine: Engine | None = None
    session_factory: SessionFactory | None = None
    ticker: Ticker | None = None


@dataclass
class SlackDriver:
    """One workspace as Slack sees it: send as Slack would, read what Slack received."""

    standin: SlackStandIn
    database_url: str
    team_id: str = DEFAULT_TEAM
    # The app under test: the live `rebound serve` (or a front of replicas); None when a test
    # drives the scheduler alone (then `tick_at` on `clock`).
    app: LiveApp | None = None
    # Set for a workspace of an Enterprise Grid org: every request names the org.
    enterprise_id: str | None = None
    # The workspace's recognition channel, whose posts `channel_posts` reads.
    channel: str = WINS
    # A marker of this test's, to tell its messages apart in the shared stand-in.
    run: str = ""
    # The test's clock for `tick_at` (and `deps`/`ticker` when none is passed).
    clock: FakeClock | None = None
    # OAuth mode: the app's encryption key for stored tokens (tokens come from installations).
    oauth_key: str | None = None
    # Settings for the scheduler-alone driver beyond its token, API and database.
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    # How long a wait lasts before it fails with the stand-in's summary of the calls it saw.
    wait_timeout: float = 10
    _shared: _Shared = field(default_factory=_Shared, repr=False, compare=False)

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def for_app(
        cls, app: LiveApp, standin: SlackStandIn, team_id: str, **config: Any
    ) -> SlackDriver:
        return cls(
            standin=standin, database_url=app.database_url, team_id=team_id, app=app, **config
        )

    def workspace(self, team_id: str, **config: Any) -> SlackDriver:
        """This driver aimed at another workspace of the same app (OAuth mode's many)."""
        return dataclasses.replace(self, team_id=team_id, **config)

    def install(self, team_id: str) -> str:
        """Install the app in `team_id` through the OAuth flow; returns the success page."""
        assert self.oauth_key is not None, "install() is for an app in OAuth mode"
        return install(self.live, team_id)

    def close(self) -> None:
        """Dispose of the engine (the fixture's teardown; copies share it)."""
        if self._shared.engine is not None:
            self._shared.engine.dispose()
        self._shared.engine = self._shared.session_factory = self._shared.ticker = None

    @property
    def live(self) -> LiveApp:
        assert self.app is not None, "this driver has no app under test (the scheduler alone)"
        return self.app

    @property
    def sender(self) -> SlackSender:
        return self.live.sender(team_id=self.team_id, enterprise_id=self.enterprise_id)

    # -- the app's database -----------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._shared.engine is None:
            self._shared.engine = make_engine(self.database_url)
        return self._shared.engine

    @property
    def session_factory(self) -> SessionFactory:
        if self._shared.session_factory is None:
            self._shared.session_factory = make_session_factory(self.engine)
        return self._shared.session_factory

    def db(self) -> Iterator[Session]:
        """`for session in driver.db():` one session on the app's database."""
        with Session(self.engine) as session:
            yield session

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())

    def outcomes(self) -> list[Outcome]:
        with self.session_factory() as session:
            statement = select(Outcome).where(Outcome.team_id == self.team_id)
            return list(session.exec(statement.order_by(Outcome.id)).all())  # type: ignore[arg-type]

    def reflections(self) -> list[Reflection]:
        with self.session_factory() as session:
            statement = select(Reflection).where(Reflection.team_id == self.team_id)
            return list(session.exec(statement.order_by(Reflection.id)).all())  # type: ignore[arg-type]

    def kudos_rows(self) -> list[Kudos]:
        with self.session_factory() as session:
            statement = select(Kudos).where(Kudos.team_id == self.team_id).order_by(Kudos.id)  # type: ignore[arg-type]
            return list(session.exec(statement).all())

    def team_config(self) -> Workspace | None:
        """The workspace's settings row (what `/rebound settings` saved)."""
        with self.session_factory() as session:
            return queries.get_workspace(session=session, team_id=self.team_id)

    def post_log(self) -> list[OutboxMessage]:
        """What the bot posted (or is posting) in this workspace, by post key: its outbox rows
        that are in Slack or on their way (not those waiting or failed)."""
        with self.session_factory() as session:
            statement = select(OutboxMessage).where(
                OutboxMessage.team_id == self.team_id,
                col(OutboxMessage.state).in_(("sending", "sent")),
            )
            return list(session.exec(statement.order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]

    def wait_recorded(self, post_key: str) -> OutboxMessage:
        """Wait until the outbox row `post_key` is no longer being sent: Slack has answered *and*
        the dispatcher has committed what it records with the result (a loss DM's
        reflection_requested_at, say). Seeing the post at the stand-in is not enough; the
        dispatcher writes its bookkeeping a moment later, and a job ticked in between misses it."""
        deadline = time.monotonic() + self.wait_timeout
        while True:
            with self.session_factory() as session:
                row = session.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.team_id == self.team_id, OutboxMessage.post_key == post_key
                    )
                ).first()
            if row is not None and row.state != "sending":
                return row
            if time.monotonic() > deadline:
                state = row.state if row is not None else "no row"
                raise AssertionError(f"outbox row {post_key} still {state}")
            time.sleep(0.02)

    def setup(self, *, channel: str | None = WINS, threshold: float = 0.8) -> None:
        """The workspace with a recognition channel, a threshold and the team (manager, reps)."""
        with self.session_factory() as session:
            queries.get_or_create_workspace(session=session, team_id=self.team_id)
            queries.update_workspace_settings(
                session=session,
                team_id=self.team_id,
                recognition_channel_id=channel,
                strong_process_threshold=threshold,
            )
            session.commit()
        self.make_team()

    def configure(self, **changes: Any) -> None:
        """Change the workspace's settings as `/rebound settings` would save them."""
        with self.session_factory() as session:
            queries.get_or_create_workspace(session=session, team_id=self.team_id)
            queries.update_workspace_settings(session=session, team_id=self.team_id, **changes)
            session.commit()

    def set_channel(self, channel: str) -> None:
        self.configure(recognition_channel_id=channel)

    def make_team(self, manager: str = MANAGER, reps: list[str] | None = None) -> None:
        with self.session_factory() as session:
            queries.set_reports(
                session=session,
                team_id=self.team_id,
                manager_user_id=manager,
                report_user_ids=[REP1, REP2] if reps is None else reps,
            )
            session.commit()

    def add_outcome(self, user_id: str, kind: str, at: datetime, **fields: Any) -> None:
        from tests.support.factories import outcome_row  # factories import this module

        with self.session_factory() as session:
            session.add(outcome_row(self.team_id, user_id, kind, at, **fields))
            session.commit()

    # -- the scheduler, on a test clock -------------------------------------------------------

    def settings(self) -> Settings:
        """The app's own configuration (its environment, read as the app reads it); for the
        scheduler alone, the stand-in's bot token on the driver's database."""
        if self.app is not None:
            return dataclasses.replace(load_settings(self.app.env), **self.settings_overrides)
        return Settings(
            slack_bot_token=self.standin.bot_token,
            slack_api_url=self.standin.url,
            database_url=self.database_url,
            **self.settings_overrides,
        )

    def deps(self, clock: FakeClock | None = None) -> Deps:
        """What the app's own scheduler gets, on `clock` (the driver's if none)."""
        settings = self.settings()
        oauth = None
        if settings.oauth_mode:
            oauth = build_oauth(
                settings,
                self.engine,
                make_web_client(settings),
                session_factory=self.session_factory,
            )
        return Deps(
            settings=settings,
            session_factory=self.session_factory,
            clock=clock or self._clock(),
            oauth=oauth,
        )

    def ticker(self, clock: FakeClock | None = None) -> Ticker:
        """A new ticker of every feature's jobs, as a replica's scheduler runs them."""
        deps = self.deps(clock)
        return build_ticker(deps)

    def tick(self, clock: FakeClock | None = None) -> None:
        """One tick of a new ticker on `clock`, which must not fail."""
        ticker = self.ticker(clock)
        ticker.tick()
        assert not ticker.failures, ticker.failures

    def tick_at(self, moment: datetime) -> list[RecordedCall]:
        """Move the driver's clock, tick its one ticker once, and return the chat.postMessage
        calls it caused."""
        clock = self._clock()
        if self._shared.ticker is None:
            self._shared.ticker = self.ticker(clock)
        clock.set(moment)
        start = self.mark()
        self._shared.ticker.tick()
        assert self._shared.ticker.failures == []
        return [c for c in self.standin.calls[start:] if c.method == "chat.postMessage" and c.ok]

    def _clock(self) -> FakeClock:
        assert self.clock is not None, "this driver has no test clock; pass one"
        return self.clock

    # -- what Slack received ------------------------------------------------------------------

    def mark(self) -> int:
        return len(self.standin.calls)

    def since(self, seen: int, method: str | None = None, **params: str) -> list[RecordedCall]:
        """The successful calls (of `method`, with these params) since the mark `seen`."""
        return [
            c
            for c in self.standin.calls[seen:]
            if c.ok
            and (method is None or c.method == method)
            and all(
                (c.conversation if k == "channel" else c.params.get(k)) == v
                for k, v in params.items()
            )
        ]

    def wait(self, seen: int, method: str, count: int = 1, **params: str) -> list[RecordedCall]:
        """Wait until `count` successful calls of `method` have arrived since `seen`."""
        self.standin.wait_for(
            lambda calls: len(self.since(seen, method, **params)) >= count,
            timeout=self.wait_timeout,
        )
        return self.since(seen, method, **params)

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

    def messages_to(self, channel: str, seen: int = 0) -> list[RecordedCall]:
        return self.since(seen, "chat.postMessage", channel=channel)

    def dms_to(self, user_id: str, seen: int = 0) -> list[RecordedCall]:
        return self.messages_to(dm_channel(user_id), seen)

    def ephemerals(self, user_id: str, seen: int = 0) -> list[RecordedCall]:
        return self.since(seen, "chat.postEphemeral", user=user_id)

    def views_opened(self, seen: int = 0) -> list[RecordedCall]:
        return self.since(seen, "views.open")

    def posts_about(self, seen: int, words: str, **params: str) -> list[RecordedCall]:
        """Messages posted since `seen` that mention `words` (a deal of this test's)."""
        return [c for c in self.since(seen, "chat.postMessage", **params) if words in _text(c)]

    def channel_posts(self) -> list[RecordedCall]:
        """Everything posted in the workspace's recognition channel."""
        return [
            c for c in self.standin.calls_to("chat.postMessage") if c.conversation == self.channel
        ]

    def kudos_posts(self) -> list[RecordedCall]:
        """The channel's kudos posts, without the weekly digest (whose moment may fall within a
        test, depending on the day the suite runs)."""
        return [c for c in self.channel_posts() if "This week's recognition" not in _text_of(c)]

    # -- sending as Slack would ---------------------------------------------------------------

    def command(self, command: str, text: str, user_id: str) -> HttpReply:
        reply = self.sender.slash_command(command, text, user_id=user_id)
        assert reply.status == 200, reply.body
        return reply

    def kudos(self, user_id: str, text: str) -> HttpReply:
        return self.command("/kudos", text, user_id)

    def open_modal(self, command: str, text: str, user_id: str) -> dict[str, Any]:
        """Run a command that opens a modal; the view as Slack stored it (with its id)."""
        seen = self.mark()
        self.command(command, text, user_id)
        opened = self.wait(seen, "views.open")
        assert len(opened) == 1
        if self.oauth_key is not None:  # many workspaces: opened with this one's token
            assert team_of(opened[0]) == self.team_id
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
        message: RecordedCall | dict[str, Any] | None = None,
        response_url: str | None = None,
    ) -> HttpReply:
        """Click a button; on `message` (a post as the stand-in recorded it, or the message
        dict Slack sends) when given."""
        posted = None
        if isinstance(message, RecordedCall):
            posted = {**message.response["message"], "channel": message.response["channel"]}
        elif message is not None:
            posted = message
        reply = self.sender.block_actions(
            user_id=user_id,
            actions=[{"action_id": action_id, "value": value}],
            message=posted,
            channel_id=posted["channel"] if posted else None,
            response_url=response_url,
        )
        assert reply.status == 200
        return reply

    def click_answer(
        self,
        user_id: str,
        action_id: str,
        value: str,
        message: RecordedCall | dict[str, Any] | None = None,
    ) -> str:
        """Click, and return the text the app answered through the click's response_url."""
        response_url = self.sender.new_response_url("actions")
        self.click(user_id, action_id, value, message, response_url)
        answers = self.standin.wait_for_responses(response_url, timeout=10)
        assert len(answers) == 1, answers
        return str(answers[0]["text"])

    def click_replacing(
        self,
        user_id: str,
        action_id: str,
        value: str,
        message: RecordedCall | dict[str, Any],
    ) -> dict[str, Any]:
        """Click a button on `message` and return what replaced the message: the body the app
        sent to the click's response_url with `replace_original` (the direct answer to a click
        changes the message clicked that way, not through chat.update)."""
        response_url = self.sender.new_response_url("actions")
        self.click(user_id, action_id, value, message, response_url)
        replaced = self.standin.wait_for_responses(response_url, timeout=self.wait_timeout)[0]
        assert replaced.get("replace_original") is True, replaced
        return replaced

    def home(self, user_id: str) -> RecordedCall:
        """Open the person's App Home; the view published for it."""
        seen = self.mark()
        assert self.sender.app_home_opened(user_id).status == 200
        return self.wait(seen, "views.publish", user_id=user_id)[0]


@contextmanager
def oauth_driver(
    standin: SlackStandIn, backend: str, folder: Path, *teams: str, **config: Any
) -> Iterator[SlackDriver]:
    """`rebound serve` in OAuth mode on a fresh `backend` database, with `teams` (Alpha and
    Beta unless named) added to the stand-in and installed through the OAuth flow; the driver is
    aimed at the first of them."""
    teams = teams or (ALPHA, BETA)
    for team_id in teams:
        if team_id in (ALPHA, BETA):
            standin.add_team(team_id, {ALPHA: "Alpha Sales", BETA: "Beta Sales"}[team_id])
    key = Fernet.generate_key().decode()
    with fresh_database(backend, folder) as url, oauth_app(standin, url, folder, key) as app:
        driver = SlackDriver.for_app(app, standin, teams[0], oauth_key=key, **config)
        try:
            for team_id in teams:
                driver.install(team_id)
            yield driver
        finally:
            driver.close()
