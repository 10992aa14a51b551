"""CRM jobs claim the rows they read (crm_deals.claimed_by / claimed_until), and a debrief keeps
its deal's link in the CRM (outcomes.crm_link).

Revision ID: 0025_crm_claims
Revises: 0024_agenda_done
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_crm_claims"
down_revision: str | Sequence[str] | None = "0024_agenda_done"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_deals") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("crm_link", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("crm_link")
    with op.batch_alter_table("crm_deals") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
