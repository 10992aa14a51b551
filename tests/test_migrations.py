"""The Alembic migrations build exactly the schema of storage/models.py, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from storage.oauth_store import oauth_metadata

EXPECTED_TABLES = {
    "workspaces",
    "members",
    "outcomes",
    "reflections",
    "kudos",
    "kudos_recipients",
    "checkins",
    "checkin_answers",
    "goals",
    "post_log",
    "processed_events",
}
# slack-sdk's tables for multi-workspace installs (storage/oauth_store.py).
OAUTH_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def _table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_matches_models(database_url: str) -> None:
    upgrade(database_url)

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, [SQLModel.metadata, oauth_metadata()])  # type: ignore[arg-type]
    finally:
        engine.dispose()

    assert differences == []
    assert _table_names(database_url) == EXPECTED_TABLES | OAUTH_TABLES | {"alembic_version"}


def test_models_declare_every_expected_table() -> None:
    assert set(SQLModel.metadata.tables) == EXPECTED_TABLES


def test_upgrade_records_head_and_is_idempotent(database_url: str) -> None:
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    tables_after_first = _table_names(database_url)

    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert _table_names(database_url) == tables_after_first


def test_downgrade_to_base_then_upgrade_again(database_url: str) -> None:
    upgrade(database_url)

    command.downgrade(alembic_config(database_url), "base")
    assert current_revision(database_url) is None
    assert _table_names(database_url) == {"alembic_version"}

    upgrade(database_url)
    assert _table_names(database_url) == EXPECTED_TABLES | OAUTH_TABLES | {"alembic_version"}


def test_kept_kudos_messages_become_the_plain_words_they_stand_for(database_url: str) -> None:
    # Kept before 0006: escaped (from the modal) or as Slack sent it (from /kudos).
    upgrade(database_url, "0005")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for message in (
                "Thanks &lt;!channel&gt; &amp; co",
                "Paired with <@U0REP2|maya>, tell <!channel>",
            ):
                connection.execute(
                    text(
                        "INSERT INTO kudos (team_id, giver_user_id, category, message, status, "
                        "created_at) VALUES ('T0', 'U0MGR', 'win', :message, 'pending', "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"message": message},
                )
        upgrade(database_url)
        with engine.begin() as connection:
            kept = connection.execute(text("SELECT message FROM kudos ORDER BY id")).scalars()
            assert list(kept) == [
                "Thanks <!channel> & co",
                "Paired with @maya, tell @channel",
            ]
    finally:
        engine.dispose()
