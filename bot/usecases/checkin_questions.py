"""Which questions a week's check-in asks (seed 000's rotation, the week's loss and commitment,
the goal's progress, the practices' ratings), and opening and answering a check-in, inside the
caller's session (never committing). Used by bot.usecases.checkins."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from bot.domain import (
    PRACTICE_LABELS,
    PRACTICES,
    local_checkin_time,
    week_key,
    week_monday,
    zone,
)
from bot.domain.checkins import (
    COMMITMENT_KEY,
    GOAL_KEY,
    LOSS_KEY,
    RATING_PREFIX,
    Question,
)
from bot.slack_text import truncate
from bot.usecases.checkin_schedule import due_time, safe_tz
from storage import checkins_queries as cq
from storage import goals_queries, queries
from storage.models import CheckIn

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
GOAL_METRIC_LABELS = {"revenue": "revenue", "deals_won": "deals won", "meetings": "meetings"}
# Goals counted from the wins themselves: asking the rep for progress would be ignored.
WIN_FED_GOAL_METRICS = frozenset({"revenue", "deals_won"})


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
