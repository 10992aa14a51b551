"""Workspaces remember their Enterprise Grid org: installations are stored per (enterprise,
team), and scheduled sends look the bot token up with both.

Workspaces installed before this revision get the org of their latest installation.

Revision ID: 0007_grid
Revises: 0006_kudos_plain_text
Create Date: 2026-12-01

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_grid"
down_revision: str | Sequence[str] | None = "0006_kudos_plain_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("enterprise_id", sa.String(), nullable=True))
    op.execute(
        "UPDATE workspaces SET enterprise_id = ("
        " SELECT i.enterprise_id FROM slack_installations i"
        " WHERE i.team_id = workspaces.team_id"
        " ORDER BY i.installed_at DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("enterprise_id")
