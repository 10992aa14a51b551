"""Outcomes: a manager's calibration of the rep's own score (who, when, agreed or not, the
practices they saw hold, the score and classification those give, their one sentence).

Revision ID: 0015_calibration
Revises: 0014_outbox_reconcile_state
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_calibration"
down_revision: str | Sequence[str] | None = "0014_outbox_reconcile_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("calibrated_by", sa.String()),
    ("calibrated_at", sa.DateTime(timezone=True)),
    ("calibration_agrees", sa.Boolean()),
    ("calibrated_practices", sa.String()),
    ("calibrated_process_score", sa.Float()),
    ("calibrated_classification", sa.String()),
    ("calibration_note", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
