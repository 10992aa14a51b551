"""Query functions for weekly check-ins (``checkins``, ``checkin_answers``).

Keyword-only ``session=``, no commit inside: the caller owns the transaction.

Claiming due check-ins works on every backend and is exactly-once across processes:
candidate rows are read with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: concurrent claimers skip
each other's rows instead of queueing; the clause compiles to nothing on SQLite), then each
row is taken with a compare-and-set UPDATE whose row count says who won. On PostgreSQL the
rows are already locked, so the UPDATE always wins; on SQLite, where the file lock serialises
writers but not the earlier SELECT, the compare-and-set is what keeps a row to one claimer.

One module a part of the life of a check-in: people (who gets them), planning, sending
(claims, reminders, skips), answers (and what the questions are about), digests; base holds the
SQL they share. Callers use this package's names (`from storage import checkins_queries as cq`).
"""

from storage.checkins_queries.answers import (
    answers_of,
    current_goal,
    latest_commitment,
    latest_loss_since,
    save_answers,
)
from storage.checkins_queries.digests import (
    answers_of_many,
    checkins_of_week,
    clear_next_checkins,
    clear_next_digests,
    managers_with_reports,
    members_due_for_digest,
    who_has_reports,
)
from storage.checkins_queries.people import (
    all_team_ids,
    checkin_people,
    is_checkin_person,
    members_needing_tz_refresh,
    release_tz_refresh,
    take_tz_refresh,
)
from storage.checkins_queries.planning import (
    existing_checkin_keys,
    get_checkin,
    get_week_checkin,
    insert_checkins_if_absent,
    is_checkin_person_row,
    members_due_for_planning,
    recent_checkins,
    set_next_checkins,
    set_next_digests,
)
from storage.checkins_queries.sending import (
    claim_due_checkins,
    finish_claim,
    mark_reminded,
    record_sent,
    reminders_due,
    set_questions,
    skip_checkin,
    skip_checkins_before,
    skip_claimed,
)

__all__ = [
    "all_team_ids",
    "answers_of",
    "answers_of_many",
    "checkin_people",
    "checkins_of_week",
    "claim_due_checkins",
    "clear_next_checkins",
    "clear_next_digests",
    "current_goal",
    "existing_checkin_keys",
    "finish_claim",
    "get_checkin",
    "get_week_checkin",
    "insert_checkins_if_absent",
    "is_checkin_person",
    "is_checkin_person_row",
    "latest_commitment",
    "latest_loss_since",
    "managers_with_reports",
    "mark_reminded",
    "members_due_for_digest",
    "members_due_for_planning",
    "members_needing_tz_refresh",
    "recent_checkins",
    "record_sent",
    "release_tz_refresh",
    "reminders_due",
    "save_answers",
    "set_next_checkins",
    "set_next_digests",
    "set_questions",
    "skip_checkin",
    "skip_checkins_before",
    "skip_claimed",
    "take_tz_refresh",
    "who_has_reports",
]
