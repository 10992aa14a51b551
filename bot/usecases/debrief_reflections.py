"""A debrief's reflection questions: what the modal asks, the answers kept as the rep's
lessons, the thanks DM, and the reminder a day later. Re-exported by bot.usecases.debriefs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.blocks.debriefs import (
    reflection_reminder_dm,
    reflection_saved_dm,
    win_lesson_reminder_dm,
    win_lesson_saved_dm,
)
from bot.domain import (
    Classification,
    OutcomeKind,
)
from bot.domain.debriefs import (
    COMMITMENT_KEY,
    Commitment,
    LessonShare,
    NotYours,
    ReflectionSubmission,
    reflection_questions,
)
from bot.uow import (
    UnitOfWork,
    to_user,
)
from bot.usecases.debrief_facts import REFLECTED, REMINDER, counted_facts, reminder_key
from bot.usecases.lessons import win_lesson
from storage import debriefs_queries as dq
from storage import outbox_queries


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
