"""The outbox table's queries (see storage.models.OutboxMessage and bot.dispatcher).

States: ``pending`` (due at ``not_before``) → ``sending`` (claimed by one dispatcher until
``lease_until``) → ``sent`` | ``failed``; or ``sending`` → ``unknown`` when Slack may have taken
the message without us learning so (a 5xx, a timeout, a process that died mid-send, a lease
that ran out mid-send); an unknown row is looked up in Slack (``claim_unknown``) before it is
ever sent again.

Every write that settles a claimed row is conditional on the claim (``claimed_by`` and the
state it was claimed in): a process whose claim was lost (its lease ran out, another took the
row) is refused (False) and must leave the row to its new owner. Nothing ever moves a ``sent``
row.

Like every query module: keyword-only ``session=``, never commits. A claim is only a claim once
the caller's transaction commits; the dispatcher commits it before calling Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, literal, or_, select, update
from sqlmodel import Session

from storage.claims import claim_ids
from storage.models import ApiSlot, OutboxMessage
from storage.queries import _insert_if_absent

_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]

# A lease that ran out while ``sending`` with an attempt recorded: its request may still be in
# flight (a slow answer, a paused process, clocks apart) or its answer being recorded. The row
# is looked for in Slack no sooner than this (bot.dispatcher.RECONCILE_DELAY), never sent again
# before it has been looked for.
EXPIRED_RECHECK = timedelta(seconds=30)


def enqueue(
    *,
    session: Session,
    team_id: str,
    post_key: str,
    kind: str,
    target_kind: str,
    target_id: str | None,
    payload: Mapping[str, Any],
    now: datetime,
    method: str = "chat.postMessage",
    not_before: datetime | None = None,
) -> bool:
    """Insert the row unless ``post_key`` is already queued (or sent) for this team; True when
    inserted. Race-safe: of two transactions enqueueing one key, one row survives."""
    return _insert_if_absent(
        session,
        _TABLE,
        {
            "team_id": team_id,
            "post_key": post_key,
            "kind": kind,
            "target_kind": target_kind,
            "target_id": target_id,
            "payload": dict(payload),
            "method": method,
            "not_before": not_before or now,
            "attempts": 0,
            "state": "pending",
            "created_at": now,
        },
        ["team_id", "post_key"],
    )


def get(*, session: Session, team_id: str, post_key: str) -> OutboxMessage | None:
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.team_id == team_id, OutboxMessage.post_key == post_key)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    return session.execute(statement).scalars().first()


def get_by_id(*, session: Session, row_id: int) -> OutboxMessage | None:
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.id == row_id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    return session.execute(statement).scalars().first()


def _claim(
    session: Session,
    *,
    due: list[Any],
    limit: int,
    values: Mapping[str, Any],
    skip_teams: Iterable[str] = (),
) -> list[OutboxMessage]:
    """Claim up to ``limit`` rows matching ``due``, oldest first (storage.claims: ``FOR UPDATE
    SKIP LOCKED`` on PostgreSQL, the file lock and the conditions checked again on SQLite)."""
    skipped = list(skip_teams)
    if skipped:
        due = [*due, _TABLE.c.team_id.not_in(skipped)]
    ids = claim_ids(
        session=session,
        table=_TABLE,
        due=due,
        order_by=(_TABLE.c.not_before, _TABLE.c.id),
        limit=limit,
        values=values,
    )
    if not ids:
        return []
    rows = session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))  # type: ignore[union-attr]
        .order_by(OutboxMessage.not_before, OutboxMessage.id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


def claim_due(
    *,
    session: Session,
    limit: int,
    now: datetime,
    worker: str,
    lease: timedelta,
    skip_teams: Iterable[str] = (),
) -> list[OutboxMessage]:
    """Claim pending rows due by ``now`` for sending (state ``sending`` until ``now + lease``),
    oldest first; ``skip_teams``: workspaces this dispatcher holds back (a 429's Retry-After)."""
    return _claim(
        session,
        due=[_TABLE.c.state == "pending", _TABLE.c.not_before <= now],
        limit=limit,
        values={"state": "sending", "claimed_by": worker, "lease_until": now + lease},
        skip_teams=skip_teams,
    )


def claim_unknown(
    *,
    session: Session,
    limit: int,
    now: datetime,
    worker: str,
    lease: timedelta,
    skip_teams: Iterable[str] = (),
) -> list[OutboxMessage]:
    """Claim unknown rows due for a look in Slack; they stay ``unknown`` (leased to ``worker``)
    until ``mark_sent`` (found) or ``reschedule`` (not found: sent as usual). Call
    ``expire_leases`` first so rows of a process that died mid-send are among them."""
    return _claim(
        session,
        due=[
            _TABLE.c.state == "unknown",
            _TABLE.c.not_before <= now,
            or_(_TABLE.c.lease_until.is_(None), _TABLE.c.lease_until < now),
        ],
        limit=limit,
        values={"claimed_by": worker, "lease_until": now + lease},
        skip_teams=skip_teams,
    )


def expire_leases(*, session: Session, now: datetime, recheck: timedelta = EXPIRED_RECHECK) -> int:
    """A ``sending`` row whose lease ran out belongs to a process that died mid-send, lost its
    database between Slack's answer and the mark, or is still waiting for Slack: Slack may have
    it, so it is unknown, looked for in Slack from ``now + recheck`` (never at once: the
    request may not have reached Slack yet). A row no attempt was ever recorded for never left
    (``record_attempt`` comes before every request): it is looked at from ``now`` (and sent)."""
    attempted = and_(_TABLE.c.attempt_channel.is_not(None), _TABLE.c.first_attempt_at.is_not(None))
    check_at = case(
        (attempted, literal(now + recheck, type_=_TABLE.c.not_before.type)),
        else_=literal(now, type_=_TABLE.c.not_before.type),
    )
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.state == "sending", _TABLE.c.lease_until < now)
        .values(state="unknown", claimed_by=None, lease_until=None, not_before=check_at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def record_attempt(
    *,
    session: Session,
    row_id: int,
    worker: str,
    channel: str | None,
    now: datetime,
    lease_left: timedelta,
) -> bool:
    """Note, before the request leaves, which conversation it goes to (where to look if its
    outcome is lost) and count it as an attempt. False when the claim was lost meanwhile, or
    less than ``lease_left`` of it remains (the request could outlive it, and another
    dispatcher would then take the row for unknown while it is still in flight)."""
    result = session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.id == row_id,
            _TABLE.c.state == "sending",
            _TABLE.c.claimed_by == worker,
            _TABLE.c.lease_until >= now + lease_left,
        )
        .values(
            attempt_channel=channel,
            attempts=_TABLE.c.attempts + 1,
            first_attempt_at=_coalesce(_TABLE.c.first_attempt_at, now),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _coalesce(column: Any, value: datetime) -> Any:
    from sqlalchemy import func, literal

    return func.coalesce(column, literal(value, type_=_TABLE.c.first_attempt_at.type))


def record_upload_files(*, session: Session, row_id: int, worker: str, attempt_files: str) -> bool:
    """Note an upload attempt's file (``attempt_files``: every attempt's first file id so far),
    before its share is asked for: what files.info is asked about if the answer is lost. False
    when the claim was lost meanwhile."""
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == row_id, _TABLE.c.state == "sending", _TABLE.c.claimed_by == worker)
        .values(attempt_files=attempt_files)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_unknown(
    *,
    session: Session,
    row_id: int,
    worker: str,
    not_before: datetime | None,
    history_cursor: str | None = None,
) -> bool:
    """Give an unknown row back unsettled (this workspace's history slot is taken, or the read
    failed): still unknown, to be looked up again from ``not_before``; with
    ``history_cursor``, from that page of the history on (for whichever process reads next)."""
    values: dict[str, Any] = {"claimed_by": None, "lease_until": None}
    if not_before is not None:
        values["not_before"] = not_before
    if history_cursor is not None:
        values["history_cursor"] = history_cursor
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == row_id, _TABLE.c.state == "unknown", _TABLE.c.claimed_by == worker)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _settles(worker: str, *, unclaimed_unknown: bool = False) -> Any:
    """The rows ``worker`` may settle: the ones it holds (``sending``, or ``unknown`` while it
    looks for them in Slack); with ``unclaimed_unknown``, also an unknown row nobody is looking
    for right now (a definite "Slack has it" settles it, whoever heard it)."""
    held = and_(_TABLE.c.state.in_(("sending", "unknown")), _TABLE.c.claimed_by == worker)
    if not unclaimed_unknown:
        return held
    return or_(held, and_(_TABLE.c.state == "unknown", _TABLE.c.claimed_by.is_(None)))


