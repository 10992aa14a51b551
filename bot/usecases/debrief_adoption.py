"""Debriefs saved before the outbox existed whose messages were still pending (the rep's DM,
the manager's note, the bounce-back shout-out): the old retry jobs sent those, and they are
gone, so without an outbox row nothing would. Adopted once per process on its first tick
(bot.jobs.debriefs), like kudos (bot.usecases.kudos_sending.adopt_unqueued_kudos).

The old posts table (post_log) used the same post keys; a message it records as sent is
recorded as sent in the outbox (its key used, so it never goes twice) instead of queued.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from bot.blocks.debriefs import bounce_back_shout_out, loss_debrief_dm, manager_note, win_logged_dm
from bot.domain.debriefs import ResilienceLine
from bot.uow import UnitOfWork, to_recognition_channel, to_user
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


def adopt_unqueued_debrief_messages(uow: UnitOfWork, *, after_id: int = 0) -> list[int]:
    """Queue (or record as sent) every pending debrief message without an outbox row, for up
    to ADOPT_BATCH outcomes with ids above `after_id`; returns the ids looked at (fewer than
    ADOPT_BATCH: none left)."""
    outcomes = dq.outcomes_pending_without_outbox_rows(
        session=uow.session, after_id=after_id, limit=ADOPT_BATCH
    )
    for outcome in outcomes:
        _adopt(uow, outcome)
    return [o.id for o in outcomes if o.id is not None]


def _adopt(uow: UnitOfWork, outcome: Outcome) -> None:
    session = uow.session
    facts = facts_of(outcome)
    workspace = queries.get_or_create_workspace(session=session, team_id=outcome.team_id)
    channel = workspace.recognition_channel_id
    rep_key = rep_dm_key(facts.id)
    rep_pending = outcome.rep_dm_pending_since is not None
    rep_old = _sent_before(session, outcome.team_id, rep_key)
    bounce_pending = outcome.bounce_back_pending_since is not None and bool(
        facts.bounce_back_losses
    )
    if (
        bounce_pending
        and outcome.celebrate_consent is not True
        and _sent_before(session, outcome.team_id, bounce_back_post_key(facts.id)) is None
    ):
        # A bounce-back is only ever posted with the rep's yes (the old code never asked):
        # one not up yet is dropped, and the rep's DM goes out without a shout-out.
        bounce_pending = False
    if rep_old is not None or (bounce_pending and not rep_pending):
        # The rep's DM went out (or was given up on) before the outbox: its key is recorded
        # as used, so the bounce-back's hooks (which queue a win's DM) can't send it again.
        _record(uow, outcome, rep_key, WIN_REP_DM if facts.kind == "win" else REP_DM, rep_old)
        if rep_old is not None:
            asked = rep_old.sent_at if facts.kind == "loss" else None
            dq.finish_rep_dm(session=session, outcome_id=facts.id, questions_sent_at=asked)
        rep_pending = False
    bounce_waits_for_channel = False
    if bounce_pending:
        bounce_key = bounce_back_post_key(facts.id)
        bounce_old = _sent_before(session, outcome.team_id, bounce_key)
        if bounce_old is None:
            uow.outbox.add(
                team_id=outcome.team_id,
                post_key=bounce_key,
                kind=BOUNCE_BACK,
                to=to_recognition_channel(),
                message=bounce_back_shout_out(facts),
            )
            # With a channel set, its hooks queue the win's DM once it is in Slack (or refused
            # there), saying where it went up, as bot.usecases.debriefs.record_win does.
            bounce_waits_for_channel = channel is not None
        else:
            # Up in the channel already: what its on_sent hook would have done, done here.
            _record(uow, outcome, bounce_key, BOUNCE_BACK, bounce_old)
            dq.mark_bounce_back_posted(session=session, outcome_id=facts.id)
            if rep_pending:
                uow.outbox.add(
                    team_id=outcome.team_id,
                    post_key=rep_key,
                    kind=WIN_REP_DM,
                    to=to_user(facts.user_id),
                    message=win_logged_dm(
                        facts,
                        _resilience_until(session, outcome),
                        shout_out_channel=bounce_old.channel_id,
                    ),
                )
                rep_pending = False
    elif outcome.bounce_back_pending_since is not None:
        dq.mark_bounce_back_posted(session=session, outcome_id=facts.id)
    if rep_pending and not bounce_waits_for_channel:
        if facts.kind == "loss":
            message, kind = loss_debrief_dm(facts, recognition_channel_id=channel), REP_DM
        else:
            resilience = _resilience_until(session, outcome)
            message = win_logged_dm(facts, resilience, shout_out_channel=None)
            kind = WIN_REP_DM
        uow.outbox.add(
            team_id=outcome.team_id,
            post_key=rep_key,
            kind=kind,
            to=to_user(facts.user_id),
            message=message,
        )
    if outcome.manager_note_pending_since is not None:
        manager = _manager_id(session, outcome.team_id, outcome.user_id)
        note_key = f"debrief:{facts.id}:manager"
        note_old = _sent_before(session, outcome.team_id, note_key)
        if manager is None or note_old is not None:
            if note_old is not None:
                _record(uow, outcome, note_key, MANAGER_NOTE, note_old)
            dq.finish_manager_note(session=session, outcome_id=facts.id)  # nobody (new) to tell
        else:
            uow.outbox.add(
                team_id=outcome.team_id,
                post_key=note_key,
                kind=MANAGER_NOTE,
                to=to_user(manager),
                message=manager_note(replace(facts, currency=workspace.currency)),
            )


def _resilience_until(session: Session, outcome: Outcome) -> ResilienceLine:
    """The rep's resilience as it stood when this outcome was logged."""
    history = [
        o
        for o in dq.outcomes_of(session=session, team_id=outcome.team_id, user_id=outcome.user_id)
        if o.occurred_at <= outcome.occurred_at
    ]
    return _resilience_line(history)


def _record(
    uow: UnitOfWork, outcome: Outcome, post_key: str, kind: str, old: PostLog | None
) -> None:
    """An outbox row that only records the key as used: sent, where the old posts table says
    it went out; failed otherwise (the old code gave up on it). Never sent; no hook runs."""
    uow.outbox.add(
        team_id=outcome.team_id,
        post_key=post_key,
        kind=kind,
        to=to_user(outcome.user_id),
        message={},
    )
    row = outbox_queries.get(session=uow.session, team_id=outcome.team_id, post_key=post_key)
    assert row is not None
    if old is not None:
        row.state, row.sent_channel, row.sent_ts = "sent", old.channel_id, old.message_ts
        row.sent_at = old.sent_at or uow.now()
    else:
        row.state, row.last_error = "failed", "before the outbox"
    uow.session.add(row)


def _sent_before(session: Session, team_id: str, post_key: str) -> PostLog | None:
    old = queries.get_post(session=session, team_id=team_id, post_key=post_key)
    if old is None or old.status != "sent" or not old.channel_id or not old.message_ts:
        return None
    return old
