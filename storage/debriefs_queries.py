"""Queries behind loss debriefs, wins, reflections and the lessons search.

Keyword-only ``session=``, no commit inside: the caller owns the transaction. Writes that a
Slack retry or a double click may repeat are compare-and-set (``... WHERE x IS NULL``) or
``INSERT ... ON CONFLICT DO NOTHING``, so repeating them changes nothing.

The queries live by what they are about in storage.outcome_queries, storage.shout_out_queries,
storage.reflection_queries and storage.lesson_queries; this module gathers them, so callers keep
``from storage import debriefs_queries as dq``.
"""

from __future__ import annotations

from storage.lesson_queries import (
    MAX_SEARCH_WORDS,
    LessonHit,
    get_reflection,
    search_lessons,
    search_shared_lessons,
    search_words,
    set_lesson_shared,
)
from storage.outcome_queries import (
    counted_classification,
    finish_manager_note,
    finish_rep_dm,
    get_outcome,
    insert_outcome,
    outcomes_of,
    outcomes_pending_without_outbox_rows,
    record_calibration,
    sent_manager_note,
    sent_post_locked,
)
from storage.reflection_queries import (
    CHECKIN_COMMITMENT_KEY,
    CHECKIN_REFLECTION_REF,
    commitments_answered_in_checkins,
    insert_reflection,
    mark_reflection_reminded,
    mark_reflections_answered,
    open_commitment,
    record_commitment_follow_up,
    reflection_reminders_due,
    reflections_of,
)
from storage.shout_out_queries import (
    FAILED_CHANNEL_RETRY,
    mark_bounce_back_agreed,
    mark_bounce_back_failed,
    mark_bounce_back_posted,
    mark_celebration_failed,
    mark_celebration_posted,
    record_celebration_consent,
    take_back_shout_out,
)

# Everything the modules above hold, importable from here as before the split.
__all__ = [
    "CHECKIN_COMMITMENT_KEY",
    "CHECKIN_REFLECTION_REF",
    "FAILED_CHANNEL_RETRY",
    "LessonHit",
    "MAX_SEARCH_WORDS",
    "commitments_answered_in_checkins",
    "counted_classification",
    "finish_manager_note",
    "finish_rep_dm",
    "get_outcome",
    "get_reflection",
    "insert_outcome",
    "insert_reflection",
    "mark_bounce_back_agreed",
    "mark_bounce_back_failed",
    "mark_bounce_back_posted",
    "mark_celebration_failed",
    "mark_celebration_posted",
    "mark_reflection_reminded",
    "mark_reflections_answered",
    "open_commitment",
    "outcomes_of",
    "outcomes_pending_without_outbox_rows",
    "record_calibration",
    "record_celebration_consent",
    "record_commitment_follow_up",
    "reflection_reminders_due",
    "reflections_of",
    "search_lessons",
    "search_shared_lessons",
    "search_words",
    "sent_manager_note",
    "sent_post_locked",
    "set_lesson_shared",
    "take_back_shout_out",
]
