"""Outcomes: the reflection-reminder index also orders by when the questions went out, so the
scheduler's query (unanswered, unreminded, asked before a time, oldest first) is one range read
instead of a walk over every win (whose reflections are never asked, so never answered).

Revision ID: 0016_reflection_due_index
Revises: 0015_calibration
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_reflection_due_index"
down_revision: str | Sequence[str] | None = "0015_calibration"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outcomes_reflection_due", table_name="outcomes")
    op.create_index(
        "ix_outcomes_reflection_due",
        "outcomes",
        ["reflection_answered_at", "reflection_reminded_at", "reflection_requested_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_outcomes_reflection_due", table_name="outcomes")
    op.create_index(
        "ix_outcomes_reflection_due",
        "outcomes",
        ["reflection_answered_at", "reflection_reminded_at"],
    )
