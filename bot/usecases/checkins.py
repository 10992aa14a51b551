"""Weekly check-ins: who is due when, which questions fit the week, answers, pauses, digests.

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
- A check-in is due at the workspace's weekday and hour in the person's own Slack time zone
  (DST-safe, ``bot.domain.local_checkin_time``). A person whose time zone was never read from
  Slack waits for it (the refresh job reads it on the next tick). A check-in more than
  ``SEND_GRACE`` late (the app was down for days) is skipped rather than sent stale.
- The manager's digest goes the day after the check-in day, at the same hour, in the
  manager's time zone (Friday 14:00 check-ins → Saturday 14:00 digest), once per week.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from bot.domain import (
    PRACTICE_LABELS,
    PRACTICES,
    local_checkin_time,
    next_checkin_at,
    shift_week_key,
    week_key,
    week_monday,
    zone,
)
from bot.domain.checkins import Question, RatingDrop, RepWeek
from bot.domain.people import SlackProfile
from bot.outbox_hooks import register_hooks
from bot.slack_text import truncate
from bot.uow import UnitOfWork, to_user
from bot.usecases.members import remember_profile
from storage import checkins_queries as cq
from storage import goals_queries, outbox_queries, queries
from storage.models import CheckIn, Member, OutboxMessage, Workspace

SEND_GRACE = timedelta(days=2)
DIGEST_GRACE = timedelta(days=2)
REMINDER_GRACE = timedelta(days=1)
TZ_REFRESH_EVERY = timedelta(days=7)
MAX_PAUSE = timedelta(days=366)

# Seed 000's questions, asked in rotation, and seed 004's "celebrate the wins".
QUESTION_BANK: tuple[tuple[str, str], ...] = (
    (
        "feedback",
        "What negative feedback have you received recently, and what lesson did you take from it?",
    ),
    ("last_loss", "What did you learn from the last opportunity you lost?"),
    (
        "missed_number",
        "What was your take-away from missing your number the last time you missed it?",
    ),
    (
        "defensive",
        "How are you learning to accept negative feedback without being reflexively defensive?",
    ),
    ("worked", "What worked this week that you want to do again?"),
)
LOSS_KEY = "loss_lesson"
COMMITMENT_KEY = "commitment"
GOAL_KEY = "goal_progress"
RATING_PREFIX = "rating_"
GOAL_METRIC_LABELS = {"revenue": "revenue", "deals_won": "deals won", "meetings": "meetings"}
# Goals counted from the wins themselves: asking the rep for progress would be ignored.
WIN_FED_GOAL_METRICS = frozenset({"revenue", "deals_won"})


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


# --- questions -------------------------------------------------------------------------------


def _asked_refs(previous: Sequence[CheckIn]) -> set[str]:
    return {row.get("ref", "") for c in previous for row in (c.questions or [])}


def choose_questions(
    *, session: Session, team_id: str, user_id: str, week: str, tz: str, now: datetime
) -> list[Question]:
    """The week's questions: a loss debriefed this week first, then the last debrief's
    commitment ("did you do it?"), then questions from the bank in rotation (three in all
    when the week gave a question of its own, else two); then the five practice ratings and
    progress toward the current goal, when it is one the rep reports (meetings or a metric of
    their own; revenue and deals won are counted from the wins)."""
    tz = safe_tz(tz)
    week_start = local_checkin_time(week, tz, 0, 0).astimezone(UTC)
    contextual: list[Question] = []
    loss = cq.latest_loss_since(session=session, team_id=team_id, user_id=user_id, since=week_start)
    if loss is not None:
        contextual.append(
            Question(
                key=LOSS_KEY,
                text=f"You debriefed the loss of {truncate(loss.deal, 120)} this week. "
                "What lesson did "
                "you take from it?",
                ref=f"outcome:{loss.id}",
            )
        )
    commitment = cq.latest_commitment(session=session, team_id=team_id, user_id=user_id)
    if (
        commitment is not None
        and commitment.commitment_followed_up is not True
        and (commitment.answer or "").strip()
        and f"reflection:{commitment.id}"
        not in _asked_refs(
            cq.recent_checkins(session=session, team_id=team_id, user_id=user_id, before_week=week)
        )
    ):
        promise = truncate(" ".join((commitment.answer or "").split()), 300)
        contextual.append(
            Question(
                key=COMMITMENT_KEY,
                text=f'After your last debrief you said you would: "{promise}". Did you do it? '
                "How did it go?",
                ref=f"reflection:{commitment.id}",
            )
        )
    bank = [(k, t) for k, t in QUESTION_BANK if not (loss is not None and k == "last_loss")]
    wanted = 3 - len(contextual) if contextual else 2
    offset = (week_monday(week).toordinal() // 7 + zlib.crc32(user_id.encode())) % len(bank)
    rotated = bank[offset:] + bank[:offset]
    questions = contextual + [Question(key=k, text=t) for k, t in rotated[: max(1, wanted)]]
    questions += [
        Question(key=f"{RATING_PREFIX}{practice}", text=PRACTICE_LABELS[practice], kind="rating")
        for practice in PRACTICES
    ]
    today = now.astimezone(zone(tz)).date()
    goal = cq.current_goal(session=session, team_id=team_id, user_id=user_id, today=today)
    if goal is not None and goal.metric not in WIN_FED_GOAL_METRICS:
        metric = goal.custom_metric or GOAL_METRIC_LABELS.get(goal.metric, goal.metric)
        questions.append(
            Question(
                key=GOAL_KEY,
                text=f"Progress toward your goal so far ({metric}, target {goal.target:g})",
                kind="number",
                ref=f"goal:{goal.id}",
            )
        )
    return questions


def ensure_questions(
    *, session: Session, checkin: CheckIn, tz: str, now: datetime
) -> list[Question]:
    """The check-in's questions, chosen and stored the first time they are needed, so the DM,
    the modal and the digest all show the same ones."""
    if checkin.questions:
        return [Question.from_row(row) for row in checkin.questions]
    questions = choose_questions(
        session=session,
        team_id=checkin.team_id,
        user_id=checkin.user_id,
        week=checkin.week_key,
        tz=tz,
        now=now,
    )
    rows = [q.as_row() for q in questions]
    assert checkin.id is not None
    cq.set_questions(session=session, checkin_id=checkin.id, questions=rows)
    checkin.questions = rows
    return questions


# --- opening and answering -------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCheckIn:
    checkin_id: int
    week: str
    questions: list[Question]
    answers: dict[str, str]


def open_week_checkin(
    *, session: Session, team_id: str, user_id: str, tz: str, now: datetime
) -> OpenCheckIn:
    """This week's check-in for `/checkin`, created on the spot when its time has not come
    (it is then still sent at its time, unless answered by then)."""
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    tz = safe_tz(tz)
    week = week_key(now, tz)
    checkin = cq.get_week_checkin(session=session, team_id=team_id, user_id=user_id, week_key=week)
    if checkin is None:
        due = due_time(workspace, tz, week)
        # Opening it after its time counts as receiving it (a reminder may follow).
        status = "pending" if due > now else "sent"
        row = {"team_id": team_id, "user_id": user_id, "week_key": week, "due_at": due}
        row |= {"status": status, "sent_at": now} if status == "sent" else {"status": status}
        cq.insert_checkins_if_absent(session=session, rows=[row])
        checkin = cq.get_week_checkin(
            session=session, team_id=team_id, user_id=user_id, week_key=week
        )
        assert checkin is not None
    return _opened(session=session, checkin=checkin, tz=tz, now=now)


def open_checkin_by_id(
    *, session: Session, team_id: str, user_id: str, checkin_id: int, tz: str, now: datetime
) -> OpenCheckIn | None:
    """The check-in behind a button, if it is this person's."""
    checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
    if checkin is None or checkin.team_id != team_id or checkin.user_id != user_id:
        return None
    return _opened(session=session, checkin=checkin, tz=tz, now=now)


