"""Resilience support after a losing streak (seed 003), without Slack.

When a loss makes a rep's run of losses exactly the workspace's `support_streak` long, the rep
gets a private DM with one resilience practice and (with a manager) an offer to talk, and the
manager a private prompt with one question for the next one-on-one. Both are outbox rows
written in the transaction that saves that loss, under post keys named after the streak (the
rep and the win that ended their previous run, or "start" before any win), so they go out once
however many processes save, retry or send, and once per streak however its losses are removed
or corrected: only a win starts a new streak. The rep's "I'd like to talk" click queues the
manager's note the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.blocks.resilience import streak_manager_prompt, streak_support_dm, talk_request_note
from bot.domain import OutcomeKind
from bot.domain.resilience import (
    DEFAULT_SUPPORT_STREAK,
    StreakOutcome,
    StreakSupport,
    support_due,
    support_reached,
)
from bot.uow import UnitOfWork, to_user
from storage import debriefs_queries as dq
from storage import queries
from storage import resilience_queries as rq

# Outbox kinds (bot.outbox_hooks): nothing needs recording when they are sent.
STREAK_REP_DM, STREAK_MANAGER_PROMPT, TALK_REQUEST = (
    "streak-support-rep",
    "streak-support-manager",
    "streak-talk-request",
)
# Enough history for the longest streak the setting allows and the rotation of practices.
RECENT_OUTCOMES = 200
# Lowering the setting brings support to reps already on a streak that long, when its latest
# loss is this recent: a run of losses nobody has added to for a month is not brought up out of
# the blue by an admin's settings change (the next loss, if any, is judged as usual).
LOWERED_STREAK_RECENCY = timedelta(days=30)


def streak_key(user_id: str, after_win_id: int | None, what: str) -> str:
    """One post key per streak and message: the rep and the win before the streak ("start"
    when none). Not its first loss: a rep who removes that loss from Home would give the same
    streak a new key, and its 4th loss would bring the support again."""
    anchor = "start" if after_win_id is None else f"after-{after_win_id}"
    return f"streak:{user_id}:{anchor}:{what}"


def talk_key(user_id: str, first_loss_id: int) -> str:
    """The "I'd like to talk" note's key: the loss its button names (the DM's value)."""
    return f"streak:{user_id}:{first_loss_id}:talk"


def _manager_id(uow: UnitOfWork, team_id: str, user_id: str) -> str | None:
    manager = queries.manager_of(session=uow.session, team_id=team_id, user_id=user_id)
    if manager is None or manager.deleted or manager.user_id == user_id:
        return None
    return manager.user_id


def _history(uow: UnitOfWork, team_id: str, user_id: str) -> list[StreakOutcome]:
    rows = rq.recent_outcomes(
        session=uow.session, team_id=team_id, user_id=user_id, limit=RECENT_OUTCOMES
    )
    return [StreakOutcome(id=i, kind=OutcomeKind(kind), at=at) for i, kind, at in rows]


def queue_streak_support(
    uow: UnitOfWork, *, team_id: str, user_id: str, latest_deal: str
) -> StreakSupport | None:
    """Called in the unit of work that saved a loss: queue the streak's support when this loss
    completed it. None when it didn't (shorter, longer, or ended)."""
    rq.lock_rep(session=uow.session, team_id=team_id, user_id=user_id)
    # Read after the lock, fresh: a settings save that lowered the streak and committed while
    # this waited is seen (queue_support_for_lowered_streak covers the other order).
    streak = rq.support_streak(session=uow.session, team_id=team_id, default=DEFAULT_SUPPORT_STREAK)
    support = support_due(_history(uow, team_id, user_id), streak=streak)
    if support is None:
        return None
    _queue_support(uow, team_id, user_id, support, latest_deal)
    return support


