"""What a manager's calibration changes about a loss's perfect-miss shout-out (issue 12).

A shout-out celebrates a perfect miss, and the rep agrees to it first (section 4). Once the
manager's calibration is the classification Rebound counts, the shout-out follows it:

- calibrated *out of* a perfect miss, the question still unanswered: the question is withdrawn —
  the rep's debrief DM is updated through the outbox (its buttons give way to a warm line), and
  a click that still arrives is refused when the consent is written (storage.debriefs_queries.
  record_celebration_consent counts the calibrated classification);
- agreed to but not posted yet: held back (its outbox row is called off), and the rep is told;
- posted already: it stays up. The rep agreed to it, and Rebound never deletes a post of theirs
  without asking; their calibration DM says it no longer counts as a perfect miss and offers the
  "Take it back" that exists already;
- calibrated *into* a perfect miss, never asked: the calibration DM asks (once: its post key).

The weekly digest counts the calibrated classification (storage.kudos_queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.blocks.debriefs import ShoutOutChange, ask_withdrawn_dm
from bot.domain import Classification, OutcomeKind
from bot.domain.calibration import Calibration
from bot.uow import UnitOfWork, add_to_outbox, to_channel
from bot.usecases.debriefs import facts_of, perfect_miss_key, rep_dm_key
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.models import Outcome

# Outbox kind of the chat.update that withdraws the question from the rep's debrief DM.
ASK_WITHDRAWN = "celebration-ask-withdrawn"


@dataclass(frozen=True)
class ShoutOutFollowUp:
    change: ShoutOutChange
    # Where the shout-out is (STAYS_UP) or would go (OFFERED); None when unknown or unset.
    channel_id: str | None = None


def ask_withdrawn_key(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:ask-withdrawn"


def queue_ask_withdrawn(
    session: Session,
    now: datetime,
    outcome: Outcome,
    calibration: Calibration,
    channel: str,
    ts: str,
) -> bool:
    """Queue the chat.update of the rep's debrief DM that withdraws the question (once: its post
    key). chat.update of the bot's own DM: "For direct messages, ensure that this value is a DM
    ID (starts with D)" — the channel the outbox recorded it was sent to
    (https://docs.slack.dev/reference/methods/chat.update/)."""
    assert outcome.id is not None
    return add_to_outbox(
        session,
        now=now,
        team_id=outcome.team_id,
        post_key=ask_withdrawn_key(outcome.id),
        kind=ASK_WITHDRAWN,
        to=to_channel(channel),
        method="chat.update",
        message={
            "ts": ts,
            **ask_withdrawn_dm(facts_of(outcome), manager_user_id=calibration.manager_user_id),
        },
    )


def lock_before_calibration(uow: UnitOfWork, outcome: Outcome) -> None:
    """Called before the calibration is written: when it may withdraw the question, hold the
    rep's debrief DM's outbox row first. The dispatcher that records that DM as sent updates
    the row and then the outcome (its on_sent hook); taking them in the same order here means
    the two wait for each other instead of deadlocking, and whichever comes second sees what
    the first wrote (so the question is withdrawn once, by one of them)."""
    if outcome.id is None or outcome.classification != Classification.PERFECT_MISS.value:
        return
    dq.sent_post_locked(
        session=uow.session, team_id=outcome.team_id, post_key=rep_dm_key(outcome.id)
    )


def follow_up_calibration(
    uow: UnitOfWork, outcome: Outcome, calibration: Calibration
) -> ShoutOutFollowUp:
    """Called in the unit of work that saved the calibration (`outcome` read again after it):
    make the perfect-miss shout-out follow the calibrated classification, and say what the
    rep's calibration DM should tell them."""
    assert outcome.id is not None
    if outcome.kind != OutcomeKind.LOSS.value:
        return ShoutOutFollowUp(ShoutOutChange.NONE)
    was = outcome.classification == Classification.PERFECT_MISS.value
    now_is = calibration.classification is Classification.PERFECT_MISS
    if was == now_is:
        return ShoutOutFollowUp(ShoutOutChange.NONE)
    session, team_id = uow.session, outcome.team_id
    if now_is:
        if outcome.celebrate_consent is not None:
            return ShoutOutFollowUp(ShoutOutChange.NONE)
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        return ShoutOutFollowUp(ShoutOutChange.OFFERED, workspace.recognition_channel_id)
    if outcome.celebrate_consent is None:
        sent = dq.sent_post_locked(
            session=session, team_id=team_id, post_key=rep_dm_key(outcome.id)
        )
        if sent is not None:  # else the DM's own on_sent hook withdraws it (debrief_hooks)
            queue_ask_withdrawn(session, uow.now(), outcome, calibration, *sent)
        return ShoutOutFollowUp(ShoutOutChange.WITHDRAWN)
    if outcome.celebrate_consent is False or outcome.shout_out_taken_back_at is not None:
        return ShoutOutFollowUp(ShoutOutChange.NONE)  # nothing public, nothing to hold back
    key = perfect_miss_key(outcome.id)
    if outbox_queries.cancel_pending(
        session=session, team_id=team_id, post_key=key, reason="calibrated"
    ):
        return ShoutOutFollowUp(ShoutOutChange.HELD_BACK)
    row = outbox_queries.get(session=session, team_id=team_id, post_key=key)
    if row is not None and row.state == "failed":
        return ShoutOutFollowUp(ShoutOutChange.NONE)  # it never went up
    # In Slack, or being sent (a take-back waits for its ts), or sent so long ago its row is
    # gone: it is up, and it stays the rep's to keep or take back.
    return ShoutOutFollowUp(ShoutOutChange.STAYS_UP, row.sent_channel if row else None)
