"""Workspaces: how many scored outcomes or check-ins a cycle quadrant needs before it is called.

Revision ID: 0012_min_evidence
Revises: 0011_api_slots
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_min_evidence"
down_revision: str | Sequence[str] | None = "0011_api_slots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("min_evidence", sa.Integer(), nullable=False, server_default="3")
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("min_evidence")
