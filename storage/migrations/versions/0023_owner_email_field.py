"""Each workspace's own Salesforce owner-email field (crm_connections.salesforce_owner_email_field).

Two orgs may name their Opportunity formula field differently; NULL means the default,
Owner_Email__c.

Revision ID: 0023_owner_email_field
Revises: 0022_crm_connections
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_owner_email_field"
down_revision: str | Sequence[str] | None = "0022_crm_connections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_connections") as batch:
        batch.add_column(sa.Column("salesforce_owner_email_field", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_connections") as batch:
        batch.drop_column("salesforce_owner_email_field")
