"""Query functions for weekly check-ins (``checkins``, ``checkin_answers``).

Keyword-only ``session=``, no commit inside: the caller owns the transaction.

Claiming due check-ins works on every backend and is exactly-once across processes:
candidate rows are read with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: concurrent claimers skip
each other's rows instead of queueing; the clause compiles to nothing on SQLite), then each
row is taken with a compare-and-set UPDATE whose row count says who won. On PostgreSQL the
rows are already locked, so the UPDATE always wins; on SQLite, where the file lock serialises
writers but not the earlier SELECT, the compare-and-set is what keeps a row to one claimer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Member,
    Outcome,
    Reflection,
    Workspace,
    utcnow,
)


def _dialect_insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


# --- who gets check-ins ----------------------------------------------------------------------


def all_team_ids(*, session: Session) -> list[str]:
    return list(session.exec(select(Workspace.team_id).order_by(col(Workspace.team_id))).all())


def checkin_people(*, session: Session, team_id: str) -> list[Member]:
    """Active members who get a weekly check-in.

    Everyone known (from the settings' teams or from a Slack profile) who is not a bot, not
    deleted, and not *only* a manager: a manager who reports to someone else is a rep too.
    """
    statement = (
        select(Member)
        .where(Member.team_id == team_id, *_checkin_person_conditions())
        .order_by(col(Member.user_id))
    )
    return list(session.exec(statement).all())


def _checkin_person_conditions() -> tuple[Any, ...]:
    return (
        col(Member.is_bot).is_(False),
        col(Member.deleted).is_(False),
        or_(col(Member.manager_user_id).is_not(None), col(Member.is_manager).is_(False)),
    )


def is_checkin_person(*, session: Session, team_id: str, user_id: str) -> bool:
    """Whether this member gets weekly check-ins (see ``checkin_people``)."""
    statement = select(Member.id).where(
        Member.team_id == team_id, Member.user_id == user_id, *_checkin_person_conditions()
    )
    return session.exec(statement).first() is not None


def members_needing_tz_refresh(
    *, session: Session, stale_before: datetime, limit: int, exclude_ids: Iterable[int] = ()
) -> list[Member]:
    """Active members whose Slack time zone was never read, or not since ``stale_before``:
    never read first, then the longest unread, so nobody waits behind a newer refresh.
    ``exclude_ids`` are members whose last attempt failed a moment ago (they wait their turn
    instead of taking the batch on every tick).

    Two range reads of ``ix_members_tz_refreshed`` (NULLs, then the oldest reads), so members
    read recently, however many, are never scanned."""
    excluded = sorted(set(exclude_ids))

    def batch(condition: Any, size: int) -> list[Member]:
        statement = select(Member).where(
            condition, col(Member.is_bot).is_(False), col(Member.deleted).is_(False)
        )
        if excluded:
            statement = statement.where(col(Member.id).not_in(excluded))
        statement = statement.order_by(col(Member.tz_refreshed_at), col(Member.id)).limit(size)
        return list(session.exec(statement).all())

    never_read = batch(col(Member.tz_refreshed_at).is_(None), limit)
    if len(never_read) >= limit:
        return never_read
    return never_read + batch(col(Member.tz_refreshed_at) < stale_before, limit - len(never_read))


def take_tz_refresh(*, session: Session, member_id: int, previous: datetime, now: datetime) -> bool:
    """Compare-and-set ``tz_refreshed_at`` from ``previous`` to ``now`` so one process
    re-reads a member's time zone; True if won. Only for zones read before (``previous`` set):
    their stored zone stays right while the read is under way. A zone never read has no claim:
    ``tz_refreshed_at`` is set only by a successful read, so nothing plans with a guessed zone
    (and a second process reading a new member at the same moment costs one extra call)."""
    result = session.execute(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.tz_refreshed_at) == previous)
        .values(tz_refreshed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release_tz_refresh(
    *, session: Session, member_id: int, taken_at: datetime, previous: datetime
) -> None:
    """A re-read taken at ``taken_at`` failed: put the previous read time back (if the claim
    is still ours), so the member stays due for a refresh."""
    session.execute(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.tz_refreshed_at) == taken_at)
        .values(tz_refreshed_at=previous)
        .execution_options(synchronize_session=False)
    )


# --- planning --------------------------------------------------------------------------------


def _due(column: Any, now: datetime) -> Any:
    """Not worked out yet (NULL) or come: a range read of the column's index either way."""
    return or_(column.is_(None), column <= now)


def members_due_for_planning(*, session: Session, now: datetime, limit: int) -> list[Member]:
    """Members whose check-in planning is due (``next_checkin_at`` NULL or past), by team.

    Everyone, not only check-in people: the caller stores a next time for those it skips too,
    so they leave the index's due range instead of being read on every tick."""
    statement = (
        select(Member)
        # No ORDER BY: one by id would make the planner walk the primary key instead.
        .where(_due(col(Member.next_checkin_at), now))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def is_checkin_person_row(member: Member) -> bool:
    """``_checkin_person_conditions`` for a loaded member."""
    return (
        not member.is_bot
        and not member.deleted
        and (member.manager_user_id is not None or not member.is_manager)
    )


def set_next_checkins(*, session: Session, next_at: dict[int, datetime]) -> None:
    """Store each member's next planning time (member id -> when)."""
    _set_times(session, "next_checkin_at", next_at)


def set_next_digests(*, session: Session, next_at: dict[int, datetime]) -> None:
    """Store each manager's next digest time (member id -> when)."""
    _set_times(session, "next_digest_at", next_at)


def _set_times(session: Session, column: str, next_at: dict[int, datetime]) -> None:
    if not next_at:
        return
    table = Member.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("member_id"))  # type: ignore[attr-defined]
        .values({column: bindparam("at")})
    )
    session.connection().execute(
        statement, [{"member_id": k, "at": v} for k, v in sorted(next_at.items())]
    )


