"""Merge the feature branches (debriefs, goals, kudos, OAuth, privacy) back into one head.

The features were built in parallel, each adding its own migration on top of 0001; this
revision joins them so later migrations have a single parent.

Revision ID: 0003
Revises: 0002_debriefs, 0002_goals, 0002_kudos, 0002_oauth, 0002_privacy
Create Date: 2026-11-23 06:57:10.326687

"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = (
    "0002_debriefs",
    "0002_goals",
    "0002_kudos",
    "0002_oauth",
    "0002_privacy",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches' own migrations did the work."""


def downgrade() -> None:
    """Nothing to undo here."""
