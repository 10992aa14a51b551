"""Goals: a submission key (one goal per modal submission) and the cycle review's bookkeeping.

Revision ID: 0002_goals
Revises: 0001
Create Date: 2026-11-24

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_goals"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot add a constraint with ALTER TABLE, so Alembic rebuilds it.
    with op.batch_alter_table("goals") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_goals_team_submission", ["team_id", "submission_key"])
    op.create_index(
        "ix_goals_cycle_end_reviewed", "goals", ["cycle_end", "reviewed_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_goals_cycle_end_reviewed", table_name="goals")
    with op.batch_alter_table("goals") as batch:
        batch.drop_constraint("uq_goals_team_submission", type_="unique")
        batch.drop_column("reviewed_at")
        batch.drop_column("submission_key")
