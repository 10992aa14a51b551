"""Query functions over the tables in ``storage.models``.

Every function takes the session as the keyword ``session=`` and never commits: the caller
owns the transaction (one unit of work per Slack request or scheduler job) and commits once.

Inserts that must happen at most once across processes (post claims, Slack event ids, the
first row of a workspace or member) use ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` and
see whether a row came back. Catching ``IntegrityError`` after a failed flush would instead
poison the whole transaction on PostgreSQL and lose the caller's other work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Table, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import Member, PostLog, ProcessedEvent, SchedulerMark, Workspace, utcnow

# Columns callers may change; keys, timestamps kept by the database layer are not among them.
WORKSPACE_SETTINGS = frozenset(
    name
    for name in Workspace.__table__.columns.keys()  # noqa: SIM118 (a ColumnCollection)
    if name not in {"team_id", "created_at", "updated_at", "settings_version"}
)
MEMBER_FIELDS = frozenset(
    name
    for name in Member.__table__.columns.keys()  # noqa: SIM118 (a ColumnCollection)
    if name not in {"id", "team_id", "user_id", "created_at"}
)


def _insert_if_absent(
    session: Session, table: Table, values: Mapping[str, Any], unique_columns: Iterable[str]
) -> bool:
    """INSERT the row unless one with the same ``unique_columns`` exists; True if inserted.

    Race-safe: on PostgreSQL a concurrent insert of the same key waits for the other
    transaction and then does nothing; on SQLite writers are serialised by the file lock.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(**values)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values)
    else:
        raise NotImplementedError(f"unsupported database dialect {dialect!r}")
    key_columns = [table.c[name] for name in unique_columns]
    # RETURNING says whether the row went in. The row count cannot: with psycopg the
    # dialect adds an implicit RETURNING for the primary key and the count comes back -1.
    statement = statement.on_conflict_do_nothing(index_elements=key_columns).returning(*key_columns)
    return session.execute(statement).first() is not None


# --- workspaces ----------------------------------------------------------------------------


