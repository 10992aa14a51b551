"""Weekly check-ins' use cases: planning, the DMs, reminders, answers, pauses, digests. When
things are due is bot.usecases.checkin_schedule; which questions a week asks, and answering,
bot.usecases.checkin_questions.

Database work only (no Slack calls). The functions that take a unit of work (bot.uow) are the
use cases of the listeners and jobs: they save the fact and queue, in the same transaction, the
messages it causes as outbox rows (the check-in DM with the check-in claimed, the reminder with
the check-in marked reminded, the digest, the thank-you with the answers), each built by a
Block Kit builder the caller hands in (use cases never import blocks); the dispatcher sends
them, and the hooks registered at the end of this module record the sent DM on the check-in
(its channel and ts) in the dispatcher's transaction. The others work inside the caller's
session and never commit. Decisions:
- Who gets a check-in: every active member (not a bot, not deleted) who is not *only* a
  manager, i.e. everyone known from the settings' teams or from a Slack profile, except
  managers who report to nobody (see ``storage.checkins_queries.checkin_people``).
- When a check-in and a manager's digest are due: see bot.usecases.checkin_schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.domain.checkins import Question, RepWeek
from bot.domain.people import SlackProfile
from bot.outbox_hooks import register_hooks
from bot.uow import UnitOfWork, to_user
from bot.usecases.checkin_questions import (
    OpenCheckIn,
    ensure_questions,
    open_checkin_by_id,
    open_week_checkin,
    save_checkin_answers,
)
from bot.usecases.checkin_schedule import (
    CLOCK_SKEW,
    PLAN_RECHECK,
    REMINDER_GRACE,
    SEND_GRACE,
    TZ_REFRESH_EVERY,
    digest_weeks_due,
    is_paused,
    local_label,
    next_checkin_label,
    next_digest_after,
    pause,
    plan_due_checkins,
    resume,
    safe_tz,
    team_week,
    week_label,
)
from bot.usecases.members import remember_profile
from storage import checkins_queries as cq
from storage import outbox_queries, queries
from storage.models import CheckIn, Member, OutboxMessage, Workspace

# --- use cases: a unit of work each, the messages they cause queued in it ---------------------

# Outbox kinds (they name the hooks below and the posts in metrics).
CHECKIN_DM = "checkin"
REMINDER = "checkin_reminder"
DIGEST = "checkin_digest"
ANSWERED = "checkin_answered"
# A claimed check-in whose DM is in the outbox is claimed again after this long (its row
# then exists already, so that only refreshes the claim): a claim left by anything that died
# before queueing the DM (an older version's process mid-send) is taken over after it.
CLAIM_LEASE = timedelta(minutes=5)


def checkin_post_key(checkin_id: int) -> str:
    return f"checkin:{checkin_id}"


def digest_post_key(manager_user_id: str, week: str) -> str:
    return f"checkin-digest:{manager_user_id}:{week}"


def plan(uow: UnitOfWork) -> int:
    """This week's check-in rows for everyone whose time has come (see plan_due_checkins)."""
    return plan_due_checkins(session=uow.session, now=uow.now())


# The caller's Block Kit builders (use cases never import blocks): the check-in DM from its id,
# questions and week label; the reminder from the id and week label; the digest from the week
# label and the reps' weeks.
CheckinMessage = Callable[[int, list[Question], str], Mapping[str, Any]]
ReminderMessage = Callable[[int, str], Mapping[str, Any]]
DigestMessage = Callable[[str, list[RepWeek]], Mapping[str, Any]]


def queue_due_checkins(uow: UnitOfWork, *, worker: str, limit: int, message: CheckinMessage) -> int:
    """Claim up to `limit` due check-ins and queue each one's DM (built by `message`), in this
    transaction (the claim and the DM commit together, or neither); returns how many were
    claimed (0: none left). A check-in more than SEND_GRACE late, or for someone gone or
    paused, is skipped."""
    now = uow.now()
    claimed = cq.claim_due_checkins(
        session=uow.session, now=now, lease=CLAIM_LEASE, claimed_by=worker, limit=limit
    )
    for checkin in claimed:
        assert checkin.id is not None
        member = queries.get_member(
            session=uow.session, team_id=checkin.team_id, user_id=checkin.user_id
        )
        if (
            member is None
            or member.deleted
            or member.is_bot
            or is_paused(member, checkin.due_at)
            or now > checkin.due_at + SEND_GRACE
        ):
            cq.finish_claim(
                session=uow.session,
                checkin_id=checkin.id,
                claimed_by=worker,
                status="skipped",
                now=now,
            )
            continue
        questions = ensure_questions(session=uow.session, checkin=checkin, tz=member.tz, now=now)
        uow.outbox.add(
            team_id=checkin.team_id,
            post_key=checkin_post_key(checkin.id),
            kind=CHECKIN_DM,
            to=to_user(checkin.user_id),
            message=message(checkin.id, questions, week_label(checkin.week_key)),
        )
    return len(claimed)


