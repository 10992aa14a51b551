"""Multi-workspace installs: Bolt's OAuth flow on the app's own database.

`rebound serve` runs this way when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set and
SLACK_BOT_TOKEN is not: `/slack/install` starts an install, `/slack/oauth_redirect` finishes
it, and each request is authorized with its workspace's token from the installation store.
Every Slack call (oauth.v2.access, token refreshes, auth.test) goes to SLACK_API_URL.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_bolt import BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.installation_store import InstallationStore
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.uow import UnitOfWork
from storage import oauth_queries
from storage.db import SessionFactory
from storage.oauth_store import make_installation_store, make_state_store

log = logging.getLogger(__name__)

# The bot scopes of manifest.yml (tests/integration/test_oauth_units.py keeps the two equal; the
# manifest is not shipped in the image, so the list lives here too).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "users:read.email",
    "files:write",
    "files:read",
    "channels:read",
    "im:history",
    "channels:history",
)
INSTALL_PATH = "/slack/install"
REDIRECT_URI_PATH = "/slack/oauth_redirect"
# Bolt refreshes a rotating token this long before it expires.
ROTATION_MINUTES_BEFORE_EXPIRY = 120


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock (Python's hash() is per process)."""
    digest = hashlib.sha256(f"rebound-token-rotation:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RotationLock:
    """One refresh at a time per workspace: a PostgreSQL advisory lock (all replicas), or a
    threading lock on SQLite (one process owns a SQLite file)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local_locks: dict[str, threading.Lock] = {}
        self._local_locks_guard = threading.Lock()

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        if self.engine.dialect.name == "postgresql":
            # Released when this transaction ends, even if the process dies mid-refresh.
            with self.engine.begin() as connection:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)}
                )
                yield
            return
        with self._local_locks_guard:
            lock = self._local_locks.setdefault(name, threading.Lock())
        with lock:
            yield


def _installation_key(installation: Installation) -> str:
    return f"{installation.enterprise_id or '-'}:{installation.team_id or '-'}"


class LockingInstallationStoreAuthorize(InstallationStoreAuthorize):
    """Bolt's authorize, with token refreshes serialized per workspace across replicas.

    Slack hands out a new refresh token with each refresh; two replicas refreshing at once would
    each save a different pair and one would be left with a spent refresh token. Under the
    lock, the installation is read again: a replica that waited finds the fresh tokens the
    first one saved and refreshes nothing."""

    def __init__(self, *, rotation_lock: RotationLock, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rotation_lock = rotation_lock

    def _rotate_and_save_tokens_if_necessary(
        self, installation: Installation | None
    ) -> Installation | None:
        if installation is None or (
            installation.user_refresh_token is None and installation.bot_refresh_token is None
        ):
            return None
        with self.rotation_lock.hold(_installation_key(installation)):
            current = self.installation_store.find_installation(
                enterprise_id=installation.enterprise_id,
                team_id=installation.team_id,
                user_id=installation.user_id,
                is_enterprise_install=installation.is_enterprise_install,
            )
            if current is None:
                return None
            if installation.user_token is None:
                # Bolt removed the installer's user token for another user's request; keep it so.
                current.user_token = current.user_refresh_token = None
                current.user_token_expires_at = None
                current.user_scopes = None
            refreshed = super()._rotate_and_save_tokens_if_necessary(current)
        if refreshed is None and current.bot_token != installation.bot_token:
            return current  # another replica refreshed while we waited
        return refreshed


@dataclass
class TeamBotTokens:
    """team_id -> that workspace's current bot token (refreshed first when it is expiring).

    Installations are stored per (enterprise, team): a workspace of an Enterprise Grid org is
    found only with its org's id, which the workspace row keeps from its install."""

    installation_store: InstallationStore
    authorize: LockingInstallationStoreAuthorize
    session_factory: SessionFactory

    def __call__(self, team_id: str) -> str | None:
        with self.session_factory() as session:
            enterprise_id = oauth_queries.enterprise_of(session=session, team_id=team_id)
        installation = self.installation_store.find_installation(
            enterprise_id=enterprise_id, team_id=team_id
        )
        if installation is None:
            return None
        refreshed = self.authorize._rotate_and_save_tokens_if_necessary(installation)
        return (refreshed or installation).bot_token


@dataclass
class OAuthParts:
    """What the Bolt app, the scheduler and the lifecycle listeners need in OAuth mode."""

    settings: OAuthSettings
    installation_store: InstallationStore
    authorize: LockingInstallationStoreAuthorize
    bot_token_for: Callable[[str], str | None] = field(repr=False)


def _record_install(session_factory: SessionFactory) -> Callable[[SuccessArgs], BoltResponse]:
    def on_success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id:
            with UnitOfWork(session_factory) as uow:
                oauth_queries.mark_installed(
                    session=uow.session,
                    team_id=installation.team_id,
                    name=installation.team_name,
                    enterprise_id=installation.enterprise_id,
                )
            log.info(
                "Rebound was installed in workspace %s (Grid org: %s)",
                installation.team_id,
                installation.enterprise_id or "none",
            )
        return args.default.success(args)

    return on_success


def _report_failure(args: FailureArgs) -> BoltResponse:
    log.warning("an install did not complete: %s", args.reason)
    return args.default.failure(args)


def build_oauth(
    settings: Settings, engine: Engine, client: WebClient, *, session_factory: SessionFactory
) -> OAuthParts:
    """The OAuth settings and stores for `settings` (which must be in OAuth mode). slack-sdk's
    installation and state stores and the rotation lock take the engine itself; our own rows
    are written through `session_factory` (both built once, in bot.runtime.build_deps)."""
    assert settings.slack_client_id and settings.slack_client_secret and settings.encryption_key
    installation_store = make_installation_store(
        client_id=settings.slack_client_id,
        engine=engine,
        encryption_key=settings.encryption_key,
    )
    authorize = LockingInstallationStoreAuthorize(
        rotation_lock=RotationLock(engine),
        logger=log,
        installation_store=installation_store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=ROTATION_MINUTES_BEFORE_EXPIRY,
        # Token refreshes go to SLACK_API_URL like every other call.
        client=client,
        # Skips auth.test on every request for a token already checked.
        cache_enabled=True,
    )
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        installation_store=installation_store,
        state_store=make_state_store(engine=engine),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_URI_PATH,
        # Straight to Slack's consent screen (no intermediate "Add to Slack" page).
        install_page_rendering_enabled=False,
        callback_options=CallbackOptions(
            success=_record_install(session_factory), failure=_report_failure
        ),
        token_rotation_expiration_minutes=ROTATION_MINUTES_BEFORE_EXPIRY,
    )
    return OAuthParts(
        settings=oauth_settings,
        installation_store=installation_store,
        authorize=authorize,
        bot_token_for=TeamBotTokens(installation_store, authorize, session_factory),
    )
