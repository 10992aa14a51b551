"""A manager's calibration in storage and its use case, on SQLite and PostgreSQL: saved once
(compare-and-set), refused without writing anything, and counted by the aggregates behind
reviews, Home and charts (the calibrated score and label where there is one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain import PRACTICES
from bot.domain.calibration import CalibrationSubmission
from bot.outbox_hooks import hooks_for
from bot.usecases.calibration import Calibrated, Refusal
from storage import debriefs_queries as dq
from storage import goals_queries
from storage.db import SessionFactory
from storage.models import OutboxMessage, Outcome
from tests.support.calibration import (
    add_loss,
    calibrate,
    debrief_dm,
    outbox_rows,
    session_factory,
)

__all__ = ["session_factory"]  # the fixture (tests/support/calibration.py)

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
TEAM, REP, MANAGER, OTHER = "T0CAL", "U0REP", "U0MGR", "U0OTHER"
ALL_HELD = dict.fromkeys(PRACTICES, True)


def _loss(session_factory: SessionFactory, *, note_sent: bool = True, **fields: Any) -> int:
    """A system miss REP logged (discovery held), and the manager's note as the outbox sent it."""
    with session_factory() as session:
        outcome = add_loss(
            session,
            team_id=TEAM,
            rep=REP,
            manager=MANAGER,
            at=AT,
            deal="Initech",
            discovery=True,
            process_score=0.2,
            classification="system-miss",
            **fields,
        )
        if note_sent:
            session.add(
                debrief_dm(
                    team_id=TEAM,
                    outcome_id=outcome.id,
                    role="manager",
                    user_id=MANAGER,
                    text="note",
                    at=AT,
                    state="sent",
                    sent_channel="D0MGR",
                    sent_ts="1700000000.000200",
                )
            )
        session.commit()
        return outcome.id


def _calibrate(
    session_factory: SessionFactory,
    outcome_id: int,
    user_id: str = MANAGER,
    *,
    submission: CalibrationSubmission | None = None,
    is_admin: bool = False,
) -> Calibrated | Refusal:
    return calibrate(
        session_factory,
        team_id=TEAM,
        outcome_id=outcome_id,
        user_id=user_id,
        at=AT,
        submission=submission,
        is_admin=is_admin,
    )


def _rows(session_factory: SessionFactory) -> list[OutboxMessage]:
    return outbox_rows(session_factory, TEAM)


def _outcome(session_factory: SessionFactory, outcome_id: int) -> Outcome:
    with session_factory() as session:
        outcome = dq.get_outcome(session=session, team_id=TEAM, outcome_id=outcome_id)
        assert outcome is not None
        return outcome


def test_seeing_it_differently_keeps_both_views_and_queues_the_dm_and_the_update(
    session_factory: SessionFactory,
) -> None:
    outcome_id = _loss(session_factory)
    result = _calibrate(
        session_factory,
        outcome_id,
        submission=CalibrationSubmission(practices=ALL_HELD, note="It all held."),
    )
    assert isinstance(result, Calibrated)
    saved = _outcome(session_factory, outcome_id)
    assert (saved.classification, saved.process_score, saved.discovery) == (
        "system-miss",
        0.2,
        True,
    )
    assert (saved.calibrated_classification, saved.calibrated_process_score) == (
        "perfect-miss",
        1.0,
    )
    assert saved.calibrated_practices == ",".join(PRACTICES)
    assert (saved.calibrated_by, saved.calibrated_at, saved.calibration_note) == (
        MANAGER,
        AT,
        "It all held.",
    )
    queued = {row.post_key: row for row in _rows(session_factory)}
    dm = queued[f"debrief:{outcome_id}:calibration"]
    assert (dm.target_kind, dm.target_id, dm.method) == ("user", REP, "chat.postMessage")
    update = queued[f"debrief:{outcome_id}:manager-calibrated"]
    assert (update.target_kind, update.target_id, update.method) == (
        "channel",
        "D0MGR",
        "chat.update",
    )
    assert update.payload["ts"] == "1700000000.000200"


