"""A manager's calibration of a rep's own score (issue 12; seed 000: reps "can't see their own
swing").

From the manager's note a manager either agrees with the rep's score or says which practices
they saw hold, in one sentence. Either way, in one unit of work: the calibration is saved on
the outcome beside the rep's own view (once: a second calibration is refused, so the rep hears
it once), the rep's private DM with the manager's view is queued, and so is the chat.update of
the manager's note that swaps its buttons for what was decided, and what it changes about a
perfect-miss shout-out (bot.usecases.calibration_shout_outs). Only the rep's manager, or an
admin, may calibrate; that is checked here, when it is saved, not only when the button shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.blocks.debriefs import calibration_rep_dm, calibration_shout_out_blocks
from bot.domain import Classification
from bot.domain.calibration import (
    Calibration,
    CalibrationSubmission,
    make_calibration,
    practices_text,
)
from bot.domain.debriefs import OutcomeFacts
from bot.uow import UnitOfWork, to_user
from bot.usecases.calibration_rounds import next_rep_dm_key
from bot.usecases.calibration_shout_outs import follow_up_calibration, lock_before_calibration
from bot.usecases.debriefs import facts_of, queue_calibrated_note
from storage import debriefs_queries as dq
from storage import queries
from storage.models import Outcome

# Outbox kind of the rep's DM with the manager's view (the note's update is
# bot.usecases.debriefs.CALIBRATED_NOTE, queued here or by the note's own on_sent hook).
CALIBRATION_REP_DM = "calibration-rep"


class Refusal(StrEnum):
    NO_SUCH_OUTCOME = "no-such-outcome"
    NOT_THE_MANAGER = "not-the-manager"
    OWN_OUTCOME = "own-outcome"
    ALREADY_CALIBRATED = "already-calibrated"


@dataclass(frozen=True)
class Calibrated:
    facts: OutcomeFacts  # the rep's own view
    calibration: Calibration  # the manager's


def _refusal(uow: UnitOfWork, outcome: Outcome, user_id: str, is_admin: bool) -> Refusal | None:
    if outcome.user_id == user_id:
        return Refusal.OWN_OUTCOME  # an admin too: nobody calibrates their own swing
    if outcome.calibrated_at is not None:
        return Refusal.ALREADY_CALIBRATED
    if is_admin:
        return None
    manager = queries.manager_of(
        session=uow.session, team_id=outcome.team_id, user_id=outcome.user_id
    )
    if manager is not None and not manager.deleted and manager.user_id == user_id:
        return None
    return Refusal.NOT_THE_MANAGER


def calibration_target(
    uow: UnitOfWork, *, team_id: str, outcome_id: int, user_id: str, is_admin: bool
) -> OutcomeFacts | Refusal:
    """The rep's own view, for the "I see it differently" modal; or why this person may not
    calibrate it (said when the button is clicked; checked again when it is saved)."""
    outcome = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None:
        return Refusal.NO_SUCH_OUTCOME
    return _refusal(uow, outcome, user_id, is_admin) or facts_of(outcome)


def record_calibration(
    uow: UnitOfWork,
    *,
    team_id: str,
    outcome_id: int,
    user_id: str,
    is_admin: bool,
    submission: CalibrationSubmission | None,
) -> Calibrated | Refusal:
    """Save the calibration (`submission` None: the manager agrees with the rep) and queue the
    rep's DM and the update of the manager's note; a Refusal saves and queues nothing."""
    outcome = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None or outcome.id is None:
        return Refusal.NO_SUCH_OUTCOME
    refusal = _refusal(uow, outcome, user_id, is_admin)
    if refusal is not None:
        return refusal
    facts = facts_of(outcome)
    now = uow.now()
    if submission is None:
        # Agreeing keeps the rep's label as it was given, whatever the threshold is now.
        calibration = Calibration(
            manager_user_id=user_id,
            agrees=True,
            practices=dict(facts.practices),
            process_score=outcome.process_score,
            classification=Classification(outcome.classification),
            calibrated_at=now,
        )
    else:
        workspace = queries.get_or_create_workspace(session=uow.session, team_id=team_id)
        calibration = make_calibration(
            kind=outcome.kind,
            # The manager's view of the luck (a win's modal asks it); the rep's if not given.
            luck=submission.luck if submission.luck is not None else outcome.luck,
            manager_user_id=user_id,
            practices=submission.practices,
            note=submission.note,
            agrees=False,
            threshold=workspace.strong_process_threshold,
            now=now,
        )
    lock_before_calibration(uow, outcome)
    saved = dq.record_calibration(
        session=uow.session,
        team_id=team_id,
        outcome_id=outcome.id,
        values={
            "calibrated_by": user_id,
            "calibrated_at": now,
            "calibration_agrees": calibration.agrees,
            "calibrated_practices": practices_text(calibration.practices),
            "calibrated_process_score": calibration.process_score,
            "calibrated_classification": calibration.classification.value,
            "calibration_note": calibration.note,
        },
    )
    if not saved:  # another request calibrated it between our read and our write
        return Refusal.ALREADY_CALIBRATED
    # Read again after the write: a consent click that committed while it waited on the row's
    # lock is seen, so its shout-out is held back or left up, never missed.
    uow.session.refresh(outcome)
    follow_up = follow_up_calibration(uow, outcome, calibration)
    uow.outbox.add(
        team_id=team_id,
        # A calibration a correction cleared may be followed by another: keys of its own.
        post_key=next_rep_dm_key(uow.session, team_id, outcome.id),
        kind=CALIBRATION_REP_DM,
        to=to_user(outcome.user_id),
        message=calibration_rep_dm(
            facts,
            calibration,
            shout_out=calibration_shout_out_blocks(
                follow_up.change, facts, channel_id=follow_up.channel_id
            ),
        ),
    )
    note_at = dq.sent_manager_note(session=uow.session, team_id=team_id, outcome_id=outcome.id)
    if note_at is not None:  # else the note's own on_sent hook queues it (bot.usecases.debriefs)
        queue_calibrated_note(uow.session, now, outcome, calibration, *note_at)
    return Calibrated(facts=facts, calibration=calibration)
