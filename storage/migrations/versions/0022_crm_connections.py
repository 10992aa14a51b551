"""Each workspace's own CRM (crm_connections), and notification ids unique per workspace.

Revision ID: 0022_crm_connections
Revises: 0021_salesforce_session
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_crm_connections"
down_revision: str | Sequence[str] | None = "0021_salesforce_session"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_connections",
        sa.Column("team_id", sa.String(), primary_key=True),
        sa.Column("hubspot_portal_id", sa.String(), nullable=True),
        sa.Column("hubspot_access_token", sa.String(), nullable=True),
        sa.Column("hubspot_client_secret", sa.String(), nullable=True),
        sa.Column("hubspot_token_hint", sa.String(), nullable=True),
        sa.Column("hubspot_secret_hint", sa.String(), nullable=True),
        sa.Column("salesforce_org_id", sa.String(), nullable=True),
        sa.Column("salesforce_token_hash", sa.String(), nullable=True),
        sa.Column("salesforce_token_hint", sa.String(), nullable=True),
        sa.Column("updated_by", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("hubspot_portal_id", name="uq_crm_connections_hubspot_portal"),
        sa.UniqueConstraint("salesforce_org_id", name="uq_crm_connections_salesforce_org"),
        sa.UniqueConstraint("salesforce_token_hash", name="uq_crm_connections_salesforce_token"),
    )
    # Two workspaces' CRMs may use the same notification id: unique per workspace from now on.
    with op.batch_alter_table("crm_deals") as batch:
        batch.drop_constraint("uq_crm_deals_source_event", type_="unique")
        batch.create_unique_constraint(
            "uq_crm_deals_team_source_event", ["team_id", "source", "event_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_deals") as batch:
        batch.drop_constraint("uq_crm_deals_team_source_event", type_="unique")
        batch.create_unique_constraint("uq_crm_deals_source_event", ["source", "event_key"])
    op.drop_table("crm_connections")
