"""Loss debriefs, wins, reflections and lessons: the decisions, without Slack.

Each function works inside the caller's session and never commits; the listener commits once
and then does its Slack calls with what came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

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
from bot.domain.debriefs import (
    COMMITMENT_KEY,
    Commitment,
    Lesson,
    LessonsResult,
    LossSubmission,
    OutcomeFacts,
    ReflectionSubmission,
    ResilienceLine,
    WinSubmission,
    reflection_questions,
)
from bot.domain.text import without_unsaveable
from storage import debriefs_queries as dq
from storage import queries
from storage.models import Outcome


@dataclass(frozen=True)
class SavedOutcome:
    facts: OutcomeFacts
    manager_user_id: str | None
    recognition_channel_id: str | None
    resilience: ResilienceLine | None = None


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


@dataclass(frozen=True)
class ReflectionPrompt:
    outcome_id: int
    deal: str
    commitment: Commitment | None
    answered: list[tuple[str, str]]  # (question, answer) when already answered
    perfect_miss: bool = False


@dataclass(frozen=True)
class NotYours:
    """Someone clicked another rep's "Answer the questions"."""

    owner_user_id: str


@dataclass(frozen=True)
class SavedReflections:
    outcome_id: int
    deal: str
    commitment: str | None
    followed_up: bool | None
    first_time: bool
    perfect_miss: bool = False


@dataclass(frozen=True)
class RepNotice:
    """A rep's DM about their win or loss that Slack hasn't taken yet, rebuilt to retry."""

    team_id: str
    facts: OutcomeFacts
    recognition_channel_id: str | None
    resilience: ResilienceLine | None = None  # wins
    shout_out_channel: str | None = None  # wins: where the bounce-back shout-out went


@dataclass(frozen=True)
class ManagerNotice:
    """A manager's note not sent yet; no manager (any more): nothing to send."""

    team_id: str
    facts: OutcomeFacts
    manager_user_id: str | None


# The scheduler leaves a message this long to the request that made it due before retrying.
RETRY_GRACE = timedelta(minutes=1)


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


def save_loss(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    submission: LossSubmission,
    submission_key: str,
    now: datetime,
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
        },
    )
    if outcome is None:
        return None
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
) -> SavedOutcome | None:
    """Save and classify a win, noting the losing streak it ended; None when saved before."""
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    history = dq.outcomes_of(session=session, team_id=team_id, user_id=user_id)
    bounce = detect_bounce_back(_events(history), now)
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
            # Sent right after this commit; the scheduler retries whatever Slack refused, and
            # posts the bounce-back once there is a recognition channel.
            "rep_dm_pending_since": now,
            "manager_note_pending_since": now if notes_manager else None,
            "bounce_back_pending_since": now if bounce else None,
        },
    )
    if outcome is None:
        return None
    return SavedOutcome(
        facts=facts_of(outcome),
        manager_user_id=manager,
        recognition_channel_id=workspace.recognition_channel_id,
        resilience=_resilience_line([*history, outcome]),
    )


def choose_celebration(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    outcome_id: int,
    consent: bool,
    now: datetime,
) -> CelebrationState | None:
    """Record the rep's answer to "celebrate this perfect miss?"; None when the outcome is not
    theirs or not a perfect miss. A second click keeps the first answer."""
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if (
        outcome is None
        or outcome.user_id != user_id
        or outcome.classification != Classification.PERFECT_MISS.value
    ):
        return None
    first_answer = dq.record_celebration_consent(
        session=session, team_id=team_id, outcome_id=outcome_id, user_id=user_id, consent=consent
    )
    session.refresh(outcome)
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    return CelebrationState(
        facts=facts_of(outcome),
        consent=outcome.celebrate_consent,
        channel_id=workspace.recognition_channel_id,
        posted=outcome.celebration_posted_at is not None,
        failed_channel_id=(
            outcome.celebration_failed_channel_id
            if outcome.celebration_failed_at is not None
            and outcome.celebration_failed_at > now - dq.FAILED_CHANNEL_RETRY
            else None
        ),
        first_answer=first_answer,
    )