def _queue_support(
    uow: UnitOfWork, team_id: str, user_id: str, support: StreakSupport, latest_deal: str
) -> bool:
    """The rep's DM and their manager's prompt, under the streak's post keys (the rep and the
    win before the streak): however often or wherever this runs, each goes out once per streak.
    True when the rep's DM was new."""
    manager = _manager_id(uow, team_id, user_id)
    added = uow.outbox.add(
        team_id=team_id,
        post_key=streak_key(user_id, support.after_win_id, "rep"),
        kind=STREAK_REP_DM,
        to=to_user(user_id),
        message=streak_support_dm(support, latest_deal=latest_deal, manager_user_id=manager),
    )
    if manager is not None:
        uow.outbox.add(
            team_id=team_id,
            post_key=streak_key(user_id, support.after_win_id, "manager"),
            kind=STREAK_MANAGER_PROMPT,
            to=to_user(manager),
            message=streak_manager_prompt(support, rep_user_id=user_id, latest_deal=latest_deal),
        )
    return added


def queue_support_for_lowered_streak(
    uow: UnitOfWork, *, team_id: str, old_streak: int, new_streak: int
) -> int:
    """Called in the unit of work that saves the settings: when the admin lowered the streak
    setting, the reps already on a run of losses at least the new length (its latest loss
    recent, LOWERED_STREAK_RECENCY) get the support they would have had, had the setting been
    this low when their loss came in. Raising it (or keeping it) sends nothing. A streak that
    had its support already, at the old length or an earlier save, is the same streak (named
    by the win before it, streak_key): its post keys keep it to one DM and one prompt. Returns
    how many reps got a new DM.

    Each rep's row is locked before their history is read, as a loss's save does (bot.usecases.
    resilience.queue_streak_support): a loss saved at the same moment either is seen here, or
    its own save reads the new setting, so the streak is not missed between the two."""
    if new_streak >= old_streak:
        return 0
    since = uow.now() - LOWERED_STREAK_RECENCY
    queued = 0
    for user_id in rq.reps_with_losses_since(session=uow.session, team_id=team_id, since=since):
        rq.lock_rep(session=uow.session, team_id=team_id, user_id=user_id)
        history = _history(uow, team_id, user_id)
        support = support_reached(history, streak=new_streak)
        if support is None:
            continue
        newest = max(history, key=lambda o: (o.at, o.id))
        latest = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=newest.id)
        deal = latest.deal if latest is not None else ""
        queued += _queue_support(uow, team_id, user_id, support, deal)
    return queued


@dataclass(frozen=True)
class TalkRequested:
    manager_user_id: str
    first_time: bool  # False: an earlier click told the manager already


@dataclass(frozen=True)
class NoManager:
    """The rep has no manager in Rebound (any more): nobody to tell."""


@dataclass(frozen=True)
class NotTheirStreak:
    owner_user_id: str


@dataclass(frozen=True)
class StreakGone:
    """The loss that started the streak is no longer in Rebound (removed, or forgotten)."""


def _streak_length(history: list[StreakOutcome], first_loss_id: int) -> int:
    ordered = sorted(history, key=lambda o: (o.at, o.id))
    start = next((i for i, o in enumerate(ordered) if o.id == first_loss_id), None)
    if start is None:
        return 0
    length = 0
    for outcome in ordered[start:]:
        if outcome.kind is not OutcomeKind.LOSS:
            break
        length += 1
    return length


def record_talk_request(
    uow: UnitOfWork, *, team_id: str, user_id: str, first_loss_id: int
) -> TalkRequested | NoManager | NotTheirStreak | StreakGone:
    """The rep clicked "I'd like to talk" on their streak's DM: queue the manager's private
    note (once per streak: its post key)."""
    loss = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=first_loss_id)
    if loss is None or loss.kind != OutcomeKind.LOSS.value:
        return StreakGone()
    if loss.user_id != user_id:
        return NotTheirStreak(owner_user_id=loss.user_id)
    manager = _manager_id(uow, team_id, user_id)
    if manager is None:
        return NoManager()
    losses = max(_streak_length(_history(uow, team_id, user_id), first_loss_id), 1)
    added = uow.outbox.add(
        team_id=team_id,
        post_key=talk_key(user_id, first_loss_id),
        kind=TALK_REQUEST,
        to=to_user(manager),
        message=talk_request_note(rep_user_id=user_id, losses=losses),
    )
    return TalkRequested(manager_user_id=manager, first_time=added)
