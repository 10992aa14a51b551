"""Telling a stale button of an outcome its rep removed from a button that was never about an
outcome of this workspace (a forged click or form, say one of another workspace's).

A removal deletes the outcome's row (storage.corrections_queries.delete_outcome), so "no such
outcome here" alone can't tell the two apart; and only the first may be answered with "its rep
removed it" — said of an id that was never here, it would be untrue (and a form would claim
"you removed it" to someone who never had it). What tells them apart is this workspace's own
record: the outcome's messages to the person in the outbox, which stay after a removal (their
post keys are what stop a second send) until the outbox's retention. Past it, or for anything
not of this workspace, the answer is the one for an outcome that is not theirs.
"""

from __future__ import annotations

from bot.uow import UnitOfWork
from storage import corrections_queries as cq
from storage import debriefs_queries as dq


def removed_here(uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int) -> bool:
    """True when the outcome is no longer in this workspace and `user_id` was sent a DM about
    it here (so it was of this workspace, and theirs to see, before its rep removed it)."""
    session = uow.session
    if dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id) is not None:
        return False
    return cq.was_sent_dm_about(
        session=session, team_id=team_id, outcome_id=outcome_id, user_id=user_id
    )
