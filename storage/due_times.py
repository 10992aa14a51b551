"""Keeping the stored due times honest: clear them whenever what they were computed from changes.

The scheduler stores when it must next look at a member's check-in (``members.next_checkin_at``),
at a manager's digest (``members.next_digest_at``) and at a workspace's kudos digest
(``workspaces.next_kudos_digest_at``), and each tick reads only the rows whose time has come.
A stored time that is too early costs one look; one that is too late would miss a message. So
every write that could move a due time clears it (NULL: "work it out on the next tick"), here,
in one place, on every ORM flush, whichever use case did the write:

- a member created, or their time zone (or its first read), reporting line, manager flag,
  pause, bot or deleted flag changed: their own two times; on a change of reporting line,
  pause, bot or deleted flag, their old and new manager's digest time (the digest skips a week
  when nobody on the team was asked, so a rep who joins or resumes can make it due again); on
  a change of time zone, manager flag or deleted flag, their workspace's kudos digest time (it
  follows the leaders' time zone). These writes are rare (settings saves, a zone that moved),
  so the extra row updates cost little.
- a workspace's check-in day or hour, digest switch or recognition channel changed: its kudos
  digest time and every member's times.

A check-in row created for a rep also clears their manager's digest time
(``storage.checkins_queries.insert_checkins_if_absent``), for the same reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, event, inspect, or_, update
from sqlmodel import Session

from storage.models import Member, Workspace

MEMBER_SCHEDULE_FIELDS = (
    "tz",
    "tz_refreshed_at",
    "is_manager",
    "manager_user_id",
    "checkin_paused_until",
    "is_bot",
    "deleted",
)
# What the kudos digest's time zone is chosen from (bot.usecases.kudos.digest_timezone).
LEADER_FIELDS = frozenset({"tz", "tz_refreshed_at", "is_manager", "deleted"})
# What decides whether a rep counts as asked in their manager's digest (team_week).
ASKED_FIELDS = frozenset({"manager_user_id", "checkin_paused_until", "is_bot", "deleted"})
WORKSPACE_SCHEDULE_FIELDS = (
    "checkin_weekday",
    "checkin_hour",
    "digest_enabled",
    "recognition_channel_id",
)


def _changed(obj: Any, names: tuple[str, ...]) -> set[str]:
    """The attributes among ``names`` whose value really changed in this flush (setting a
    column to the value it already had, as upserts do, is no change)."""
    state = inspect(obj)
    changed = set()
    for name in names:
        history = state.attrs[name].history
        if not history.added or list(history.added) == list(history.deleted):
            continue
        # Every profile read moves tz_refreshed_at; only its first (a zone known at last)
        # changes what is due, and clearing on every request would cost a look each time.
        if name == "tz_refreshed_at" and any(value is not None for value in history.deleted):
            continue
        changed.add(name)
    return changed


def _managers_of(member: Member) -> set[str]:
    history = inspect(member).attrs["manager_user_id"].history
    values = [*history.added, *history.deleted, *history.unchanged, member.manager_user_id]
    return {value for value in values if value}


def _clear_due_times(session: Session, flush_context: Any, instances: Any) -> None:
    managers: set[tuple[str, str]] = set()
    kudos_teams: set[str] = set()
    schedule_teams: set[str] = set()
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, Member):
            new = obj in session.new
            changed = _changed(obj, MEMBER_SCHEDULE_FIELDS)
            if not new and not changed:
                continue
            obj.next_checkin_at = None
            obj.next_digest_at = None
            if new or changed & ASKED_FIELDS:
                managers.update((obj.team_id, manager) for manager in _managers_of(obj))
            if new or changed & LEADER_FIELDS:
                kudos_teams.add(obj.team_id)
        elif isinstance(obj, Workspace) and (
            obj in session.new or _changed(obj, WORKSPACE_SCHEDULE_FIELDS)
        ):
            obj.next_kudos_digest_at = None
            schedule_teams.add(obj.team_id)
    # Core statements on the flush's own connection: rows not loaded in this session are
    # cleared too, without loading them (and without a nested flush).
    connection = session.connection()
    members = Member.__table__
    workspaces = Workspace.__table__
    if managers:
        connection.execute(
            update(members)
            .where(
                or_(
                    *(
                        and_(members.c.team_id == team, members.c.user_id == user)  # type: ignore[attr-defined]
                        for team, user in sorted(managers)
                    )
                )
            )
            .values(next_digest_at=None)
        )
    if kudos_teams - schedule_teams:
        connection.execute(
            update(workspaces)
            .where(workspaces.c.team_id.in_(sorted(kudos_teams - schedule_teams)))  # type: ignore[attr-defined]
            # updated_at kept: it says when settings changed (its onupdate would fire on any
            # UPDATE of the row), and a stored due time is bookkeeping, not a setting.
            .values(next_kudos_digest_at=None, updated_at=workspaces.c.updated_at)  # type: ignore[attr-defined]
        )
    if schedule_teams:
        connection.execute(
            update(members)
            .where(members.c.team_id.in_(sorted(schedule_teams)))  # type: ignore[attr-defined]
            .values(next_checkin_at=None, next_digest_at=None)
        )


def install() -> None:
    """Listen on every session's flush (idempotent: called by each session factory)."""
    if not event.contains(Session, "before_flush", _clear_due_times):
        event.listen(Session, "before_flush", _clear_due_times)
