"""Reflections: when a rep shared a win's lesson with their team (none: private, as before);
one-on-one agenda items: check-in answers a manager replied to from the digest.

Revision ID: 0018_lessons_agenda
Revises: 0017_shout_out_consent
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_lessons_agenda"
down_revision: str | Sequence[str] | None = "0017_shout_out_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reflections") as batch:
        batch.add_column(sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_reflections_team_shared", "reflections", ["team_id", "shared_at"])
    op.create_table(
        "one_on_one_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("manager_user_id", sa.String(), nullable=False),
        sa.Column("rep_user_id", sa.String(), nullable=False),
        sa.Column(
            "checkin_id",
            sa.Integer(),
            sa.ForeignKey("checkins.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("reply", sa.String(), nullable=False),
        sa.Column("submission_key", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("team_id", "submission_key", name="uq_one_on_one_items_submission"),
    )
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


def downgrade() -> None:
    op.drop_table("one_on_one_items")
    op.drop_index("ix_reflections_team_shared", table_name="reflections")
    with op.batch_alter_table("reflections") as batch:
        batch.drop_column("shared_at")
