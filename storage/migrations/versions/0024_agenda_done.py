"""One-on-one agenda items can be marked done (by the rep, their manager or an admin): when and
by whom. An open item stays on both Homes until it is closed (no more 28-day drop-off); the
agenda's indexes lead with whether it is done, so the Home reads open items, and the count of
those closed lately, without walking every item ever closed.

Revision ID: 0024_agenda_done
Revises: 0023_owner_email_field
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_agenda_done"
down_revision: str | Sequence[str] | None = "0023_owner_email_field"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("one_on_one_items") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("done_by", sa.String(), nullable=True))
    op.drop_index("ix_one_on_one_items_team_rep_created", table_name="one_on_one_items")
    op.drop_index("ix_one_on_one_items_team_manager_created", table_name="one_on_one_items")
    op.create_index(
        "ix_one_on_one_items_team_rep_done",
        "one_on_one_items",
        ["team_id", "rep_user_id", "done_at", "created_at"],
    )
    op.create_index(
        "ix_one_on_one_items_team_manager_done",
        "one_on_one_items",
        ["team_id", "manager_user_id", "done_at", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_one_on_one_items_team_manager_done", table_name="one_on_one_items")
    op.drop_index("ix_one_on_one_items_team_rep_done", table_name="one_on_one_items")
    op.create_index(
        "ix_one_on_one_items_team_rep_created",
        "one_on_one_items",
        ["team_id", "rep_user_id", "created_at"],
    )
    op.create_index(
        "ix_one_on_one_items_team_manager_created",
        "one_on_one_items",
        ["team_id", "manager_user_id", "created_at"],
    )
    with op.batch_alter_table("one_on_one_items") as batch:
        batch.drop_column("done_by")
        batch.drop_column("done_at")
