"""Query functions for kudos and the weekly recognition digest.

Like ``storage.queries``: keyword-only ``session=``, never a commit (the caller owns the
transaction).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import String, bindparam, cast, literal, or_, update
from sqlmodel import Session, col, func, select

from storage.models import Kudos, KudosRecipient, Member, OutboxMessage, Outcome, Workspace
from storage.queries import _insert_if_absent


def lock_member(*, session: Session, team_id: str, user_id: str) -> None:
    """Hold the member's row until the transaction ends (PostgreSQL ``FOR UPDATE``), so two
    kudos from one giver at the same moment count the daily cap one after the other. SQLite
    ignores the lock; its single writer already serialises the two transactions' writes."""
    statement = (
        select(Member.id)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .with_for_update()
    )
    session.exec(statement).first()


def count_kudos_given_since(
    *, session: Session, team_id: str, giver_user_id: str, since: datetime
) -> int:
    statement = select(func.count(col(Kudos.id))).where(
        Kudos.team_id == team_id,
        Kudos.giver_user_id == giver_user_id,
        col(Kudos.created_at) >= since,
    )
    return int(session.exec(statement).one())


def get_kudos_by_submission(*, session: Session, team_id: str, submission_key: str) -> Kudos | None:
    statement = select(Kudos).where(
        Kudos.team_id == team_id, Kudos.submission_key == submission_key
    )
    return session.exec(statement).first()


def add_kudos(
    *,
    session: Session,
    team_id: str,
    giver_user_id: str,
    recipient_user_ids: Sequence[str],
    category: str,
    message: str,
    submission_key: str,
    now: datetime,
) -> Kudos | None:
    """Insert a pending kudos and its recipients; None when this submission was saved before."""
    inserted = _insert_if_absent(
        session,
        Kudos.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "giver_user_id": giver_user_id,
            "category": category,
            "message": message,
            "status": "pending",
            "submission_key": submission_key,
            "created_at": now,
        },
        ["team_id", "submission_key"],
    )
    if not inserted:
        return None
    kudos = get_kudos_by_submission(session=session, team_id=team_id, submission_key=submission_key)
    if kudos is None or kudos.id is None:  # pragma: no cover - the row was just inserted
        raise RuntimeError(f"kudos {submission_key} vanished after insert")
    for user_id in dict.fromkeys(recipient_user_ids):
        session.add(KudosRecipient(team_id=team_id, kudos_id=kudos.id, user_id=user_id))
    session.flush()
    return kudos


def get_kudos(*, session: Session, kudos_id: int) -> Kudos | None:
    return session.get(Kudos, kudos_id)


def recipients_of(*, session: Session, kudos_id: int) -> list[str]:
    statement = (
        select(KudosRecipient.user_id)
        .where(KudosRecipient.kudos_id == kudos_id)
        .order_by(col(KudosRecipient.id))
    )
    return list(session.exec(statement).all())


def recipient_rows(*, session: Session, kudos_id: int) -> list[KudosRecipient]:
    """The kudos' recipients with the state of each one's DM, in the order they were named."""
    statement = (
        select(KudosRecipient)
        .where(KudosRecipient.kudos_id == kudos_id)
        .order_by(col(KudosRecipient.id))
    )
    return list(session.exec(statement).all())


def set_recipient_dm_status(*, session: Session, kudos_id: int, user_id: str, status: str) -> None:
    """Record how one recipient's DM ended ("sent" or "failed"), for Home and the export."""
    session.execute(
        update(KudosRecipient)
        .where(col(KudosRecipient.kudos_id) == kudos_id, col(KudosRecipient.user_id) == user_id)
        .values(dm_status=status)
    )


def change_waiting_post_kind(
    *, session: Session, team_id: str, post_key: str, from_kind: str, to_kind: str
) -> bool:
    """Change the kind (and so the hooks) of a kudos' own outbox row while no dispatcher holds
    it: waiting (pending), or unknown and not being looked up. A row being sent keeps its kind
    (False), so the decision and the send never cross (PostgreSQL re-checks the WHERE after a
    concurrent claim's commit; SQLite has one writer)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.post_key) == post_key,
            col(OutboxMessage.kind) == from_kind,
            col(OutboxMessage.state).in_(("pending", "unknown")),
            col(OutboxMessage.claimed_by).is_(None),
        )
        .values(kind=to_kind)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def record_kudos_post(*, session: Session, kudos_id: int, channel_id: str, message_ts: str) -> None:
    """Where the kudos went up; it stays "pending" until every recipient's DM is settled."""
    kudos = session.get(Kudos, kudos_id)
    if kudos is None:
        return
    kudos.channel_id = channel_id
    kudos.message_ts = message_ts
    session.add(kudos)


def mark_kudos_posted(
    *, session: Session, kudos_id: int, channel_id: str | None, message_ts: str | None
) -> None:
    kudos = session.get(Kudos, kudos_id)
    if kudos is None:
        return
    kudos.status = "posted"
    kudos.channel_id = channel_id
    kudos.message_ts = message_ts
    session.add(kudos)


def kudos_received_by_category(*, session: Session, team_id: str, user_id: str) -> dict[str, int]:
    """How many kudos `user_id` received, per category (posted or still pending)."""
    statement = (
        select(Kudos.category, func.count(col(Kudos.id)))
        .join(KudosRecipient, col(KudosRecipient.kudos_id) == col(Kudos.id))
        .where(KudosRecipient.team_id == team_id, KudosRecipient.user_id == user_id)
        .group_by(col(Kudos.category))
    )
    return {category: int(count) for category, count in session.exec(statement).all()}


