"""Queries behind a debrief's reflections: the answers, the commitment and its follow-up (in
a check-in or the next debrief), and the reminder.

Keyword-only ``session=``, no commit inside. Re-exported by storage.debriefs_queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import (
    CheckIn,
    CheckInAnswer,
    Outcome,
    Reflection,
    Workspace,
)
from storage.queries import _insert_if_absent

# The check-in question "Did you do it?" about a debrief's commitment: its key, and the ref
# naming the reflection it asks about (bot.usecases.checkins.COMMITMENT_KEY and its
# ``ref=f"reflection:{id}"``; storage does not import the bot, a test keeps them equal).
CHECKIN_COMMITMENT_KEY = "commitment"


CHECKIN_REFLECTION_REF = "reflection:"


def reflections_of(*, session: Session, outcome_id: int) -> list[Reflection]:
    statement = (
        select(Reflection).where(Reflection.outcome_id == outcome_id).order_by(col(Reflection.id))
    )
    return list(session.exec(statement).all())


def insert_reflection(
    *,
    session: Session,
    outcome: Outcome,
    question_key: str,
    question: str,
    answer: str,
    is_commitment: bool,
    now: datetime,
) -> bool:
    """Keep one answer per (outcome, question); False when that question was answered before."""
    return _insert_if_absent(
        session,
        Reflection.__table__,  # type: ignore[arg-type]
        {
            "team_id": outcome.team_id,
            "user_id": outcome.user_id,
            "outcome_id": outcome.id,
            "question_key": question_key,
            "question": question,
            "answer": answer,
            "is_commitment": is_commitment,
            "answered_at": now,
            "created_at": now,
        },
        ["outcome_id", "question_key"],
    )


def mark_reflections_answered(*, session: Session, outcome_id: int, now: datetime) -> bool:
    """True the first time; a second submission of the reflections changes nothing."""
    result = session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.reflection_answered_at).is_(None))
        .values(reflection_answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _answered_commitments(team_id: str, user_id: str) -> SelectOfScalar[Reflection]:
    """The person's answered "one thing I will do differently" reflections, newest first (the
    statement, for the debrief, the check-in and the agenda to narrow)."""
    return (
        select(Reflection)
        .where(
            Reflection.team_id == team_id,
            Reflection.user_id == user_id,
            col(Reflection.is_commitment).is_(True),
            col(Reflection.answer).is_not(None),
        )
        .order_by(col(Reflection.created_at).desc(), col(Reflection.id).desc())
    )


def open_commitment(
    *, session: Session, team_id: str, user_id: str, before_outcome_id: int | None = None
) -> Reflection | None:
    """The rep's newest answered commitment that nobody has asked about yet: neither a debrief
    (``commitment_followed_up``) nor a check-in the rep answered."""
    statement = _answered_commitments(team_id, user_id).where(
        col(Reflection.commitment_followed_up).is_(None)
    )
    if before_outcome_id is not None:
        statement = statement.where(col(Reflection.outcome_id) < before_outcome_id)
    answered = commitments_answered_in_checkins(session=session, team_id=team_id, user_id=user_id)
    for reflection in session.exec(statement.limit(len(answered) + 1)).all():
        if reflection.id not in answered:
            return reflection
    return None


def commitments_answered_in_checkins(*, session: Session, team_id: str, user_id: str) -> set[int]:
    """Ids of the rep's commitments a check-in asked "did you do it?" about and got an answer
    to. The check-in keeps which commitment it asked about in its questions (``ref``)."""
    statement = (
        select(CheckIn.questions, CheckInAnswer.answer)
        .join(CheckInAnswer, col(CheckInAnswer.checkin_id) == col(CheckIn.id))
        .where(
            CheckIn.team_id == team_id,
            CheckIn.user_id == user_id,
            CheckInAnswer.question_key == CHECKIN_COMMITMENT_KEY,
        )
    )
    answered: set[int] = set()
    for questions, answer in session.exec(statement).all():
        if not (answer or "").strip():
            continue
        for question in questions or []:
            ref = str(question.get("ref") or "")
            if question.get("key") == CHECKIN_COMMITMENT_KEY and ref.startswith(
                CHECKIN_REFLECTION_REF
            ):
                reflection_id = ref.removeprefix(CHECKIN_REFLECTION_REF)
                if reflection_id.isdigit():
                    answered.add(int(reflection_id))
    return answered


def record_commitment_follow_up(
    *, session: Session, team_id: str, user_id: str, reflection_id: int, followed: bool
) -> bool:
    """Whether the rep did what they committed to; the first answer wins."""
    result = session.execute(
        update(Reflection)
        .where(
            col(Reflection.id) == reflection_id,
            col(Reflection.team_id) == team_id,
            col(Reflection.user_id) == user_id,
            col(Reflection.is_commitment).is_(True),
            col(Reflection.commitment_followed_up).is_(None),
        )
        .values(commitment_followed_up=followed)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def reflection_reminders_due(*, session: Session, now: datetime, limit: int = 200) -> list[Outcome]:
    """Debriefs whose questions (a loss's, or a win's one lesson question) went out at least the
    workspace's ``reflection_reminder_hours`` ago and are neither answered nor reminded yet (a
    win's "Not now" counts as reminded). One range read of ix_outcomes_reflection_due: answered
    and settled debriefs are outside it, so their number costs a tick nothing."""
    statement = (
        select(Outcome, Workspace.reflection_reminder_hours)
        .join(Workspace, col(Workspace.team_id) == col(Outcome.team_id))
        .where(
            col(Outcome.reflection_answered_at).is_(None),
            col(Outcome.reflection_reminded_at).is_(None),
            col(Outcome.reflection_requested_at).is_not(None),
            # Cheap bound first; each workspace's own hours are applied below.
            col(Outcome.reflection_requested_at) <= now - timedelta(hours=1),
        )
        .order_by(col(Outcome.reflection_requested_at))
        .limit(limit)
    )
    due: list[Outcome] = []
    for outcome, hours in session.exec(statement).all():
        requested = outcome.reflection_requested_at
        if requested is not None and requested + timedelta(hours=max(hours, 1)) <= now:
            due.append(outcome)
    return due


def mark_reflection_reminded(*, session: Session, outcome_id: int, now: datetime) -> None:
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.reflection_reminded_at).is_(None))
        .values(reflection_reminded_at=now)
        .execution_options(synchronize_session=False)
    )
