"""Whether a button's missing outcome was removed here by its rep or was never of this
workspace (bot.usecases.removed_outcomes), through the use case and storage, on SQLite and
PostgreSQL: only an outcome this workspace had, and told this person about, counts as removed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlmodel import col

from bot.clock import FakeClock
from bot.uow import UnitOfWork, to_user
from bot.usecases.removed_outcomes import removed_here
from storage import corrections_queries as cq
from storage.db import SessionFactory, make_session_factory
from storage.models import OutboxMessage
from tests.support.factories import outcome_row
from tests.support.migrated_engine import engine

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

ALPHA, BETA = "T0RMALPHA", "T0RMBETA"
REP, MANAGER, OTHER = "U0REP1", "U0MGR", "U0REP2"
START = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)


def _debriefed(new_session: SessionFactory, clock: FakeClock, team_id: str) -> int:
    """A loss in `team_id` with its rep's DM and the manager's note queued, as a debrief does."""
    with UnitOfWork(new_session, clock=clock) as uow:
        outcome = outcome_row(team_id, REP, "loss", START)
        uow.session.add(outcome)
        uow.session.flush()
        assert outcome.id is not None
        for surface, person in (("rep", REP), ("manager", MANAGER)):
            uow.outbox.add(
                team_id=team_id,
                post_key=f"debrief:{outcome.id}:{surface}",
                kind="debrief",
                to=to_user(person),
                message={"text": "debrief"},
            )
        return outcome.id


def _removed(
    new_session: SessionFactory, clock: FakeClock, team_id: str, user: str, oid: int
) -> bool:
    with UnitOfWork(new_session, clock=clock) as uow:
        return removed_here(uow, team_id=team_id, user_id=user, outcome_id=oid)


def test_only_an_outcome_removed_here_and_told_to_the_person_counts_as_removed(
    engine: Engine,
) -> None:
    new_session = make_session_factory(engine)
    clock = FakeClock(START)
    alpha = _debriefed(new_session, clock, ALPHA)
    # Still there: not removed, for anyone, anywhere.
    assert not _removed(new_session, clock, ALPHA, REP, alpha)

    # The DMs went out (their buttons are what gets clicked later); then the rep removes it.
    with UnitOfWork(new_session, clock=clock) as uow:
        uow.session.execute(
            update(OutboxMessage).where(col(OutboxMessage.team_id) == ALPHA).values(state="sent")
        )
    with UnitOfWork(new_session, clock=clock) as uow:
        cq.delete_outcome(session=uow.session, team_id=ALPHA, outcome_id=alpha)
    # Removed in Alpha: the rep and the manager were told of it there.
    assert _removed(new_session, clock, ALPHA, REP, alpha)
    assert _removed(new_session, clock, ALPHA, MANAGER, alpha)
    # Someone it was never sent to, in the same workspace: not theirs, not "removed".
    assert not _removed(new_session, clock, ALPHA, OTHER, alpha)
    # The same person and id in Beta: nothing of Alpha's is found there.
    assert not _removed(new_session, clock, BETA, REP, alpha)
    # An id that never was (its post keys would start with this one's digits): not removed.
    assert not _removed(new_session, clock, ALPHA, REP, alpha * 10 + 7)
