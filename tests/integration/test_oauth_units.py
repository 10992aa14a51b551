"""Multi-workspace pieces without a server: settings, the encrypted installation store, the token
rotation lock (two threads at once), per-workspace clients, and the data purge."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import text
from sqlmodel import Session

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.oauth import BOT_SCOPES, LockingInstallationStoreAuthorize, RotationLock
from bot.slack_clients import TeamClients
from storage import oauth_queries, queries
from storage.db import make_engine, upgrade
from storage.models import Outcome, Workspace
from storage.oauth_store import make_installation_store
from testkit.standin import SlackStandIn

REPO = Path(__file__).resolve().parents[2]
KEY = Fernet.generate_key().decode()
OAUTH_ENV = {
    "SLACK_CLIENT_ID": "1234.5678",
    "SLACK_CLIENT_SECRET": "secret",
    "SLACK_SIGNING_SECRET": "abcdef0123456789",
}


# -- settings -----------------------------------------------------------------------------------


def test_bot_scopes_are_the_manifests() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text())
    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]


def test_oauth_mode_needs_client_credentials_and_no_bot_token() -> None:
    assert load_settings({**OAUTH_ENV, "REBOUND_ENCRYPTION_KEY": KEY}).oauth_mode
    assert not load_settings({**OAUTH_ENV, "SLACK_BOT_TOKEN": "xoxb-1"}).oauth_mode
    # Half an OAuth client is a configuration mistake, named in one line.
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_CLIENT_ID": "1"})
    assert raised.value.variable == "SLACK_CLIENT_SECRET"


def test_oauth_mode_refuses_a_missing_encryption_key() -> None:
    settings = load_settings(OAUTH_ENV)
    with pytest.raises(ConfigError) as raised:
        settings.require_http_mode()
    assert raised.value.variable == "REBOUND_ENCRYPTION_KEY"
    assert "Fernet.generate_key()" in str(raised.value)
    load_settings({**OAUTH_ENV, "REBOUND_ENCRYPTION_KEY": KEY}).require_http_mode()


def test_a_malformed_encryption_key_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**OAUTH_ENV, "REBOUND_ENCRYPTION_KEY": "not-a-key"})
    assert raised.value.variable == "REBOUND_ENCRYPTION_KEY"
    assert "Fernet.generate_key()" in str(raised.value)


def test_serve_exits_2_with_one_line_without_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "REBOUND_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in OAUTH_ENV.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "REBOUND_ENCRYPTION_KEY" in err[0]


# -- encrypted store ----------------------------------------------------------------------------


def _installation(team_id: str, **extra: Any) -> Installation:
    return Installation(
        app_id="A0REBOUND",
        enterprise_id=None,
        team_id=team_id,
        team_name=f"Team {team_id}",
        bot_token=f"xoxb-{team_id}-secret",
        bot_id="B0REBOUND",
        bot_user_id="U0REBOUNDBOT",
        bot_scopes=",".join(BOT_SCOPES),
        user_id="U0ADMIN",
        **extra,
    )


def test_store_encrypts_tokens_at_rest_and_decrypts_on_find(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        store = make_installation_store(client_id="1234.5678", engine=engine, encryption_key=KEY)
        store.save(_installation("T0ONE", bot_refresh_token="xoxe-1-refresh"))
        with engine.connect() as connection:
            raw = connection.execute(
                text("SELECT bot_token, bot_refresh_token FROM slack_installations")
            ).one()
            raw_bot = connection.execute(text("SELECT bot_token FROM slack_bots")).scalar_one()
        assert "secret" not in raw[0] and "refresh" not in raw[1] and "secret" not in raw_bot
        found = store.find_installation(enterprise_id=None, team_id="T0ONE")
        assert found is not None and found.bot_token == "xoxb-T0ONE-secret"
        assert found.bot_refresh_token == "xoxe-1-refresh"
        bot = store.find_bot(enterprise_id=None, team_id="T0ONE")
        assert bot is not None and bot.bot_token == "xoxb-T0ONE-secret"
        assert store.find_installation(enterprise_id=None, team_id="T0OTHER") is None

        # Another key cannot read them: the workspace looks uninstalled rather than erroring.
        other = make_installation_store(
            client_id="1234.5678", engine=engine, encryption_key=Fernet.generate_key().decode()
        )
        unreadable = other.find_installation(enterprise_id=None, team_id="T0ONE")
        assert unreadable is not None and unreadable.bot_token is None

        store.delete_all(enterprise_id=None, team_id="T0ONE")
        assert store.find_bot(enterprise_id=None, team_id="T0ONE") is None
    finally:
        engine.dispose()


# -- token rotation -----------------------------------------------------------------------------


class _NoLock(RotationLock):
    def hold(self, name: str) -> Any:  # type: ignore[override]
        from contextlib import nullcontext

        return nullcontext()


def _rotate_twice_at_once(
    database_url: str, *, lock: type[RotationLock]
) -> tuple[list[str | None], int, list[BaseException]]:
    """Two threads find the same expiring installation and refresh at once; returns (the tokens
    each ended with, refresh calls made, errors). On PostgreSQL each thread has a lock (and an
    engine) of its own, like two replicas; on SQLite they share the process's one lock."""
    upgrade(database_url)
    engine = make_engine(database_url)
    shared_lock = lock(engine)
    is_postgres = engine.dialect.name == "postgresql"
    standin = SlackStandIn().start()
    standin.token_rotation = True
    try:
        store = make_installation_store(client_id="1234.5678", engine=engine, encryption_key=KEY)
        first = standin._new_bot_token(standin.team_id)  # noqa: SLF001 - the install's tokens
        store.save(
            _installation(
                standin.team_id,
                bot_refresh_token=first["refresh_token"],
                bot_token_expires_in=60,  # expiring: inside the 120-minute refresh window
            )
        )
        client = WebClient(base_url=standin.url)
        results: list[str | None] = []
        errors: list[BaseException] = []
        engines: list[Any] = []
        barrier = threading.Barrier(2)

        def replica() -> None:
            own_engine = make_engine(database_url) if is_postgres else engine
            engines.append(own_engine)
            authorize = LockingInstallationStoreAuthorize(
                rotation_lock=lock(own_engine) if is_postgres else shared_lock,
                logger=__import__("logging").getLogger("test"),
                installation_store=store,
                client_id="1234.5678",
                client_secret="secret",
                client=client,
            )
            assert authorize.token_rotator is not None
            rotate = authorize.token_rotator.perform_token_rotation

            def slow_rotation(**kwargs: Any) -> Any:
                time.sleep(0.2)  # widen the race window: both read before either saves
                return rotate(**kwargs)

            authorize.token_rotator.perform_token_rotation = slow_rotation  # type: ignore[method-assign]
            installation = store.find_installation(enterprise_id=None, team_id=standin.team_id)
            barrier.wait()
            try:
                refreshed = authorize._rotate_and_save_tokens_if_necessary(installation)  # noqa: SLF001
                results.append((refreshed or installation).bot_token)  # type: ignore[union-attr]
            except BaseException as error:  # noqa: BLE001 - reported to the test
                errors.append(error)

        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        refreshes = [
            c
            for c in standin.calls_to("oauth.v2.access", ok_only=False)
            if c.params.get("grant_type") == "refresh_token"
        ]
        for own_engine in engines:
            own_engine.dispose()
        return results, len(refreshes), errors
    finally:
        standin.stop()
        engine.dispose()


