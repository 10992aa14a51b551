"""Data rights: read one person's (or one workspace's) rows, delete one person's rows, and
delete reflections past a workspace's retention.

Every query is scoped by ``team_id``; nothing here commits (the caller owns the transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, String, cast, delete, or_, update
from sqlalchemy.sql.dml import Delete
from sqlmodel import Session, SQLModel, col, select

from storage.models import (
    CheckIn,
    CheckInAnswer,
    CrmDeal,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    OneOnOneItem,
    OutboxMessage,
    Outcome,
    Reflection,
    Workspace,
)

# The tables an export covers, in the order files and JSON keys appear.
EXPORT_TABLES: tuple[str, ...] = (
    "members",
    "outcomes",
    "reflections",
    "kudos",
    "kudos_recipients",
    "checkins",
    "checkin_answers",
    "goals",
    "one_on_one_items",
)


def personal_rows(*, session: Session, team_id: str, user_id: str) -> dict[str, list[SQLModel]]:
    """Everything stored about one person, table by table (EXPORT_TABLES order).

    Kudos are the ones they gave and the ones they received; recipient rows are those of the
    kudos they gave (who they recognised) and their own.
    """
    kudos_given_ids = select(Kudos.id).where(
        Kudos.team_id == team_id, Kudos.giver_user_id == user_id
    )
    kudos_received_ids = select(KudosRecipient.kudos_id).where(
        KudosRecipient.team_id == team_id, KudosRecipient.user_id == user_id
    )
    checkin_ids = select(CheckIn.id).where(CheckIn.team_id == team_id, CheckIn.user_id == user_id)
    statements: dict[str, Any] = {
        "members": select(Member).where(Member.team_id == team_id, Member.user_id == user_id),
        "outcomes": select(Outcome)
        .where(Outcome.team_id == team_id, Outcome.user_id == user_id)
        .order_by(col(Outcome.occurred_at), col(Outcome.id)),
        "reflections": select(Reflection)
        .where(Reflection.team_id == team_id, Reflection.user_id == user_id)
        .order_by(col(Reflection.created_at), col(Reflection.id)),
        "kudos": select(Kudos)
        .where(
            Kudos.team_id == team_id,
            or_(col(Kudos.id).in_(kudos_given_ids), col(Kudos.id).in_(kudos_received_ids)),
        )
        .order_by(col(Kudos.created_at), col(Kudos.id)),
        "kudos_recipients": select(KudosRecipient)
        .where(
            KudosRecipient.team_id == team_id,
            or_(
                col(KudosRecipient.kudos_id).in_(kudos_given_ids),
                KudosRecipient.user_id == user_id,
            ),
        )
        .order_by(col(KudosRecipient.id)),
        "checkins": select(CheckIn)
        .where(CheckIn.team_id == team_id, CheckIn.user_id == user_id)
        .order_by(col(CheckIn.due_at), col(CheckIn.id)),
        "checkin_answers": select(CheckInAnswer)
        .where(CheckInAnswer.team_id == team_id, col(CheckInAnswer.checkin_id).in_(checkin_ids))
        .order_by(col(CheckInAnswer.checkin_id), col(CheckInAnswer.id)),
        "goals": select(Goal)
        .where(Goal.team_id == team_id, Goal.user_id == user_id)
        .order_by(col(Goal.cycle_start), col(Goal.id)),
        # The rep's check-in answers their manager put on their one-on-one agenda, with the
        # reply. A manager's export holds nothing of their reps' (their answers are the rep's).
        "one_on_one_items": select(OneOnOneItem)
        .where(OneOnOneItem.team_id == team_id, OneOnOneItem.rep_user_id == user_id)
        .order_by(col(OneOnOneItem.created_at), col(OneOnOneItem.id)),
    }
    return {name: list(session.exec(statements[name]).all()) for name in EXPORT_TABLES}


def workspace_rows(
    *, session: Session, team_id: str, tables: tuple[str, ...] = EXPORT_TABLES
) -> dict[str, list[SQLModel]]:
    """Every row of the workspace in ``tables`` (names from EXPORT_TABLES), by id."""
    models: dict[str, Any] = {
        "members": Member,
        "outcomes": Outcome,
        "reflections": Reflection,
        "kudos": Kudos,
        "kudos_recipients": KudosRecipient,
        "checkins": CheckIn,
        "checkin_answers": CheckInAnswer,
        "goals": Goal,
        "one_on_one_items": OneOnOneItem,
    }
    rows: dict[str, list[SQLModel]] = {}
    for name in tables:
        model = models[name]
        statement = select(model).where(model.team_id == team_id).order_by(col(model.id))
        rows[name] = list(session.exec(statement).all())
    return rows


def private_text_counts(*, session: Session, team_id: str) -> list[dict[str, Any]]:
    """Per member of the workspace (by user id), how many reflections they answered, how many
    of those were commitments and how many they said they kept, how many check-ins they
    answered and how many answers those hold: numbers only, never the words."""
    counts: dict[str, dict[str, Any]] = {}

    def row(user_id: str) -> dict[str, Any]:
        return counts.setdefault(
            user_id,
            {
                "team_id": team_id,
                "user_id": user_id,
                "reflections_answered": 0,
                "commitments": 0,
                "commitments_kept": 0,
                "checkins_answered": 0,
                "checkin_answers": 0,
            },
        )

    reflections = select(
        Reflection.user_id, Reflection.is_commitment, Reflection.commitment_followed_up
    ).where(Reflection.team_id == team_id, col(Reflection.answer).is_not(None))
    for user_id, is_commitment, kept in session.exec(reflections).all():
        counts_of = row(user_id)
        counts_of["reflections_answered"] += 1
        counts_of["commitments"] += int(bool(is_commitment))
        counts_of["commitments_kept"] += int(bool(is_commitment) and kept is True)
    answered = select(CheckIn.user_id).where(
        CheckIn.team_id == team_id, CheckIn.status == "answered"
    )
    for user_id in session.exec(answered).all():
        row(user_id)["checkins_answered"] += 1
    answers = (
        select(CheckIn.user_id)
        .join(CheckInAnswer, col(CheckInAnswer.checkin_id) == col(CheckIn.id))
        .where(CheckIn.team_id == team_id, CheckInAnswer.team_id == team_id)
    )
    for user_id in session.exec(answers).all():
        row(user_id)["checkin_answers"] += 1
    return [counts[user_id] for user_id in sorted(counts)]


def _deleted(session: Session, statement: Delete) -> int:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount


def delete_personal_rows(*, session: Session, team_id: str, user_id: str) -> dict[str, int]:
    """Delete one person's rows and say how many went, per kind. Other people's rows stay:
    on someone else's kudos only this person's recipient row goes.

    The member row goes first on purpose: on PostgreSQL a second, concurrent call (a double
    click) waits on that row's lock until the first commits, then finds nothing left to delete.
    Children are deleted explicitly because SQLite does not enforce ON DELETE CASCADE here.
    """
    counts: dict[str, int] = {}
    counts["profile"] = _deleted(
        session, delete(Member).where(Member.team_id == team_id, Member.user_id == user_id)
    )
    counts["reflections"] = _deleted(
        session,
        delete(Reflection).where(
            Reflection.team_id == team_id,
            or_(
                Reflection.user_id == user_id,
                col(Reflection.outcome_id).in_(
                    select(Outcome.id).where(Outcome.team_id == team_id, Outcome.user_id == user_id)
                ),
            ),
        ),
    )
    counts["outcomes"] = _deleted(
        session, delete(Outcome).where(Outcome.team_id == team_id, Outcome.user_id == user_id)
    )
    # A manager's calibrations of their reps' deals stay the reps' (their record and the
    # coaching they read), without naming the manager who gave them.
    session.execute(
        update(Outcome)
        .where(Outcome.team_id == team_id, Outcome.calibrated_by == user_id)
        .values(calibrated_by=None)
        .execution_options(synchronize_session=False)
    )
    checkin_ids = select(CheckIn.id).where(CheckIn.team_id == team_id, CheckIn.user_id == user_id)
    # An agenda item holds both people's words (the rep's answer, the manager's reply): it goes
    # when either is forgotten.
    counts["one-on-one agenda items"] = _deleted(
        session,
        delete(OneOnOneItem).where(
            OneOnOneItem.team_id == team_id,
            or_(
                OneOnOneItem.rep_user_id == user_id,
                OneOnOneItem.manager_user_id == user_id,
                col(OneOnOneItem.checkin_id).in_(checkin_ids),
            ),
        ),
    )
    counts["check-in answers"] = _deleted(
        session,
        delete(CheckInAnswer).where(
            CheckInAnswer.team_id == team_id, col(CheckInAnswer.checkin_id).in_(checkin_ids)
        ),
    )
    counts["check-ins"] = _deleted(
        session, delete(CheckIn).where(CheckIn.team_id == team_id, CheckIn.user_id == user_id)
    )
    counts["goals"] = _deleted(
        session, delete(Goal).where(Goal.team_id == team_id, Goal.user_id == user_id)
    )
    given_ids = select(Kudos.id).where(Kudos.team_id == team_id, Kudos.giver_user_id == user_id)
    # Recipients of the kudos this person gave go with those kudos (they are part of them).
    _deleted(
        session,
        delete(KudosRecipient).where(
            KudosRecipient.team_id == team_id, col(KudosRecipient.kudos_id).in_(given_ids)
        ),
    )
    counts["kudos given"] = _deleted(
        session, delete(Kudos).where(Kudos.team_id == team_id, Kudos.giver_user_id == user_id)
    )
    counts["kudos received"] = _deleted(
        session,
        delete(KudosRecipient).where(
            KudosRecipient.team_id == team_id, KudosRecipient.user_id == user_id
        ),
    )
    # The CRM's closed deals offered to this person (their email, their Slack id) go too.
    _deleted(
        session,
        delete(CrmDeal).where(CrmDeal.team_id == team_id, CrmDeal.slack_user_id == user_id),
    )
    forget_outbox_rows(session=session, team_id=team_id, user_id=user_id)
    return counts


# Outbox states whose message is done with: sent, or given up on.
_FINAL_OUTBOX_STATES = ("sent", "failed")


def forget_outbox_rows(*, session: Session, team_id: str, user_id: str) -> int:
    """The outbox rows that would carry this person's data to Slack, or keep a copy of it:
    those sent to them and those that name them (a manager's note, a shout-out: their id in
    the payload, as a JSON string or a mention). Rows not yet sent are deleted, so nothing
    about them goes out after they asked to be forgotten; sent and given-up rows stay (their
    post key is what stops a second send) but lose their payload. Returns the rows touched."""
    text = cast(OutboxMessage.payload, String)  # type: ignore[arg-type]
    about_them = (
        OutboxMessage.team_id == team_id,
        or_(
            (col(OutboxMessage.target_kind) == "user") & (col(OutboxMessage.target_id) == user_id),
            text.contains(f'"{user_id}"'),
            text.contains(f"<@{user_id}>"),
            text.contains(f"<@{user_id}|"),
        ),
    )
    unsent = _deleted(
        session,
        delete(OutboxMessage).where(
            *about_them, col(OutboxMessage.state).not_in(_FINAL_OUTBOX_STATES)
        ),
    )
    blanked = session.execute(
        update(OutboxMessage)
        .where(*about_them, col(OutboxMessage.state).in_(_FINAL_OUTBOX_STATES))
        .values(payload={})
        .execution_options(synchronize_session=False)
    )
    return unsent + int(blanked.rowcount or 0)


def delete_old_outbox_rows(*, session: Session, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` sent or given-up outbox rows last scheduled before `before` (through
    ix_outbox_state_not_before: a range read). The message is in Slack, or never will be; its
    copy in the outbox would only keep personal data and grow the dispatcher's table. Callers
    enqueue a post key in the same transaction as the fact that causes it, so an old key is
    never enqueued again once its row is gone."""
    ids = session.exec(
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.state).in_(_FINAL_OUTBOX_STATES),
            col(OutboxMessage.not_before) < before,
        )
        .limit(limit)
    ).all()
    if not ids:
        return 0
    return _deleted(session, delete(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))


