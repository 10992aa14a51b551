"""Where multi-workspace installs keep their tokens: slack-sdk's SQLAlchemy stores on the app's
own database, with every token encrypted at rest.

The tables are slack-sdk's (``slack_installations``, ``slack_bots``, ``slack_oauth_states``) with
one change: the token columns are wider, because an encrypted token is about 2.5 times longer
than the token itself. ``oauth_metadata()`` describes them for Alembic (migration 0002_oauth).
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store.installation_store import InstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, String, Table
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"
# Every secret an installation carries; they are stored encrypted.
TOKEN_FIELDS = ("bot_token", "user_token", "bot_refresh_token", "user_refresh_token")
# Fernet output for Slack's longest (rotating, ~150 character) tokens is ~300 characters.
ENCRYPTED_TOKEN_LENGTH = 1000


def _widen_token_columns(table: Table) -> Table:
    for name in TOKEN_FIELDS:
        if name in table.c:
            table.c[name].type = String(ENCRYPTED_TOKEN_LENGTH)
    return table


class WideTokenInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store with token columns wide enough for encrypted tokens."""

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _widen_token_columns(super().build_installations_table(metadata, table_name))

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _widen_token_columns(super().build_bots_table(metadata, table_name))


def oauth_metadata() -> MetaData:
    """The OAuth tables, for Alembic's comparison of models and migrated schema."""
    metadata = MetaData()
    WideTokenInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    WideTokenInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES_TABLE)
    return metadata


class TokenCipher:
    """Fernet (AES-128-CBC + HMAC-SHA256) over token strings; None stays None."""

    def __init__(self, key: str, *, what: str = "Slack token") -> None:
        # Raises ValueError for anything that is not a url-safe base64 32-byte key.
        self._fernet = Fernet(key.encode())
        self._what = what  # what the values are, for the one log line (never the value)

    def encrypt(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            # A row written with another key (or tampered with) is unusable: treat it as no
            # token, so the workspace is asked to reinstall instead of every request failing.
            log.error("a stored %s does not decrypt with REBOUND_ENCRYPTION_KEY", self._what)
            return None


def _with_tokens(entity: Any, transform: Any) -> Any:
    copy = type(entity)(**entity.to_dict_for_copying())
    for name in TOKEN_FIELDS:
        if hasattr(copy, name):
            setattr(copy, name, transform(getattr(copy, name)))
    return copy


class EncryptedInstallationStore(InstallationStore):
    """Encrypts tokens on the way into `inner` and decrypts them on the way out."""

    def __init__(self, inner: SQLAlchemyInstallationStore, cipher: TokenCipher) -> None:
        self.inner = inner
        self.cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        return self.inner.logger

    def save(self, installation: Installation) -> None:
        # inner.save also writes the bot row, from the already-encrypted copy.
        self.inner.save(_with_tokens(installation, self.cipher.encrypt))

    def save_bot(self, bot: Bot) -> None:
        self.inner.save_bot(_with_tokens(bot, self.cipher.encrypt))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        bot = self.inner.find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if bot is None else _with_tokens(bot, self.cipher.decrypt)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = self.inner.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if installation is None else _with_tokens(installation, self.cipher.decrypt)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.inner.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.inner.delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )


def make_installation_store(
    *, client_id: str, engine: Engine, encryption_key: str
) -> EncryptedInstallationStore:
    inner = WideTokenInstallationStore(
        client_id=client_id,
        engine=engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )
    return EncryptedInstallationStore(inner, TokenCipher(encryption_key))


def make_state_store(*, engine: Engine, expiration_seconds: int = 600) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(
        expiration_seconds=expiration_seconds, engine=engine, table_name=OAUTH_STATES_TABLE
    )
