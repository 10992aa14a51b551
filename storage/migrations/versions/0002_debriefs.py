"""Debriefs: bounce-back facts, reflection timestamps and shout-out state on outcomes.

Revision ID: 0002_debriefs
Revises: 0001
Create Date: 2026-11-24

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_debriefs"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMPS = (
    "celebration_posted_at",
    "reflection_requested_at",
    "reflection_answered_at",
    "reflection_reminded_at",
)
_INTEGERS = ("bounce_back_losses", "bounce_back_recovery_seconds")


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        for name in _TIMESTAMPS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        for name in _INTEGERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    op.create_index(
        "ix_outcomes_reflection_due",
        "outcomes",
        ["reflection_answered_at", "reflection_reminded_at"],
        unique=False,
    )
    op.create_index(
        "ix_outcomes_celebration_due",
        "outcomes",
        ["celebrate_consent", "celebration_posted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_outcomes_celebration_due", table_name="outcomes")
    op.drop_index("ix_outcomes_reflection_due", table_name="outcomes")
    with op.batch_alter_table("outcomes") as batch:
        for name in (*_TIMESTAMPS, *_INTEGERS):
            batch.drop_column(name)
