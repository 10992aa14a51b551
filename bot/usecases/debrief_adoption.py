"""Debriefs saved before the outbox existed whose messages were still pending (the rep's DM,
the manager's note, the bounce-back shout-out): the old retry jobs sent those, and they are
gone, so without an outbox row nothing would. Adopted once per process on its first tick
(bot.jobs.debriefs), like kudos (bot.usecases.kudos_sending.adopt_unqueued_kudos).

The old posts table (post_log) used the same post keys; a message it records as sent is
recorded as sent in the outbox (its key used, so it never goes twice) instead of queued.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.blocks.debriefs import bounce_back_shout_out, loss_debrief_dm, manager_note, win_logged_dm
from bot.uow import Target, UnitOfWork, to_recognition_channel, to_user
from bot.usecases.debriefs import (
    BOUNCE_BACK,
    MANAGER_NOTE,
    REP_DM,
    WIN_REP_DM,
    _manager_id,
    _resilience_line,
    bounce_back_post_key,
    facts_of,
    rep_dm_key,
)
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.models import Outcome, PostLog

# Outcomes adopted per unit of work.
ADOPT_BATCH = 200


def adopt_unqueued_debrief_messages(uow: UnitOfWork) -> int:
    """Queue (or record as sent) every pending debrief message without an outbox row, for up
    to ADOPT_BATCH outcomes; returns how many outcomes were looked at (fewer: none left)."""
    session = uow.session
    outcomes = dq.outcomes_pending_without_outbox_rows(session=session, limit=ADOPT_BATCH)
    for outcome in outcomes:
        _adopt(uow, outcome)
    return len(outcomes)


def _adopt(uow: UnitOfWork, outcome: Outcome) -> None:
    session = uow.session
    facts = facts_of(outcome)
    workspace = queries.get_or_create_workspace(session=session, team_id=outcome.team_id)
    channel = workspace.recognition_channel_id
    bounce_pending = outcome.bounce_back_pending_since is not None and bool(
        facts.bounce_back_losses
    )
    if bounce_pending:
        _queue_or_record(
            uow,
            outcome,
            bounce_back_post_key(facts.id),
            BOUNCE_BACK,
            to_recognition_channel(),
            bounce_back_shout_out(facts),
        )
    elif outcome.bounce_back_pending_since is not None:
        dq.mark_bounce_back_posted(session=session, outcome_id=facts.id)
    # A win's DM says where its shout-out went up: with a channel set, the shout-out's hook
    # queues it once the shout-out is in Slack (as bot.usecases.debriefs.record_win does).
    if outcome.rep_dm_pending_since is not None and not (bounce_pending and channel):
        if facts.kind == "loss":
            message, kind = loss_debrief_dm(facts, recognition_channel_id=channel), REP_DM
        else:
            history = [
                o
                for o in dq.outcomes_of(
                    session=session, team_id=outcome.team_id, user_id=outcome.user_id
                )
                if o.occurred_at <= outcome.occurred_at
            ]
            resilience = _resilience_line(history)
            message = win_logged_dm(facts, resilience, shout_out_channel=None)
            kind = WIN_REP_DM
        old = _queue_or_record(
            uow, outcome, rep_dm_key(facts.id), kind, to_user(facts.user_id), message
        )
        if old is not None:
            asked = old.sent_at if facts.kind == "loss" else None
            dq.finish_rep_dm(session=session, outcome_id=facts.id, questions_sent_at=asked)
    if outcome.manager_note_pending_since is not None:
        manager = _manager_id(session, outcome.team_id, outcome.user_id)
        if manager is None:
            dq.finish_manager_note(session=session, outcome_id=facts.id)  # nobody to tell
        else:
            old = _queue_or_record(
                uow,
                outcome,
                f"debrief:{facts.id}:manager",
                MANAGER_NOTE,
                to_user(manager),
                manager_note(facts),
            )
            if old is not None:
                dq.finish_manager_note(session=session, outcome_id=facts.id)


def _queue_or_record(
    uow: UnitOfWork,
    outcome: Outcome,
    post_key: str,
    kind: str,
    to: Target,
    message: dict[str, object],
) -> PostLog | None:
    """Queue the message, unless the old posts table says it went out: then an outbox row
    records it as sent (returned: the old post), so its key is never sent again."""
    old = _sent_before(uow.session, outcome.team_id, post_key)
    uow.outbox.add(
        team_id=outcome.team_id,
        post_key=post_key,
        kind=kind,
        to=to,
        message={} if old is not None else message,
    )
    if old is None:
        return None
    row = outbox_queries.get(session=uow.session, team_id=outcome.team_id, post_key=post_key)
    assert row is not None
    row.state, row.sent_channel, row.sent_ts = "sent", old.channel_id, old.message_ts
    row.sent_at = old.sent_at or uow.now()
    uow.session.add(row)
    return old


def _sent_before(session: Session, team_id: str, post_key: str) -> PostLog | None:
    old = queries.get_post(session=session, team_id=team_id, post_key=post_key)
    if old is None or old.status != "sent" or not old.channel_id or not old.message_ts:
        return None
    return old