def pending_rep_dms(*, session: Session, now: datetime) -> list[RepNotice]:
    """The reps' DMs Slack refused before, with what their messages are built from."""
    notices: list[RepNotice] = []
    for outcome, channel in dq.rep_dms_pending(session=session, due_before=now - RETRY_GRACE):
        if outcome.kind != OutcomeKind.WIN.value:
            notices.append(RepNotice(outcome.team_id, facts_of(outcome), channel))
            continue
        # The rep's record up to this win, as it was when they logged it.
        history = [
            o
            for o in dq.outcomes_of(
                session=session, team_id=outcome.team_id, user_id=outcome.user_id
            )
            if o.occurred_at <= outcome.occurred_at
        ]
        shout_out = queries.get_post(
            session=session, team_id=outcome.team_id, post_key=bounce_back_post_key(outcome.id)
        )
        notices.append(
            RepNotice(
                outcome.team_id,
                facts_of(outcome),
                channel,
                resilience=_resilience_line(history),
                shout_out_channel=(
                    shout_out.channel_id
                    if shout_out is not None and shout_out.status == "sent"
                    else None
                ),
            )
        )
    return notices


def pending_manager_notes(*, session: Session, now: datetime) -> list[ManagerNotice]:
    return [
        ManagerNotice(
            team_id=outcome.team_id,
            facts=facts_of(outcome),
            manager_user_id=_manager_id(session, outcome.team_id, outcome.user_id),
        )
        for outcome in dq.manager_notes_pending(session=session, due_before=now - RETRY_GRACE)
    ]


def pending_bounce_backs(*, session: Session, now: datetime) -> list[tuple[str, OutcomeFacts, str]]:
    """Bounce-back shout-outs still to post: (team id, facts, the channel to post in)."""
    return [
        (outcome.team_id, facts_of(outcome), channel)
        for outcome, channel in dq.bounce_backs_due(
            session=session, due_before=now - RETRY_GRACE, now=now
        )
    ]


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
    return ReflectionPrompt(
        outcome_id=outcome_id,
        deal=outcome.deal,
        commitment=None if answered else _commitment_before(session, team_id, user_id, outcome_id),
        answered=answered,
        perfect_miss=outcome.classification == Classification.PERFECT_MISS.value,
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
    first_time = dq.mark_reflections_answered(session=session, outcome_id=outcome_id, now=now)
    if first_time:
        for key, question in reflection_questions(perfect_miss=perfect_miss):
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
        commitment=submission.answers.get(COMMITMENT_KEY),
        followed_up=submission.followed_up,
        first_time=first_time,
        perfect_miss=perfect_miss,
    )


def find_lessons(*, session: Session, team_id: str, user_id: str, text: str) -> LessonsResult:
    """A rep searches their own lessons; a manager their own and their reps'."""
    reports = queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
    # A NUL in the words would make PostgreSQL refuse the query (SQLite would run it).
    words = dq.search_words(without_unsaveable(text))
    hits = dq.search_lessons(
        session=session,
        team_id=team_id,
        user_ids={user_id, *(member.user_id for member in reports)},
        words=words,
    )
    lessons = [
        Lesson(
            user_id=hit.reflection.user_id,
            deal=hit.outcome.deal,
            kind=hit.outcome.kind,
            reason=hit.outcome.reason,
            question=hit.reflection.question,
            answer=hit.reflection.answer or "",
            answered_at=hit.reflection.answered_at or hit.reflection.created_at,
            is_commitment=hit.reflection.is_commitment,
            followed_up=hit.reflection.commitment_followed_up,
        )
        for hit in hits
    ]
    typed: dict[str, str] = {}
    for word in text.split():
        typed.setdefault(dq.search_words(word)[0], word)
    return LessonsResult(
        viewer_id=user_id,
        words=words,
        lessons=lessons,
        is_manager=bool(reports),
        typed_words=[typed.get(word, word) for word in words],
    )
