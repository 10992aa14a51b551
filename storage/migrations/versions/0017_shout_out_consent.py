"""Consent for every public post about a rep: how long a losing streak a public bounce-back needs
(a workspace setting), when a rep was asked whether to share a bounce-back, and when they took a
shout-out back. Bounce-back shout-outs queued before this (never asked) are not posted.

Revision ID: 0017_shout_out_consent
Revises: 0016_reflection_due_index
Create Date: 2026-12-02

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_shout_out_consent"
down_revision: str | Sequence[str] | None = "0016_reflection_due_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("bounce_back_min_losses", sa.Integer(), nullable=False, server_default="2")
        )
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(
            sa.Column("bounce_back_offered_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("shout_out_taken_back_at", sa.DateTime(timezone=True), nullable=True)
        )
    # A bounce-back shout-out still waiting in the outbox was queued without asking the rep:
    # it is never posted. The rep's win DM it held back goes out with the adoption job
    # (bot.usecases.debrief_adoption), which no longer waits for a failed shout-out.
    op.execute(
        "UPDATE outbox SET state = 'failed', last_error = 'not_asked', claimed_by = NULL, "
        "lease_until = NULL WHERE kind = 'bounce-back' AND state = 'pending'"
    )
    op.execute(
        "UPDATE outcomes SET bounce_back_pending_since = NULL "
        "WHERE bounce_back_pending_since IS NOT NULL AND celebrate_consent IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("shout_out_taken_back_at")
        batch.drop_column("bounce_back_offered_at")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("bounce_back_min_losses")
