"""Debriefs: retry what Slack failed to take (the rep's DM, the manager's note, shout-outs).

Revision ID: 0004_debriefs_retry
Revises: 0003
Create Date: 2026-11-25

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_debriefs_retry"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Nothing is pending for rows saved before this revision: what they had to send was sent then
# (or dropped), and sending it now, days later, would surprise people.
_PENDING = ("rep_dm_pending_since", "manager_note_pending_since", "bounce_back_pending_since")
_FAILED_AT = ("celebration_failed_at", "bounce_back_failed_at")
_FAILED_CHANNELS = ("celebration_failed_channel_id", "bounce_back_failed_channel_id")
_INDEXES = {
    "ix_outcomes_rep_dm_pending": "rep_dm_pending_since",
    "ix_outcomes_manager_note_pending": "manager_note_pending_since",
    "ix_outcomes_bounce_back_pending": "bounce_back_pending_since",
}


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        for name in (*_PENDING, *_FAILED_AT):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        for name in _FAILED_CHANNELS:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))
    for index, column in _INDEXES.items():
        op.create_index(index, "outcomes", [column], unique=False)


def downgrade() -> None:
    for index in _INDEXES:
        op.drop_index(index, table_name="outcomes")
    with op.batch_alter_table("outcomes") as batch:
        for name in (*_PENDING, *_FAILED_AT, *_FAILED_CHANNELS):
            batch.drop_column(name)
