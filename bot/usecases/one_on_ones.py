"""Replying to a check-in answer from the digest, and the one-on-one agenda (issue 12 §6).

A manager clicks "Reply" beside a rep's answers in their weekly digest, writes a reply, and
(ticked by default) puts that answer on the agenda of their next one-on-one. The reply reaches
the rep as an outbox DM written in the same transaction as the agenda item; both then see the
item on their Home with the rep's open commitments. Only the rep's manager may reply: checked
when the form opens and again when it is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.blocks.one_on_ones import reply_dm
from bot.domain.one_on_ones import (
    Agenda,
    AgendaItem,
    CheckInAnswerShown,
    ReplySubmission,
    ReplyTarget,
)

__all__ = ["NotTheirManager", "ReplyTarget", "SentReply", "agenda_of", "reply_target", "send_reply"]
from bot.domain.checkins import RATING_PREFIX
from bot.uow import UnitOfWork, to_user
from storage import checkins_queries as cq
from storage import debriefs_queries as dq
from storage import one_on_ones_queries as oq
from storage import queries

# The Home shows the newest open items (an open item stays until the rep or their manager marks
# it done: a point nobody got to is still there next time) and how many were marked done in the
# last four weeks, so closing one is seen to count.
DONE_WINDOW = timedelta(days=28)
AGENDA_LIMIT = 5
COMMITMENTS_SHOWN = 3
REPLY = "checkin_reply"  # the outbox kind of the reply DM


@dataclass(frozen=True)
class NotTheirManager:
    rep_user_id: str


@dataclass(frozen=True)
class SentReply:
    rep_user_id: str
    on_agenda: bool


def _is_their_manager(session: Session, team_id: str, manager_user_id: str, rep: str) -> bool:
    manager = queries.manager_of(session=session, team_id=team_id, user_id=rep)
    return manager is not None and not manager.deleted and manager.user_id == manager_user_id


def reply_target(
    *, session: Session, team_id: str, user_id: str, checkin_id: int
) -> ReplyTarget | NotTheirManager | None:
    """The answered check-in a manager replies to; None when there is none (in this
    workspace, or with no answer to reply to)."""
    checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
    if checkin is None or checkin.team_id != team_id or checkin.id is None:
        return None
    if not _is_their_manager(session, team_id, user_id, checkin.user_id):
        return NotTheirManager(rep_user_id=checkin.user_id)
    given = cq.answers_of(session=session, checkin_id=checkin.id)
    texts = {row["key"]: row["text"] for row in checkin.questions or []}
    answers = [
        CheckInAnswerShown(key=key, question=texts[key], answer=given[key])
        for key in texts
        if (given.get(key) or "").strip() and not key.startswith(RATING_PREFIX)
    ]
    if not answers:
        return None
    return ReplyTarget(checkin_id=checkin.id, rep_user_id=checkin.user_id, answers=answers)


def send_reply(
    uow: UnitOfWork,
    *,
    team_id: str,
    manager_user_id: str,
    checkin_id: int,
    submission: ReplySubmission,
    submission_key: str,
) -> SentReply | NotTheirManager | None:
    """Put the answer on the one-on-one agenda (when ticked) and queue the reply to the rep, in
    one transaction; a retried submission (same key) adds and sends nothing more."""
    session = uow.session
    target = reply_target(
        session=session, team_id=team_id, user_id=manager_user_id, checkin_id=checkin_id
    )
    if not isinstance(target, ReplyTarget):
        return target
    chosen = next((a for a in target.answers if a.key == submission.answer_key), None)
    if chosen is None:
        return None
    if submission.add_to_agenda:
        oq.add_item(
            session=session,
            team_id=team_id,
            manager_user_id=manager_user_id,
            rep_user_id=target.rep_user_id,
            checkin_id=target.checkin_id,
            question=chosen.question,
            answer=chosen.answer,
            reply=submission.reply,
            submission_key=submission_key,
            now=uow.now(),
        )
    uow.outbox.add(
        team_id=team_id,
        post_key=f"checkin-reply:{submission_key}",
        kind=REPLY,
        to=to_user(target.rep_user_id),
        message=reply_dm(
            manager_user_id,
            chosen.question,
            chosen.answer,
            submission.reply,
            on_agenda=submission.add_to_agenda,
        ),
    )
    return SentReply(rep_user_id=target.rep_user_id, on_agenda=submission.add_to_agenda)


def agenda_of(*, session: Session, team_id: str, user_id: str, now: datetime) -> Agenda:
    """What `user_id`'s Home shows of their one-on-ones: the open items about them (as the rep)
    or about someone who reports to them now, those reps' open commitments, and how many items
    were marked done in the last four weeks. An open item stays until someone marks it done.

    Who manages whom is read now, not from the item: a manager whose rep moved to another
    manager sees nothing more of that rep (neither the items they added nor the rep's
    commitments, which only the rep and their manager may read); the items follow the rep and
    show to their manager now."""
    reports = {
        m.user_id
        for m in queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
    }
    rows = oq.agenda_of(
        session=session, team_id=team_id, user_id=user_id, report_ids=reports, limit=AGENDA_LIMIT
    )
    items = [
        AgendaItem(
            manager_user_id=row.manager_user_id,
            rep_user_id=row.rep_user_id,
            question=row.question,
            answer=row.answer,
            reply=row.reply,
            added_at=row.created_at,
            item_id=row.id or 0,
        )
        for row in rows
    ]
    more_open = 0
    if len(rows) == AGENDA_LIMIT:
        more_open = oq.count_open(
            session=session, team_id=team_id, user_id=user_id, report_ids=reports
        ) - len(rows)
    done_lately = oq.count_done_since(
        session=session,
        team_id=team_id,
        user_id=user_id,
        report_ids=reports,
        since=now - DONE_WINDOW,
    )
    commitments: dict[str, list[str]] = {}
    readable = reports | {user_id}  # a rep's commitments: only theirs and their manager's now
    for rep in dict.fromkeys(item.rep_user_id for item in items if item.rep_user_id in readable):
        asked = dq.commitments_answered_in_checkins(session=session, team_id=team_id, user_id=rep)
        commitments[rep] = [
            r.answer or ""
            for r in oq.open_commitments(
                session=session,
                team_id=team_id,
                user_id=rep,
                skip_ids=asked,
                limit=COMMITMENTS_SHOWN,
            )
        ]
    return Agenda(
        viewer_id=user_id,
        items=items,
        open_commitments=commitments,
        more_open=more_open,
        done_lately=done_lately,
    )
