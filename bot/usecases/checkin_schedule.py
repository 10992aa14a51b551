"""When check-ins and the manager's digests are due, and pauses: the time arithmetic and the
planning of bot.usecases.checkins, inside the caller's session (never committing).
- A check-in is due at the workspace's weekday and hour in the person's own Slack time zone
  (DST-safe, ``bot.domain.local_checkin_time``). A person whose time zone was never read from
  Slack waits for it (the refresh job reads it on the next tick). A check-in more than
  ``SEND_GRACE`` late (the app was down for days) is skipped rather than sent stale.
- The manager's digest goes the day after the check-in day, at the same hour, in the
  manager's time zone (Friday 14:00 check-ins → Saturday 14:00 digest), once per week.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from bot.domain import (
    PRACTICES,
    local_checkin_time,
    next_checkin_at,
    shift_week_key,
    week_key,
    week_monday,
    zone,
)
from bot.domain.checkins import RATING_PREFIX, RatingDrop, RepWeek
from storage import checkins_queries as cq
from storage import queries
from storage.models import Member, Workspace

SEND_GRACE = timedelta(days=2)
DIGEST_GRACE = timedelta(days=2)
REMINDER_GRACE = timedelta(days=1)
TZ_REFRESH_EVERY = timedelta(days=7)
MAX_PAUSE = timedelta(days=366)


def safe_tz(tz: str | None) -> str:
    """The member's zone, or UTC when Slack gave us nothing usable."""
    try:
        zone(tz or "")
    except ValueError:
        return "UTC"
    return tz or "UTC"


def week_label(week: str) -> str:
    monday = week_monday(week)
    return f"week of {monday.day} {monday:%b}"


def local_label(moment: datetime, tz: str) -> str:
    local = moment.astimezone(zone(safe_tz(tz)))
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


# --- pausing ---------------------------------------------------------------------------------


class PauseOutOfRange(ValueError):
    """A pause written correctly that cannot be: already over, or longer than a year. Its
    message is shown to the person as is."""


_PAUSE_FOR = re.compile(r"(\d{1,3})\s*(d|day|days|w|wk|wks|week|weeks)")
_PAUSE_UNTIL = re.compile(r"until\s+(\d{4}-\d{2}-\d{2})")


def parse_pause(text: str, now: datetime, tz: str) -> datetime:
    """When a pause given as "2w", "3d" or "until 2026-12-01" ends (UTC); ValueError if the
    text is none of those; ``PauseOutOfRange`` (a ValueError) when the pause is not in the
    future or longer than a year."""
    words = " ".join(text.lower().split())
    if match := _PAUSE_FOR.fullmatch(words):
        count, unit = int(match.group(1)), match.group(2)
        until = now + (timedelta(weeks=count) if unit.startswith("w") else timedelta(days=count))
    elif match := _PAUSE_UNTIL.fullmatch(words):
        try:
            day = datetime.strptime(match.group(1), "%Y-%m-%d").date()
        except ValueError as error:
            raise ValueError(f"not a date: {match.group(1)}") from error
        # Until the start of that day where the person lives: check-ins resume on it.
        until = datetime.combine(day, time(0), tzinfo=zone(safe_tz(tz)))
    else:
        raise ValueError(f"not a pause: {text!r}")
    if until <= now:
        raise PauseOutOfRange(
            "A pause has to end in the future. Try `/checkin pause 2w` for two weeks."
        )
    if until - now > MAX_PAUSE:
        raise PauseOutOfRange(
            "A pause can last a year at most. Try `/checkin pause 4w`, or a date within a year."
        )
    return until.astimezone(UTC)


def pause(*, session: Session, team_id: str, user_id: str, until: datetime) -> None:
    queries.upsert_member(
        session=session, team_id=team_id, user_id=user_id, checkin_paused_until=until
    )
    cq.skip_checkins_before(session=session, team_id=team_id, user_id=user_id, until=until)


def resume(*, session: Session, team_id: str, user_id: str, now: datetime) -> tuple[Member, bool]:
    """End the person's pause; the member and whether they were paused at all."""
    before = queries.get_member(session=session, team_id=team_id, user_id=user_id)
    was_paused = before is not None and is_paused(before, now)
    member = queries.upsert_member(
        session=session, team_id=team_id, user_id=user_id, checkin_paused_until=None
    )
    return member, was_paused


