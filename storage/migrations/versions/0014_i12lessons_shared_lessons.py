"""Reflections: when a rep shared a win's lesson with their team (none: private, as before).

Revision ID: 0014_i12lessons
Revises: 0013_currency
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_i12lessons"
down_revision: str | Sequence[str] | None = "0013_currency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reflections") as batch:
        batch.add_column(sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_reflections_team_shared", "reflections", ["team_id", "shared_at"])


def downgrade() -> None:
    op.drop_index("ix_reflections_team_shared", table_name="reflections")
    with op.batch_alter_table("reflections") as batch:
        batch.drop_column("shared_at")
