"""Two losses of one rep saved at the same moment in two processes (their own engines), the
second and third of a streak: the one saved second always sees the streak, so the streak's
support is queued exactly once, never twice and never not at all. PostgreSQL only (SQLite has
one writer at a time: nothing overlaps)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.clock import FakeClock
from bot.domain import PRACTICES
from bot.domain.debriefs import LossSubmission
from bot.uow import UnitOfWork
from bot.usecases import debriefs
from bot.usecases import resilience as resilience_usecases
from storage import queries
from storage import resilience_queries as rq
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage
from tests.support.databases import fresh_database
from tests.support.factories import outcome_row
from tests.support.submissions import loss_submission

TEAM, REP, MANAGER = "T0RACE", "U0RACER", "U0RACEMGR"
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _loss(deal: str) -> LossSubmission:
    return loss_submission(deal, practices=dict.fromkeys(PRACTICES, False))


@pytest.mark.integration
def test_two_losses_saved_at_once_queue_the_streaks_support_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        setup = make_engine(url)
        with Session(setup) as session:
            queries.get_or_create_workspace(session=session, team_id=TEAM)
            queries.set_reports(
                session=session, team_id=TEAM, manager_user_id=MANAGER, report_user_ids=[REP]
            )
            session.add(outcome_row(TEAM, REP, "loss", AT - timedelta(days=1)))
            session.commit()

        # Both saves reach the streak check only once both losses are inserted, so without the
        # rep's lock each would read a streak of two (the other's loss not committed yet).
        both_inserted = threading.Barrier(2, timeout=20)
        lock_rep = rq.lock_rep

        def lock_when_both_inserted(**kwargs: object) -> None:
            both_inserted.wait()
            lock_rep(**kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(rq, "lock_rep", lock_when_both_inserted)
        errors: list[BaseException] = []

        def process(deal: str) -> None:
            engine = make_engine(url)
            try:
                uow = UnitOfWork(make_session_factory(engine), clock=FakeClock(AT))
                with uow:
                    debriefs.record_loss(
                        uow,
                        team_id=TEAM,
                        user_id=REP,
                        submission=_loss(deal),
                        submission_key=uuid.uuid4().hex,
                    )
            except BaseException as error:
                errors.append(error)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=process, args=(d,)) for d in ("Second", "Third")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        with Session(setup) as session:
            keys = sorted(
                row.post_key
                for row in session.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.team_id == TEAM,
                        col(OutboxMessage.post_key).startswith("streak:"),
                    )
                ).all()
            )
        setup.dispose()
        first = resilience_usecases.streak_key(REP, None, "")  # no win before the streak
        assert keys == [f"{first}manager", f"{first}rep"]
