"""Due times and indexes, so a scheduler tick reads only what is due, not every workspace.

Members get ``next_checkin_at`` and ``next_digest_at``, workspaces ``next_kudos_digest_at``
(all NULL at first: the first tick after the upgrade works each one out), the columns the
scheduler filters on get indexes, and ``scheduler_marks`` keeps the latest ``now`` each job ran
with (a clock moved back clears the stored times).

Revision ID: 0010_due_indexes
Revises: 0009_outbox
Create Date: 2026-12-01

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_due_indexes"
down_revision: str | Sequence[str] | None = "0009_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_workspaces_next_kudos_digest", "workspaces", ["next_kudos_digest_at"]),
    ("ix_workspaces_uninstalled", "workspaces", ["uninstalled_at"]),
    ("ix_members_next_checkin", "members", ["next_checkin_at"]),
    ("ix_members_next_digest", "members", ["next_digest_at"]),
    ("ix_members_tz_refreshed", "members", ["tz_refreshed_at"]),
    ("ix_reflections_created", "reflections", ["created_at"]),
    ("ix_checkins_reminder_due", "checkins", ["status", "reminder_sent_at", "sent_at"]),
    ("ix_goals_review_due", "goals", ["reviewed_at", "cycle_end"]),
)


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("next_kudos_digest_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("next_checkin_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_digest_at", sa.DateTime(timezone=True), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "scheduler_marks",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("last_now", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_marks")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("members") as batch:
        batch.drop_column("next_digest_at")
        batch.drop_column("next_checkin_at")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("next_kudos_digest_at")