def test_a_second_calibration_is_refused_and_writes_nothing(
    session_factory: SessionFactory,
) -> None:
    outcome_id = _loss(session_factory)
    assert isinstance(_calibrate(session_factory, outcome_id), Calibrated)  # agrees
    before = len(_rows(session_factory))
    second = _calibrate(
        session_factory,
        outcome_id,
        submission=CalibrationSubmission(practices=ALL_HELD, note="Changed my mind."),
    )
    assert second is Refusal.ALREADY_CALIBRATED
    saved = _outcome(session_factory, outcome_id)
    assert (saved.calibration_agrees, saved.calibrated_classification) == (True, "system-miss")
    assert len(_rows(session_factory)) == before
    # The write itself is compare-and-set: whoever comes second changes nothing.
    with session_factory() as session:
        assert not dq.record_calibration(
            session=session, team_id=TEAM, outcome_id=outcome_id, values={"calibrated_by": OTHER}
        )


@pytest.mark.parametrize(
    ("user_id", "is_admin", "refusal"),
    [
        (OTHER, False, Refusal.NOT_THE_MANAGER),
        (REP, False, Refusal.OWN_OUTCOME),
        (REP, True, Refusal.OWN_OUTCOME),
    ],
)
def test_only_the_manager_or_an_admin_may_calibrate(
    session_factory: SessionFactory, user_id: str, is_admin: bool, refusal: Refusal
) -> None:
    outcome_id = _loss(session_factory)
    assert _calibrate(session_factory, outcome_id, user_id, is_admin=is_admin) is refusal
    assert _outcome(session_factory, outcome_id).calibrated_at is None
    assert [row.kind for row in _rows(session_factory)] == ["debrief-manager"]  # nothing queued
    assert isinstance(_calibrate(session_factory, outcome_id, OTHER, is_admin=True), Calibrated)


def test_no_note_in_slack_yet_means_no_update_but_the_rep_still_hears(
    session_factory: SessionFactory,
) -> None:
    outcome_id = _loss(session_factory, note_sent=False)
    assert isinstance(_calibrate(session_factory, outcome_id), Calibrated)
    assert [row.kind for row in _rows(session_factory)] == ["calibration-rep"]
    # The note reaches Slack after the calibration (a click racing the dispatcher's mark): its
    # on_sent hook, in the dispatcher's transaction, queues the update then, once.
    note = debrief_dm(
        team_id=TEAM, outcome_id=outcome_id, role="manager", user_id=MANAGER, text="note", at=AT
    )
    for _ in range(2):
        with session_factory() as session:
            on_sent = hooks_for("debrief-manager").on_sent
            assert on_sent is not None
            on_sent(session, note, "D0MGR", "1700000000.000900", AT)
            session.commit()
    update = [row for row in _rows(session_factory) if row.kind == "calibration-note"]
    assert len(update) == 1
    assert (update[0].target_id, update[0].payload["ts"]) == ("D0MGR", "1700000000.000900")
    assert "Calibrated by <@U0MGR>" in json.dumps(update[0].payload)


def test_reviews_and_home_count_the_calibrated_score_and_label(
    session_factory: SessionFactory,
) -> None:
    calibrated = _loss(session_factory)
    _loss(session_factory, note_sent=False)  # not calibrated: the rep's own view counts
    _calibrate(
        session_factory,
        calibrated,
        submission=CalibrationSubmission(practices=ALL_HELD, note="It all held."),
    )
    window = {"team_id": TEAM, "user_id": REP, "start": AT - timedelta(days=1), "end": AT}
    with session_factory() as session:
        total, count = goals_queries.process_score_totals(session=session, **window)
        assert (total, count) == (pytest.approx(1.2), 2)
        assert goals_queries.classification_counts(session=session, **window) == {
            "perfect-miss": 1,
            "system-miss": 1,
        }
        assert goals_queries.calibrated_count(session=session, **window) == 1
