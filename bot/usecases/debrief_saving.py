"""Saving a loss or a win (its classification, its bounce-back, the CRM deal it came from)
and queueing what it causes: the rep's DM and the manager's note, and the note's update once
the manager calibrated it. Re-exported by bot.usecases.debriefs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.blocks.debriefs import (
    calibrated_manager_note,
    loss_debrief_dm,
    manager_note,
    win_logged_dm,
)
from bot.domain import (
    Classification,
    OutcomeEvent,
    OutcomeKind,
    Resilience,
    classify_outcome,
    classify_win,
    detect_bounce_back,
    process_score,
    resilience_figures,
)
from bot.domain.calibration import Calibration
from bot.domain.debriefs import (
    LossSubmission,
    OutcomeFacts,
    ResilienceLine,
    WinSubmission,
)
from bot.uow import (
    UnitOfWork,
    add_to_outbox,
    to_channel,
    to_user,
)
from bot.usecases import crm
from bot.usecases.calibration_rounds import calibrated_note_key
from bot.usecases.debrief_facts import (
    CALIBRATED_NOTE,
    MANAGER_NOTE,
    REP_DM,
    WIN_REP_DM,
    facts_of,
    rep_dm_key,
)
from bot.usecases.resilience import queue_streak_support
from storage import debriefs_queries as dq
from storage import queries
from storage.models import Outcome


@dataclass(frozen=True)
class SavedOutcome:
    facts: OutcomeFacts
    manager_user_id: str | None
    recognition_channel_id: str | None
    resilience: ResilienceLine | None = None
    # A bounce-back long enough for a public tip of the hat: the rep is asked first.
    share_offer: bool = False
    # The manager's note is due: a loss, or a lucky hit, of a rep with a manager.
    notes_manager: bool = False


def _manager_id(session: Session, team_id: str, user_id: str) -> str | None:
    manager = queries.manager_of(session=session, team_id=team_id, user_id=user_id)
    if manager is None or manager.deleted or manager.user_id == user_id:
        return None
    return manager.user_id


def _events(outcomes: list[Outcome]) -> list[OutcomeEvent]:
    return [OutcomeEvent(kind=OutcomeKind(o.kind), at=o.occurred_at) for o in outcomes]


def _resilience_line(outcomes: list[Outcome]) -> ResilienceLine:
    figures = resilience_figures(_events(outcomes))
    return ResilienceLine(
        bounce_backs=figures.bounce_backs, median_recovery=figures.median_recovery
    )


def rep_resilience(*, session: Session, team_id: str, user_id: str) -> Resilience:
    """Bounce-backs, median recovery and streaks of one rep, from their whole history."""
    return resilience_figures(
        _events(dq.outcomes_of(session=session, team_id=team_id, user_id=user_id))
    )


def _crm_link(
    session: Session, team_id: str, user_id: str, crm_offer_id: int | None
) -> dict[str, str | None]:
    """The CRM deal a debrief opened from its offer is kept with it, with its page there (the
    manager's note links to it)."""
    link = crm.debrief_link(session, team_id=team_id, user_id=user_id, row_id=crm_offer_id)
    if link is None:
        return {}
    source, deal_id, page = link
    return {"crm_source": source, "crm_deal_id": deal_id, "crm_link": page}


@dataclass(frozen=True)
class Answers:
    """A loss's or a win's answers as its outcome's columns, with the classification they make:
    the same when it is logged and when the rep corrects it (bot.usecases.corrections)."""

    classification: Classification
    columns: dict[str, object]


def loss_answers(submission: LossSubmission, threshold: float) -> Answers:
    score = process_score(submission.practices)
    classification = classify_outcome(OutcomeKind.LOSS, score, threshold)
    return Answers(
        classification,
        {
            "deal": submission.deal,
            "amount": submission.amount,
            "stage": submission.stage,
            "reason": submission.reason,
            "competitor": submission.competitor,
            "buyer_feedback": submission.buyer_feedback,
            **submission.practices,
            "process_score": score,
            "classification": classification.value,
        },
    )


def win_answers(submission: WinSubmission, threshold: float) -> Answers:
    score = process_score(submission.practices)
    classification = classify_win(score, submission.luck, threshold)
    return Answers(
        classification,
        {
            "deal": submission.deal,
            "amount": submission.amount,
            "luck": submission.luck,
            **submission.practices,
            "process_score": score,
            "classification": classification.value,
        },
    )


def _insert_outcome(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    submission_key: str,
    crm_offer_id: int | None,
    notes_manager: bool,
    values: dict[str, object],
) -> Outcome | None:
    """Insert the rep's outcome (with the CRM deal it debriefs, if any), its DM to the rep and,
    when `notes_manager`, the manager's note marked as due now, and settle the rep's own offers
    it answers; None when this submission was saved before."""
    outcome = dq.insert_outcome(
        session=session,
        values={
            "team_id": team_id,
            "user_id": user_id,
            **values,
            "occurred_at": now,
            "submission_key": submission_key,
            # Sent right after this commit; the dispatcher retries whatever Slack refused.
            # (A loss's reflection_requested_at is set once the questions are in the rep's DM.)
            "rep_dm_pending_since": now,
            "manager_note_pending_since": now if notes_manager else None,
            **_crm_link(session, team_id, user_id, crm_offer_id),
        },
    )
    if outcome is not None:
        crm.settle_offers(
            session,
            team_id=team_id,
            user_id=user_id,
            now=now,
            row_id=crm_offer_id,
            deal_name=outcome.deal,
        )
    return outcome


def save_loss(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    submission: LossSubmission,
    submission_key: str,
    now: datetime,
    crm_offer_id: int | None = None,
) -> SavedOutcome | None:
    """Save and classify a loss; None when this submission was saved before."""
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    answers = loss_answers(submission, workspace.strong_process_threshold)
    manager = _manager_id(session, team_id, user_id)
    outcome = _insert_outcome(
        session,
        team_id=team_id,
        user_id=user_id,
        now=now,
        submission_key=submission_key,
        crm_offer_id=crm_offer_id,
        notes_manager=manager is not None,
        values={"kind": OutcomeKind.LOSS.value, **answers.columns},
    )
    if outcome is None:
        return None
    return SavedOutcome(
        facts=facts_of(outcome),
        manager_user_id=manager,
        recognition_channel_id=workspace.recognition_channel_id,
        notes_manager=manager is not None,
    )


def save_win(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    submission: WinSubmission,
    submission_key: str,
    now: datetime,
    crm_offer_id: int | None = None,
) -> SavedOutcome | None:
    """Save and classify a win, noting the losing streak it ended; None when saved before."""
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    history = dq.outcomes_of(session=session, team_id=team_id, user_id=user_id)
    bounce = detect_bounce_back(_events(history), now)
    # Every recovery counts in the rep's own figures; only a streak of at least the workspace's
    # minimum is offered for a public shout-out, and only the rep can say yes.
    share_offer = bounce is not None and bounce.losses >= workspace.bounce_back_min_losses
    answers = win_answers(submission, workspace.strong_process_threshold)
    manager = _manager_id(session, team_id, user_id)
    # The manager hears of a win when it is a lucky hit.
    notes_manager = manager is not None and answers.classification is Classification.LUCKY_HIT
    outcome = _insert_outcome(
        session,
        team_id=team_id,
        user_id=user_id,
        now=now,
        submission_key=submission_key,
        crm_offer_id=crm_offer_id,
        notes_manager=notes_manager,
        values={
            "kind": OutcomeKind.WIN.value,
            **answers.columns,
            "bounce_back_losses": bounce.losses if bounce else None,
            "bounce_back_recovery_seconds": (
                int(bounce.recovery.total_seconds()) if bounce else None
            ),
            "bounce_back_offered_at": now if share_offer else None,
        },
    )
    if outcome is None:
        return None
    return SavedOutcome(
        facts=facts_of(outcome),
        manager_user_id=manager,
        recognition_channel_id=workspace.recognition_channel_id,
        resilience=_resilience_line([*history, outcome]),
        share_offer=share_offer,
        notes_manager=notes_manager,
    )


def record_loss(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    submission: LossSubmission,
    submission_key: str,
    crm_offer_id: int | None = None,
) -> SavedOutcome | None:
    """Save the loss and queue the rep's DM (with the reflection questions), the manager's
    note and, when this loss completes a losing streak, the streak's private support (bot.
    usecases.resilience); None when this submission was saved before (nothing new is queued)."""
    saved = save_loss(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        submission=submission,
        submission_key=submission_key,
        now=uow.now(),
        crm_offer_id=crm_offer_id,
    )
    if saved is None:
        return None
    rep_dm = loss_debrief_dm(saved.facts, recognition_channel_id=saved.recognition_channel_id)
    _queue_messages(uow, team_id, saved, REP_DM, rep_dm)
    # A loss that completes a losing streak also brings private support (seed 003).
    queue_streak_support(uow, team_id=team_id, user_id=user_id, latest_deal=saved.facts.deal)
    return saved


def record_win(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    submission: WinSubmission,
    submission_key: str,
    crm_offer_id: int | None = None,
) -> SavedOutcome | None:
    """Save the win and queue its messages: the rep's DM (telling a bounce-back privately, and
    asking whether to share it when the streak was long enough: nothing about it is public
    before the rep says yes, see `record_celebration_choice`), and for a lucky hit the
    manager's note."""
    saved = save_win(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        submission=submission,
        submission_key=submission_key,
        now=uow.now(),
        crm_offer_id=crm_offer_id,
    )
    if saved is None:
        return None
    rep_dm = win_logged_dm(
        saved.facts,
        saved.resilience,
        shout_out_channel=None,
        share_offer=saved.share_offer,
        recognition_channel_id=saved.recognition_channel_id,
    )
    _queue_messages(uow, team_id, saved, WIN_REP_DM, rep_dm)
    return saved


def _queue_messages(
    uow: UnitOfWork, team_id: str, saved: SavedOutcome, rep_dm_kind: str, rep_dm: dict[str, Any]
) -> None:
    """Queue the rep's DM about the outcome just saved and, when it is due, the manager's note."""
    facts = saved.facts
    uow.outbox.add(
        team_id=team_id,
        post_key=rep_dm_key(facts.id),
        kind=rep_dm_kind,
        to=to_user(facts.user_id),
        message=rep_dm,
    )
    if saved.notes_manager and saved.manager_user_id is not None:
        uow.outbox.add(
            team_id=team_id,
            post_key=f"debrief:{facts.id}:manager",
            kind=MANAGER_NOTE,
            to=to_user(saved.manager_user_id),
            message=manager_note(_with_currency(uow.session, team_id, facts)),
        )


def _with_currency(session: Session, team_id: str, facts: OutcomeFacts) -> OutcomeFacts:
    """The facts with the workspace's currency, for the amount in the manager's note."""
    workspace = queries.get_workspace(session=session, team_id=team_id)
    return replace(facts, currency=workspace.currency if workspace is not None else None)


def queue_calibrated_note(
    session: Session,
    now: datetime,
    outcome: Outcome,
    calibration: Calibration,
    channel: str,
    ts: str,
) -> bool:
    """Queue the chat.update of the manager's note that swaps its buttons for what was decided.

    chat.update of the bot's own DM message: "For direct messages, ensure that this value is a
    DM ID (starts with D)" — the channel the note was sent to, as the outbox recorded it
    (https://docs.slack.dev/reference/methods/chat.update/)."""
    assert outcome.id is not None
    facts = _with_currency(session, outcome.team_id, facts_of(outcome))
    return add_to_outbox(
        session,
        now=now,
        team_id=outcome.team_id,
        post_key=calibrated_note_key(session, outcome.team_id, outcome.id),
        kind=CALIBRATED_NOTE,
        to=to_channel(channel),
        method="chat.update",
        message={"ts": ts, **calibrated_manager_note(facts, calibration)},
    )
