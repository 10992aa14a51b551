"""Queries behind loss debriefs, wins, reflections and the lessons search.

Keyword-only ``session=``, no commit inside: the caller owns the transaction. Writes that a
Slack retry or a double click may repeat are compare-and-set (``... WHERE x IS NULL``) or
``INSERT ... ON CONFLICT DO NOTHING``, so repeating them changes nothing.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, case, literal, or_, update
from sqlalchemy import func as sql_func
from sqlmodel import Session, col, select

from storage.models import (
    CheckIn,
    CheckInAnswer,
    OutboxMessage,
    Outcome,
    Reflection,
    Workspace,
    utcnow,
)
from storage.queries import _insert_if_absent

# A lessons search looks at this many words at most; more add noise, not precision.
MAX_SEARCH_WORDS = 8
# A shout-out that failed in the recognition channel (the bot isn't in it, ...) is tried there
# again after this long, in case someone invited the bot; another channel is tried at once.
FAILED_CHANNEL_RETRY = timedelta(hours=6)
# The check-in question "Did you do it?" about a debrief's commitment: its key, and the ref
# naming the reflection it asks about (bot.usecases.checkins.COMMITMENT_KEY and its
# ``ref=f"reflection:{id}"``; storage does not import the bot, a test keeps them equal).
CHECKIN_COMMITMENT_KEY = "commitment"
CHECKIN_REFLECTION_REF = "reflection:"


# --- outcomes ----------------------------------------------------------------------------------


def insert_outcome(*, session: Session, values: Mapping[str, Any]) -> Outcome | None:
    """Save a win or loss once per ``(team_id, submission_key)``; None when it already exists."""
    row = {"created_at": utcnow(), **values}
    inserted = _insert_if_absent(
        session,
        Outcome.__table__,  # type: ignore[arg-type]
        row,
        ["team_id", "submission_key"],
    )
    if not inserted:
        return None
    statement = select(Outcome).where(
        Outcome.team_id == row["team_id"], Outcome.submission_key == row["submission_key"]
    )
    return session.exec(statement).one()


def counted_classification() -> Any:
    """An outcome's classification as Rebound counts it: the manager's calibrated one where it
    exists, else the rep's own (as storage.goals_queries counts reviews and Home)."""
    return sql_func.coalesce(col(Outcome.calibrated_classification), col(Outcome.classification))


def get_outcome(*, session: Session, team_id: str, outcome_id: int) -> Outcome | None:
    outcome = session.get(Outcome, outcome_id)
    if outcome is None or outcome.team_id != team_id:
        return None
    return outcome


def outcomes_of(*, session: Session, team_id: str, user_id: str) -> list[Outcome]:
    """Every win and loss of one rep, oldest first."""
    statement = (
        select(Outcome)
        .where(Outcome.team_id == team_id, Outcome.user_id == user_id)
        .order_by(col(Outcome.occurred_at), col(Outcome.id))
    )
    return list(session.exec(statement).all())


def record_celebration_consent(
    *, session: Session, team_id: str, outcome_id: int, user_id: str, consent: bool
) -> bool:
    """The rep's first answer to "celebrate this perfect miss?" (or "share this bounce-back?",
    only when they were asked) wins; True if this one did."""
    result = session.execute(
        update(Outcome)
        .where(
            col(Outcome.id) == outcome_id,
            col(Outcome.team_id) == team_id,
            col(Outcome.user_id) == user_id,
            or_(
                # A perfect miss as counted now: a loss the manager calibrated out of it can
                # no longer be agreed to (checked in the write, so a click racing the
                # calibration loses), one calibrated into it can.
                counted_classification() == "perfect-miss",
                col(Outcome.bounce_back_offered_at).is_not(None),
            ),
            col(Outcome.celebrate_consent).is_(None),
        )
        .values(celebrate_consent=consent)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_bounce_back_agreed(*, session: Session, outcome_id: int, now: datetime) -> None:
    """The rep agreed to share their bounce-back: its shout-out is pending until posted."""
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.bounce_back_pending_since).is_(None))
        .values(bounce_back_pending_since=now)
        .execution_options(synchronize_session=False)
    )


def take_back_shout_out(
    *, session: Session, team_id: str, outcome_id: int, user_id: str, now: datetime
) -> bool:
    """The rep takes back the shout-out they agreed to; True the first time (a second click, or
    two at once, finds it taken back already). Nothing of theirs is pending any more."""
    result = session.execute(
        update(Outcome)
        .where(
            col(Outcome.id) == outcome_id,
            col(Outcome.team_id) == team_id,
            col(Outcome.user_id) == user_id,
            col(Outcome.celebrate_consent).is_(True),
            col(Outcome.shout_out_taken_back_at).is_(None),
        )
        .values(shout_out_taken_back_at=now, bounce_back_pending_since=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_celebration_posted(*, session: Session, outcome_id: int, now: datetime) -> None:
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.celebration_posted_at).is_(None))
        .values(celebration_posted_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_celebration_failed(
    *, session: Session, outcome_id: int, channel_id: str, now: datetime
) -> None:
    """The shout-out can't be posted in ``channel_id`` (the bot isn't in it, it's gone): not
    tried there again for FAILED_CHANNEL_RETRY; a different recognition channel at once."""
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.celebration_posted_at).is_(None))
        .values(celebration_failed_channel_id=channel_id, celebration_failed_at=now)
        .execution_options(synchronize_session=False)
    )


# --- messages still to send (the first try failed) -----------------------------------------------


