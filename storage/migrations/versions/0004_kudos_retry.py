"""Kudos: each recipient's DM has its own state, so a failed DM is retried once on its own.

Recipients of kudos already posted got their DM then; they start as "sent".

Revision ID: 0004_kudos_retry
Revises: 0003
Create Date: 2026-11-25

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_kudos_retry"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kudos_recipients") as batch:
        batch.add_column(
            sa.Column("dm_status", sa.String(), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("dm_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dm_attempted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE kudos_recipients SET dm_status = 'sent' "
        "WHERE kudos_id IN (SELECT id FROM kudos WHERE status = 'posted')"
    )


def downgrade() -> None:
    with op.batch_alter_table("kudos_recipients") as batch:
        batch.drop_column("dm_attempted_at")
        batch.drop_column("dm_attempts")
        batch.drop_column("dm_status")
