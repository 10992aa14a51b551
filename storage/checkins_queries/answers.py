"""A check-in's answers, and what its questions are about (the latest loss, commitment and goal)
(storage.checkins_queries)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.checkins_queries.base import _dialect_insert
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Outcome,
    Reflection,
)
from storage.reflection_queries import _answered_commitments


def answers_of(*, session: Session, checkin_id: int) -> dict[str, str]:
    statement = select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin_id)
    return {a.question_key: a.answer for a in session.exec(statement).all()}


def save_answers(
    *,
    session: Session,
    checkin: CheckIn,
    answers: dict[str, str],
    questions: dict[str, str],
    now: datetime,
) -> None:
    """Make ``answers`` the check-in's answers: upsert each given one (unique per question, so
    answering again edits, never duplicates), delete those left empty, mark it answered."""
    table = CheckInAnswer.__table__
    for key, answer in sorted(answers.items()):
        statement = _dialect_insert(session, table).values(
            team_id=checkin.team_id,
            checkin_id=checkin.id,
            question_key=key,
            question=questions.get(key, key),
            answer=answer,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.checkin_id, table.c.question_key],  # type: ignore[attr-defined]
            set_={"answer": answer, "updated_at": now},
        )
        session.execute(statement)
    session.execute(
        delete(CheckInAnswer).where(
            col(CheckInAnswer.checkin_id) == checkin.id,
            col(CheckInAnswer.question_key).not_in(sorted(answers) or [""]),
        )
    )
    session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin.id)
        .values(status="answered", answered_at=now)
        .execution_options(synchronize_session=False)
    )


# --- what the questions are about ------------------------------------------------------------


def latest_loss_since(
    *, session: Session, team_id: str, user_id: str, since: datetime
) -> Outcome | None:
    statement = (
        select(Outcome)
        .where(
            Outcome.team_id == team_id,
            Outcome.user_id == user_id,
            Outcome.kind == "loss",
            col(Outcome.occurred_at) >= since,
        )
        .order_by(col(Outcome.occurred_at).desc())
    )
    return session.exec(statement).first()


def latest_commitment(*, session: Session, team_id: str, user_id: str) -> Reflection | None:
    """The person's newest answered "one thing I will do differently" from a debrief."""
    return session.exec(_answered_commitments(team_id, user_id)).first()


def current_goal(*, session: Session, team_id: str, user_id: str, today: date) -> Goal | None:
    statement = (
        select(Goal)
        .where(
            Goal.team_id == team_id,
            Goal.user_id == user_id,
            col(Goal.cycle_start) <= today,
            col(Goal.cycle_end) >= today,
        )
        .order_by(col(Goal.created_at).desc())
    )
    return session.exec(statement).first()