def existing_checkin_keys(
    *, session: Session, team_id: str, week_keys: Iterable[str]
) -> set[tuple[str, str]]:
    """(user_id, week_key) of the team's check-ins in ``week_keys``."""
    weeks = sorted(set(week_keys))
    if not weeks:
        return set()
    statement = select(CheckIn.user_id, CheckIn.week_key).where(
        CheckIn.team_id == team_id, col(CheckIn.week_key).in_(weeks)
    )
    return {(user_id, week) for user_id, week in session.exec(statement).all()}


def insert_checkins_if_absent(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert check-in rows (team_id, user_id, week_key, due_at, status) unless one exists for
    the same person and week; returns how many went in. Rows are sorted so that processes
    inserting overlapping sets at once take the key locks in the same order (no deadlock)."""
    if not rows:
        return 0
    now = utcnow()
    ordered = sorted(rows, key=lambda r: (r["team_id"], r["user_id"], r["week_key"]))
    values = [{"questions": [], "created_at": now, **row} for row in ordered]
    table = CheckIn.__table__
    statement = (
        _dialect_insert(session, table)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[table.c.team_id, table.c.user_id, table.c.week_key]  # type: ignore[attr-defined]
        )
        .returning(table.c.id)  # type: ignore[attr-defined]
    )
    created = len(session.execute(statement).all())
    if created:
        _clear_managers_digest(session, ordered)
    return created


def _clear_managers_digest(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """A rep asked this week can make their manager's digest due again (it skips a week in
    which nobody was asked): clear the managers' stored digest times (storage.due_times)."""
    by_team: dict[str, set[str]] = {}
    for row in rows:
        by_team.setdefault(row["team_id"], set()).add(row["user_id"])
    for team_id, user_ids in sorted(by_team.items()):
        managers = (
            select(Member.manager_user_id)
            .where(Member.team_id == team_id, col(Member.user_id).in_(sorted(user_ids)))
            .scalar_subquery()
        )
        session.execute(
            update(Member)
            .where(
                col(Member.team_id) == team_id,
                col(Member.user_id).in_(managers),
                col(Member.next_digest_at).is_not(None),
            )
            .values(next_digest_at=None)
            .execution_options(synchronize_session=False)
        )


def get_checkin(*, session: Session, checkin_id: int) -> CheckIn | None:
    return session.get(CheckIn, checkin_id, populate_existing=True)


def get_week_checkin(
    *, session: Session, team_id: str, user_id: str, week_key: str
) -> CheckIn | None:
    statement = select(CheckIn).where(
        CheckIn.team_id == team_id, CheckIn.user_id == user_id, CheckIn.week_key == week_key
    )
    return session.exec(statement.execution_options(populate_existing=True)).first()