def test_two_replicas_refreshing_at_once_refresh_once(database_url: str) -> None:
    tokens, refreshes, errors = _rotate_twice_at_once(database_url, lock=RotationLock)
    assert errors == []
    assert refreshes == 1
    assert len(tokens) == 2 and tokens[0] == tokens[1] and tokens[0] is not None


def test_without_the_lock_the_second_refresh_spends_a_used_token(sqlite_url: str) -> None:
    # The race the lock prevents is real: both refresh, and one is refused by Slack.
    tokens, refreshes, errors = _rotate_twice_at_once(sqlite_url, lock=_NoLock)
    assert refreshes == 2
    assert len(errors) == 1


# -- per-workspace clients ----------------------------------------------------------------------


def test_client_for_uses_each_workspaces_token_and_caches_briefly() -> None:
    lookups: list[str] = []

    def token_for(team_id: str) -> str | None:
        lookups.append(team_id)
        return None if team_id == "T0GONE" else f"xoxb-{team_id}-x"

    template = WebClient(base_url="http://127.0.0.1:9/api/")
    clients = TeamClients(template, token_for)
    assert clients.client_for("T0A").token == "xoxb-T0A-x"
    assert clients.client_for("T0B").token == "xoxb-T0B-x"
    assert clients.client_for("T0A").base_url == template.base_url
    clients.client_for("T0A")
    assert lookups == ["T0A", "T0B"]  # the second T0A came from the cache
    # Not installed: the dispatcher sends such a workspace nothing (tests/integration/
    # test_outbox_errors.py, test_a_workspace_without_a_bot_token_is_sent_nothing).
    assert not clients.is_installed("T0GONE")
    assert clients.is_installed("T0A")

    single = TeamClients(template)
    assert single.client_for("T0A") is template
    assert single.is_installed("T0GONE")  # one token serves every team


