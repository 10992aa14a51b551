"""Kudos: a submission key (one kudos per command or modal) and an index for pending kudos.

Revision ID: 0002_kudos
Revises: 0001
Create Date: 2026-11-24

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_kudos"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot add a constraint with ALTER TABLE, so Alembic rebuilds it.
    with op.batch_alter_table("kudos") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(), nullable=True))
        batch.create_unique_constraint("uq_kudos_team_submission", ["team_id", "submission_key"])
    op.create_index("ix_kudos_status", "kudos", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kudos_status", table_name="kudos")
    with op.batch_alter_table("kudos") as batch:
        batch.drop_constraint("uq_kudos_team_submission", type_="unique")
        batch.drop_column("submission_key")