def kudos_between(
    *, session: Session, team_id: str, start: datetime, end: datetime
) -> list[tuple[Kudos, list[str]]]:
    """Kudos given in [start, end), oldest first, each with its recipients."""
    statement = (
        select(Kudos)
        .where(
            Kudos.team_id == team_id,
            col(Kudos.created_at) >= start,
            col(Kudos.created_at) < end,
        )
        .order_by(col(Kudos.created_at), col(Kudos.id))
    )
    return [
        (kudos, recipients_of(session=session, kudos_id=kudos.id))
        for kudos in session.exec(statement).all()
        if kudos.id is not None
    ]


def consented_perfect_misses_between(
    *, session: Session, team_id: str, start: datetime, end: datetime
) -> list[Outcome]:
    """Perfect misses that occurred in [start, end) whose reps agreed to have them celebrated
    (and didn't take it back), counted by the manager's calibration where there is one: a loss
    calibrated out of a perfect miss is not one in the digest, even when its shout-out stays
    up; one calibrated into it is, once the rep agreed."""
    statement = (
        select(Outcome)
        .where(
            Outcome.team_id == team_id,
            Outcome.kind == "loss",
            # As counted: the manager's calibrated classification where there is one.
            func.coalesce(Outcome.calibrated_classification, Outcome.classification)
            == "perfect-miss",
            col(Outcome.celebrate_consent).is_(True),
            col(Outcome.shout_out_taken_back_at).is_(None),
            col(Outcome.occurred_at) >= start,
            col(Outcome.occurred_at) < end,
        )
        .order_by(col(Outcome.occurred_at), col(Outcome.id))
    )
    return list(session.exec(statement).all())


def wins_between(
    *, session: Session, team_id: str, start: datetime, end: datetime
) -> list[Outcome]:
    statement = (
        select(Outcome)
        .where(
            Outcome.team_id == team_id,
            Outcome.kind == "win",
            col(Outcome.occurred_at) >= start,
            col(Outcome.occurred_at) < end,
        )
        .order_by(col(Outcome.occurred_at), col(Outcome.id))
    )
    return list(session.exec(statement).all())


def outcomes_of_before(
    *, session: Session, team_id: str, user_id: str, before: datetime
) -> list[Outcome]:
    """One rep's outcomes that occurred before `before`, oldest first."""
    statement = (
        select(Outcome)
        .where(
            Outcome.team_id == team_id,
            Outcome.user_id == user_id,
            col(Outcome.occurred_at) < before,
        )
        .order_by(col(Outcome.occurred_at), col(Outcome.id))
    )
    return list(session.exec(statement).all())


def workspaces_due_for_digest(
    *, session: Session, now: datetime, limit: int, exclude: Collection[str] = ()
) -> list[str]:
    """Team ids whose kudos digest must be looked at (``next_kudos_digest_at`` NULL or past):
    a range read of its index, so idle workspaces, whose next digest is days away, are never
    read. Workspaces without the digest are included: the caller stores a next time for them
    too, so they leave the due range. ``exclude``: those already looked at in this tick."""
    due_at = col(Workspace.next_kudos_digest_at)
    # No ORDER BY: one by team id would make the planner walk the primary key instead.
    statement = select(Workspace.team_id).where(or_(due_at.is_(None), due_at <= now)).limit(limit)
    if exclude:
        statement = statement.where(col(Workspace.team_id).not_in(sorted(exclude)))
    return sorted(session.exec(statement).all())


def clear_next_digests(*, session: Session) -> None:
    """Forget every stored kudos digest time (the clock moved back past them)."""
    session.execute(
        update(Workspace)
        .where(col(Workspace.next_kudos_digest_at).is_not(None))
        .values(next_kudos_digest_at=None, updated_at=col(Workspace.updated_at))
        .execution_options(synchronize_session=False)
    )


def set_next_digests(*, session: Session, next_at: dict[str, datetime]) -> None:
    """Store when each workspace's kudos digest must next be looked at (team id -> when)."""
    if not next_at:
        return
    table = Workspace.__table__
    statement = (
        update(table)
        .where(table.c.team_id == bindparam("team"))  # type: ignore[attr-defined]
        .values(next_kudos_digest_at=bindparam("at"), updated_at=table.c.updated_at)  # type: ignore[attr-defined]
    )
    session.connection().execute(
        statement, [{"team": team, "at": at} for team, at in sorted(next_at.items())]
    )


def leader_timezones(
    *, session: Session, team_id: str, admin_user_ids: Collection[str]
) -> list[str]:
    """Slack time zones of the workspace's managers, then of its configured admins, by user id.

    Only time zones read from Slack count (``tz_refreshed_at`` set): a member created from the
    settings modal holds the "UTC" placeholder until Rebound has seen their profile."""
    members = session.exec(
        select(Member)
        .where(
            Member.team_id == team_id,
            col(Member.deleted).is_(False),
            col(Member.tz_refreshed_at).is_not(None),
        )
        .order_by(col(Member.user_id))
    ).all()
    managers = [m.tz for m in members if m.is_manager]
    admins = [m.tz for m in members if m.user_id in admin_user_ids and not m.is_manager]
    return managers + admins


def pending_kudos_without_outbox_row(*, session: Session, limit: int) -> list[Kudos]:
    """Kudos still "pending" with no outbox row for their post: saved before the outbox
    existed (the scheduler's old retry job sent them), so nothing would ever send them now.
    Through ix_kudos_status; the outbox row is looked up by its unique key."""
    key = literal("kudos:") + cast(Kudos.id, String)
    queued = select(OutboxMessage.id).where(
        OutboxMessage.team_id == Kudos.team_id, OutboxMessage.post_key == key
    )
    statement = (
        select(Kudos)
        .where(Kudos.status == "pending", ~queued.exists())
        .order_by(col(Kudos.id))
        .limit(limit)
    )
    return list(session.exec(statement).all())