def finish_rep_dm(*, session: Session, outcome_id: int, questions_sent_at: datetime | None) -> None:
    """The rep's DM is done with. ``questions_sent_at``: it carried the reflection questions
    (a loss), so the reminder counts from then; None when it was given up on."""
    values: dict[str, Any] = {"rep_dm_pending_since": None}
    if questions_sent_at is not None:
        values["reflection_requested_at"] = sql_func.coalesce(
            col(Outcome.reflection_requested_at), questions_sent_at
        )
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def finish_manager_note(*, session: Session, outcome_id: int) -> None:
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id)
        .values(manager_note_pending_since=None)
        .execution_options(synchronize_session=False)
    )


def record_calibration(
    *, session: Session, team_id: str, outcome_id: int, values: Mapping[str, Any]
) -> bool:
    """Set a manager's calibration (the ``calibrated_*`` and ``calibration_*`` columns) on an
    outcome not calibrated yet; False when it already was (by this request's twin, a double
    click, another process): compare-and-set, so one calibration stands, whoever came first."""
    allowed = {
        "calibrated_by",
        "calibrated_at",
        "calibration_agrees",
        "calibrated_practices",
        "calibrated_process_score",
        "calibrated_classification",
        "calibration_note",
    }
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not calibration columns: {sorted(unknown)}")
    result = session.execute(
        update(Outcome)
        .where(
            col(Outcome.id) == outcome_id,
            Outcome.team_id == team_id,
            col(Outcome.calibrated_at).is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def sent_manager_note(*, session: Session, team_id: str, outcome_id: int) -> tuple[str, str] | None:
    """(channel, ts) of the manager's note about an outcome as the outbox sent it, to update it
    in place; None while it isn't in Slack (or never will be)."""
    row = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.post_key == f"debrief:{outcome_id}:manager",
        )
    ).first()
    if row is None or row.state != "sent" or not row.sent_channel or not row.sent_ts:
        return None
    return row.sent_channel, row.sent_ts


def sent_post_locked(*, session: Session, team_id: str, post_key: str) -> tuple[str, str] | None:
    """(channel, ts) of a message the outbox sent, to update it in place; None while it isn't
    in Slack (or never will be). The row is locked first (PostgreSQL: FOR UPDATE), so a
    dispatcher recording it as sent right now is waited for: either this sees it sent, or the
    dispatcher's hook, running after, sees what this transaction wrote."""
    row = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.team_id == team_id, OutboxMessage.post_key == post_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None or row.state != "sent" or not row.sent_channel or not row.sent_ts:
        return None
    return row.sent_channel, row.sent_ts


def mark_bounce_back_posted(*, session: Session, outcome_id: int) -> None:
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id)
        .values(
            bounce_back_pending_since=None,
            bounce_back_failed_channel_id=None,
            bounce_back_failed_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def mark_bounce_back_failed(
    *, session: Session, outcome_id: int, channel_id: str, now: datetime
) -> None:
    """Like mark_celebration_failed, for the bounce-back shout-out."""
    session.execute(
        update(Outcome)
        .where(col(Outcome.id) == outcome_id, col(Outcome.bounce_back_pending_since).is_not(None))
        .values(bounce_back_failed_channel_id=channel_id, bounce_back_failed_at=now)
        .execution_options(synchronize_session=False)
    )


# --- reflections -------------------------------------------------------------------------------


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


def open_commitment(
    *, session: Session, team_id: str, user_id: str, before_outcome_id: int | None = None
) -> Reflection | None:
    """The rep's newest answered commitment that nobody has asked about yet: neither a debrief
    (``commitment_followed_up``) nor a check-in the rep answered."""
    statement = select(Reflection).where(
        Reflection.team_id == team_id,
        Reflection.user_id == user_id,
        col(Reflection.is_commitment).is_(True),
        col(Reflection.answer).is_not(None),
        col(Reflection.commitment_followed_up).is_(None),
    )
    if before_outcome_id is not None:
        statement = statement.where(col(Reflection.outcome_id) < before_outcome_id)
    statement = statement.order_by(col(Reflection.created_at).desc(), col(Reflection.id).desc())
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


# --- lessons search ----------------------------------------------------------------------------


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


# --- debriefs saved before the outbox (bot.usecases.debrief_adoption) ----------------------------


def outcomes_pending_without_outbox_rows(
    *, session: Session, limit: int, after_id: int = 0
) -> list[Outcome]:
    """Outcomes with a message still pending (``*_pending_since``) and no outbox row for it:
    saved before the outbox existed (the old retry jobs sent them), so nothing would send them
    now. Each outbox row is looked up by its unique key ("debrief:<id>:<what>")."""

    def queued(what: str, *, live_only: bool = False) -> Any:
        key = literal("debrief:") + sql_func.cast(Outcome.id, String) + literal(f":{what}")
        row = select(OutboxMessage.id).where(
            OutboxMessage.team_id == Outcome.team_id, OutboxMessage.post_key == key
        )
        if live_only:
            row = row.where(OutboxMessage.state != "failed")
        return row.exists()

    statement = (
        select(Outcome)
        .where(
            or_(
                # A win's DM waits for its queued bounce-back (whose hooks queue it), unless
                # that is never going out (one queued before reps were asked:
                # 0017_shout_out_consent).
                col(Outcome.rep_dm_pending_since).is_not(None)
                & ~queued("rep")
                & ~queued("bounce-back", live_only=True),
                col(Outcome.manager_note_pending_since).is_not(None) & ~queued("manager"),
                col(Outcome.bounce_back_pending_since).is_not(None) & ~queued("bounce-back"),
            )
        )
        .where(col(Outcome.id) > after_id)
        .order_by(col(Outcome.id))
        .limit(limit)
    )
    return list(session.exec(statement).all())
