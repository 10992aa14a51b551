"""A win's lesson question: the rep's "Skip this one" (issue 12 §6, seed 004).

The win DM asks "What worked that you would do again?" and, like a loss's questions, gets one
gentle reminder when it waited the workspace's reflection-reminder hours unanswered
(bot.usecases.debriefs.queue_reflection_reminders, found through ix_outcomes_reflection_due).
"Skip this one" says no reminder: the reminder is settled at once (``reflection_reminded_at``, which
also takes the win out of the due-time index's range) and one already queued is called off.
The question itself stays answerable.
"""

from __future__ import annotations

from bot.domain import OutcomeKind
from bot.domain.debriefs import NotYours
from bot.uow import UnitOfWork
from bot.usecases.debriefs import reminder_key
from storage import debriefs_queries as dq
from storage import outbox_queries


def lesson_not_now(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int
) -> bool | NotYours | None:
    """The rep said "Skip this one" to their win's lesson question: no reminder will come (True).
    Only the rep decides: NotYours for anyone else (nothing changes); None when there is no
    such win in this workspace. A second click changes nothing more."""
    session = uow.session
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None or outcome.kind != OutcomeKind.WIN.value:
        return None
    if outcome.user_id != user_id:
        return NotYours(owner_user_id=outcome.user_id)
    dq.mark_reflection_reminded(session=session, outcome_id=outcome_id, now=uow.now())
    # Queued and not yet claimed (it fell due this very tick): called off, never sent.
    outbox_queries.cancel_pending(
        session=session, team_id=team_id, post_key=reminder_key(outcome_id), reason="not_now"
    )
    return True