def retention_periods(*, session: Session) -> list[int]:
    """The distinct retention periods (days) in use across workspaces: a handful of values."""
    statement = (
        select(Workspace.reflection_retention_days)
        .where(col(Workspace.reflection_retention_days).is_not(None))
        .distinct()
    )
    return sorted(int(days) for days in session.exec(statement).all() if days)


def delete_expired_reflections(*, session: Session, days: int, now: datetime) -> dict[str, int]:
    """Delete, in every workspace keeping reflections ``days`` days, those created before
    then; deleted counts by team id. The old reflections are found first through
    ``ix_reflections_created`` (a range read), then only those in such workspaces go: a
    workspace with nothing that old costs nothing."""
    table = Reflection.__table__
    old = session.execute(
        select(table.c.id, table.c.team_id).where(  # type: ignore[attr-defined]
            table.c.created_at < now - timedelta(days=days)  # type: ignore[attr-defined]
        )
    ).all()
    teams = sorted({team_id for _, team_id in old})
    if not teams:
        return {}
    keeping = set(
        session.exec(
            select(Workspace.team_id).where(
                col(Workspace.team_id).in_(teams),
                col(Workspace.reflection_retention_days) == days,
            )
        ).all()
    )
    counts: dict[str, int] = {}
    ids = [row_id for row_id, team_id in old if team_id in keeping]
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        session.execute(delete(table).where(table.c.id.in_(batch)))  # type: ignore[attr-defined]
    for _, team_id in old:
        if team_id in keeping:
            counts[team_id] = counts.get(team_id, 0) + 1
    return counts