def recent_checkins(
    *, session: Session, team_id: str, user_id: str, before_week: str, limit: int = 8
) -> list[CheckIn]:
    """The person's check-ins of weeks before ``before_week``, newest first."""
    statement = (
        select(CheckIn)
        .where(
            CheckIn.team_id == team_id,
            CheckIn.user_id == user_id,
            col(CheckIn.week_key) < before_week,
        )
        .order_by(col(CheckIn.week_key).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())


# --- claiming and sending --------------------------------------------------------------------


def _claimable(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(col(CheckIn.status) == "pending", col(CheckIn.due_at) <= now),
        and_(col(CheckIn.status) == "claimed", col(CheckIn.claimed_at) < now - lease),
    )


def claim_due_checkins(
    *,
    session: Session,
    now: datetime,
    lease: timedelta,
    claimed_by: str,
    limit: int,
    exclude_ids: Iterable[int] = (),
) -> list[CheckIn]:
    """Claim up to ``limit`` check-ins that are due (or whose claim's lease ran out).

    The claim is visible to other processes once the caller commits; send only after that.
    """
    statement = select(CheckIn).where(_claimable(now, lease))
    excluded = sorted(set(exclude_ids))
    if excluded:
        statement = statement.where(col(CheckIn.id).not_in(excluded))
    statement = (
        statement.order_by(col(CheckIn.due_at), col(CheckIn.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    candidate_ids = [c.id for c in session.exec(statement).all()]
    if not candidate_ids:
        return []
    # One compare-and-set for the batch; RETURNING names the rows this claimer won.
    won = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id).in_(candidate_ids), _claimable(now, lease))
        .values(status="claimed", claimed_by=claimed_by, claimed_at=now)
        .returning(col(CheckIn.id))
        .execution_options(synchronize_session=False)
    )
    ids = [row[0] for row in won.all()]
    if not ids:
        return []
    refreshed = select(CheckIn).where(col(CheckIn.id).in_(ids)).order_by(col(CheckIn.due_at))
    return list(session.exec(refreshed.execution_options(populate_existing=True)).all())


def finish_claim(
    *,
    session: Session,
    checkin_id: int,
    claimed_by: str,
    status: str,
    now: datetime,
    channel_id: str | None = None,
    message_ts: str | None = None,
) -> bool:
    """Move a claimed check-in to ``status`` ("sent", "skipped" or back to "pending"), if this
    worker still holds the claim (a lease taken over by another process is not ours to end)."""
    values: dict[str, Any] = {"status": status}
    if status == "sent":
        values.update(sent_at=now, channel_id=channel_id, message_ts=message_ts)
    if status == "pending":
        values.update(claimed_by=None, claimed_at=None)
    result = session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.id) == checkin_id,
            col(CheckIn.status) == "claimed",
            col(CheckIn.claimed_by) == claimed_by,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def record_sent(
    *,
    session: Session,
    checkin_id: int,
    channel_id: str | None,
    message_ts: str | None,
    now: datetime,
) -> bool:
    """The check-in's DM is in Slack (recorded by the outbox dispatcher, whichever process
    sent it): claimed → sent, with where the DM is. A check-in answered or skipped meanwhile
    keeps its status."""
    result = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id, col(CheckIn.status) == "claimed")
        .values(status="sent", sent_at=now, channel_id=channel_id, message_ts=message_ts)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def skip_claimed(*, session: Session, checkin_id: int) -> bool:
    """The check-in's DM can never be sent: claimed → skipped."""
    result = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id, col(CheckIn.status) == "claimed")
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def set_questions(*, session: Session, checkin_id: int, questions: list[dict[str, str]]) -> None:
    session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id)
        .values(questions=questions)
        .execution_options(synchronize_session=False)
    )


def reminders_due(
    *,
    session: Session,
    now: datetime,
    grace: timedelta,
    limit: int = 500,
    exclude_ids: Iterable[int] = (),
) -> list[tuple[CheckIn, int]]:
    """Sent, unanswered check-ins without a reminder whose workspace's reminder delay has
    passed (but by less than ``grace``: a reminder days late only confuses), with the delay.

    The window is in the query itself, per reminder delay in use (a handful of values), so
    old unanswered check-ins never fill the ``limit`` and hide the ones due now."""
    delays = session.exec(
        select(Workspace.checkin_reminder_hours)
        .where(col(Workspace.checkin_reminder_hours) > 0)
        .distinct()
    ).all()
    if not delays:
        return []
    windows = [
        and_(
            col(Workspace.checkin_reminder_hours) == hours,
            col(CheckIn.sent_at) <= now - timedelta(hours=hours),
            col(CheckIn.sent_at) > now - timedelta(hours=hours) - grace,
        )
        for hours in sorted(delays)
    ]
    statement = (
        select(CheckIn, Workspace.checkin_reminder_hours)
        .join(Workspace, col(Workspace.team_id) == col(CheckIn.team_id))
        .where(
            col(CheckIn.status) == "sent",
            col(CheckIn.reminder_sent_at).is_(None),
            or_(*windows),
        )
    )
    excluded = sorted(set(exclude_ids))
    if excluded:
        statement = statement.where(col(CheckIn.id).not_in(excluded))
    statement = statement.order_by(col(CheckIn.sent_at), col(CheckIn.id)).limit(limit)
    return [(checkin, hours) for checkin, hours in session.exec(statement).all()]


def mark_reminded(*, session: Session, checkin_id: int, now: datetime) -> None:
    session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id)
        .values(reminder_sent_at=now)
        .execution_options(synchronize_session=False)
    )