def queue_reminders(
    uow: UnitOfWork, *, limit: int, exclude_ids: set[int], message: ReminderMessage
) -> int:
    """Mark up to `limit` unanswered check-ins reminded and queue their reminders, together;
    the ids looked at join `exclude_ids`. Returns how many were looked at (0: none left)."""
    now = uow.now()
    due = cq.reminders_due(
        session=uow.session, now=now, grace=REMINDER_GRACE, limit=limit, exclude_ids=exclude_ids
    )
    for checkin, _hours in due:
        assert checkin.id is not None
        exclude_ids.add(checkin.id)
        member = queries.get_member(
            session=uow.session, team_id=checkin.team_id, user_id=checkin.user_id
        )
        if member is not None and is_paused(member, now):
            continue
        cq.mark_reminded(session=uow.session, checkin_id=checkin.id, now=now)
        uow.outbox.add(
            team_id=checkin.team_id,
            post_key=f"checkin-reminder:{checkin.id}",
            kind=REMINDER,
            to=to_user(checkin.user_id),
            message=message(checkin.id, week_label(checkin.week_key)),
        )
    return len(due)


def members_needing_tz_refresh(
    uow: UnitOfWork, *, now: datetime, limit: int, exclude_ids: Iterable[int]
) -> list[Member]:
    """Up to `limit` members whose time zone was never read, or not for TZ_REFRESH_EVERY."""
    return cq.members_needing_tz_refresh(
        session=uow.session,
        stale_before=now - TZ_REFRESH_EVERY,
        limit=limit,
        exclude_ids=exclude_ids,
    )


def take_tz_refresh(uow: UnitOfWork, *, member_id: int, previous: datetime, now: datetime) -> bool:
    """Take this member's time-zone read for this process (False: another process has it)."""
    return cq.take_tz_refresh(session=uow.session, member_id=member_id, previous=previous, now=now)


def release_tz_refresh(
    uow: UnitOfWork, *, member_id: int, taken_at: datetime, previous: datetime
) -> None:
    """A read that failed gives the member back as it was (read again later)."""
    cq.release_tz_refresh(
        session=uow.session, member_id=member_id, taken_at=taken_at, previous=previous
    )


def check_digest_clock(uow: UnitOfWork) -> None:
    """A clock that went back (a restored backup, a test) makes every stored digest time
    suspect: they are worked out again from now."""
    if queries.clock_went_back(
        session=uow.session, name="checkins.digest", now=uow.now(), tolerance=CLOCK_SKEW
    ):
        cq.clear_next_digests(session=uow.session)


def queue_digests(
    uow: UnitOfWork, *, limit: int, exclude_ids: set[int], message: DigestMessage
) -> int:
    """Queue the due digests of up to `limit` members whose stored digest time has come (the
    ids looked at join `exclude_ids`), each manager's digest of the week once (its post key is
    the manager and the week), and store each member's next digest time; returns how many
    members were looked at."""
    now = uow.now()
    session = uow.session
    due = cq.members_due_for_digest(session=session, now=now, limit=limit, exclude_ids=exclude_ids)
    if not due:
        return 0
    managers = cq.who_has_reports(session=session, members=due)
    next_at: dict[int, datetime] = {}
    for member in due:
        assert member.id is not None
        exclude_ids.add(member.id)
        is_manager = (member.team_id, member.user_id) in managers and not member.deleted
        workspace = (
            queries.get_or_create_workspace(session=session, team_id=member.team_id)
            if is_manager
            else queries.get_workspace(session=session, team_id=member.team_id)
        )
        if workspace is None:
            next_at[member.id] = now + PLAN_RECHECK  # no settings, no digest
            continue
        if is_manager:
            _queue_digest(uow, manager=member, workspace=workspace, message=message)
        next_at[member.id] = next_digest_after(workspace, member.tz, now)
    cq.set_next_digests(session=session, next_at=next_at)
    return len(due)


def _queue_digest(
    uow: UnitOfWork, *, manager: Member, workspace: Workspace, message: DigestMessage
) -> None:
    for week in digest_weeks_due(workspace, manager.tz, uow.now()):
        post_key = digest_post_key(manager.user_id, week)
        if outbox_queries.get(session=uow.session, team_id=manager.team_id, post_key=post_key):
            continue  # queued already (and maybe sent): nothing to work out again
        reps = team_week(session=uow.session, manager=manager, week=week, now=uow.now())
        if all(r.status in ("none", "paused") for r in reps):
            continue  # nobody was asked this week: nothing to tell
        uow.outbox.add(
            team_id=manager.team_id,
            post_key=post_key,
            kind=DIGEST,
            to=to_user(manager.user_id),
            message=message(week_label(week), reps),
        )


def known_tz(uow: UnitOfWork, *, team_id: str, user_id: str) -> str | None:
    """The person's time zone when it was read from Slack already; None: read it first."""
    member = queries.get_member(session=uow.session, team_id=team_id, user_id=user_id)
    if member is not None and member.tz_refreshed_at is not None:
        return safe_tz(member.tz)
    return None


