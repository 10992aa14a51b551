"""Wins and losses (the debriefs) and the reps' reflections on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import Money, UTCDateTime, _created_at


class Outcome(SQLModel, table=True):
    """A win (``/won``) or loss (``/lost``), its process checklist and classification."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("team_id", "submission_key", name="uq_outcomes_team_submission"),
        Index("ix_outcomes_team_user_occurred", "team_id", "user_id", "occurred_at"),
        Index("ix_outcomes_team_occurred", "team_id", "occurred_at"),
        # The scheduler looks for debriefs whose reflections are still unanswered, and for
        # consented perfect-miss shout-outs still waiting for a recognition channel.
        Index(
            "ix_outcomes_reflection_due",
            "reflection_answered_at",
            "reflection_reminded_at",
            "reflection_requested_at",
        ),
        Index("ix_outcomes_celebration_due", "celebrate_consent", "celebration_posted_at"),
        # ... and for DMs, notes and bounce-back shout-outs still to be sent (see below).
        Index("ix_outcomes_rep_dm_pending", "rep_dm_pending_since"),
        Index("ix_outcomes_manager_note_pending", "manager_note_pending_since"),
        Index("ix_outcomes_bounce_back_pending", "bounce_back_pending_since"),
        # Post keys name these ids (debrief:<id>:rep) and outlive deleted rows: SQLite must never
        # reuse one. "SQLite Auto Incrementing Behavior",
        # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html; migration 0026.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    kind: str  # OUTCOME_KINDS
    deal: str
    amount: float | None = Field(default=None, sa_type=Money)
    stage: str | None = None
    reason: str | None = None
    competitor: str | None = None
    buyer_feedback: str | None = None
    luck: int | None = None  # 0..100: the share of a win the rep puts down to luck
    pipeline_full: bool = False
    healthy_stage_ratios: bool = False
    discovery: bool = False
    qualification: bool = False
    objection_handling: bool = False
    process_score: float
    classification: str  # CLASSIFICATIONS
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Slack view id (or a hash of it): a retried view_submission saves the outcome once.
    submission_key: str
    celebrate_consent: bool | None = None
    celebration_posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A win that ended a losing streak: the streak's length and the time from its first loss
    # to this win, kept here so Home and digests need not replay the rep's history.
    bounce_back_losses: int | None = None
    bounce_back_recovery_seconds: int | None = None
    # When the rep was asked whether to share this bounce-back (a streak long enough for a
    # public shout-out); their answer is `celebrate_consent`, as for a perfect miss.
    bounce_back_offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the rep took back the shout-out they had agreed to (deleted, or never posted).
    shout_out_taken_back_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the reflection questions (a loss's, or a win's one lesson question) went out, were
    # answered, and when their one reminder was settled: sent, never sendable, or declined by
    # the rep's "Not now" on a win's question.
    reflection_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reflection_answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reflection_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Messages that must reach Slack even when the first try failed: set when one became due,
    # cleared once it is sent (or can never be: the person left). The scheduler retries the
    # ones still set; post keys keep each to one message.
    rep_dm_pending_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    manager_note_pending_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounce_back_pending_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The recognition channel a shout-out could not be posted in (not_in_channel, ...), and
    # when: tried there again only after a while (someone may invite the bot), or at once in
    # another channel an admin picks.
    celebration_failed_channel_id: str | None = None
    celebration_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounce_back_failed_channel_id: str | None = None
    bounce_back_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The manager's calibration (issue 12), kept beside the rep's own practices, score and
    # classification above: who calibrated and when (set once; a second calibration is
    # refused), whether they agreed, the practices they saw hold ("discovery,qualification";
    # "" for none), the score and classification those give, and their one sentence. Reviews,
    # Home and charts count the calibrated score and classification where they are set.
    calibrated_by: str | None = None
    calibrated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    calibration_agrees: bool | None = None
    calibrated_practices: str | None = None
    calibrated_process_score: float | None = None
    calibrated_classification: str | None = None  # CLASSIFICATIONS
    calibration_note: str | None = None
    # A debrief of a deal a CRM closed (from its *Debrief this* offer): the CRM and the deal's
    # id there, so reviews can link back to it.
    crm_source: str | None = None
    crm_deal_id: str | None = None
    # The deal's page in its CRM (crm_deals.link when the debrief was made), linked from the
    # manager's note and the rep's Home.
    crm_link: str | None = None
    created_at: datetime = _created_at()


class Reflection(SQLModel, table=True):
    """One reflection question asked after an outcome, and the rep's answer."""

    __tablename__ = "reflections"
    __table_args__ = (
        UniqueConstraint("outcome_id", "question_key", name="uq_reflections_outcome_question"),
        Index("ix_reflections_team_user_created", "team_id", "user_id", "created_at"),
        # Retention deletes old reflections across workspaces by age.
        Index("ix_reflections_created", "created_at"),
        # `/rebound lessons` looks for the lessons a rep's teammates shared.
        Index("ix_reflections_team_shared", "team_id", "shared_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    outcome_id: int = Field(foreign_key="outcomes.id", ondelete="CASCADE")
    question_key: str
    question: str
    answer: str | None = None
    is_commitment: bool = False
    commitment_followed_up: bool | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A win's lesson the rep shared with their team (None: private to them and their manager,
    # as every lesson starts).
    shared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