def get_workspace(*, session: Session, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def get_or_create_workspace(
    *, session: Session, team_id: str, name: str | None = None
) -> Workspace:
    """The workspace row, created with default settings on first sight.

    A given ``name`` replaces the stored one (workspaces get renamed).
    """
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        now = utcnow()
        _insert_if_absent(
            session,
            Workspace.__table__,  # type: ignore[arg-type]
            {"team_id": team_id, "name": name or "", "created_at": now, "updated_at": now},
            ["team_id"],
        )
        workspace = session.get(Workspace, team_id)
        if workspace is None:  # pragma: no cover - the row was just inserted or found
            raise RuntimeError(f"workspace {team_id} vanished after insert")
        # Members known before their workspace was are planned from now on: clear the wait
        # the scheduler stored for them (storage.due_times).
        session.execute(
            update(Member)
            .where(col(Member.team_id) == team_id, col(Member.next_checkin_at).is_not(None))
            .values(next_checkin_at=None)
            .execution_options(synchronize_session=False)
        )
    if name is not None and workspace.name != name:
        workspace.name = name
        session.add(workspace)
    return workspace


def update_workspace_settings(*, session: Session, team_id: str, **changes: Any) -> Workspace:
    """Change workspace settings; an unknown setting name raises ValueError (nothing changes)."""
    unknown = set(changes) - WORKSPACE_SETTINGS
    if unknown:
        raise ValueError(f"unknown workspace settings: {', '.join(sorted(unknown))}")
    workspace = get_or_create_workspace(session=session, team_id=team_id)
    channel_changed = (
        "recognition_channel_id" in changes
        and changes["recognition_channel_id"] != workspace.recognition_channel_id
    )
    for name, value in changes.items():
        setattr(workspace, name, value)
    workspace.updated_at = utcnow()
    session.add(workspace)
    if channel_changed:
        from storage import outbox_queries  # imports this module

        session.flush()
        outbox_queries.wake_recognition_channel_rows(session=session, team_id=team_id)
    return workspace


def claim_settings_version(*, session: Session, team_id: str, expected: int | None) -> bool:
    """Bump the workspace's settings version if it is still ``expected`` (any version when
    None), as the first write of a settings save: False when someone saved in between.

    One UPDATE is both the check and the lock: on PostgreSQL a concurrent save waits on the
    row until this transaction ends, then finds the version moved on; on SQLite the UPDATE
    takes the database's write lock for the rest of the transaction."""
    statement = (
        update(Workspace)
        .where(col(Workspace.team_id) == team_id)
        .values(settings_version=col(Workspace.settings_version) + 1)
    )
    if expected is not None:
        statement = statement.where(col(Workspace.settings_version) == expected)
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    if result.rowcount == 1:
        return True
    if expected not in (None, 0) or session.get(Workspace, team_id) is not None:
        return False
    # No row yet (the modal creates it when it opens, so rarely): create it, then claim.
    get_or_create_workspace(session=session, team_id=team_id)
    session.flush()
    again: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return again.rowcount == 1


# --- members ---------------------------------------------------------------------------------


def get_member(*, session: Session, team_id: str, user_id: str) -> Member | None:
    statement = select(Member).where(Member.team_id == team_id, Member.user_id == user_id)
    return session.exec(statement).first()


def upsert_member(*, session: Session, team_id: str, user_id: str, **fields: Any) -> Member:
    """Create the member if new, then set ``fields`` (column names; others raise ValueError)."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise ValueError(f"unknown member fields: {', '.join(sorted(unknown))}")
    member = get_member(session=session, team_id=team_id, user_id=user_id)
    if member is None:
        _insert_if_absent(
            session,
            Member.__table__,  # type: ignore[arg-type]
            {"team_id": team_id, "user_id": user_id, "created_at": utcnow()},
            ["team_id", "user_id"],
        )
        member = get_member(session=session, team_id=team_id, user_id=user_id)
        if member is None:  # pragma: no cover - the row was just inserted or found
            raise RuntimeError(f"member {team_id}/{user_id} vanished after insert")
    for name, value in fields.items():
        setattr(member, name, value)
    session.add(member)
    return member


def list_members(*, session: Session, team_id: str, active_only: bool = False) -> list[Member]:
    """Members of the workspace by user id; ``active_only`` leaves out bots and deleted users."""
    statement = select(Member).where(Member.team_id == team_id)
    if active_only:
        statement = statement.where(col(Member.is_bot).is_(False), col(Member.deleted).is_(False))
    return list(session.exec(statement.order_by(col(Member.user_id))).all())


def managers_of(*, session: Session, team_id: str) -> list[Member]:
    """The workspace's managers (not deleted), by user id."""
    statement = (
        select(Member)
        .where(
            Member.team_id == team_id,
            col(Member.is_manager).is_(True),
            col(Member.deleted).is_(False),
        )
        .order_by(col(Member.user_id))
    )
    return list(session.exec(statement).all())


def manager_of(*, session: Session, team_id: str, user_id: str) -> Member | None:
    """The member ``user_id`` reports to, if any."""
    member = get_member(session=session, team_id=team_id, user_id=user_id)
    if member is None or member.manager_user_id is None:
        return None
    return get_member(session=session, team_id=team_id, user_id=member.manager_user_id)


def _all_reports_of(*, session: Session, team_id: str, manager_user_id: str) -> list[Member]:
    statement = (
        select(Member)
        .where(Member.team_id == team_id, Member.manager_user_id == manager_user_id)
        .order_by(col(Member.user_id))
    )
    return list(session.exec(statement).all())


def reports_of(*, session: Session, team_id: str, manager_user_id: str) -> list[Member]:
    """The (not deleted) members who report to ``manager_user_id``, by user id."""
    reports = _all_reports_of(session=session, team_id=team_id, manager_user_id=manager_user_id)
    return [member for member in reports if not member.deleted]


def teammates_of(*, session: Session, team_id: str, user_id: str) -> set[str]:
    """Who is on ``user_id``'s team, as the app defines teams (who reports to whom, set in
    ``/rebound settings``): the people with the same manager, that manager, and the people
    reporting to ``user_id``. Never ``user_id``; never deleted members or bots."""
    member = get_member(session=session, team_id=team_id, user_id=user_id)
    if member is None:
        return set()
    team: list[Member] = list(reports_of(session=session, team_id=team_id, manager_user_id=user_id))
    if member.manager_user_id is not None:
        manager = get_member(session=session, team_id=team_id, user_id=member.manager_user_id)
        if manager is not None:
            team.append(manager)
        team.extend(
            reports_of(session=session, team_id=team_id, manager_user_id=member.manager_user_id)
        )
    return {m.user_id for m in team if not m.deleted and not m.is_bot and m.user_id != user_id}


def set_reports(
    *, session: Session, team_id: str, manager_user_id: str, report_user_ids: list[str]
) -> None:
    """Make ``report_user_ids`` exactly the people reporting to the manager.

    Marks the manager ``is_manager``; members not yet known are created; former reports left
    out of the list no longer report to anyone. A manager cannot report to themself.
    """
    upsert_member(session=session, team_id=team_id, user_id=manager_user_id, is_manager=True)
    wanted = set(report_user_ids) - {manager_user_id}
    for member in _all_reports_of(
        session=session, team_id=team_id, manager_user_id=manager_user_id
    ):
        if member.user_id not in wanted:
            member.manager_user_id = None
            session.add(member)
    for user_id in sorted(wanted):
        upsert_member(
            session=session, team_id=team_id, user_id=user_id, manager_user_id=manager_user_id
        )


# --- exactly-once posting --------------------------------------------------------------------


def claim_post(
    *,
    session: Session,
    team_id: str,
    post_key: str,
    kind: str,
    claimed_by: str,
    now: datetime,
    lease: timedelta | None = None,
) -> PostLog | None:
    """Claim the right to send the post ``post_key``; None when it is already claimed or sent.

    The claim is visible to other processes once the caller commits. Send only after that
    commit, then ``mark_post_sent`` (or ``release_post`` when the send failed, so a later
    attempt can claim it again).
    """
    inserted = _insert_if_absent(
        session,
        PostLog.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "post_key": post_key,
            "kind": kind,
            "status": "claimed",
            "claimed_by": claimed_by,
            "claimed_at": now,
            "attempts": 1,
        },
        ["team_id", "post_key"],
    )
    taken_over = (
        not inserted
        and lease is not None
        and _take_over_expired_claim(
            session, team_id=team_id, post_key=post_key, claimed_by=claimed_by, now=now, lease=lease
        )
    )
    if not inserted and not taken_over:
        return None
    statement = (
        select(PostLog)
        .where(PostLog.team_id == team_id, PostLog.post_key == post_key)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).one()


