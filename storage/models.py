"""Every table Rebound stores, as SQLModel classes.

All tables live in this one module so Alembic sees the whole schema through
``SQLModel.metadata`` (see ``storage/migrations/env.py``). Each row carries the Slack
``team_id`` so one database can serve many workspaces.

Conventions:
- Times are timezone-aware UTC. ``UTCDateTime`` converts on the way in and attaches UTC on
  the way out, because SQLite stores datetimes as text without an offset.
- Enum-like columns are plain strings; the allowed values are the constants below (they
  match ``bot/domain/``).
- Constraint and index names are explicit so the migration in
  ``storage/migrations/versions`` can name the same objects on every backend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Index,
    Numeric,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Values of the string columns that act as enums.
OUTCOME_KINDS = ("win", "loss")
CLASSIFICATIONS = ("system-hit", "lucky-hit", "system-miss", "perfect-miss")
KUDOS_POLICIES = ("managers", "everyone")
CYCLES = ("monthly", "quarterly")
KUDOS_STATUSES = ("pending", "posted")
CHECKIN_STATUSES = ("pending", "claimed", "sent", "answered", "skipped")
GOAL_METRICS = ("revenue", "deals_won", "meetings", "custom")
POST_STATUSES = ("claimed", "sent", "failed")
# The life of an outbox row (see storage.outbox_queries): pending -> sending -> sent | failed,
# or sending -> unknown (Slack may or may not have it) -> reconciled -> sent | pending.
OUTBOX_STATES = ("pending", "sending", "unknown", "sent", "failed")
# Who a row goes to; "recognition_channel" is read from the workspace's settings at send time.
# "sent_post": target_id is another row's post key; a chat.delete of that row's message goes to
# the channel and ts it was sent with (bot.dispatcher).
OUTBOX_TARGETS = ("channel", "user", "recognition_channel", "sent_post")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (default for created_at-style columns)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that only accepts aware values and returns aware UTC.

    Naive datetimes are refused rather than guessed at: a naive value in the domain is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware values only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite hands back the naive UTC text we stored; PostgreSQL an aware value in the
        # session's time zone.
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# Money: exact to the cent in the database, a float in Python (the domain does float maths).
Money = Numeric(14, 2, asdecimal=False)


class Workspace(SQLModel, table=True):
    """One Slack workspace (team) and its settings from ``/rebound settings``."""

    __tablename__ = "workspaces"
    __table_args__ = (
        # The scheduler finds due digests and workspaces past their uninstall grace by these.
        Index("ix_workspaces_next_kudos_digest", "next_kudos_digest_at"),
        Index("ix_workspaces_uninstalled", "uninstalled_at"),
    )

    team_id: str = Field(primary_key=True)
    name: str = ""
    # The Enterprise Grid org the workspace belongs to (None outside Grid). Installations are
    # stored per (enterprise, team), so scheduled sends need it to find the bot token.
    enterprise_id: str | None = None
    recognition_channel_id: str | None = None
    checkin_weekday: int = 4  # 0 = Monday; Friday by default
    checkin_hour: int = 14  # in each member's own time zone
    checkin_reminder_hours: int = 24
    kudos_policy: str = "managers"  # KUDOS_POLICIES
    kudos_daily_cap: int = 5
    strong_process_threshold: float = 0.8
    # A cycle quadrant (review, Home) is called on at least this many scored items.
    min_evidence: int = 3
    # A bounce-back is offered for a public shout-out only after at least this many losses in
    # a row (every recovery still counts in the rep's private resilience figures).
    bounce_back_min_losses: int = 2
    # This many losses in a row bring the rep private resilience support and their manager a
    # one-on-one prompt (seed 003).
    support_streak: int = 3
    # ISO 4217 code amounts are shown in (None: plain numbers).
    currency: str | None = None
    reflection_reminder_hours: int = 24
    digest_enabled: bool = True
    cycle: str = "monthly"  # CYCLES
    # Reflections older than this many days are deleted by a scheduled job; None keeps them.
    reflection_retention_days: int | None = None
    # Set when the app is uninstalled; all of the workspace's rows are deleted once
    # `data_grace_days` have passed since (a reinstall within the grace period clears it).
    uninstalled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    data_grace_days: int = 30
    # Bumped by every save of /rebound settings. The modal carries the version it showed, and a
    # save applies only while it is still current (compare-and-set), so two admins saving at
    # once never mix: the second is asked to reopen the settings.
    settings_version: int = 0
    # When the weekly kudos digest must next be looked at (None: not worked out yet). The
    # scheduler reads only workspaces whose time has come, so idle ones cost a tick nothing;
    # storage.due_times clears it whenever something it depends on changes.
    next_kudos_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class Member(SQLModel, table=True):
    """A person in a workspace, with their time zone and who they report to."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", name="uq_members_team_user"),
        Index("ix_members_team_manager", "team_id", "manager_user_id"),
        # The scheduler finds the members whose check-in or manager's digest is due, and the
        # time zones to re-read, through these instead of reading every member.
        Index("ix_members_next_checkin", "next_checkin_at"),
        Index("ix_members_next_digest", "next_digest_at"),
        Index("ix_members_tz_refreshed", "tz_refreshed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    display_name: str = ""
    tz: str = "UTC"  # IANA name from Slack's users.info
    tz_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_manager: bool = False
    manager_user_id: str | None = None
    checkin_paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_bot: bool = False
    deleted: bool = False
    # When planning must next look at this member's check-in, and at their digest as a
    # manager (None: not worked out yet). Set by the scheduler after each look; cleared by
    # storage.due_times when the member, their reports or their workspace's schedule change.
    next_checkin_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()


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


class Kudos(SQLModel, table=True):
    """Recognition given with ``/kudos``; posted to the recognition channel."""

    __tablename__ = "kudos"
    __table_args__ = (
        # The daily cap counts one giver's kudos since a given time.
        Index("ix_kudos_team_giver_created", "team_id", "giver_user_id", "created_at"),
        Index("ix_kudos_team_created", "team_id", "created_at"),
        # One kudos per slash command (trigger id) or modal (view id), whatever Slack retries.
        UniqueConstraint("team_id", "submission_key", name="uq_kudos_team_submission"),
        # The scheduler looks for kudos still waiting for a recognition channel.
        Index("ix_kudos_status", "status"),
        # Ids never reused on SQLite: post keys name them (see Outcome).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    giver_user_id: str
    category: str  # one of bot.usecases.kudos.CATEGORIES, or "" when none was given
    message: str
    status: str = "pending"  # KUDOS_STATUSES
    channel_id: str | None = None
    message_ts: str | None = None
    submission_key: str | None = None
    created_at: datetime = _created_at()


class KudosRecipient(SQLModel, table=True):
    """One person recognised by a kudos (a kudos may name several)."""

    __tablename__ = "kudos_recipients"
    __table_args__ = (
        UniqueConstraint("kudos_id", "user_id", name="uq_kudos_recipients_kudos_user"),
        Index("ix_kudos_recipients_team_user", "team_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    kudos_id: int = Field(foreign_key="kudos.id", ondelete="CASCADE")
    user_id: str
    # Their DM about it: "pending" (not tried yet, or a try in flight), "retry" (one try
    # failed; the scheduler tries once more), "sent", or "failed" (gave up).
    dm_status: str = "pending"
    dm_attempts: int = 0
    dm_attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CheckIn(SQLModel, table=True):
    """One member's weekly check-in: scheduled, claimed by a replica, sent, answered."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "week_key", name="uq_checkins_team_user_week"),
        Index("ix_checkins_team_status_due", "team_id", "status", "due_at"),
        # The scheduler looks for due check-ins across all workspaces.
        Index("ix_checkins_status_due", "status", "due_at"),
        # Reminders: sent, not reminded, sent within the last few days (old unanswered
        # check-ins stay "sent" forever; this keeps them out of the scan).
        Index("ix_checkins_reminder_due", "status", "reminder_sent_at", "sent_at"),
        # Ids never reused on SQLite: post keys name them (see Outcome).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    week_key: str  # ISO week in the member's time zone, e.g. "2026-W48"
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = "pending"  # CHECKIN_STATUSES
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel_id: str | None = None
    message_ts: str | None = None
    # The questions as asked, [{"key": ..., "text": ...}], so later wording changes do not
    # change what an old check-in shows.
    questions: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _created_at()


class CheckInAnswer(SQLModel, table=True):
    """The answer to one question of a check-in (editable, hence updated_at)."""

    __tablename__ = "checkin_answers"
    __table_args__ = (
        UniqueConstraint("checkin_id", "question_key", name="uq_checkin_answers_checkin_question"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    checkin_id: int = Field(foreign_key="checkins.id", ondelete="CASCADE")
    question_key: str
    question: str
    answer: str = ""
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class OneOnOneItem(SQLModel, table=True):
    """A check-in answer a manager replied to from the digest and put on the one-on-one agenda
    they share with the rep (both see it on their Home)."""

    __tablename__ = "one_on_one_items"
    __table_args__ = (
        # A retried view_submission adds the item once.
        UniqueConstraint("team_id", "submission_key", name="uq_one_on_one_items_submission"),
        # The Home reads one person's open items (done_at is null), newest first, and counts
        # those closed lately: both a range of these, whatever the number closed long ago.
        Index(
            "ix_one_on_one_items_team_rep_done", "team_id", "rep_user_id", "done_at", "created_at"
        ),
        Index(
            "ix_one_on_one_items_team_manager_done",
            "team_id",
            "manager_user_id",
            "done_at",
            "created_at",
        ),
        # Ids never reused on SQLite: post keys name them (see Outcome).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    manager_user_id: str
    rep_user_id: str
    checkin_id: int = Field(foreign_key="checkins.id", ondelete="CASCADE")
    # The answer as the rep gave it when the manager replied (a later edit doesn't change it).
    question: str
    answer: str
    reply: str
    submission_key: str
    created_at: datetime = _created_at()
    # Marked done (talked about) by the rep, their manager or an admin: off both Homes then.
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = None


class Goal(SQLModel, table=True):
    """A SMART goal for one cycle (``/goal``)."""

    __tablename__ = "goals"
    __table_args__ = (
        Index("ix_goals_team_user_cycle_end", "team_id", "user_id", "cycle_end"),
        # A retried or double-clicked /goal modal saves one goal.
        UniqueConstraint("team_id", "submission_key", name="uq_goals_team_submission"),
        # The cycle-review job looks for ended cycles not reviewed yet, across workspaces.
        Index("ix_goals_cycle_end_reviewed", "cycle_end", "reviewed_at"),
        # ... equality on reviewed_at first, so reviewed history is never scanned.
        Index("ix_goals_review_due", "reviewed_at", "cycle_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    metric: str  # GOAL_METRICS
    custom_metric: str | None = None
    target: float
    progress: float = 0.0
    cycle_start: date
    cycle_end: date
    why: str | None = None
    # Slack view id of the modal that created the goal (None for goals made elsewhere).
    submission_key: str | None = None
    # Set once the end-of-cycle review DM went out.
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()


class PostLog(SQLModel, table=True):
    """Exactly-once log of the sender that came before the outbox (OutboxMessage now).

    That sender claimed ``post_key`` (unique per team) before sending. Only read today, so a
    weekly kudos digest it sent is not sent again (bot.usecases.kudos.queue_digest).
    """

    __tablename__ = "post_log"
    __table_args__ = (
        UniqueConstraint("team_id", "post_key", name="uq_post_log_team_key"),
        # Finding claims that were never completed (a replica died mid-send).
        Index("ix_post_log_status_claimed", "status", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    post_key: str
    kind: str
    channel_id: str | None = None
    message_ts: str | None = None
    status: str = "claimed"  # POST_STATUSES
    claimed_by: str | None = None
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0


class OutboxMessage(SQLModel, table=True):
    """One message (or upload, or Home publish) to send to Slack, written in the same
    transaction as the fact that caused it; the dispatcher (bot.dispatcher) sends it.

    ``post_key`` is unique per team: enqueueing the same key twice keeps the first row, and
    every chat.postMessage carries the key in its message metadata, so a send whose outcome
    was unknown is looked up in the conversation before it is ever sent again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "post_key", name="uq_outbox_team_key"),
        # The dispatcher's one query: due rows by state and time, so idle workspaces cost nothing.
        Index("ix_outbox_state_not_before", "state", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    post_key: str
    kind: str
    target_kind: str = "channel"  # OUTBOX_TARGETS
    target_id: str | None = None  # channel or user id; None for the recognition channel
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    method: str = "chat.postMessage"
    not_before: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = 0  # sends that reached Slack (a 429 is not an attempt)
    state: str = "pending"  # OUTBOX_STATES
    claimed_by: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    # The conversation the last attempt went to (a DM's channel, the recognition channel as
    # it was then): where reconciliation looks for the post key.
    attempt_channel: str | None = None
    # An upload's attempts: the first file id of each (comma-separated), recorded before its
    # share (files.completeUploadExternal) is asked for; files.info on them says whether a
    # share whose answer was lost happened.
    attempt_files: str | None = None
    # Where the history search for an unknown post stopped: the next page's cursor, read by
    # whichever process takes the next slot.
    history_cursor: str | None = None
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_channel: str | None = None
    sent_ts: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CrmDeal(SQLModel, table=True):
    """One closed deal a CRM told us about, kept whatever became of it (bot.domain.crm states).

    ``event_key`` is the CRM's own notification id (HubSpot's eventId, Salesforce's
    notification Id), unique per workspace and CRM: a redelivered notification finds its row
    and has no second effect. ``deal_id`` is the deal in that CRM: one deal closing is offered once,
    however many notifications say so."""

    __tablename__ = "crm_deals"
    __table_args__ = (
        # Per workspace: two portals' (or orgs') notification ids may be alike (HubSpot says
        # an eventId "is not guaranteed to be unique"), and one's must never hide the other's.
        UniqueConstraint("team_id", "source", "event_key", name="uq_crm_deals_team_source_event"),
        Index("ix_crm_deals_team_deal", "team_id", "source", "deal_id"),
        # The job's queries: the rows still to read or match, and offers due a reminder.
        Index("ix_crm_deals_state", "state", "next_try_at"),
        Index("ix_crm_deals_reminder_due", "state", "reminded_at", "offered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    source: str  # bot.domain.crm.CRM_SOURCES
    event_key: str
    deal_id: str
    state: str  # bot.domain.crm.CRM_DEAL_STATES
    # The stage the notification moved the deal into, as the CRM names it (HubSpot's stage id).
    crm_stage: str | None = None
    won: bool | None = None
    name: str = ""
    amount: float | None = Field(default=None, sa_type=Money)
    currency: str | None = None
    crm_reason: str | None = None
    owner_email: str | None = None
    link: str | None = None
    slack_user_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    # When the next read or match may be tried (None: at once).
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    debriefed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Salesforce only: where and with which session (the Outbound Message's own SessionId,
    # encrypted: bot.crm.salesforce_api.SessionSeal) the owner's email is read back when the
    # message has no owner-email field. Kept until that one read is done, then cleared.
    api_url: str | None = None
    api_session: str | None = None
    # The process reading this row's deal from the CRM now (storage.claims), and until when its
    # claim holds (the app's clock): the other replicas leave the row alone meanwhile, and a
    # crashed process's claim simply runs out.
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CrmConnection(SQLModel, table=True):
    """A workspace's own CRM, connected from `/rebound settings` when Rebound serves many
    workspaces (OAuth mode; one workspace uses the HUBSPOT_* / SALESFORCE_* settings instead).

    A webhook finds its workspace here: HubSpot's by the event's ``portalId``, Salesforce's by
    the token in its URL (kept only as its SHA-256: it is never shown again, and a database
    copy can't be used to post deals) and the message's OrganizationId. The HubSpot token and
    client secret are Fernet-encrypted with REBOUND_ENCRYPTION_KEY, as the Slack tokens of the
    installs are (storage.oauth_store.TokenCipher). The ``*_hint`` columns hold a secret's last
    four characters, for "connected ✓, ending …1234" in the modal."""

    __tablename__ = "crm_connections"
    __table_args__ = (
        UniqueConstraint("hubspot_portal_id", name="uq_crm_connections_hubspot_portal"),
        UniqueConstraint("salesforce_org_id", name="uq_crm_connections_salesforce_org"),
        UniqueConstraint("salesforce_token_hash", name="uq_crm_connections_salesforce_token"),
    )

    team_id: str = Field(primary_key=True)
    hubspot_portal_id: str | None = None
    hubspot_access_token: str | None = None  # encrypted
    hubspot_client_secret: str | None = None  # encrypted; None: HUBSPOT_CLIENT_SECRET's
    hubspot_token_hint: str | None = None
    hubspot_secret_hint: str | None = None
    salesforce_org_id: str | None = None  # the 15-character form
    salesforce_token_hash: str | None = None  # hex SHA-256 of the URL's token
    salesforce_token_hint: str | None = None
    # The Opportunity formula field holding the owner's email, as this org named it; None:
    # Owner_Email__c (SALESFORCE_OWNER_EMAIL_FIELD is the one-workspace mode's).
    salesforce_owner_email_field: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiSlot(SQLModel, table=True):
    """When a workspace may next call a Slack method that every process shares one small
    allowance of (conversations.history for reconciliation: 1 request a minute per workspace
    for apps outside the Marketplace). In the database, so three processes take one slot, not
    three (storage.outbox_queries.take_api_slot)."""

    __tablename__ = "api_slots"

    team_id: str = Field(primary_key=True)
    method: str = Field(primary_key=True)
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ProcessedEvent(SQLModel, table=True):
    """Slack Events API ``event_id``s already handled, so Slack's retries are ignored."""

    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("team_id", "event_id", name="uq_processed_events_team_event"),
        # Old rows are pruned by age.
        Index("ix_processed_events_received", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    event_id: str
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SchedulerMark(SQLModel, table=True):
    """The latest ``now`` each scheduled job has run with. Stored due times were worked out
    at some moment; a clock moved back past it (tests do; an operator may) makes them too
    late, and the job clears them when it sees its mark ahead of ``now``."""

    __tablename__ = "scheduler_marks"

    name: str = Field(primary_key=True)
    last_now: datetime = Field(sa_type=UTCDateTime, nullable=False)


# Re-exported for migrations/env.py and tests: the metadata holding every table above.
metadata = SQLModel.metadata

__all__ = [
    "CHECKIN_STATUSES",
    "CLASSIFICATIONS",
    "CYCLES",
    "GOAL_METRICS",
    "KUDOS_POLICIES",
    "KUDOS_STATUSES",
    "OUTCOME_KINDS",
    "POST_STATUSES",
    "CheckIn",
    "CheckInAnswer",
    "CrmDeal",
    "Goal",
    "Kudos",
    "KudosRecipient",
    "Member",
    "Outcome",
    "PostLog",
    "ProcessedEvent",
    "Reflection",
    "SchedulerMark",
    "UTCDateTime",
    "Workspace",
    "metadata",
    "utcnow",
]