def gets_checkins(*, session: Session, team_id: str, user_id: str) -> bool:
    """Whether the member gets weekly check-ins at all (not a bot, not deleted, not only a
    manager); for screens like Home that describe the check-in. A pause does not change it."""
    return cq.is_checkin_person(session=session, team_id=team_id, user_id=user_id)


def is_paused(member: Member, at: datetime) -> bool:
    return member.checkin_paused_until is not None and member.checkin_paused_until > at


# --- planning --------------------------------------------------------------------------------


def due_time(workspace: Workspace, tz: str, week: str) -> datetime:
    return local_checkin_time(
        week, safe_tz(tz), workspace.checkin_weekday, workspace.checkin_hour
    ).astimezone(UTC)


PLAN_BATCH = 1000
# How long a member who gets no check-in (a bot, a manager only, a zone never read) waits
# before planning looks at them again. Any change that could make them due clears the wait
# (storage.due_times); this only bounds how long a missed case could last.
PLAN_RECHECK = timedelta(days=7)
# How far behind a job's latest run a clock may be before the stored due times are cleared
# (storage.queries.clock_went_back): more than processes' clocks ever differ.
CLOCK_SKEW = timedelta(minutes=1)


def next_due_after(workspace: Workspace, tz: str, now: datetime) -> datetime:
    """The first check-in time strictly after ``now`` for someone in zone ``tz`` (this week's
    or next week's, DST-safe): when planning must look at them next."""
    this_week = week_key(now, safe_tz(tz))
    candidates = [due_time(workspace, tz, w) for w in (this_week, shift_week_key(this_week, 1))]
    return min(at for at in candidates if at > now)


def plan_due_checkins(*, session: Session, now: datetime) -> int:
    """Create this week's check-in row for everyone whose check-in time has come; returns
    how many rows were new. Safe to run in any number of processes at once (unique key per
    person and week). A paused person's week is recorded as skipped.

    Only members whose stored ``next_checkin_at`` has come (or was cleared) are read, so a
    tick costs what is due, not how many people are installed; each one read gets its next
    time stored here."""
    if queries.clock_went_back(
        session=session, name="checkins.plan", now=now, tolerance=CLOCK_SKEW
    ):
        cq.clear_next_checkins(session=session)
    created = 0
    while True:
        # Every member read gets a next time after now, so each batch reads new ones.
        due = cq.members_due_for_planning(session=session, now=now, limit=PLAN_BATCH)
        if not due:
            return created
        by_team: dict[str, list[Member]] = {}
        for member in due:
            by_team.setdefault(member.team_id, []).append(member)
        next_at: dict[int, datetime] = {}
        for team_id, members in by_team.items():
            created += _plan_team(
                session=session, team_id=team_id, members=members, now=now, next_at=next_at
            )
        cq.set_next_checkins(session=session, next_at=next_at)
        if len(due) < PLAN_BATCH:
            return created


def _plan_team(
    *,
    session: Session,
    team_id: str,
    members: list[Member],
    now: datetime,
    next_at: dict[int, datetime],
) -> int:
    """Plan one team's due members; their next look goes into ``next_at`` (member id)."""
    workspace = queries.get_workspace(session=session, team_id=team_id)
    if workspace is None:
        # Only workspaces on record are planned; creating the row clears these waits
        # (storage.queries.get_or_create_workspace).
        next_at.update({m.id: now + PLAN_RECHECK for m in members if m.id is not None})
        return 0
    rows = []
    for member in members:
        assert member.id is not None
        if not cq.is_checkin_person_row(member) or member.tz_refreshed_at is None:
            # No check-in (yet): a zone never read is read first, on this tick or the next,
            # and that read clears this wait.
            next_at[member.id] = now + PLAN_RECHECK
            continue
        tz = safe_tz(member.tz)
        next_at[member.id] = next_due_after(workspace, tz, now)
        week = week_key(now, tz)
        due = due_time(workspace, tz, week)
        if not due <= now < due + SEND_GRACE:
            continue
        rows.append(
            {
                "team_id": team_id,
                "user_id": member.user_id,
                "week_key": week,
                "due_at": due,
                "status": "skipped" if is_paused(member, due) else "pending",
            }
        )
    existing = cq.existing_checkin_keys(
        session=session, team_id=team_id, week_keys={r["week_key"] for r in rows}
    )
    missing = [r for r in rows if (r["user_id"], r["week_key"]) not in existing]
    return cq.insert_checkins_if_absent(session=session, rows=missing)


