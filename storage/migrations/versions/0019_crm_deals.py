"""Closed deals from the CRMs (crm_deals), and the CRM deal a debrief was made from.

Revision ID: 0019_crm_deals
Revises: 0018_lessons_agenda
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_crm_deals"
down_revision: str | Sequence[str] | None = "0018_lessons_agenda"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "crm_deals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_key", sa.String(), nullable=False),
        sa.Column("deal_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("crm_stage", sa.String(), nullable=True),
        sa.Column("won", sa.Boolean(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("crm_reason", sa.String(), nullable=True),
        sa.Column("owner_email", sa.String(), nullable=True),
        sa.Column("link", sa.String(), nullable=True),
        sa.Column("slack_user_id", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("next_try_at", _TIME, nullable=True),
        sa.Column("offered_at", _TIME, nullable=True),
        sa.Column("reminded_at", _TIME, nullable=True),
        sa.Column("debriefed_at", _TIME, nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.UniqueConstraint("source", "event_key", name="uq_crm_deals_source_event"),
    )
    op.create_index("ix_crm_deals_team_deal", "crm_deals", ["team_id", "source", "deal_id"])
    op.create_index("ix_crm_deals_state", "crm_deals", ["state", "next_try_at"])
    op.create_index(
        "ix_crm_deals_reminder_due", "crm_deals", ["state", "reminded_at", "offered_at"]
    )
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("crm_source", sa.String(), nullable=True))
        batch.add_column(sa.Column("crm_deal_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("crm_deal_id")
        batch.drop_column("crm_source")
    op.drop_index("ix_crm_deals_reminder_due", table_name="crm_deals")
    op.drop_index("ix_crm_deals_state", table_name="crm_deals")
    op.drop_index("ix_crm_deals_team_deal", table_name="crm_deals")
    op.drop_table("crm_deals")