def _opened(*, session: Session, checkin: CheckIn, tz: str, now: datetime) -> OpenCheckIn:
    questions = ensure_questions(session=session, checkin=checkin, tz=tz, now=now)
    assert checkin.id is not None
    answers = cq.answers_of(session=session, checkin_id=checkin.id)
    return OpenCheckIn(checkin.id, checkin.week_key, questions, answers)


def save_checkin_answers(
    *,
    session: Session,
    checkin: CheckIn,
    answers: dict[str, str],
    now: datetime,
) -> None:
    """Save the answers; a goal-progress answer also becomes the goal's progress, so `/goal`
    and Home show it (``set_goal_progress`` leaves goals counted from wins alone)."""
    questions = {row["key"]: row["text"] for row in checkin.questions or []}
    cq.save_answers(session=session, checkin=checkin, answers=answers, questions=questions, now=now)
    progress = answers.get(GOAL_KEY)
    if progress is None:
        return
    try:
        value = float(progress)
    except ValueError:
        return
    member = queries.get_member(session=session, team_id=checkin.team_id, user_id=checkin.user_id)
    today = now.astimezone(zone(safe_tz(member.tz if member is not None else None))).date()
    goals_queries.set_goal_progress(
        session=session,
        team_id=checkin.team_id,
        user_id=checkin.user_id,
        progress=value,
        today=today,
    )


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
