"""A calibration and the perfect-miss question when the timing is awkward, on SQLite and
PostgreSQL: the rep's debrief DM reaches Slack only after the manager calibrated (its on_sent
hook withdraws the question then, once), and a consent click that comes after the calibration is
refused in the write itself (nothing recorded, nothing queued); and, on PostgreSQL, a
calibration racing the dispatcher's record of that DM neither deadlocks nor misses it."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlmodel import col

from bot.clock import FakeClock, utc_now
from bot.domain import PRACTICES
from bot.domain.calibration import CalibrationSubmission
from bot.outbox_hooks import hooks_for
from bot.uow import UnitOfWork
from bot.usecases import calibration as calibrations
from bot.usecases import debriefs
from bot.usecases.debriefs import CelebrationWithdrawn
from storage import debriefs_queries as dq
from storage import outbox_queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage
from tests.support.calibration import (
    add_loss,
    calibrate,
    debrief_dm,
    outbox_rows,
    session_factory,
)
from tests.support.databases import fresh_database

__all__ = ["session_factory"]  # the fixture (tests/support/calibration.py)

TEAM, REP, MANAGER = "T0CALPM", "U0REP", "U0MGR"
ONLY_DISCOVERY = {p: p == "discovery" for p in PRACTICES}


@pytest.fixture
def now() -> datetime:
    return utc_now().replace(microsecond=0)


def _perfect_miss(session_factory: SessionFactory, at: datetime) -> int:
    """A perfect miss REP logged (everything held), its question unanswered; no DM in Slack."""
    with session_factory() as session:
        outcome = add_loss(
            session,
            team_id=TEAM,
            rep=REP,
            manager=MANAGER,
            at=at,
            deal="<!here> Initech",
            process_score=1.0,
            classification="perfect-miss",
            **dict.fromkeys(PRACTICES, True),
        )
        session.commit()
        assert outcome.id is not None
        return outcome.id


def _calibrate_out(session_factory: SessionFactory, outcome_id: int, at: datetime) -> None:
    result = calibrate(
        session_factory,
        team_id=TEAM,
        outcome_id=outcome_id,
        user_id=MANAGER,
        at=at,
        submission=CalibrationSubmission(practices=ONLY_DISCOVERY, note="Only discovery."),
    )
    assert isinstance(result, calibrations.Calibrated)


def _rows(session_factory: SessionFactory) -> list[OutboxMessage]:
    return outbox_rows(session_factory, TEAM)


def test_a_debrief_dm_sent_after_the_calibration_has_its_question_withdrawn_once(
    session_factory: SessionFactory, now: datetime
) -> None:
    outcome_id = _perfect_miss(session_factory, now)
    _calibrate_out(session_factory, outcome_id, now)
    assert "celebration-ask-withdrawn" not in [row.kind for row in _rows(session_factory)]

    dm = debrief_dm(
        team_id=TEAM, outcome_id=outcome_id, role="rep", user_id=REP, text="debrief", at=now
    )
    for _ in range(2):  # the hook runs again (a retried mark): still one update
        with session_factory() as session:
            on_sent = hooks_for("debrief-rep").on_sent
            assert on_sent is not None
            on_sent(session, dm, "D0REP", "1700000000.000300", now)
            session.commit()
    (update,) = [row for row in _rows(session_factory) if row.kind == "celebration-ask-withdrawn"]
    assert (update.method, update.target_id, update.payload["ts"]) == (
        "chat.update",
        "D0REP",
        "1700000000.000300",
    )
    blocks = json.dumps(update.payload["blocks"])
    assert "debrief_celebrate_yes" not in blocks
    assert f"<@{MANAGER}> saw this one differently" in blocks
    assert "&lt;!here&gt; Initech" in blocks and "<!here>" not in blocks


def test_a_consent_after_the_calibration_records_and_queues_nothing(
    session_factory: SessionFactory, now: datetime
) -> None:
    outcome_id = _perfect_miss(session_factory, now)
    _calibrate_out(session_factory, outcome_id, now)
    before = len(_rows(session_factory))
    with UnitOfWork(session_factory, clock=FakeClock(now)) as uow:
        result = debriefs.record_celebration_choice(
            uow, team_id=TEAM, user_id=REP, outcome_id=outcome_id, consent=True
        )
    assert isinstance(result, CelebrationWithdrawn) and result.manager_user_id == MANAGER
    # The write itself counts the calibrated classification: even called directly, it refuses.
    with session_factory() as session:
        assert not dq.record_celebration_consent(
            session=session, team_id=TEAM, outcome_id=outcome_id, user_id=REP, consent=True
        )
        session.commit()
    assert len(_rows(session_factory)) == before
    with session_factory() as session:
        saved = dq.get_outcome(session=session, team_id=TEAM, outcome_id=outcome_id)
        assert saved is not None and saved.celebrate_consent is None


@pytest.mark.integration
def test_a_calibration_while_the_debrief_dm_is_being_recorded_sent_withdraws_once(
    tmp_path: Path, now: datetime
) -> None:
    """PostgreSQL: the dispatcher has marked the rep's DM sent (its row locked, its hook not
    run yet) when the manager calibrates. The calibration waits for the row, then sees it sent
    and withdraws the question; the hook, run before it, saw no calibration. One update, and no
    deadlock (both take the DM's row before the outcome's)."""
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        outcome_id = _perfect_miss(factory, now)
        with factory() as session:
            session.add(
                debrief_dm(
                    team_id=TEAM,
                    outcome_id=outcome_id,
                    role="rep",
                    user_id=REP,
                    text="debrief",
                    at=now,
                    state="sending",
                )
            )
            session.commit()
        errors: list[BaseException] = []

        def calibrate() -> None:
            other = make_engine(url)
            try:
                _calibrate_out(make_session_factory(other), outcome_id, now)
            except BaseException as error:
                errors.append(error)
            finally:
                other.dispose()

        with factory() as dispatcher:
            # The dispatcher's transaction: the row marked sent (and so locked) ...
            dispatcher.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.post_key) == f"debrief:{outcome_id}:rep")
                .values(state="sent", sent_channel="D0REP", sent_ts="1700000000.000400")
            )
            thread = threading.Thread(target=calibrate)
            thread.start()
            # ... and the calibration waiting on a lock before the hook runs.
            with engine.connect() as watcher:
                waiting = False
                for _ in range(400):
                    waiting = bool(
                        watcher.execute(
                            text(
                                "SELECT count(*) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                            )
                        ).scalar()
                    )
                    if waiting:
                        break
                    threading.Event().wait(0.05)
                assert waiting, "the calibration never waited for the DM's row"
            row = outbox_queries.get(
                session=dispatcher, team_id=TEAM, post_key=f"debrief:{outcome_id}:rep"
            )
            assert row is not None
            on_sent = hooks_for("debrief-rep").on_sent
            assert on_sent is not None
            on_sent(dispatcher, row, "D0REP", "1700000000.000400", now)
            dispatcher.commit()
        thread.join(timeout=30)
        assert errors == []
        updates = [r for r in _rows(factory) if r.kind == "celebration-ask-withdrawn"]
        engine.dispose()
        assert [(r.target_id, r.payload["ts"]) for r in updates] == [("D0REP", "1700000000.000400")]
