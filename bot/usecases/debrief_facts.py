"""A saved outcome as the debrief use cases see it (its facts, as the manager calibrated
them), and the outbox kinds and post keys of the messages a debrief causes.

Re-exported by bot.usecases.debriefs; the sibling modules build on these.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain import (
    Classification,
    OutcomeKind,
)
from bot.domain.calibration import Calibration, practices_from_text
from bot.domain.debriefs import (
    OutcomeFacts,
)
from storage.models import Outcome


def facts_of(outcome: Outcome) -> OutcomeFacts:
    recovery = (
        timedelta(seconds=outcome.bounce_back_recovery_seconds)
        if outcome.bounce_back_recovery_seconds is not None
        else None
    )
    assert outcome.id is not None
    return OutcomeFacts(
        id=outcome.id,
        user_id=outcome.user_id,
        kind=outcome.kind,
        deal=outcome.deal,
        classification=Classification(outcome.classification),
        practices={
            "pipeline_full": outcome.pipeline_full,
            "healthy_stage_ratios": outcome.healthy_stage_ratios,
            "discovery": outcome.discovery,
            "qualification": outcome.qualification,
            "objection_handling": outcome.objection_handling,
        },
        occurred_at=outcome.occurred_at,
        amount=outcome.amount,
        stage=outcome.stage,
        reason=outcome.reason,
        competitor=outcome.competitor,
        buyer_feedback=outcome.buyer_feedback,
        luck=outcome.luck,
        bounce_back_losses=outcome.bounce_back_losses,
        bounce_back_recovery=recovery,
        crm_source=outcome.crm_source,
        crm_link=outcome.crm_link,
    )


def counted_facts(outcome: Outcome) -> OutcomeFacts:
    """The outcome as Rebound counts it: the manager's practices and classification where they
    calibrated it (a shout-out names what the manager saw held), else the rep's own."""
    facts, calibration = facts_of(outcome), calibration_of(outcome)
    if calibration is None:
        return facts
    return replace(
        facts, classification=calibration.classification, practices=dict(calibration.practices)
    )


def bounce_back_post_key(outcome_id: int | None) -> str:
    return f"debrief:{outcome_id}:bounce-back"


# Outbox kinds (bot.outbox_hooks): each names what the hooks below record.
REP_DM, WIN_REP_DM, MANAGER_NOTE = "debrief-rep", "win-rep", "debrief-manager"


REMINDER, REFLECTED, CHOICE = "debrief-reminder", "debrief-reflected", "debrief-celebration-choice"


PERFECT_MISS, BOUNCE_BACK = "perfect-miss", "bounce-back"


# A manager's calibration (bot.usecases.calibration): the update of the manager's note.
CALIBRATED_NOTE = "calibration-note"


TAKE_BACK, TAKE_BACK_FAILED = "shout-out-take-back", "shout-out-take-back-failed"


def rep_dm_key(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:rep"


def perfect_miss_key(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:perfect-miss"


def shout_out_key(facts: OutcomeFacts) -> str:
    """The post key of the outcome's shout-out: a win's bounce-back or a perfect miss."""
    if facts.kind == OutcomeKind.WIN.value:
        return bounce_back_post_key(facts.id)
    return perfect_miss_key(facts.id)


def reminder_key(outcome_id: int) -> str:
    """The post key of a debrief's one reminder (a loss's questions, a win's lesson)."""
    return f"debrief:{outcome_id}:reminder"


def calibration_of(outcome: Outcome) -> Calibration | None:
    """The manager's calibration stored on an outcome; None when there is none."""
    if outcome.calibrated_at is None or outcome.calibrated_classification is None:
        return None
    return Calibration(
        manager_user_id=outcome.calibrated_by or "",
        agrees=bool(outcome.calibration_agrees),
        practices=practices_from_text(outcome.calibrated_practices),
        process_score=float(outcome.calibrated_process_score or 0.0),
        classification=Classification(outcome.calibrated_classification),
        calibrated_at=outcome.calibrated_at,
        note=outcome.calibration_note,
    )
