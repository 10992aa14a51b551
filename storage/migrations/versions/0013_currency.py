"""Workspaces: the currency (ISO 4217 code) amounts are shown in; none at first.

Revision ID: 0013_currency
Revises: 0012_min_evidence
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_currency"
down_revision: str | Sequence[str] | None = "0012_min_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("currency", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("currency")