# -- uninstall and purge ------------------------------------------------------------------------


def _add_rows(session: Session, team_id: str, now: datetime) -> None:
    queries.get_or_create_workspace(session=session, team_id=team_id)
    queries.set_reports(
        session=session, team_id=team_id, manager_user_id="U0MGR", report_user_ids=["U0REP1"]
    )
    session.add(
        Outcome(
            team_id=team_id,
            user_id="U0REP1",
            kind="loss",
            deal="Acme",
            process_score=0.2,
            classification="system-miss",
            occurred_at=now,
            submission_key=f"{team_id}-1",
        )
    )
    queries.record_event_once(session=session, team_id=team_id, event_id="Ev1", now=now)


def test_purge_deletes_only_the_uninstalled_workspace_after_its_grace(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        with Session(engine) as session:
            for team_id in ("T0GONE", "T0STAYS", "T0SHORT"):
                _add_rows(session, team_id, now)
            session.commit()
            oauth_queries.mark_uninstalled(session=session, team_id="T0GONE", now=now)
            short = oauth_queries.mark_uninstalled(session=session, team_id="T0SHORT", now=now)
            short.data_grace_days = 7
            session.commit()

        with Session(engine) as session:
            later = now + timedelta(days=8)
            assert oauth_queries.workspaces_to_purge(session=session, now=later) == ["T0SHORT"]
            assert oauth_queries.workspaces_to_purge(
                session=session, now=now + timedelta(days=30)
            ) == [
                "T0GONE",
                "T0SHORT",
            ]
            deleted = oauth_queries.purge_workspace_data(session=session, team_id="T0GONE")
            session.commit()
        assert deleted["outcomes"] == 1 and deleted["workspaces"] == 1
        assert deleted["members"] == 2 and deleted["processed_events"] == 1

        with engine.connect() as connection:
            for table in ("workspaces", "members", "outcomes", "processed_events"):
                teams = {row[0] for row in connection.execute(text(f"SELECT team_id FROM {table}"))}
                assert teams == {"T0STAYS", "T0SHORT"}, table

        # Reinstalling clears the uninstall: nothing is due any more.
        with Session(engine) as session:
            oauth_queries.mark_installed(session=session, team_id="T0SHORT", name="Short")
            session.commit()
            assert (
                oauth_queries.workspaces_to_purge(session=session, now=now + timedelta(days=99))
                == []
            )
            workspace = session.get(Workspace, "T0SHORT")
            assert workspace is not None and workspace.name == "Short"
    finally:
        engine.dispose()
