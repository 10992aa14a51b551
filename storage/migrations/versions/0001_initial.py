"""Initial schema: every table of storage/models.py.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("week_key", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id", "week_key", name="uq_checkins_team_user_week"),
    )
    op.create_index("ix_checkins_status_due", "checkins", ["status", "due_at"], unique=False)
    op.create_index(
        "ix_checkins_team_status_due", "checkins", ["team_id", "status", "due_at"], unique=False
    )

    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("custom_metric", sa.String(), nullable=True),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("cycle_start", sa.Date(), nullable=False),
        sa.Column("cycle_end", sa.Date(), nullable=False),
        sa.Column("why", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_goals_team_user_cycle_end", "goals", ["team_id", "user_id", "cycle_end"], unique=False
    )

    op.create_table(
        "kudos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("giver_user_id", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kudos_team_created", "kudos", ["team_id", "created_at"], unique=False)
    op.create_index(
        "ix_kudos_team_giver_created",
        "kudos",
        ["team_id", "giver_user_id", "created_at"],
        unique=False,
    )

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("tz", sa.String(), nullable=False),
        sa.Column("tz_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_manager", sa.Boolean(), nullable=False),
        sa.Column("manager_user_id", sa.String(), nullable=True),
        sa.Column("checkin_paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id", name="uq_members_team_user"),
    )
    op.create_index(
        "ix_members_team_manager", "members", ["team_id", "manager_user_id"], unique=False
    )

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("deal", sa.String(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("competitor", sa.String(), nullable=True),
        sa.Column("buyer_feedback", sa.String(), nullable=True),
        sa.Column("luck", sa.Integer(), nullable=True),
        sa.Column("pipeline_full", sa.Boolean(), nullable=False),
        sa.Column("healthy_stage_ratios", sa.Boolean(), nullable=False),
        sa.Column("discovery", sa.Boolean(), nullable=False),
        sa.Column("qualification", sa.Boolean(), nullable=False),
        sa.Column("objection_handling", sa.Boolean(), nullable=False),
        sa.Column("process_score", sa.Float(), nullable=False),
        sa.Column("classification", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission_key", sa.String(), nullable=False),
        sa.Column("celebrate_consent", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "submission_key", name="uq_outcomes_team_submission"),
    )
    op.create_index(
        "ix_outcomes_team_occurred", "outcomes", ["team_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_outcomes_team_user_occurred",
        "outcomes",
        ["team_id", "user_id", "occurred_at"],
        unique=False,
    )

    op.create_table(
        "post_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("post_key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "post_key", name="uq_post_log_team_key"),
    )
    op.create_index(
        "ix_post_log_status_claimed", "post_log", ["status", "claimed_at"], unique=False
    )

    op.create_table(
        "processed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "event_id", name="uq_processed_events_team_event"),
    )
    op.create_index(
        "ix_processed_events_received", "processed_events", ["received_at"], unique=False
    )

    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("recognition_channel_id", sa.String(), nullable=True),
        sa.Column("checkin_weekday", sa.Integer(), nullable=False),
        sa.Column("checkin_hour", sa.Integer(), nullable=False),
        sa.Column("checkin_reminder_hours", sa.Integer(), nullable=False),
        sa.Column("kudos_policy", sa.String(), nullable=False),
        sa.Column("kudos_daily_cap", sa.Integer(), nullable=False),
        sa.Column("strong_process_threshold", sa.Float(), nullable=False),
        sa.Column("reflection_reminder_hours", sa.Integer(), nullable=False),
        sa.Column("digest_enabled", sa.Boolean(), nullable=False),
        sa.Column("cycle", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )
    op.create_table(
        "checkin_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(), nullable=False),
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkins.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "checkin_id", "question_key", name="uq_checkin_answers_checkin_question"
        ),
    )
    op.create_table(
        "kudos_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("kudos_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["kudos_id"], ["kudos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kudos_id", "user_id", name="uq_kudos_recipients_kudos_user"),
    )
    op.create_index(
        "ix_kudos_recipients_team_user", "kudos_recipients", ["team_id", "user_id"], unique=False
    )

    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(), nullable=False),
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=True),
        sa.Column("is_commitment", sa.Boolean(), nullable=False),
        sa.Column("commitment_followed_up", sa.Boolean(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outcome_id"], ["outcomes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outcome_id", "question_key", name="uq_reflections_outcome_question"),
    )
    op.create_index(
        "ix_reflections_team_user_created",
        "reflections",
        ["team_id", "user_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in (
        "reflections",
        "kudos_recipients",
        "checkin_answers",
        "workspaces",
        "processed_events",
        "post_log",
        "outcomes",
        "members",
        "kudos",
        "goals",
        "checkins",
    ):
        op.drop_table(table)
