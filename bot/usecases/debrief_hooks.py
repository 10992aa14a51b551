"""What a debrief records when the outbox sends its messages, or can never send them
(bot.outbox_hooks): the rep's DM and the manager's note marked sent, the reminder done, the
shout-outs posted or refused, a take-back that failed. Registered when bot.usecases.debriefs
is imported."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.blocks.debriefs import (
    ShoutOut,
    take_back_failed_dm,
    win_logged_dm,
)
from bot.outbox_hooks import register_hooks
from bot.uow import (
    add_to_outbox,
    to_user,
)

# The module, not its names: it imports bot.usecases.debriefs, which imports this module last,
# so whichever of the two is imported first, the other may be half-loaded here.
from bot.usecases import calibration_shout_outs
from bot.usecases.debriefs import (
    BOUNCE_BACK,
    MANAGER_NOTE,
    PERFECT_MISS,
    REMINDER,
    REP_DM,
    TAKE_BACK,
    TAKE_BACK_FAILED,
    WIN_REP_DM,
    _queue_choice_dm,
    _resilience_line,
    ask_withdrawal_due,
    calibration_of,
    facts_of,
    queue_calibrated_note,
    rep_dm_key,
)
from storage import debriefs_queries as dq
from storage import outbox_queries
from storage.models import OutboxMessage, Outcome

# --- what is recorded when the outbox sends them (bot.outbox_hooks) ------------------------------


def _outcome_of(session: Session, row: OutboxMessage) -> Outcome | None:
    outcome_id = parse_outcome_id(row.post_key)
    if outcome_id is None:
        return None
    return dq.get_outcome(session=session, team_id=row.team_id, outcome_id=outcome_id)


def parse_outcome_id(post_key: str) -> int | None:
    """The outcome id in a debrief post key ("debrief:<id>:<what>")."""
    parts = post_key.split(":")
    if len(parts) == 3 and parts[0] == "debrief" and parts[1].isdigit():
        return int(parts[1])
    return None


def _rep_dm_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    # A loss's DM carries the reflection questions, a win's its one lesson question: the
    # reminder counts from now (the first DM's send: a win DM queued again keeps that time).
    outcome = _outcome_of(session, row)
    if outcome is not None and outcome.id is not None:
        dq.finish_rep_dm(session=session, outcome_id=outcome.id, questions_sent_at=now)
        # Calibrated out of a perfect miss before this DM was in Slack: its question
        # "Celebrate the perfect miss?" is withdrawn now, once (its post key).
        calibration = ask_withdrawal_due(outcome)
        if calibration is not None and channel and ts:
            calibration_shout_outs.queue_ask_withdrawn(
                session, now, outcome, calibration, channel, ts
            )


def _rep_dm_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    outcome = _outcome_of(session, row)
    if outcome is not None and outcome.id is not None:
        dq.finish_rep_dm(session=session, outcome_id=outcome.id, questions_sent_at=None)


def _manager_note_done(session: Session, row: OutboxMessage, *_: object) -> None:
    outcome = _outcome_of(session, row)
    if outcome is not None and outcome.id is not None:
        dq.finish_manager_note(session=session, outcome_id=outcome.id)


def _manager_note_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    _manager_note_done(session, row)
    # Calibrated before the note was recorded as sent (a click racing the dispatcher's mark):
    # the update that swaps its buttons is queued now, once (its post key).
    outcome = _outcome_of(session, row)
    calibration = calibration_of(outcome) if outcome is not None else None
    if outcome is not None and calibration is not None and channel and ts:
        queue_calibrated_note(session, now, outcome, calibration, channel, ts)


def _reminder_done(session: Session, row: OutboxMessage, *args: object) -> None:
    # One reminder per debrief, ever: sent, or never sendable (the rep left).
    now = args[-1]
    assert isinstance(now, datetime)
    outcome = _outcome_of(session, row)
    if outcome is not None and outcome.id is not None:
        dq.mark_reflection_reminded(session=session, outcome_id=outcome.id, now=now)


def _perfect_miss_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    outcome = _outcome_of(session, row)
    if outcome is None or outcome.id is None:
        return
    dq.mark_celebration_posted(session=session, outcome_id=outcome.id, now=now)
    if outcome.shout_out_taken_back_at is not None:
        return  # taken back while it was being sent: its chat.delete follows, no "Done"
    _queue_choice_dm(session, now, row.team_id, facts_of(outcome), True, channel, ShoutOut.POSTED)


def _perfect_miss_refused(
    session: Session, row: OutboxMessage, channel: str | None, code: str, now: datetime
) -> None:
    outcome = _outcome_of(session, row)
    if outcome is None or outcome.id is None:
        return
    if channel is None:
        shout_out = ShoutOut.NO_CHANNEL
    else:
        dq.mark_celebration_failed(
            session=session, outcome_id=outcome.id, channel_id=channel, now=now
        )
        shout_out = ShoutOut.CHANNEL_FAILED
    _queue_choice_dm(session, now, row.team_id, facts_of(outcome), True, channel, shout_out)


def _win_dm(session: Session, outcome: Outcome, shout_out_channel: str | None) -> dict[str, object]:
    """The rep's DM about their win, with their record up to it (as when they logged it)."""
    history = [
        o
        for o in dq.outcomes_of(session=session, team_id=outcome.team_id, user_id=outcome.user_id)
        if o.occurred_at <= outcome.occurred_at
    ]
    return win_logged_dm(
        facts_of(outcome), _resilience_line(history), shout_out_channel=shout_out_channel
    )


