"""Lessons: a win's lesson and sharing it with the team, and `/rebound lessons` (the rep's own
and what their teammates shared). Shared lessons are the only ones a teammate ever reads."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.debriefs import (
    WIN_LESSON_KEY,
    Lesson,
    LessonShare,
    LessonsResult,
    NotYours,
)
from bot.domain.text import without_unsaveable
from bot.uow import (
    UnitOfWork,
)
from storage import debriefs_queries as dq
from storage import queries
from storage.models import Outcome, Reflection


def win_lesson(session: Session, outcome: Outcome) -> LessonShare | None:
    assert outcome.id is not None
    for reflection in dq.reflections_of(session=session, outcome_id=outcome.id):
        if reflection.question_key == WIN_LESSON_KEY and reflection.id is not None:
            return _share_state(reflection, outcome.deal)
    return None


def _share_state(reflection: Reflection, deal: str) -> LessonShare:
    assert reflection.id is not None
    return LessonShare(
        reflection_id=reflection.id,
        deal=deal,
        answer=reflection.answer or "",
        shared=reflection.shared_at is not None,
    )


def share_lesson(
    uow: UnitOfWork, *, team_id: str, user_id: str, reflection_id: int, share: bool
) -> LessonShare | NotYours | None:
    """The rep shares a win's lesson with their team (`/rebound lessons` finds it for them), or
    makes it private again. Only the rep who wrote it decides: NotYours for anyone else, None
    when there is no such lesson in this workspace (or it is a loss's reflection: those stay
    private to the rep and their manager)."""
    session = uow.session
    reflection = dq.get_reflection(session=session, team_id=team_id, reflection_id=reflection_id)
    if reflection is None or reflection.question_key != WIN_LESSON_KEY:
        return None
    if reflection.user_id != user_id:
        return NotYours(owner_user_id=reflection.user_id)
    dq.set_lesson_shared(
        session=session,
        team_id=team_id,
        user_id=user_id,
        reflection_id=reflection_id,
        question_key=WIN_LESSON_KEY,
        shared_at=uow.now() if share else None,
    )
    session.refresh(reflection)
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=reflection.outcome_id)
    return _share_state(reflection, outcome.deal if outcome is not None else "")


def _lesson(hit: dq.LessonHit) -> Lesson:
    return Lesson(
        user_id=hit.reflection.user_id,
        deal=hit.outcome.deal,
        kind=hit.outcome.kind,
        reason=hit.outcome.reason,
        question=hit.reflection.question,
        answer=hit.reflection.answer or "",
        answered_at=hit.reflection.answered_at or hit.reflection.created_at,
        is_commitment=hit.reflection.is_commitment,
        followed_up=hit.reflection.commitment_followed_up,
        shared=hit.reflection.shared_at is not None,
    )


def find_lessons(*, session: Session, team_id: str, user_id: str, text: str) -> LessonsResult:
    """A rep searches their own lessons; a manager their own and their reps'. Beside them, the
    lessons their teammates shared (teams as the app knows them: who reports to whom), and
    nothing else of anyone's."""
    reports = queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
    # A NUL in the words would make PostgreSQL refuse the query (SQLite would run it).
    words = dq.search_words(without_unsaveable(text))
    private_to_viewer = {user_id, *(member.user_id for member in reports)}
    hits = dq.search_lessons(
        session=session, team_id=team_id, user_ids=private_to_viewer, words=words
    )
    # Teammates whose every lesson the viewer can't already read: only what they shared.
    sharing = queries.teammates_of(session=session, team_id=team_id, user_id=user_id)
    shared_hits = dq.search_shared_lessons(
        session=session, team_id=team_id, user_ids=sharing - private_to_viewer, words=words
    )
    lessons = [_lesson(hit) for hit in hits]
    typed: dict[str, str] = {}
    for word in text.split():
        typed.setdefault(dq.search_words(word)[0], word)
    return LessonsResult(
        viewer_id=user_id,
        words=words,
        lessons=lessons,
        is_manager=bool(reports),
        typed_words=[typed.get(word, word) for word in words],
        shared=[_lesson(hit) for hit in shared_hits],
    )
