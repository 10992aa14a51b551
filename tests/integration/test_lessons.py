"""A win's lesson and `/rebound lessons` (issue 12 §6) through the use cases, on SQLite and
PostgreSQL: who may read a lesson (the rep, their manager, and, once shared, their teammates
in the same workspace), the order and cap of the list, and a LIKE search that looks for the
% and _ a person typed as themselves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.clock import FakeClock
from bot.domain import PRACTICES
from bot.domain.debriefs import (
    WIN_LESSON_KEY,
    Lesson,
    LessonShare,
    LessonsResult,
    NotYours,
    ReflectionSubmission,
    WinSubmission,
)
from bot.uow import UnitOfWork
from bot.usecases import debriefs as usecases
from bot.usecases import lessons
from storage import debriefs_queries as dq
from storage import queries
from storage.db import SessionFactory, make_session_factory
from storage.models import Reflection
from tests.support.migrated_engine import engine
from tests.support.submissions import loss_submission

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

TEAM, OTHER_TEAM = "T0LESSONS", "T0ELSEWHERE"
MANAGER, REP1, REP2, OTHER_MANAGER, REP3 = "U0MGR", "U0REP1", "U0REP2", "U0MGR2", "U0REP3"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def new_session(engine: Engine) -> SessionFactory:
    factory = make_session_factory(engine)
    with factory() as session:
        for team_id in (TEAM, OTHER_TEAM):
            queries.get_or_create_workspace(session=session, team_id=team_id)
            # Two teams in each workspace: MANAGER's (REP1, REP2) and OTHER_MANAGER's (REP3).
            queries.set_reports(
                session=session,
                team_id=team_id,
                manager_user_id=MANAGER,
                report_user_ids=[REP1, REP2],
            )
            queries.set_reports(
                session=session,
                team_id=team_id,
                manager_user_id=OTHER_MANAGER,
                report_user_ids=[REP3],
            )
        session.commit()
    return factory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def _uow(new_session: SessionFactory, clock: FakeClock) -> UnitOfWork:
    return UnitOfWork(new_session, clock=clock)


def _win_lesson(
    new_session: SessionFactory,
    clock: FakeClock,
    user_id: str,
    answer: str,
    *,
    deal: str = "Globex",
    team_id: str = TEAM,
    share: bool = False,
) -> int:
    """Log a win and keep its lesson (shared or not); the lesson's reflection id."""
    clock.advance(minutes=5)
    with _uow(new_session, clock) as uow:
        saved = usecases.record_win(
            uow,
            team_id=team_id,
            user_id=user_id,
            submission=WinSubmission(
                deal=deal, amount=1000.0, practices=dict.fromkeys(PRACTICES, True), luck=0
            ),
            submission_key=f"view:{clock.now.isoformat()}:{user_id}:{team_id}",
        )
        assert saved is not None
        kept = usecases.record_reflections(
            uow,
            team_id=team_id,
            user_id=user_id,
            outcome_id=saved.facts.id,
            commitment_id=None,
            submission=ReflectionSubmission(answers={WIN_LESSON_KEY: answer}, followed_up=None),
        )
    assert kept is not None and kept.lesson is not None and not kept.lesson.shared
    if share:
        with _uow(new_session, clock) as uow:
            shared = lessons.share_lesson(
                uow,
                team_id=team_id,
                user_id=user_id,
                reflection_id=kept.lesson.reflection_id,
                share=True,
            )
        assert isinstance(shared, LessonShare) and shared.shared
    return kept.lesson.reflection_id


def _loss_reflection(
    new_session: SessionFactory, clock: FakeClock, user_id: str, commitment: str
) -> int:
    clock.advance(minutes=5)
    with _uow(new_session, clock) as uow:
        saved = usecases.record_loss(
            uow,
            team_id=TEAM,
            user_id=user_id,
            submission=loss_submission("Initech", practices=dict.fromkeys(PRACTICES, False)),
            submission_key=f"view:{clock.now.isoformat()}:{user_id}",
        )
        assert saved is not None
        usecases.record_reflections(
            uow,
            team_id=TEAM,
            user_id=user_id,
            outcome_id=saved.facts.id,
            commitment_id=None,
            submission=ReflectionSubmission(answers={"commitment": commitment}, followed_up=None),
        )
    with new_session() as session:
        row = session.exec(select(Reflection).where(Reflection.answer == commitment)).one()
        assert row.id is not None
        return row.id


def _find(
    new_session: SessionFactory, user_id: str, text: str, team_id: str = TEAM
) -> LessonsResult:
    with new_session() as session:
        return lessons.find_lessons(session=session, team_id=team_id, user_id=user_id, text=text)


def _answers(lessons: list[Lesson]) -> list[str]:
    return [lesson.answer for lesson in lessons]


def test_a_win_lesson_is_linked_to_its_outcome_and_rep_and_private_until_shared(
    new_session: SessionFactory, clock: FakeClock
) -> None:
    lesson_id = _win_lesson(new_session, clock, REP1, "Asked about budget on the first call")
    with new_session() as session:
        row = session.get(Reflection, lesson_id)
        assert row is not None
        assert (row.team_id, row.user_id, row.question_key) == (TEAM, REP1, WIN_LESSON_KEY)
        assert row.question == "What worked that you would do again?"
        assert row.shared_at is None and not row.is_commitment
        outcome = dq.get_outcome(session=session, team_id=TEAM, outcome_id=row.outcome_id)
        assert outcome is not None and outcome.kind == "win" and outcome.user_id == REP1

    # Unshared: the rep and their manager read it; a teammate never does.
    assert _answers(_find(new_session, REP1, "budget").lessons) == [row.answer]
    assert _answers(_find(new_session, MANAGER, "budget").lessons) == [row.answer]
    teammate = _find(new_session, REP2, "budget")
    assert teammate.lessons == [] and teammate.shared == []
    assert _find(new_session, REP2, "").shared == []