def remember_tz(
    uow: UnitOfWork, *, team_id: str, user_id: str, profile: SlackProfile | None
) -> str:
    """Record what Slack said of the person (None: Slack was unreachable, UTC for now and the
    zone is read another time); their zone."""
    if profile is not None:
        member = remember_profile(
            session=uow.session, team_id=team_id, profile=profile, now=uow.now()
        )
    else:
        member = queries.upsert_member(session=uow.session, team_id=team_id, user_id=user_id)
    return safe_tz(member.tz)


def open_week(uow: UnitOfWork, *, team_id: str, user_id: str, tz: str) -> OpenCheckIn:
    return open_week_checkin(
        session=uow.session, team_id=team_id, user_id=user_id, tz=tz, now=uow.now()
    )


def open_by_id(
    uow: UnitOfWork, *, team_id: str, user_id: str, checkin_id: int, tz: str
) -> OpenCheckIn | None:
    return open_checkin_by_id(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        checkin_id=checkin_id,
        tz=tz,
        now=uow.now(),
    )


@dataclass(frozen=True)
class Paused:
    until_label: str


def pause_until(uow: UnitOfWork, *, team_id: str, user_id: str, until: datetime, tz: str) -> Paused:
    pause(session=uow.session, team_id=team_id, user_id=user_id, until=until)
    return Paused(local_label(until, tz))


@dataclass(frozen=True)
class Resumed:
    was_paused: bool
    next_label: str


def resume_checkins(uow: UnitOfWork, *, team_id: str, user_id: str) -> Resumed:
    now = uow.now()
    member, was_paused = resume(session=uow.session, team_id=team_id, user_id=user_id, now=now)
    workspace = queries.get_or_create_workspace(session=uow.session, team_id=team_id)
    return Resumed(was_paused, next_checkin_label(workspace=workspace, member=member, now=now))


def owner_of(uow: UnitOfWork, *, team_id: str, checkin_id: int) -> str | None:
    """Who the check-in belongs to, when it is of this workspace (to say whose it is)."""
    checkin = cq.get_checkin(session=uow.session, checkin_id=checkin_id)
    return checkin.user_id if checkin is not None and checkin.team_id == team_id else None


@dataclass(frozen=True)
class Skip:
    """What a click on Skip did: `skipped` (the DM becomes "skipped"), or not, with the
    check-in's status (answered: say so; being sent: nothing), or `not_yours`."""

    week: str = ""
    skipped: bool = False
    status: str = ""
    not_yours: bool = False


def skip(uow: UnitOfWork, *, team_id: str, user_id: str, checkin_id: int) -> Skip:
    checkin = cq.get_checkin(session=uow.session, checkin_id=checkin_id)
    if checkin is None or (checkin.team_id, checkin.user_id) != (team_id, user_id):
        return Skip(not_yours=True)
    if cq.skip_checkin(session=uow.session, checkin_id=checkin_id):
        return Skip(week=checkin.week_key, skipped=True, status="skipped")
    # Not skippable (answered, or its DM being sent this instant): as this transaction read it.
    return Skip(week=checkin.week_key, skipped=False, status=checkin.status)


def checkin_to_answer(
    uow: UnitOfWork, *, team_id: str, user_id: str, checkin_id: int
) -> CheckIn | None:
    """The check-in a submitted form answers, if it is this person's (else None: forged or
    misrouted, nothing is saved)."""
    checkin = cq.get_checkin(session=uow.session, checkin_id=checkin_id)
    if checkin is None or (checkin.team_id, checkin.user_id) != (team_id, user_id):
        return None
    return checkin


def answer(
    uow: UnitOfWork,
    *,
    checkin: CheckIn,
    answers: dict[str, str],
    submission_key: str,
    thanks: Callable[[str], Mapping[str, Any]],
) -> None:
    """Save the answers and queue one thank-you (built by `thanks` from the week label) per
    submitted view (`submission_key`): Slack's retries and double clicks save the same answers
    again and post once."""
    save_checkin_answers(session=uow.session, checkin=checkin, answers=answers, now=uow.now())
    uow.outbox.add(
        team_id=checkin.team_id,
        post_key=f"checkin-answered:{submission_key}",
        kind=ANSWERED,
        to=to_user(checkin.user_id),
        message=thanks(week_label(checkin.week_key)),
    )


# --- outbox hooks: what the check-in records when its DM is sent or can never be ----------------


def _checkin_id_of(row: OutboxMessage) -> int | None:
    prefix = checkin_post_key(0)[:-1]
    tail = row.post_key[len(prefix) :] if row.post_key.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def _checkin_dm_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    """The DM is in Slack: the check-in is sent (the reminder counts from now), and its
    channel and ts are kept."""
    checkin_id = _checkin_id_of(row)
    if checkin_id is not None:
        cq.record_sent(
            session=session, checkin_id=checkin_id, channel_id=channel, message_ts=ts, now=now
        )


def _checkin_dm_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    """Slack will never take it (the person is gone, say): the week counts as skipped."""
    checkin_id = _checkin_id_of(row)
    if checkin_id is not None:
        cq.skip_claimed(session=session, checkin_id=checkin_id)


register_hooks(CHECKIN_DM, on_sent=_checkin_dm_sent, on_failed=_checkin_dm_failed)