# --- the manager's digest --------------------------------------------------------------------


def digest_time(workspace: Workspace, tz: str, week: str) -> datetime:
    """The day after the check-in day, at the check-in hour, in the manager's zone."""
    tz = safe_tz(tz)
    if workspace.checkin_weekday < 6:
        local = local_checkin_time(week, tz, workspace.checkin_weekday + 1, workspace.checkin_hour)
    else:
        local = local_checkin_time(shift_week_key(week, 1), tz, 0, workspace.checkin_hour)
    return local.astimezone(UTC)


def digest_weeks_due(workspace: Workspace, tz: str, now: datetime) -> list[str]:
    """Weeks whose digest is due for a manager in zone ``tz`` at ``now`` (at most one)."""
    this_week = week_key(now, safe_tz(tz))
    due = []
    for week in (shift_week_key(this_week, -1), this_week):
        at = digest_time(workspace, tz, week)
        if at <= now < at + DIGEST_GRACE:
            due.append(week)
    return due


def next_digest_after(workspace: Workspace, tz: str, now: datetime) -> datetime:
    """The first digest time strictly after ``now`` for a manager in zone ``tz`` (last week's
    can still be ahead: a Sunday check-in's digest is on Monday): when to look next."""
    this_week = week_key(now, safe_tz(tz))
    weeks = (shift_week_key(this_week, -1), this_week, shift_week_key(this_week, 1))
    return min(at for w in weeks if (at := digest_time(workspace, tz, w)) > now)


def _ratings(answers: dict[str, str]) -> dict[str, int]:
    found = {}
    for practice in PRACTICES:
        value = answers.get(f"{RATING_PREFIX}{practice}", "")
        if value.isdigit():
            found[practice] = int(value)
    return found


def team_week(*, session: Session, manager: Member, week: str, now: datetime) -> list[RepWeek]:
    """Each report's check-in of ``week`` as the digest shows it."""
    reps = [
        r
        for r in queries.reports_of(
            session=session, team_id=manager.team_id, manager_user_id=manager.user_id
        )
        if not r.is_bot
    ]
    user_ids = [r.user_id for r in reps]
    this_week = cq.checkins_of_week(
        session=session, team_id=manager.team_id, user_ids=user_ids, week_key=week
    )
    last_week = cq.checkins_of_week(
        session=session,
        team_id=manager.team_id,
        user_ids=user_ids,
        week_key=shift_week_key(week, -1),
    )
    ids = [c.id for c in [*this_week.values(), *last_week.values()] if c.id is not None]
    answers = cq.answers_of_many(session=session, checkin_ids=ids)
    weeks: list[RepWeek] = []
    for rep in reps:
        checkin = this_week.get(rep.user_id)
        if checkin is None:
            weeks.append(RepWeek(rep.user_id, "paused" if is_paused(rep, now) else "none"))
            continue
        status = checkin.status
        if status == "skipped" and is_paused(rep, checkin.due_at):
            status = "paused"
        given = answers.get(checkin.id or 0, {})
        texts = {row["key"]: row["text"] for row in checkin.questions or []}
        shown = [
            (texts.get(key, key), given[key])
            for key in texts
            if key in given and not key.startswith(RATING_PREFIX)
        ]
        ratings = _ratings(given)
        before = last_week.get(rep.user_id)
        previous = _ratings(answers.get(before.id or 0, {})) if before is not None else {}
        drops = [
            RatingDrop(p, previous[p], ratings[p])
            for p in PRACTICES
            if p in ratings and p in previous and ratings[p] < previous[p]
        ]
        weeks.append(RepWeek(rep.user_id, status, shown, ratings, drops, checkin.id))
    return weeks


def next_checkin_label(*, workspace: Workspace, member: Member, now: datetime) -> str:
    tz = safe_tz(member.tz)
    start = max(now, member.checkin_paused_until or now)
    at = next_checkin_at(start, tz, workspace.checkin_weekday, workspace.checkin_hour)
    return local_label(at, tz)