def skip_checkins_before(*, session: Session, team_id: str, user_id: str, until: datetime) -> int:
    """Mark the person's not-yet-answered check-ins due before ``until`` as skipped."""
    result = session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.team_id) == team_id,
            col(CheckIn.user_id) == user_id,
            col(CheckIn.status).in_(("pending", "sent")),
            col(CheckIn.due_at) < until,
        )
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def skip_checkin(*, session: Session, checkin_id: int) -> bool:
    """The person skipped this week: no reminder, shown as skipped in the digest."""
    result = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == checkin_id, col(CheckIn.status).in_(("pending", "sent")))
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# --- answers ---------------------------------------------------------------------------------


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
    statement = (
        select(Reflection)
        .where(
            Reflection.team_id == team_id,
            Reflection.user_id == user_id,
            col(Reflection.is_commitment).is_(True),
            col(Reflection.answer).is_not(None),
        )
        .order_by(col(Reflection.created_at).desc(), col(Reflection.id).desc())
    )
    return session.exec(statement).first()


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


# --- digests ---------------------------------------------------------------------------------


def members_due_for_digest(
    *, session: Session, now: datetime, limit: int, exclude_ids: Iterable[int] = ()
) -> list[Member]:
    """Members whose manager's-digest time is due (``next_digest_at`` NULL or past), managers
    or not: the caller stores a next time for every one of them, except a digest it must try
    again (``exclude_ids``: those already looked at in this tick, a handful)."""
    statement = select(Member).where(_due(col(Member.next_digest_at), now)).limit(limit)
    excluded = sorted(set(exclude_ids))
    if excluded:
        statement = statement.where(col(Member.id).not_in(excluded))
    return list(session.exec(statement).all())


def clear_next_checkins(*, session: Session) -> None:
    """Forget every stored planning time (the clock moved back past them)."""
    session.execute(
        update(Member)
        .where(col(Member.next_checkin_at).is_not(None))
        .values(next_checkin_at=None)
        .execution_options(synchronize_session=False)
    )


def clear_next_digests(*, session: Session) -> None:
    """Forget every stored manager's-digest time (the clock moved back past them)."""
    session.execute(
        update(Member)
        .where(col(Member.next_digest_at).is_not(None))
        .values(next_digest_at=None)
        .execution_options(synchronize_session=False)
    )


def who_has_reports(*, session: Session, members: Sequence[Member]) -> set[tuple[str, str]]:
    """(team_id, user_id) of those among ``members`` whom an active member reports to (one
    query for the batch, through ``ix_members_team_manager``)."""
    if not members:
        return set()
    wanted = {(m.team_id, m.user_id) for m in members}
    statement = (
        select(Member.team_id, Member.manager_user_id)
        .where(
            col(Member.team_id).in_(sorted({team for team, _ in wanted})),
            col(Member.manager_user_id).in_(sorted({user for _, user in wanted})),
            col(Member.deleted).is_(False),
        )
        .distinct()
    )
    return {(t, m) for t, m in session.exec(statement).all() if m and (t, m) in wanted}


def managers_with_reports(*, session: Session) -> list[Member]:
    """Every active member, in any workspace, whom someone reports to."""
    reporting = (
        select(Member.team_id, Member.manager_user_id)
        .where(col(Member.manager_user_id).is_not(None), col(Member.deleted).is_(False))
        .distinct()
    )
    pairs = {(team, manager) for team, manager in session.exec(reporting).all()}
    if not pairs:
        return []
    statement = select(Member).where(
        col(Member.deleted).is_(False), col(Member.user_id).in_(sorted({m for _, m in pairs}))
    )
    managers = [m for m in session.exec(statement).all() if (m.team_id, m.user_id) in pairs]
    return sorted(managers, key=lambda m: (m.team_id, m.user_id))


def checkins_of_week(
    *, session: Session, team_id: str, user_ids: Sequence[str], week_key: str
) -> dict[str, CheckIn]:
    if not user_ids:
        return {}
    statement = select(CheckIn).where(
        CheckIn.team_id == team_id,
        col(CheckIn.user_id).in_(sorted(user_ids)),
        CheckIn.week_key == week_key,
    )
    return {c.user_id: c for c in session.exec(statement).all()}


def answers_of_many(*, session: Session, checkin_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    if not checkin_ids:
        return {}
    statement = select(CheckInAnswer).where(col(CheckInAnswer.checkin_id).in_(sorted(checkin_ids)))
    found: dict[int, dict[str, str]] = {}
    for answer in session.exec(statement).all():
        found.setdefault(answer.checkin_id, {})[answer.question_key] = answer.answer
    return found
