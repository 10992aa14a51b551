"""Outbox: what reconciliation needs to carry between processes — the files each upload
attempt made (looked up with files.info when the share's answer was lost) and where the
history search stopped (the next page's cursor, for whichever process reads it next).

Revision ID: 0014_outbox_reconcile_state
Revises: 0013_currency
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_outbox_reconcile_state"
down_revision: str | Sequence[str] | None = "0013_currency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attempt_files", sa.String(), nullable=True))
        batch.add_column(sa.Column("history_cursor", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("history_cursor")
        batch.drop_column("attempt_files")
