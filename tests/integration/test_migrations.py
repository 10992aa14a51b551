"""The Alembic migrations build exactly the schema of storage/models/, on both backends."""

from __future__ import annotations

import re

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from storage.oauth_store import oauth_metadata

EXPECTED_TABLES = {
    "workspaces",
    "crm_connections",
    "members",
    "outcomes",
    "reflections",
    "kudos",
    "kudos_recipients",
    "checkins",
    "checkin_answers",
    "goals",
    "post_log",
    "outbox",
    "processed_events",
    "scheduler_marks",
    "api_slots",
    "one_on_one_items",
    "crm_deals",
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


def _plain_default(server_default: str) -> str:
    """A reflected server default as the bare value: SQLite gives `'2'`, PostgreSQL `2` or
    `'pending'::character varying`."""
    match = re.fullmatch(r"'?(.*?)'?(?:::[\w ]+)?", server_default.strip())
    assert match is not None
    return match.group(1)


def test_migrated_server_defaults_are_the_models_defaults(database_url: str) -> None:
    """compare_metadata leaves server defaults out (the models declare Python defaults, the
    migrations a server default where a NOT NULL column joins a table with rows): each one a
    migration gives must be the value the model gives new rows, or old and new rows disagree."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        found: dict[tuple[str, str], tuple[str, object]] = {}
        for table in SQLModel.metadata.sorted_tables:
            for column in inspector.get_columns(table.name):
                # PostgreSQL's serial keys default to their sequence: not a value to compare.
                if column.get("default") is None or table.columns[column["name"]].primary_key:
                    continue
                model_default = table.columns[column["name"]].default
                assert model_default is not None and model_default.is_scalar, (
                    f"{table.name}.{column['name']}: the migration gives a server default, the "
                    "model none"
                )
                found[(table.name, column["name"])] = (
                    _plain_default(column["default"]),
                    model_default.arg,  # type: ignore[attr-defined]
                )
    finally:
        engine.dispose()
    assert {key: migrated for key, (migrated, _) in found.items()} == {
        key: str(model) for key, (_, model) in found.items()
    }
    # The settings added with a server default since 0012 are among them.
    assert {("workspaces", "bounce_back_min_losses"), ("workspaces", "support_streak")} <= set(
        found
    )


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


def test_workspaces_installed_before_0007_learn_their_grid_org(database_url: str) -> None:
    """0007_grid copies each workspace's Grid org from its latest installation."""
    from sqlalchemy import text

    upgrade(database_url, "0006_kudos_plain_text")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for team_id in ("T0GRID", "T0PLAIN"):
                connection.execute(
                    text(
                        "INSERT INTO workspaces (team_id, name, checkin_weekday, checkin_hour,"
                        " checkin_reminder_hours, kudos_policy, kudos_daily_cap,"
                        " strong_process_threshold, reflection_reminder_hours, digest_enabled,"
                        " cycle, data_grace_days, created_at, updated_at) VALUES (:t, '', 4, 14,"
                        " 24, 'managers', 5, 0.8, 24, true, 'monthly', 30, :now, :now)"
                    ),
                    {"t": team_id, "now": "2026-01-01 00:00:00+00:00"},
                )
            for team_id, enterprise_id, at in (
                ("T0GRID", None, "2026-01-01 00:00:00"),
                ("T0GRID", "E0ORG", "2026-02-01 00:00:00"),
                ("T0PLAIN", None, "2026-01-01 00:00:00"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO slack_installations (client_id, app_id, enterprise_id,"
                        " team_id, user_id, is_enterprise_install, installed_at)"
                        " VALUES ('1.2', 'A1', :e, :t, 'U1', false, :at)"
                    ),
                    {"e": enterprise_id, "t": team_id, "at": at},
                )
        upgrade(database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT team_id, enterprise_id FROM workspaces ORDER BY team_id")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("T0GRID", "E0ORG"), ("T0PLAIN", None)]
