"""Queries behind the lessons search (the rep's own and those their team shared).

Keyword-only ``session=``, no commit inside. Re-exported by storage.debriefs_queries.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, case, literal, update
from sqlalchemy import func as sql_func
from sqlmodel import Session, col, select

from storage.models import (
    Outcome,
    Reflection,
)

# A lessons search looks at this many words at most; more add noise, not precision.
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class LessonHit:
    reflection: Reflection
    outcome: Outcome
    score: int


def search_words(text: str) -> list[str]:
    """The distinct lower-cased words of a search, at most MAX_SEARCH_WORDS of them."""
    words = [word.strip().lower()[:50] for word in text.split()]
    return list(dict.fromkeys(word for word in words if word))[:MAX_SEARCH_WORDS]


def _lesson_haystack() -> ColumnElement[str]:
    """What a lessons search reads: the answer and the deal's name, lower-cased."""
    text_searched = (
        sql_func.coalesce(col(Reflection.answer), "", type_=String)
        + " "
        + sql_func.coalesce(col(Outcome.deal), "", type_=String)
    )
    return sql_func.lower(text_searched, type_=String)


def _word_matches(words: Sequence[str]) -> list[ColumnElement[int]]:
    # autoescape: a % or _ the person typed is looked for as itself, not as a LIKE wildcard.
    haystack = _lesson_haystack()
    return [case((haystack.contains(word, autoescape=True), 1), else_=0) for word in words]


def _answered_lessons(team_id: str, user_ids: Collection[str]) -> Any:
    return (
        select(Reflection, Outcome)
        .join(Outcome, col(Outcome.id) == col(Reflection.outcome_id))
        .where(
            Reflection.team_id == team_id,
            Outcome.team_id == team_id,
            col(Reflection.user_id).in_(sorted(user_ids)),
            col(Reflection.answer).is_not(None),
            col(Reflection.answer) != "",
        )
    )


def search_lessons(
    *,
    session: Session,
    team_id: str,
    user_ids: Collection[str],
    words: Sequence[str],
    limit: int = 10,
) -> list[LessonHit]:
    """Answered reflections of ``user_ids``: the ones matching most of ``words`` (in the answer or
    the deal's name) first, newest first among equals. No words: the newest.

    Plain ``LIKE`` over ``lower()`` so it runs the same on SQLite and PostgreSQL."""
    if not user_ids:
        return []
    matches = _word_matches(words)
    score: ColumnElement[int] = (
        functools.reduce(operator.add, matches) if matches else literal(0, Integer)
    )
    scored = score.label("score")
    statement = _answered_lessons(team_id, user_ids).add_columns(scored)
    if matches:
        statement = statement.where(score > 0)
    statement = statement.order_by(
        scored.desc(), col(Reflection.answered_at).desc(), col(Reflection.id).desc()
    ).limit(limit)
    return [
        LessonHit(reflection=reflection, outcome=outcome, score=int(hit_score or 0))
        for reflection, outcome, hit_score in session.exec(statement).all()
    ]


def search_shared_lessons(
    *,
    session: Session,
    team_id: str,
    user_ids: Collection[str],
    words: Sequence[str],
    limit: int = 10,
) -> list[LessonHit]:
    """The lessons ``user_ids`` shared with their team that hold every one of ``words`` (in the
    answer or the deal's name), newest first; no words: the newest. Only in ``team_id``."""
    if not user_ids:
        return []
    statement = _answered_lessons(team_id, user_ids).where(
        col(Reflection.shared_at).is_not(None), *(match == 1 for match in _word_matches(words))
    )
    statement = statement.order_by(
        col(Reflection.answered_at).desc(), col(Reflection.id).desc()
    ).limit(limit)
    return [
        LessonHit(reflection=reflection, outcome=outcome, score=len(words))
        for reflection, outcome in session.exec(statement).all()
    ]


def get_reflection(*, session: Session, team_id: str, reflection_id: int) -> Reflection | None:
    statement = select(Reflection).where(
        Reflection.id == reflection_id, Reflection.team_id == team_id
    )
    return session.exec(statement).first()


def set_lesson_shared(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    reflection_id: int,
    question_key: str,
    shared_at: datetime | None,
) -> bool:
    """Share (``shared_at``) or make private again (None) one of the rep's own answered lessons
    to ``question_key``. A second "share" keeps the first time; False when nothing changed."""
    statement = update(Reflection).where(
        col(Reflection.id) == reflection_id,
        col(Reflection.team_id) == team_id,
        col(Reflection.user_id) == user_id,
        col(Reflection.question_key) == question_key,
        col(Reflection.answer).is_not(None),
    )
    if shared_at is not None:
        statement = statement.where(col(Reflection.shared_at).is_(None))
    else:
        statement = statement.where(col(Reflection.shared_at).is_not(None))
    result = session.execute(
        statement.values(shared_at=shared_at).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
