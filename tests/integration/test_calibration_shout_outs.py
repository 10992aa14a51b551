"""A calibration and the perfect-miss question when the timing is awkward, on SQLite and
PostgreSQL: the rep's debrief DM reaches Slack only after the manager calibrated (its on_sent
hook withdraws the question then, once), and a consent click that comes after the calibration is
refused in the write itself (nothing recorded, nothing queued)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.clock import FakeClock, utc_now
from bot.domain import PRACTICES
from bot.domain.calibration import CalibrationSubmission
from bot.outbox_hooks import hooks_for
from bot.uow import UnitOfWork
from bot.usecases import calibration as calibrations
from bot.usecases import debriefs
from bot.usecases.debriefs import CelebrationWithdrawn
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage, Outcome

TEAM, REP, MANAGER = "T0CALPM", "U0REP", "U0MGR"
ONLY_DISCOVERY = {p: p == "discovery" for p in PRACTICES}


@pytest.fixture
def session_factory(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def now() -> datetime:
    return utc_now().replace(microsecond=0)


def _perfect_miss(session_factory: SessionFactory, at: datetime) -> int:
    """A perfect miss REP logged (everything held), its question unanswered; no DM in Slack."""
    with session_factory() as session:
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        queries.set_reports(
            session=session, team_id=TEAM, manager_user_id=MANAGER, report_user_ids=[REP]
        )
        outcome = Outcome(
            team_id=TEAM,
            user_id=REP,
            kind="loss",
            deal="<!here> Initech",
            process_score=1.0,
            classification="perfect-miss",
            occurred_at=at - timedelta(hours=1),
            submission_key=uuid.uuid4().hex,
            **dict.fromkeys(PRACTICES, True),
        )
        session.add(outcome)
        session.commit()
        assert outcome.id is not None
        return outcome.id


def _calibrate_out(session_factory: SessionFactory, outcome_id: int, at: datetime) -> None:
    with UnitOfWork(session_factory, clock=FakeClock(at)) as uow:
        result = calibrations.record_calibration(
            uow,
            team_id=TEAM,
            outcome_id=outcome_id,
            user_id=MANAGER,
            is_admin=False,
            submission=CalibrationSubmission(practices=ONLY_DISCOVERY, note="Only discovery."),
        )
    assert isinstance(result, calibrations.Calibrated)


def _rows(session_factory: SessionFactory) -> list[OutboxMessage]:
    with session_factory() as session:
        return outbox_queries.rows_of(session=session, team_id=TEAM)


def test_a_debrief_dm_sent_after_the_calibration_has_its_question_withdrawn_once(
    session_factory: SessionFactory, now: datetime
) -> None:
    outcome_id = _perfect_miss(session_factory, now)
    _calibrate_out(session_factory, outcome_id, now)
    assert "celebration-ask-withdrawn" not in [row.kind for row in _rows(session_factory)]

    dm = OutboxMessage(
        team_id=TEAM,
        post_key=f"debrief:{outcome_id}:rep",
        kind="debrief-rep",
        target_kind="user",
        target_id=REP,
        payload={"text": "debrief"},
        not_before=now,
        created_at=now,
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
