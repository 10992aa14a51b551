"""Build the running pieces (database, Bolt app) from Settings — the one composition root."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.app import Deps, build_ticker, create_app, make_dispatcher, make_web_client
from bot.clock import Clock, utc_now
from bot.config import ConfigError, Settings
from bot.metrics import Metrics, make_metrics
from storage.db import (
    SessionFactory,
    current_revision,
    make_engine,
    make_session_factory,
    upgrade,
)

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: SessionFactory
    deps: Deps
    app: App
    scheduler: BackgroundScheduler | None = None
    # The workspace of the one bot token (auth.test at start-up); None in OAuth mode.
    team_id: str | None = None

    def start_scheduler(self) -> None:
        """Tick this process's scheduler; the database decides which process sends what."""
        from bot.scheduler import start_scheduler

        self.scheduler = start_scheduler(build_ticker(self.deps))

    def start_dispatcher(self) -> None:
        """Send the outbox from this process: woken by each commit that queued a row, and
        looking on its own every few seconds (rows due later, other processes' leftovers)."""
        if self.deps.dispatcher is not None:
            self.deps.dispatcher.start()

    def close(self) -> None:
        if self.deps.dispatcher is not None:
            self.deps.dispatcher.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.engine.dispose()


def prepare_database(settings: Settings) -> None:
    """Run migrations; a database we cannot reach is a configuration problem, said in one line."""
    try:
        upgrade(settings.database_url)
        log.info("database schema is at revision %s", current_revision(settings.database_url))
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise ConfigError(
            "DATABASE_URL", f"can't open the database ({reason}); check the URL and that it is up"
        ) from None


def build_deps(
    settings: Settings, *, clock: Clock = utc_now, metrics: Metrics | None = None
) -> tuple[Engine, Deps]:
    """The one place that builds the engine and its session factory (for `rebound serve`,
    `rebound start` and `rebound tick` alike); everything else gets a unit of work
    (Deps.uow) or, for slack-sdk's own OAuth stores, this engine. The caller disposes of it."""
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    oauth = None
    if settings.oauth_mode:
        from bot.oauth import build_oauth

        oauth = build_oauth(
            settings,
            engine,
            make_web_client(settings, metrics=metrics),
            session_factory=session_factory,
        )
    deps = Deps(
        settings=settings,
        session_factory=session_factory,
        clock=clock,
        metrics=metrics,
        oauth=oauth,
    )
    return engine, deps


def build_runtime(
    settings: Settings, *, clock: Clock = utc_now, token_verification_enabled: bool = True
) -> Runtime:
    prepare_database(settings)
    engine, deps = build_deps(settings, clock=clock, metrics=make_metrics())
    deps = replace(deps, dispatcher=make_dispatcher(deps))
    app = create_app(deps, token_verification_enabled=token_verification_enabled)
    team_id = None
    if settings.slack_bot_token and not settings.oauth_mode:
        team_id = _mark_token_workspace_installed(app, deps)
    return Runtime(settings, engine, deps.session_factory, deps, app, team_id=team_id)


def _mark_token_workspace_installed(app: App, deps: Deps) -> str | None:
    """One workspace, one bot token: a token that works means the app is installed there, so a
    past `app_uninstalled` (after which an admin reinstalled and put the new token in .env) must
    not lead to the workspace's data being deleted when its grace period runs out."""
    from slack_sdk.errors import SlackApiError

    from storage import oauth_queries

    try:
        identity = app.client.auth_test()
    except SlackApiError as error:
        log.warning("auth.test failed at start-up: %s", error.response.get("error"))
        return None
    with deps.uow() as uow:
        oauth_queries.mark_installed(
            session=uow.session,
            team_id=identity["team_id"],
            name=identity.get("team"),
            enterprise_id=identity.get("enterprise_id"),
        )
    return str(identity["team_id"])
