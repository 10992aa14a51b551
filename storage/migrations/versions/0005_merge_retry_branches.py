"""Merge the retry branches (debrief sends and kudos DMs) back into one head.

Revision ID: 0005
Revises: 0004_debriefs_retry, 0004_kudos_retry
Create Date: 2026-11-23 07:35:05.837052

"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0004_debriefs_retry", "0004_kudos_retry")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches' own migrations did the work."""


def downgrade() -> None:
    """Nothing to undo here."""