def test_a_shared_lesson_reaches_the_reps_team_in_their_workspace_only(
    new_session: SessionFactory, clock: FakeClock
) -> None:
    _win_lesson(new_session, clock, REP1, "Mapped the buying committee early", share=True)
    _loss_reflection(new_session, clock, REP1, "Map the committee before the proposal")
    # The same people in another workspace: what is shared there stays there.
    _win_lesson(
        new_session,
        clock,
        REP1,
        "Committee lunch in the other workspace",
        team_id=OTHER_TEAM,
        share=True,
    )

    teammate = _find(new_session, REP2, "committee")
    assert _answers(teammate.shared) == ["Mapped the buying committee early"]
    assert teammate.shared[0].user_id == REP1 and teammate.shared[0].shared
    assert teammate.lessons == []  # REP1's loss reflection stays REP1's and the manager's
    # The manager reads all of REP1's lessons already: not listed twice.
    manager = _find(new_session, MANAGER, "committee")
    assert sorted(_answers(manager.lessons)) == [
        "Map the committee before the proposal",
        "Mapped the buying committee early",
    ]
    assert manager.shared == []
    # Another team (another manager) in the same workspace, and people outside any team.
    assert _find(new_session, REP3, "committee").shared == []
    assert _find(new_session, OTHER_MANAGER, "committee").shared == []
    assert _find(new_session, "U0NOBODY", "committee").shared == []
    # In the other workspace only that workspace's shared lesson.
    elsewhere = _find(new_session, REP2, "committee", team_id=OTHER_TEAM)
    assert _answers(elsewhere.shared) == ["Committee lunch in the other workspace"]


def test_shared_lessons_come_newest_first_capped_and_every_word_must_match(
    new_session: SessionFactory, clock: FakeClock
) -> None:
    for number in range(12):
        _win_lesson(new_session, clock, REP1, f"Tip {number}: a clear next step", share=True)
    _win_lesson(new_session, clock, REP1, "Tip 12: a clear next step, kept private")
    newest = _find(new_session, REP2, "")
    assert _answers(newest.shared) == [f"Tip {n}: a clear next step" for n in range(11, 1, -1)]
    assert _answers(_find(new_session, REP2, "tip 3:").shared) == ["Tip 3: a clear next step"]
    assert _find(new_session, REP2, "tip zebra").shared == []


def test_percent_and_underscore_in_the_words_are_looked_for_as_typed(
    new_session: SessionFactory, clock: FakeClock
) -> None:
    _win_lesson(new_session, clock, REP1, "Offered 10% off for a 2_year term", share=True)
    _win_lesson(new_session, clock, REP1, "Offered 100 seats for a 2-year term", share=True)
    _win_lesson(new_session, clock, REP2, "Gave 10% to the partner", deal="Hooli_2")
    # As LIKE wildcards "0%" would match "100 seats" and "2_year" "2-year".
    assert _answers(_find(new_session, REP2, "0%").shared) == ["Offered 10% off for a 2_year term"]
    assert _answers(_find(new_session, REP2, "2_y").shared) == ["Offered 10% off for a 2_year term"]
    assert _answers(_find(new_session, REP2, "%").lessons) == ["Gave 10% to the partner"]
    assert _answers(_find(new_session, REP2, "li_2").lessons) == ["Gave 10% to the partner"]
    assert _find(new_session, REP2, "_%_").shared == []


def test_only_its_rep_shares_a_win_lesson_and_a_loss_reflection_is_never_shared(
    new_session: SessionFactory, clock: FakeClock
) -> None:
    lesson_id = _win_lesson(new_session, clock, REP1, "Sent the recap within an hour")
    loss_id = _loss_reflection(new_session, clock, REP1, "Recap every call the same day")
    with _uow(new_session, clock) as uow:
        # The manager, a teammate: not theirs to share.
        for user_id in (MANAGER, REP2):
            refused = lessons.share_lesson(
                uow, team_id=TEAM, user_id=user_id, reflection_id=lesson_id, share=True
            )
            assert refused == NotYours(owner_user_id=REP1)
        # A loss's reflection, even by its rep; a lesson id from another workspace.
        assert (
            lessons.share_lesson(uow, team_id=TEAM, user_id=REP1, reflection_id=loss_id, share=True)
            is None
        )
        assert (
            lessons.share_lesson(
                uow, team_id=OTHER_TEAM, user_id=REP1, reflection_id=lesson_id, share=True
            )
            is None
        )
    assert _find(new_session, REP2, "recap").shared == []

    with _uow(new_session, clock) as uow:
        shared = lessons.share_lesson(
            uow, team_id=TEAM, user_id=REP1, reflection_id=lesson_id, share=True
        )
    assert isinstance(shared, LessonShare) and shared.shared and shared.deal == "Globex"
    assert _answers(_find(new_session, REP2, "recap").shared) == ["Sent the recap within an hour"]

    with _uow(new_session, clock) as uow:
        private = lessons.share_lesson(
            uow, team_id=TEAM, user_id=REP1, reflection_id=lesson_id, share=False
        )
    assert isinstance(private, LessonShare) and not private.shared
    assert _find(new_session, REP2, "recap").shared == []