def _take_over_expired_claim(
    session: Session,
    *,
    team_id: str,
    post_key: str,
    claimed_by: str,
    now: datetime,
    lease: timedelta,
) -> bool:
    """A claim older than ``lease`` whose holder never marked it sent or released it belongs to
    a process that died mid-send: take it over with one compare-and-set UPDATE, so of several
    processes trying at once exactly one wins."""
    result = session.execute(
        update(PostLog)
        .where(
            PostLog.team_id == team_id,  # type: ignore[arg-type]
            PostLog.post_key == post_key,  # type: ignore[arg-type]
            PostLog.status == "claimed",  # type: ignore[arg-type]
            PostLog.claimed_at < now - lease,  # type: ignore[arg-type,operator]
        )
        .values(claimed_by=claimed_by, claimed_at=now, attempts=PostLog.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def get_post(*, session: Session, team_id: str, post_key: str) -> PostLog | None:
    statement = select(PostLog).where(PostLog.team_id == team_id, PostLog.post_key == post_key)
    return session.exec(statement).first()


def _attached(session: Session, post: PostLog) -> PostLog:
    # The post may come from a session that has since closed (claimed in one unit of work,
    # marked in another): merge copies its state onto this session's instance.
    return post if post in session else session.merge(post)


def mark_post_sent(
    *,
    session: Session,
    post: PostLog,
    channel_id: str | None,
    message_ts: str | None,
    now: datetime,
) -> None:
    """Record that the claimed post went out (channel and ts allow later edits)."""
    post.status = "sent"
    post.channel_id = channel_id
    post.message_ts = message_ts
    post.sent_at = now
    session.add(_attached(session, post))


def mark_post_failed(*, session: Session, post: PostLog) -> None:
    """Give up on a post for good: the row stays, so nobody claims it again."""
    post.status = "failed"
    session.add(_attached(session, post))


def release_post(*, session: Session, post: PostLog) -> None:
    """Drop the claim after a failed send so the post can be claimed and sent again.

    Only our own, still-open claim is dropped: if our lease ran out and another process took
    the claim over (or it was sent meanwhile), deleting the row would let a third one send."""
    session.execute(
        delete(PostLog).where(
            col(PostLog.id) == post.id,
            col(PostLog.claimed_by) == post.claimed_by,
            col(PostLog.claimed_at) == post.claimed_at,
            col(PostLog.status) == "claimed",
        )
    )


# --- Slack Events API retries ----------------------------------------------------------------


def record_event_once(*, session: Session, team_id: str, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen in this workspace, False for Slack's retries."""
    return _insert_if_absent(
        session,
        ProcessedEvent.__table__,  # type: ignore[arg-type]
        {"team_id": team_id, "event_id": event_id, "received_at": now},
        ["team_id", "event_id"],
    )


def prune_processed_events(*, session: Session, received_before: datetime) -> int:
    """Delete event ids older than ``received_before`` (Slack retries within minutes)."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < received_before)
    )
    return result.rowcount


# --- the scheduler's clock marks -------------------------------------------------------------


def clock_went_back(*, session: Session, name: str, now: datetime, tolerance: timedelta) -> bool:
    """Record that job ``name`` runs at ``now``; True when its mark was more than
    ``tolerance`` ahead (the clock moved back: due times stored since are too late). The
    tolerance absorbs the small skew between processes' clocks, which needs no clearing: a
    look at the stored time later than due only happens past that time's window edge."""
    last = session.exec(select(SchedulerMark.last_now).where(SchedulerMark.name == name)).first()
    if last is None:
        _insert_if_absent(
            session,
            SchedulerMark.__table__,  # type: ignore[arg-type]
            {"name": name, "last_now": now},
            ["name"],
        )
        return False
    mark = update(SchedulerMark).where(col(SchedulerMark.name) == name)
    if now < last - tolerance:
        session.execute(mark.values(last_now=now).execution_options(synchronize_session=False))
        return True
    if now > last:
        # Only forward: a process whose clock is a little behind never moves it back.
        session.execute(
            mark.where(col(SchedulerMark.last_now) < now)
            .values(last_now=now)
            .execution_options(synchronize_session=False)
        )
    return False