def _queue_win_dm(
    session: Session, now: datetime, outcome: Outcome, shout_out_channel: str | None
) -> None:
    assert outcome.id is not None
    add_to_outbox(
        session,
        now=now,
        team_id=outcome.team_id,
        post_key=rep_dm_key(outcome.id),
        kind=WIN_REP_DM,
        to=to_user(outcome.user_id),
        message=_win_dm(session, outcome, shout_out_channel),
    )


def _bounce_back_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    outcome = _outcome_of(session, row)
    if outcome is None or outcome.id is None:
        return
    dq.mark_bounce_back_posted(session=session, outcome_id=outcome.id)
    facts = facts_of(outcome)
    if outcome.shout_out_taken_back_at is not None:
        return  # taken back while it was being sent: its chat.delete follows, no "Done"
    if outcome.bounce_back_offered_at is None:
        _queue_win_dm(session, now, outcome, channel)  # one queued before reps were asked
        return
    _queue_choice_dm(session, now, row.team_id, facts, True, channel, ShoutOut.POSTED)


def _bounce_back_refused(
    session: Session, row: OutboxMessage, channel: str | None, code: str, now: datetime
) -> None:
    outcome = _outcome_of(session, row)
    if outcome is None or outcome.id is None:
        return
    if channel is not None:
        dq.mark_bounce_back_failed(
            session=session, outcome_id=outcome.id, channel_id=channel, now=now
        )
    if outcome.bounce_back_offered_at is None:
        _queue_win_dm(session, now, outcome, None)  # tells no shout-out (once: the post key)
        return
    shout_out = ShoutOut.NO_CHANNEL if channel is None else ShoutOut.CHANNEL_FAILED
    _queue_choice_dm(session, now, row.team_id, facts_of(outcome), True, channel, shout_out)


def _bounce_back_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    outcome = _outcome_of(session, row)
    if outcome is not None:
        _queue_win_dm(session, now, outcome, None)


register_hooks(REP_DM, on_sent=_rep_dm_sent, on_failed=_rep_dm_failed)
register_hooks(WIN_REP_DM, on_sent=_rep_dm_sent, on_failed=_rep_dm_failed)
register_hooks(MANAGER_NOTE, on_sent=_manager_note_sent, on_failed=_manager_note_done)
register_hooks(REMINDER, on_sent=_reminder_done, on_failed=_reminder_done)
register_hooks(PERFECT_MISS, on_sent=_perfect_miss_sent, on_refused=_perfect_miss_refused)


def _take_back_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    # Slack wouldn't delete it (cant_delete_message, say): the rep is told, never left
    # believing it is gone. Called off before it went up ("never_posted") needs no word.
    if code in ("never_posted", "nothing_to_delete"):
        return
    outcome = _outcome_of(session, row)
    if outcome is None or outcome.id is None:
        return
    post = outbox_queries.get(session=session, team_id=row.team_id, post_key=row.target_id or "")
    add_to_outbox(
        session,
        now=now,
        team_id=row.team_id,
        post_key=f"debrief:{outcome.id}:take-back-failed",
        kind=TAKE_BACK_FAILED,
        to=to_user(outcome.user_id),
        message=take_back_failed_dm(post.sent_channel if post is not None else None),
    )


register_hooks(TAKE_BACK, on_failed=_take_back_failed)
register_hooks(
    BOUNCE_BACK,
    on_sent=_bounce_back_sent,
    on_refused=_bounce_back_refused,
    on_failed=_bounce_back_failed,
)
