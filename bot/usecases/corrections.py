"""A rep corrects or removes an outcome they logged in the last 7 days, from their Home.

A correction saves the new answers and classifies the outcome again (with the workspace's
threshold, as when it was logged), calling off a perfect miss's shout-out still waiting when it
is no longer one; a removal deletes it with its reflections and its messages
still waiting in the outbox, and works out again the bounce-back of the win after it. Every
figure (Home, reviews, charts) is computed from the outcomes, so it follows. So do the messages
already posted about it (the manager's note, the rep's DMs, a shout-out): updated, replaced or
taken down through the outbox, in the same unit of work (bot.usecases.correction_updates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.domain import (
    PRACTICES,
    BounceBack,
    Classification,
    OutcomeEvent,
    OutcomeKind,
    detect_bounce_back,
)
from bot.domain.corrections import CORRECTION_WINDOW, correctable
from bot.domain.debriefs import LossSubmission, OutcomeFacts, WinSubmission
from bot.uow import UnitOfWork
from bot.usecases import correction_updates
from bot.usecases.debriefs import Answers, facts_of, loss_answers, win_answers
from storage import corrections_queries as cq
from storage import debriefs_queries as dq
from storage import queries
from storage.models import Outcome

# A correction that changes what the manager calibrated (the practices, the luck, hence the
# classification) clears the calibration: it judged answers that no longer exist, and Home, "This
# cycle" and reviews must count one view. The manager's note offers Agree / I see it differently
# again (bot.usecases.correction_updates). A new deal name, amount or reason keeps it.
NO_CALIBRATION: dict[str, object] = {
    "calibrated_by": None,
    "calibrated_at": None,
    "calibration_agrees": None,
    "calibrated_practices": None,
    "calibrated_process_score": None,
    "calibrated_classification": None,
    "calibration_note": None,
}

# The Home lists this many of the rep's latest outcomes that can still be corrected.
SHOWN_ON_HOME = 5


@dataclass(frozen=True)
class Refused:
    """Nothing changed: `why` is "gone" (no such outcome), "not_yours", "too_old" (logged more
    than 7 days ago) or "kind" (a loss's form for a win, or the other way round)."""

    why: str
    owner_user_id: str | None = None


@dataclass(frozen=True)
class Corrected:
    before: OutcomeFacts
    after: OutcomeFacts


@dataclass(frozen=True)
class Removed:
    facts: OutcomeFacts


def correctable_outcomes(
    *, session: Session, team_id: str, user_id: str, now: datetime
) -> list[OutcomeFacts]:
    """The rep's latest outcomes they may still correct or remove, newest first."""
    rows = cq.outcomes_since(
        session=session,
        team_id=team_id,
        user_id=user_id,
        since=now - CORRECTION_WINDOW,
        limit=SHOWN_ON_HOME,
    )
    return [facts_of(row) for row in rows]


def _own_recent(
    uow: UnitOfWork,
    team_id: str,
    user_id: str,
    outcome_id: int,
    *,
    kind: OutcomeKind | None = None,
) -> Outcome | Refused:
    """The rep's own outcome, still correctable (and of `kind`, for a correction's form)."""
    outcome = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None:
        return Refused("gone")
    if outcome.user_id != user_id:
        return Refused("not_yours", owner_user_id=outcome.user_id)
    if not correctable(outcome.occurred_at, uow.now()):
        return Refused("too_old")
    if kind is not None and outcome.kind != kind.value:
        return Refused("kind")
    return outcome


def correction_prompt(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int
) -> OutcomeFacts | Refused:
    """What the correction form shows: the outcome as it was saved."""
    outcome = _own_recent(uow, team_id, user_id, outcome_id)
    return outcome if isinstance(outcome, Refused) else facts_of(outcome)


def _threshold(uow: UnitOfWork, team_id: str) -> float:
    workspace = queries.get_or_create_workspace(session=uow.session, team_id=team_id)
    return workspace.strong_process_threshold


def _changes_calibrated(
    outcome: Outcome,
    practices: dict[str, bool],
    classification: Classification,
    luck: int | None = None,
) -> bool:
    """Whether the correction changes what the manager calibrated (see NO_CALIBRATION)."""
    if outcome.calibrated_at is None:
        return False
    before = facts_of(outcome)
    return (
        any(bool(before.practices.get(p)) != bool(practices.get(p)) for p in PRACTICES)
        or before.classification is not classification
        or (outcome.kind == OutcomeKind.WIN.value and outcome.luck != luck)
    )


def _save(
    uow: UnitOfWork,
    outcome: Outcome,
    answers: Answers,
    practices: dict[str, bool],
    luck: int | None = None,
) -> Corrected:
    """Save the corrected answers (clearing a calibration they change) and queue what follows
    in Slack."""
    assert outcome.id is not None
    before = facts_of(outcome)
    clears_calibration = _changes_calibrated(outcome, practices, answers.classification, luck)
    values = {**answers.columns, **NO_CALIBRATION} if clears_calibration else answers.columns
    cq.update_outcome(session=uow.session, outcome_id=outcome.id, values=values)
    uow.session.refresh(outcome)
    after = facts_of(outcome)
    correction_updates.follow_correction(
        uow,
        team_id=outcome.team_id,
        outcome_id=outcome.id,
        before=before,
        after=after,
        calibration_cleared=clears_calibration,
    )
    return Corrected(before=before, after=after)


def correct_loss(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int, submission: LossSubmission
) -> Corrected | Refused:
    outcome = _own_recent(uow, team_id, user_id, outcome_id, kind=OutcomeKind.LOSS)
    if isinstance(outcome, Refused):
        return outcome
    answers = loss_answers(submission, _threshold(uow, team_id))
    return _save(uow, outcome, answers, submission.practices)


def correct_win(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int, submission: WinSubmission
) -> Corrected | Refused:
    outcome = _own_recent(uow, team_id, user_id, outcome_id, kind=OutcomeKind.WIN)
    if isinstance(outcome, Refused):
        return outcome
    answers = win_answers(submission, _threshold(uow, team_id))
    return _save(uow, outcome, answers, submission.practices, submission.luck)


def remove_outcome(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int
) -> Removed | Refused:
    """Delete the outcome (and its lessons); the win after it, if any, gets its bounce-back
    worked out again from what is left."""
    outcome = _own_recent(uow, team_id, user_id, outcome_id)
    if isinstance(outcome, Refused):
        return outcome
    facts = facts_of(outcome)
    cq.delete_outcome(session=uow.session, team_id=team_id, outcome_id=facts.id)
    uow.session.expunge(outcome)
    history = dq.outcomes_of(session=uow.session, team_id=team_id, user_id=user_id)
    later_win = next(
        (
            o
            for o in history
            if o.occurred_at >= facts.occurred_at and o.kind == OutcomeKind.WIN.value
        ),
        None,
    )
    correction_updates.follow_removal(uow, team_id=team_id, facts=facts)
    if later_win is not None and later_win.id is not None:
        events = [OutcomeEvent(kind=OutcomeKind(o.kind), at=o.occurred_at) for o in history]
        bounce = detect_bounce_back(events, later_win.occurred_at)
        was = (later_win.bounce_back_losses, later_win.bounce_back_recovery_seconds)
        cq.update_outcome(
            session=uow.session,
            outcome_id=later_win.id,
            values={
                "bounce_back_losses": bounce.losses if bounce else None,
                "bounce_back_recovery_seconds": _seconds(bounce),
            },
        )
        if was != (bounce.losses if bounce else None, _seconds(bounce)):
            correction_updates.follow_bounce_back_change(uow, team_id=team_id, win_id=later_win.id)
    return Removed(facts=facts)


def _seconds(bounce: BounceBack | None) -> int | None:
    return int(bounce.recovery.total_seconds()) if bounce else None