def mark_sent(
    *,
    session: Session,
    row_id: int,
    worker: str,
    channel: str | None,
    ts: str | None,
    now: datetime,
) -> bool:
    """Record that Slack has the message; True the first time (then run the kind's on_sent
    hook in the same transaction). Only ``worker``'s own claim (sending, or the unknown row it
    is reconciling), or an unknown row nobody holds: a process whose lease ran out and whose
    row another took is refused (False), as is a row already sent or failed."""
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == row_id, _settles(worker, unclaimed_unknown=True))
        .values(
            state="sent",
            sent_channel=channel,
            sent_ts=ts,
            sent_at=now,
            claimed_by=None,
            lease_until=None,
            last_error=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_unknown(
    *, session: Session, row_id: int, worker: str, error: str, check_at: datetime
) -> bool:
    """Slack may or may not have taken it: look for it in Slack at ``check_at``, never resend
    before that."""
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == row_id, _TABLE.c.state == "sending", _TABLE.c.claimed_by == worker)
        .values(
            state="unknown",
            claimed_by=None,
            lease_until=None,
            not_before=check_at,
            last_error=error,
            history_cursor=None,  # each search starts from the newest page
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reschedule(
    *,
    session: Session,
    row_id: int,
    worker: str,
    not_before: datetime,
    error: str | None,
    uncount_attempt: bool = False,
) -> bool:
    """Back to pending until ``not_before`` (Slack said no for now, or a 429, or the target is
    not known yet). ``uncount_attempt``: the request never counted (a 429 answered it)."""
    values: dict[str, Any] = {
        "state": "pending",
        "claimed_by": None,
        "lease_until": None,
        "not_before": not_before,
        "last_error": error,
    }
    if uncount_attempt:
        values["attempts"] = _TABLE.c.attempts - 1
    result = session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.id == row_id,
            _TABLE.c.state.in_(("sending", "unknown")),
            _TABLE.c.claimed_by == worker,
        )
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(*, session: Session, row_id: int, worker: str, error: str, now: datetime) -> bool:
    """Slack can never take it (a permanent error, an uninstalled workspace, too many
    attempts); True the first time. Only ``worker``'s own claim: a lost claim is refused
    (False), and a sent row is never failed."""
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == row_id, _settles(worker))
        .values(state="failed", claimed_by=None, lease_until=None, last_error=error, sent_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_pending(*, session: Session, team_id: str, post_key: str, reason: str) -> bool:
    """Call off a row no dispatcher has claimed: ``failed`` with ``reason``, so it is never sent
    and its key stays used. True when it was pending; False when it is being sent, is unknown,
    or is settled (a claim on PostgreSQL locks the row, so this waits for it and then finds it
    ``sending``). No hook runs: the caller records what calling it off means."""
    result = session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.team_id == team_id,
            _TABLE.c.post_key == post_key,
            _TABLE.c.state == "pending",
        )
        .values(state="failed", last_error=reason, claimed_by=None, lease_until=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def rows_of(*, session: Session, team_id: str) -> list[OutboxMessage]:
    """Every row of one workspace, oldest first (tests, the data export)."""
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.team_id == team_id)  # type: ignore[arg-type]
        .order_by(OutboxMessage.id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    return list(session.execute(statement).scalars().all())


def wake_recognition_channel_rows(*, session: Session, team_id: str) -> int:
    """The workspace's recognition channel changed: its rows waiting for one (none was set, or
    the bot couldn't post in the old one) are due at once. Due "at once" is their creation time,
    which is in the past on every clock."""
    result = session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.team_id == team_id,
            _TABLE.c.target_kind == "recognition_channel",
            _TABLE.c.state == "pending",
        )
        .values(not_before=_TABLE.c.created_at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- slots of a method every process shares (storage.models.ApiSlot) -----------------------------

_SLOTS = ApiSlot.__table__  # type: ignore[attr-defined]


def take_api_slot(
    *, session: Session, team_id: str, method: str, now: datetime, interval: timedelta
) -> bool:
    """Take the workspace's next slot for `method` if it is free at `now` (True; the next one is
    then `now + interval`), else False. One conditional write, so of several processes asking at
    once exactly one gets it: on PostgreSQL the second UPDATE waits for the first's commit and
    then finds the slot taken; on SQLite writers are serialised."""
    taken = session.execute(
        update(_SLOTS)
        .where(_SLOTS.c.team_id == team_id, _SLOTS.c.method == method, _SLOTS.c.next_at <= now)
        .values(next_at=now + interval)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    return _insert_if_absent(
        session,
        _SLOTS,
        {"team_id": team_id, "method": method, "next_at": now + interval},
        ("team_id", "method"),
    )


def hold_api_slot(*, session: Session, team_id: str, method: str, until: datetime) -> None:
    """No slot for `method` before `until` (Slack's Retry-After), whatever was set before."""
    if not _insert_if_absent(
        session,
        _SLOTS,
        {"team_id": team_id, "method": method, "next_at": until},
        ("team_id", "method"),
    ):
        session.execute(
            update(_SLOTS)
            .where(_SLOTS.c.team_id == team_id, _SLOTS.c.method == method, _SLOTS.c.next_at < until)
            .values(next_at=until)
        )


def next_api_slot(*, session: Session, team_id: str, method: str) -> datetime | None:
    """When the workspace's next slot for `method` is free (None: never taken)."""
    return session.execute(
        select(_SLOTS.c.next_at).where(_SLOTS.c.team_id == team_id, _SLOTS.c.method == method)
    ).scalar()


def teams_without_api_slot(*, session: Session, method: str, now: datetime) -> list[str]:
    """Workspaces whose slot for `method` is taken at `now`."""
    return list(
        session.execute(
            select(_SLOTS.c.team_id).where(_SLOTS.c.method == method, _SLOTS.c.next_at > now)
        ).scalars()
    )
