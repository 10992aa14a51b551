"""api_slots: when each workspace may next call a method whose allowance every process shares
(conversations.history for reconciliation), kept in the database instead of in each process.

Revision ID: 0011_api_slots
Revises: 0010_due_indexes
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_api_slots"
down_revision: str | Sequence[str] | None = "0010_due_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_slots",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "method"),
    )


def downgrade() -> None:
    op.drop_table("api_slots")
