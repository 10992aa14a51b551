"""Salesforce: where and with which session an Opportunity's owner is read back (crm_deals).

Revision ID: 0021_salesforce_session
Revises: 0020_support_streak
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_salesforce_session"
down_revision: str | Sequence[str] | None = "0020_support_streak"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_deals") as batch:
        batch.add_column(sa.Column("api_url", sa.String(), nullable=True))
        batch.add_column(sa.Column("api_session", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_deals") as batch:
        batch.drop_column("api_session")
        batch.drop_column("api_url")
