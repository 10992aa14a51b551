"""Every table Rebound stores, as SQLModel classes.

The tables live in the modules of this package by family (people, outcomes, kudos, check-ins,
goals, outbox, crm, runtime); importing the package imports them all, so Alembic sees the whole
schema through ``SQLModel.metadata`` (see ``storage/migrations/env.py``). Each row carries the Slack
``team_id`` so one database can serve many workspaces.

Conventions:
- Times are timezone-aware UTC. ``UTCDateTime`` converts on the way in and attaches UTC on
  the way out, because SQLite stores datetimes as text without an offset.
- Enum-like columns are plain strings; the allowed values are the constants in
  ``storage/models/columns.py`` (they match ``bot/domain/``).
- Constraint and index names are explicit so the migration in
  ``storage/migrations/versions`` can name the same objects on every backend.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from storage.models.checkins import (
    CheckIn,
    CheckInAnswer,
    OneOnOneItem,
)
from storage.models.columns import (
    CHECKIN_STATUSES,
    CLASSIFICATIONS,
    CYCLES,
    GOAL_METRICS,
    KUDOS_POLICIES,
    KUDOS_STATUSES,
    OUTBOX_STATES,
    OUTBOX_TARGETS,
    OUTCOME_KINDS,
    POST_STATUSES,
    Money,
    UTCDateTime,
    utcnow,
)
from storage.models.crm import (
    CrmConnection,
    CrmDeal,
)
from storage.models.goals import (
    Goal,
)
from storage.models.kudos import (
    Kudos,
    KudosRecipient,
)
from storage.models.outbox import (
    ApiSlot,
    OutboxMessage,
    PostLog,
)
from storage.models.outcomes import (
    Outcome,
    Reflection,
)
from storage.models.people import (
    Member,
    Workspace,
)
from storage.models.runtime import (
    ProcessedEvent,
    SchedulerMark,
)

# Everything the modules above hold, importable from here as before the split.
__all__ = [
    "ApiSlot",
    "CHECKIN_STATUSES",
    "CLASSIFICATIONS",
    "CYCLES",
    "CheckIn",
    "CheckInAnswer",
    "CrmConnection",
    "CrmDeal",
    "GOAL_METRICS",
    "Goal",
    "KUDOS_POLICIES",
    "KUDOS_STATUSES",
    "Kudos",
    "KudosRecipient",
    "Member",
    "Money",
    "OUTBOX_STATES",
    "OUTBOX_TARGETS",
    "OUTCOME_KINDS",
    "OneOnOneItem",
    "OutboxMessage",
    "Outcome",
    "POST_STATUSES",
    "PostLog",
    "ProcessedEvent",
    "Reflection",
    "SchedulerMark",
    "UTCDateTime",
    "Workspace",
    "metadata",
    "utcnow",
]


# Re-exported for migrations/env.py and tests: the metadata holding every table above.
metadata = SQLModel.metadata
