"""Loss debriefs, wins, reflections and lessons: the decisions, without Slack.

The `record_*` / `queue_*` functions take a unit of work (bot.uow): they save the fact and
queue, in the same transaction, every message it causes as outbox rows (the rep's DM, the
manager's note, the shout-outs); the dispatcher sends them, and the hooks registered at the end
of this module record what the debrief needs to know (the questions are in the rep's DM, the
shout-out is up) in the dispatcher's transaction. The others work inside the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from sqlmodel import Session

from bot.blocks.debriefs import (
    ShoutOut,
    bounce_back_shout_out,
    calibrated_manager_note,
    celebration_choice_dm,
    loss_debrief_dm,
    manager_note,
    perfect_miss_shout_out,
    reflection_reminder_dm,
    reflection_saved_dm,
    win_lesson_reminder_dm,
    win_lesson_saved_dm,
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
from bot.domain.calibration import Calibration, practices_from_text
from bot.domain.debriefs import (
    COMMITMENT_KEY,
    Commitment,
    LessonShare,
    LossSubmission,
    NotYours,
    OutcomeFacts,
    ReflectionSubmission,
    ResilienceLine,
    WinSubmission,
    reflection_questions,
)
from bot.uow import (
    UnitOfWork,
    add_to_outbox,
    to_channel,
    to_recognition_channel,
    to_sent_post,
    to_user,
)
from bot.usecases import crm
from bot.usecases.calibration_rounds import calibrated_note_key
from bot.usecases.lessons import win_lesson
from bot.usecases.resilience import queue_streak_support
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.models import Outcome


@dataclass(frozen=True)
class SavedOutcome:
    facts: OutcomeFacts
    manager_user_id: str | None
    recognition_channel_id: str | None
    resilience: ResilienceLine | None = None
    # A bounce-back long enough for a public tip of the hat: the rep is asked first.
    share_offer: bool = False


@dataclass(frozen=True)
class CelebrationState:
    facts: OutcomeFacts
    consent: bool | None  # what the rep chose (their first click decides)
    channel_id: str | None
    posted: bool
    # The recognition channel the shout-out failed in lately (the bot couldn't post there).
    failed_channel_id: str | None = None
    # This click recorded the answer (a double click's second request did not).
    first_answer: bool = False

    @property
    def bounce_back(self) -> bool:
        """A win's bounce-back (else a perfect miss)."""
        return self.facts.kind == OutcomeKind.WIN.value


@dataclass(frozen=True)
class CelebrationWithdrawn:
    """The rep answered "Celebrate the perfect miss?" after their manager calibrated the loss
    out of a perfect miss: nothing is recorded and nothing can post."""

    facts: OutcomeFacts
    manager_user_id: str


class TakenBack(Enum):
    """What "Take it back" did."""

    COMING_DOWN = "coming-down"  # the post is in Slack: a chat.delete is queued
    NEVER_POSTED = "never-posted"  # not sent yet: called off, it never goes out
    LOST_TRACK = "lost-track"  # its record is gone (kept 60 days): it can't be found to delete
    ALREADY = "already"  # taken back before (a second click)
    NOTHING = "nothing"  # the rep never agreed to share it


@dataclass(frozen=True)
class ReflectionPrompt:
    outcome_id: int
    deal: str
    commitment: Commitment | None
    answered: list[tuple[str, str]]  # (question, answer) when already answered
    perfect_miss: bool = False
    win: bool = False  # a win's one question (what worked), not a loss's four


