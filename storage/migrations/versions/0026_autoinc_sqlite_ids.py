"""On SQLite, ids that post keys name are never reused: outcomes, kudos, checkins and
one_on_one_items become AUTOINCREMENT tables.

Post keys carry row ids (``debrief:<outcome id>:rep``, ``kudos:<id>``, ``checkin:<id>``,
``agenda-done:<item id>:…``) and the outbox keeps its rows ~60 days, while the rows themselves
can go (a rep removes an outcome from Home, forget-me). Without AUTOINCREMENT SQLite gives a new
row "a ROWID that is one more than the largest ROWID in the table prior to the insert", so the
newest row's id comes back after it is deleted and the new row's messages find their keys
already sent; with AUTOINCREMENT "the ROWID chosen for the new row is at least one larger than
the largest ROWID that has ever before existed in that same table"
(https://www.sqlite.org/autoinc.html). SQLite only takes the keyword in CREATE TABLE, so each
table is rebuilt (SQLAlchemy's ``sqlite_autoincrement``, "SQLite Auto Incrementing Behavior",
https://docs.sqlalchemy.org/en/20/dialects/sqlite.html). PostgreSQL's sequences never hand an
id out twice: nothing to do there.

Revision ID: 0026_autoinc_sqlite_ids
Revises: 0025_crm_claims
Create Date: 2026-12-03

"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_autoinc_sqlite_ids"
down_revision: str | Sequence[str] | None = "0025_crm_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables rebuilt, children before parents, each with the post keys naming its ids: an id
# seen in a key (its row since deleted) is "used" too, so the sequence starts above it.
_TABLES: dict[str, tuple[str, ...]] = {
    "one_on_one_items": (r"agenda-done:(\d+):",),
    "outcomes": (r"debrief:(\d+):", r"streak:[^:]*:(\d+):"),
    "kudos": (r"kudos:(\d+)(?::|$)",),
    "checkins": (r"checkin:(\d+)$", r"checkin-reminder:(\d+)$"),
}
# Every table with a foreign key (ON DELETE CASCADE) to a rebuilt one. The app's connections
# run with PRAGMA foreign_keys=ON, and that pragma "is a no-op within a transaction"
# (https://www.sqlite.org/pragma.html#pragma_foreign_keys) such as this upgrade's; so the
# DROP TABLE of a rebuild does "an implicit DELETE FROM" whose cascades empty these
# (https://www.sqlite.org/foreignkeys.html, "CREATE, ALTER and DROP TABLE commands"). They
# are copied aside first and their rows put back after.
_CHILDREN = ("reflections", "kudos_recipients", "checkin_answers", "one_on_one_items")


def _highest_key_id(connection: sa.Connection, patterns: tuple[str, ...]) -> int:
    highest = 0
    for table in ("outbox", "post_log"):
        for pattern in patterns:
            prefix = pattern.split("(", 1)[0].replace("[^:]*", "%")
            keys = connection.execute(
                sa.text(f"SELECT post_key FROM {table} WHERE post_key LIKE :prefix"),
                {"prefix": prefix + "%"},
            ).scalars()
            for key in keys:
                match = re.match(pattern, key)
                if match:
                    highest = max(highest, int(match.group(1)))
    return highest


def _rebuild(autoincrement: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for child in _CHILDREN:
        connection.execute(sa.text(f"CREATE TEMP TABLE _kept_{child} AS SELECT * FROM {child}"))
    for table in _TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    for child in _CHILDREN:
        connection.execute(
            sa.text(
                f"INSERT INTO {child} SELECT * FROM _kept_{child} "
                f"WHERE id NOT IN (SELECT id FROM {child})"
            )
        )
        connection.execute(sa.text(f"DROP TABLE _kept_{child}"))
    if not autoincrement:
        return
    for table, patterns in _TABLES.items():
        highest_row = connection.execute(sa.text(f"SELECT MAX(id) FROM {table}")).scalar() or 0
        seq = max(int(highest_row), _highest_key_id(connection, patterns))
        connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        if seq:
            connection.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
                {"t": table, "seq": seq},
            )


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
