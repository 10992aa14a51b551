"""Queries behind saved wins and losses: inserting and reading outcomes, the rep's DM and the
manager's note (sent, calibrated), and the debriefs saved before the outbox.

Keyword-only ``session=``, no commit inside: the caller owns the transaction. Re-exported by
storage.debriefs_queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, literal, or_, update
from sqlalchemy import func as sql_func
from sqlmodel import Session, col, select

from storage.models import (
    OutboxMessage,
    Outcome,
    utcnow,
)
from storage.queries import _insert_if_absent


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