@dataclass(frozen=True)
class SavedReflections:
    outcome_id: int
    deal: str
    commitment: str | None
    followed_up: bool | None
    first_time: bool
    perfect_miss: bool = False
    win: bool = False
    # A win's lesson (what worked): the reflection the rep may share with their team.
    lesson: LessonShare | None = None


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
    score = process_score(submission.practices)
    classification = classify_outcome(OutcomeKind.LOSS, score, workspace.strong_process_threshold)
    manager = _manager_id(session, team_id, user_id)
    outcome = dq.insert_outcome(
        session=session,
        values={
            "team_id": team_id,
            "user_id": user_id,
            "kind": OutcomeKind.LOSS.value,
            "deal": submission.deal,
            "amount": submission.amount,
            "stage": submission.stage,
            "reason": submission.reason,
            "competitor": submission.competitor,
            "buyer_feedback": submission.buyer_feedback,
            **submission.practices,
            "process_score": score,
            "classification": classification.value,
            "occurred_at": now,
            "submission_key": submission_key,
            # Sent right after this commit; the scheduler retries whatever Slack refused.
            # (reflection_requested_at is set once the questions are in the rep's DM.)
            "rep_dm_pending_since": now,
            "manager_note_pending_since": now if manager else None,
            **_crm_link(session, team_id, user_id, crm_offer_id),
        },
    )
    if outcome is None:
        return None
    crm.settle_offers(
        session,
        team_id=team_id,
        user_id=user_id,
        now=now,
        row_id=crm_offer_id,
        deal_name=submission.deal,
    )
    return SavedOutcome(
        facts=facts_of(outcome),
        manager_user_id=manager,
        recognition_channel_id=workspace.recognition_channel_id,
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
    score = process_score(submission.practices)
    classification = classify_win(score, submission.luck, workspace.strong_process_threshold)
    manager = _manager_id(session, team_id, user_id)
    notes_manager = manager is not None and classification is Classification.LUCKY_HIT
    outcome = dq.insert_outcome(
        session=session,
        values={
            "team_id": team_id,
            "user_id": user_id,
            "kind": OutcomeKind.WIN.value,
            "deal": submission.deal,
            "amount": submission.amount,
            "luck": submission.luck,
            **submission.practices,
            "process_score": score,
            "classification": classification.value,
            "occurred_at": now,
            "submission_key": submission_key,
            "bounce_back_losses": bounce.losses if bounce else None,
            "bounce_back_recovery_seconds": (
                int(bounce.recovery.total_seconds()) if bounce else None
            ),
            "bounce_back_offered_at": now if share_offer else None,
            # Sent right after this commit; the dispatcher retries whatever Slack refused.
            "rep_dm_pending_since": now,
            "manager_note_pending_since": now if notes_manager else None,
            **_crm_link(session, team_id, user_id, crm_offer_id),
        },
    )
    if outcome is None:
        return None
    crm.settle_offers(
        session,
        team_id=team_id,
        user_id=user_id,
        now=now,
        row_id=crm_offer_id,
        deal_name=submission.deal,
    )
    return SavedOutcome(
        facts=facts_of(outcome),
        manager_user_id=manager,
        recognition_channel_id=workspace.recognition_channel_id,
        resilience=_resilience_line([*history, outcome]),
        share_offer=share_offer,
    )


def choose_celebration(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    outcome_id: int,
    consent: bool,
    now: datetime,
) -> CelebrationState | CelebrationWithdrawn | None:
    """Record the rep's answer to "celebrate this perfect miss?" or "share this bounce-back?";
    None when the outcome is not theirs, or neither (a bounce-back the rep was never asked
    about, its streak too short). A second click keeps the first answer."""
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None or outcome.user_id != user_id:
        return None
    if outcome.bounce_back_offered_at is None and not _asked_perfect_miss(outcome):
        # A loss its manager calibrated out of a perfect miss: the question is withdrawn.
        return _withdrawn(outcome)
    first_answer = dq.record_celebration_consent(
        session=session, team_id=team_id, outcome_id=outcome_id, user_id=user_id, consent=consent
    )
    if first_answer and consent and outcome.kind == OutcomeKind.WIN.value:
        dq.mark_bounce_back_agreed(session=session, outcome_id=outcome_id, now=now)
    session.refresh(outcome)
    if not first_answer and outcome.celebrate_consent is None:
        # The write found it calibrated out of a perfect miss meanwhile (a calibration that
        # committed while this click waited on the row): withdrawn, as above.
        withdrawn = _withdrawn(outcome)
        if withdrawn is not None:
            return withdrawn
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    win = outcome.kind == OutcomeKind.WIN.value
    failed_channel, failed_at = (
        (outcome.bounce_back_failed_channel_id, outcome.bounce_back_failed_at)
        if win
        else (outcome.celebration_failed_channel_id, outcome.celebration_failed_at)
    )
    return CelebrationState(
        facts=counted_facts(outcome),
        consent=outcome.celebrate_consent,
        channel_id=workspace.recognition_channel_id,
        posted=not win and outcome.celebration_posted_at is not None,
        failed_channel_id=(
            failed_channel
            if failed_at is not None and failed_at > now - dq.FAILED_CHANNEL_RETRY
            else None
        ),
        first_answer=first_answer,
    )


def _asked_perfect_miss(outcome: Outcome) -> bool:
    """The loss is a perfect miss as Rebound counts it (the manager's calibration where there is
    one), so the rep's yes or no to its shout-out stands."""
    return outcome.kind == OutcomeKind.LOSS.value and (
        (outcome.calibrated_classification or outcome.classification)
        == Classification.PERFECT_MISS.value
    )


def _withdrawn(outcome: Outcome) -> CelebrationWithdrawn | None:
    calibration = calibration_of(outcome)
    if (
        calibration is None
        or outcome.kind != OutcomeKind.LOSS.value
        or outcome.classification != Classification.PERFECT_MISS.value
        or calibration.classification is Classification.PERFECT_MISS
        or outcome.celebrate_consent is not None  # answered before the calibration
    ):
        return None
    return CelebrationWithdrawn(
        facts=facts_of(outcome), manager_user_id=calibration.manager_user_id
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


def _commitment_before(
    session: Session, team_id: str, user_id: str, outcome_id: int
) -> Commitment | None:
    reflection = dq.open_commitment(
        session=session, team_id=team_id, user_id=user_id, before_outcome_id=outcome_id
    )
    if reflection is None or reflection.id is None or not reflection.answer:
        return None
    earlier = dq.get_outcome(session=session, team_id=team_id, outcome_id=reflection.outcome_id)
    return Commitment(
        reflection_id=reflection.id,
        text=reflection.answer,
        deal=earlier.deal if earlier is not None else "your last deal",
    )


def debrief_owner(uow: UnitOfWork, *, team_id: str, outcome_id: int) -> str | None:
    """Whose debrief `outcome_id` is in this workspace (None when there is no such debrief)."""
    outcome = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=outcome_id)
    return outcome.user_id if outcome is not None else None


def reflection_prompt(
    *, session: Session, team_id: str, user_id: str, outcome_id: int
) -> ReflectionPrompt | NotYours | None:
    """What the reflection modal asks; NotYours when the debrief is another rep's, None when
    there is no such debrief."""
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None:
        return None
    if outcome.user_id != user_id:
        return NotYours(owner_user_id=outcome.user_id)
    answered = [
        (r.question, r.answer or "")
        for r in dq.reflections_of(session=session, outcome_id=outcome_id)
    ]
    win = outcome.kind == OutcomeKind.WIN.value
    # A win asks what worked, not whether the last commitment was kept: the next loss does.
    asks_commitment = not answered and not win
    return ReflectionPrompt(
        outcome_id=outcome_id,
        deal=outcome.deal,
        commitment=(
            _commitment_before(session, team_id, user_id, outcome_id) if asks_commitment else None
        ),
        answered=answered,
        # As Rebound counts it: the manager's calibration where there is one (seed 002).
        perfect_miss=counted_facts(outcome).classification is Classification.PERFECT_MISS,
        win=win,
    )


def save_reflections(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    outcome_id: int,
    commitment_id: int | None,
    submission: ReflectionSubmission,
    now: datetime,
) -> SavedReflections | None:
    """Keep the answers as the rep's lessons (once), and whether they kept their last
    commitment. None when the debrief is not this person's."""
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None or outcome.user_id != user_id:
        return None
    perfect_miss = outcome.classification == Classification.PERFECT_MISS.value
    win = outcome.kind == OutcomeKind.WIN.value
    first_time = dq.mark_reflections_answered(session=session, outcome_id=outcome_id, now=now)
    if first_time:
        for key, question in reflection_questions(perfect_miss=perfect_miss, win=win):
            answer = submission.answers.get(key)
            if answer is None:
                continue
            dq.insert_reflection(
                session=session,
                outcome=outcome,
                question_key=key,
                question=question,
                answer=answer,
                is_commitment=key == COMMITMENT_KEY,
                now=now,
            )
        if commitment_id is not None and submission.followed_up is not None:
            dq.record_commitment_follow_up(
                session=session,
                team_id=team_id,
                user_id=user_id,
                reflection_id=commitment_id,
                followed=submission.followed_up,
            )
    return SavedReflections(
        outcome_id=outcome_id,
        deal=outcome.deal,
        commitment=None if win else submission.answers.get(COMMITMENT_KEY),
        followed_up=submission.followed_up,
        first_time=first_time,
        perfect_miss=perfect_miss,
        win=win,
        lesson=win_lesson(session, outcome) if win else None,
    )


# --- the messages a debrief causes, queued in the outbox -----------------------------------------

# Outbox kinds (bot.outbox_hooks): each names what the hooks below record.
REP_DM, WIN_REP_DM, MANAGER_NOTE = "debrief-rep", "win-rep", "debrief-manager"
REMINDER, REFLECTED, CHOICE = "debrief-reminder", "debrief-reflected", "debrief-celebration-choice"
PERFECT_MISS, BOUNCE_BACK = "perfect-miss", "bounce-back"
# A manager's calibration (bot.usecases.calibration): the update of the manager's note.
CALIBRATED_NOTE = "calibration-note"
TAKE_BACK, TAKE_BACK_FAILED = "shout-out-take-back", "shout-out-take-back-failed"


def rep_dm_key(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:rep"


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
    facts = saved.facts
    uow.outbox.add(
        team_id=team_id,
        post_key=rep_dm_key(facts.id),
        kind=REP_DM,
        to=to_user(facts.user_id),
        message=loss_debrief_dm(facts, recognition_channel_id=saved.recognition_channel_id),
    )
    if saved.manager_user_id is not None:
        _queue_manager_note(uow, team_id, facts, saved.manager_user_id)
    # A loss that completes a losing streak also brings private support (seed 003).
    queue_streak_support(uow, team_id=team_id, user_id=user_id, latest_deal=facts.deal)
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
    facts = saved.facts
    uow.outbox.add(
        team_id=team_id,
        post_key=rep_dm_key(facts.id),
        kind=WIN_REP_DM,
        to=to_user(facts.user_id),
        message=win_logged_dm(
            facts,
            saved.resilience,
            shout_out_channel=None,
            share_offer=saved.share_offer,
            recognition_channel_id=saved.recognition_channel_id,
        ),
    )
    if facts.classification is Classification.LUCKY_HIT and saved.manager_user_id is not None:
        _queue_manager_note(uow, team_id, facts, saved.manager_user_id)
    return saved


def _queue_manager_note(
    uow: UnitOfWork, team_id: str, facts: OutcomeFacts, manager_user_id: str
) -> None:
    workspace = queries.get_workspace(session=uow.session, team_id=team_id)
    currency = workspace.currency if workspace is not None else None
    uow.outbox.add(
        team_id=team_id,
        post_key=f"debrief:{facts.id}:manager",
        kind=MANAGER_NOTE,
        to=to_user(manager_user_id),
        message=manager_note(replace(facts, currency=currency)),
    )


def record_reflections(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    outcome_id: int,
    commitment_id: int | None,
    submission: ReflectionSubmission,
) -> SavedReflections | None:
    """Save the answers (once) and queue the thanks DM the first time."""
    saved = save_reflections(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        outcome_id=outcome_id,
        commitment_id=commitment_id,
        submission=submission,
        now=uow.now(),
    )
    if saved is not None and saved.first_time:
        # Answered: a reminder queued and not yet claimed is called off (one being sent goes).
        outbox_queries.cancel_pending(
            session=uow.session,
            team_id=team_id,
            post_key=reminder_key(outcome_id),
            reason="answered",
        )
        uow.outbox.add(
            team_id=team_id,
            post_key=f"debrief:{outcome_id}:reflected",
            kind=REFLECTED,
            to=to_user(user_id),
            message=(
                win_lesson_saved_dm(saved.lesson)
                if saved.lesson is not None
                else reflection_saved_dm(
                    saved.deal,
                    saved.commitment,
                    saved.followed_up,
                    perfect_miss=saved.perfect_miss,
                )
            ),
        )
    return saved


def record_celebration_choice(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int, consent: bool
) -> CelebrationState | CelebrationWithdrawn | None:
    """Record the rep's answer to "celebrate this perfect miss?" (or "share this bounce-back?")
    and queue what follows: the shout-out (consent), and the DM telling the rep how it went.
    The DM says where the shout-out went up, so when it can be tried now it is queued by the
    shout-out's hooks. None: not theirs, or nothing they were asked about."""
    state = choose_celebration(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        outcome_id=outcome_id,
        consent=consent,
        now=uow.now(),
    )
    if isinstance(state, CelebrationWithdrawn):
        return state  # calibrated out of a perfect miss: nothing to record or post
    if state is None or state.consent is None or not state.first_answer:
        return state  # a double click: the first request queued it all
    facts = state.facts
    shout_out: ShoutOut | None = None
    if not state.consent:
        shout_out = ShoutOut.NO_CHANNEL  # unused by the wording of a "no"
    elif state.posted:
        shout_out = ShoutOut.POSTED
    else:
        added = uow.outbox.add(
            team_id=team_id,
            post_key=shout_out_key(facts),
            kind=BOUNCE_BACK if state.bounce_back else PERFECT_MISS,
            to=to_recognition_channel(),
            message=(
                bounce_back_shout_out(facts) if state.bounce_back else perfect_miss_shout_out(facts)
            ),
        )
        if state.channel_id is None:
            shout_out = ShoutOut.NO_CHANNEL
        elif state.failed_channel_id == state.channel_id:
            shout_out = ShoutOut.CHANNEL_FAILED  # known not to work until settings change
        elif not added:
            shout_out = ShoutOut.LATER  # already queued (and not in Slack yet)
    if shout_out is not None:
        _queue_choice_dm(
            uow.session, uow.now(), team_id, facts, state.consent, state.channel_id, shout_out
        )
    return state


def perfect_miss_key(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:perfect-miss"


def shout_out_key(facts: OutcomeFacts) -> str:
    """The post key of the outcome's shout-out: a win's bounce-back or a perfect miss."""
    if facts.kind == OutcomeKind.WIN.value:
        return bounce_back_post_key(facts.id)
    return perfect_miss_key(facts.id)


@dataclass(frozen=True)
class TakeBackResult:
    taken_back: TakenBack
    facts: OutcomeFacts


def take_back_shout_out(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int
) -> TakeBackResult | NotYours | None:
    """The rep takes back the shout-out they agreed to, once: one not sent yet is called off
    (it never goes out); one in Slack is deleted through the outbox (a chat.delete of the
    channel and ts it was sent with). NotYours when it is someone else's (only the rep it is
    about may take it back); None when there is no such outcome."""
    session = uow.session
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None:
        return None
    if outcome.user_id != user_id:
        return NotYours(owner_user_id=outcome.user_id)
    facts = facts_of(outcome)
    if outcome.celebrate_consent is not True:
        return TakeBackResult(TakenBack.NOTHING, facts)
    if not dq.take_back_shout_out(
        session=session, team_id=team_id, outcome_id=outcome_id, user_id=user_id, now=uow.now()
    ):
        return TakeBackResult(TakenBack.ALREADY, facts)
    key = shout_out_key(facts)
    if outbox_queries.cancel_pending(
        session=session, team_id=team_id, post_key=key, reason="taken_back"
    ):
        return TakeBackResult(TakenBack.NEVER_POSTED, facts)
    row = outbox_queries.get(session=session, team_id=team_id, post_key=key)
    if row is None:
        # Its outbox row is past retention: where it went is no longer known. It is out of
        # every digest from now on; the rep is told an admin can remove the post.
        return TakeBackResult(TakenBack.LOST_TRACK, facts)
    if row.state == "failed":
        return TakeBackResult(TakenBack.NEVER_POSTED, facts)
    # Sent, or being sent: the dispatcher deletes it once its channel and ts are known.
    uow.outbox.add(
        team_id=team_id,
        post_key=f"debrief:{facts.id}:take-back",
        kind=TAKE_BACK,
        to=to_sent_post(key),
        message={},
        method="chat.delete",
    )
    return TakeBackResult(TakenBack.COMING_DOWN, facts)


def _queue_choice_dm(
    session: Session,
    now: datetime,
    team_id: str,
    facts: OutcomeFacts,
    consent: bool,
    channel_id: str | None,
    shout_out: ShoutOut,
) -> None:
    add_to_outbox(
        session,
        now=now,
        team_id=team_id,
        post_key=f"debrief:{facts.id}:celebration-choice",
        kind=CHOICE,
        to=to_user(facts.user_id),
        message=celebration_choice_dm(
            consent=consent,
            channel_id=channel_id,
            shout_out=shout_out,
            bounce_back=facts.kind == OutcomeKind.WIN.value,
            outcome_id=facts.id if consent else None,
        ),
    )


def queue_reflection_reminders(uow: UnitOfWork) -> int:
    """Queue one reminder per debrief whose questions have waited a day unanswered (the job's
    work). Queued again each time while it is being sent: the post key keeps it one."""
    queued = 0
    for outcome in dq.reflection_reminders_due(session=uow.session, now=uow.now()):
        facts = counted_facts(outcome)  # worded as the manager calibrated it, if they did
        # A win asked one question (what worked), so its reminder asks that one again.
        win = outcome.kind == OutcomeKind.WIN.value
        queued += uow.outbox.add(
            team_id=outcome.team_id,
            post_key=reminder_key(facts.id),
            kind=REMINDER,
            to=to_user(facts.user_id),
            message=win_lesson_reminder_dm(facts) if win else reflection_reminder_dm(facts),
        )
    return queued


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
    workspace = queries.get_workspace(session=session, team_id=outcome.team_id)
    currency = workspace.currency if workspace is not None else None
    facts = replace(facts_of(outcome), currency=currency)
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


# The hooks that record what the outbox sent (bot.outbox_hooks) register on import.
from bot.usecases import debrief_hooks  # noqa: E402, F401
