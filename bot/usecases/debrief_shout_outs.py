"""The rep's say on a public shout-out (a perfect miss, a bounce-back): their consent, the
shout-out and the DM that follow it, and taking it back. Re-exported by bot.usecases.debriefs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlmodel import Session

from bot.blocks.debriefs import (
    ShoutOut,
    bounce_back_shout_out,
    celebration_choice_dm,
    perfect_miss_shout_out,
)
from bot.domain import (
    Classification,
    OutcomeKind,
)
from bot.domain.calibration import Calibration
from bot.domain.debriefs import (
    NotYours,
    OutcomeFacts,
)
from bot.uow import (
    UnitOfWork,
    add_to_outbox,
    to_recognition_channel,
    to_sent_post,
    to_user,
)
from bot.usecases.debrief_facts import (
    BOUNCE_BACK,
    CHOICE,
    PERFECT_MISS,
    TAKE_BACK,
    calibration_of,
    counted_facts,
    facts_of,
    shout_out_key,
)
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.models import Outcome


@dataclass(frozen=True)
class CelebrationState:
    facts: OutcomeFacts
    consent: bool | None  # what the rep chose (their first click decides)
    channel_id: str | None
    posted: bool
    # The recognition channel the shout-out failed in lately (the bot couldn't post there).
    failed_channel_id: str | None = None
    # This click recorded the answer (a double click's second request did not).
    first_answer: bool = False

    @property
    def bounce_back(self) -> bool:
        """A win's bounce-back (else a perfect miss)."""
        return self.facts.kind == OutcomeKind.WIN.value


@dataclass(frozen=True)
class CelebrationWithdrawn:
    """The rep answered "Celebrate the perfect miss?" after their manager calibrated the loss
    out of a perfect miss: nothing is recorded and nothing can post."""

    facts: OutcomeFacts
    manager_user_id: str


class TakenBack(Enum):
    """What "Take it back" did."""

    COMING_DOWN = "coming-down"  # the post is in Slack: a chat.delete is queued
    NEVER_POSTED = "never-posted"  # not sent yet: called off, it never goes out
    LOST_TRACK = "lost-track"  # its record is gone (kept 60 days): it can't be found to delete
    ALREADY = "already"  # taken back before (a second click)
    NOTHING = "nothing"  # the rep never agreed to share it


def choose_celebration(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    outcome_id: int,
    consent: bool,
    now: datetime,
) -> CelebrationState | CelebrationWithdrawn | None:
    """Record the rep's answer to "celebrate this perfect miss?" or "share this bounce-back?";
    None when the outcome is not theirs, or neither (a bounce-back the rep was never asked
    about, its streak too short). A second click keeps the first answer."""
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None or outcome.user_id != user_id:
        return None
    if outcome.bounce_back_offered_at is None and not _asked_perfect_miss(outcome):
        # A loss its manager calibrated out of a perfect miss: the question is withdrawn.
        return _withdrawn(outcome)
    first_answer = dq.record_celebration_consent(
        session=session, team_id=team_id, outcome_id=outcome_id, user_id=user_id, consent=consent
    )
    if first_answer and consent and outcome.kind == OutcomeKind.WIN.value:
        dq.mark_bounce_back_agreed(session=session, outcome_id=outcome_id, now=now)
    session.refresh(outcome)
    if not first_answer and outcome.celebrate_consent is None:
        # The write found it calibrated out of a perfect miss meanwhile (a calibration that
        # committed while this click waited on the row): withdrawn, as above.
        withdrawn = _withdrawn(outcome)
        if withdrawn is not None:
            return withdrawn
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    win = outcome.kind == OutcomeKind.WIN.value
    failed_channel, failed_at = (
        (outcome.bounce_back_failed_channel_id, outcome.bounce_back_failed_at)
        if win
        else (outcome.celebration_failed_channel_id, outcome.celebration_failed_at)
    )
    return CelebrationState(
        facts=counted_facts(outcome),
        consent=outcome.celebrate_consent,
        channel_id=workspace.recognition_channel_id,
        posted=not win and outcome.celebration_posted_at is not None,
        failed_channel_id=(
            failed_channel
            if failed_at is not None and failed_at > now - dq.FAILED_CHANNEL_RETRY
            else None
        ),
        first_answer=first_answer,
    )


def _asked_perfect_miss(outcome: Outcome) -> bool:
    """The loss is a perfect miss as Rebound counts it (the manager's calibration where there is
    one), so the rep's yes or no to its shout-out stands."""
    return outcome.kind == OutcomeKind.LOSS.value and (
        (outcome.calibrated_classification or outcome.classification)
        == Classification.PERFECT_MISS.value
    )


def ask_withdrawal_due(outcome: Outcome) -> Calibration | None:
    """The calibration that withdraws the rep's open "Celebrate the perfect miss?" question:
    the rep called the loss a perfect miss, hasn't answered, and the manager sees it otherwise."""
    calibration = calibration_of(outcome)
    if (
        calibration is None
        or outcome.kind != OutcomeKind.LOSS.value
        or outcome.classification != Classification.PERFECT_MISS.value
        or calibration.classification is Classification.PERFECT_MISS
        or outcome.celebrate_consent is not None  # answered before the calibration
    ):
        return None
    return calibration


def _withdrawn(outcome: Outcome) -> CelebrationWithdrawn | None:
    calibration = ask_withdrawal_due(outcome)
    if calibration is None:
        return None
    return CelebrationWithdrawn(
        facts=facts_of(outcome), manager_user_id=calibration.manager_user_id
    )


def record_celebration_choice(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int, consent: bool
) -> CelebrationState | CelebrationWithdrawn | None:
    """Record the rep's answer to "celebrate this perfect miss?" (or "share this bounce-back?")
    and queue what follows: the shout-out (consent), and the DM telling the rep how it went.
    The DM says where the shout-out went up, so when it can be tried now it is queued by the
    shout-out's hooks. None: not theirs, or nothing they were asked about."""
    state = choose_celebration(
        session=uow.session,
        team_id=team_id,
        user_id=user_id,
        outcome_id=outcome_id,
        consent=consent,
        now=uow.now(),
    )
    if isinstance(state, CelebrationWithdrawn):
        return state  # calibrated out of a perfect miss: nothing to record or post
    if state is None or state.consent is None or not state.first_answer:
        return state  # a double click: the first request queued it all
    facts = state.facts
    shout_out: ShoutOut | None = None
    if not state.consent:
        shout_out = ShoutOut.NO_CHANNEL  # unused by the wording of a "no"
    elif state.posted:
        shout_out = ShoutOut.POSTED
    else:
        added = uow.outbox.add(
            team_id=team_id,
            post_key=shout_out_key(facts),
            kind=BOUNCE_BACK if state.bounce_back else PERFECT_MISS,
            to=to_recognition_channel(),
            message=(
                bounce_back_shout_out(facts) if state.bounce_back else perfect_miss_shout_out(facts)
            ),
        )
        if state.channel_id is None:
            shout_out = ShoutOut.NO_CHANNEL
        elif state.failed_channel_id == state.channel_id:
            shout_out = ShoutOut.CHANNEL_FAILED  # known not to work until settings change
        elif not added:
            shout_out = ShoutOut.LATER  # already queued (and not in Slack yet)
    if shout_out is not None:
        _queue_choice_dm(
            uow.session, uow.now(), team_id, facts, state.consent, state.channel_id, shout_out
        )
    return state


@dataclass(frozen=True)
class TakeBackResult:
    taken_back: TakenBack
    facts: OutcomeFacts


def take_back_shout_out(
    uow: UnitOfWork, *, team_id: str, user_id: str, outcome_id: int
) -> TakeBackResult | NotYours | None:
    """The rep takes back the shout-out they agreed to, once: one not sent yet is called off
    (it never goes out); one in Slack is deleted through the outbox (a chat.delete of the
    channel and ts it was sent with). NotYours when it is someone else's (only the rep it is
    about may take it back); None when there is no such outcome."""
    session = uow.session
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None:
        return None
    if outcome.user_id != user_id:
        return NotYours(owner_user_id=outcome.user_id)
    facts = facts_of(outcome)
    if outcome.celebrate_consent is not True:
        return TakeBackResult(TakenBack.NOTHING, facts)
    if not dq.take_back_shout_out(
        session=session, team_id=team_id, outcome_id=outcome_id, user_id=user_id, now=uow.now()
    ):
        return TakeBackResult(TakenBack.ALREADY, facts)
    key = shout_out_key(facts)
    if outbox_queries.cancel_pending(
        session=session, team_id=team_id, post_key=key, reason="taken_back"
    ):
        return TakeBackResult(TakenBack.NEVER_POSTED, facts)
    row = outbox_queries.get(session=session, team_id=team_id, post_key=key)
    if row is None:
        # Its outbox row is past retention: where it went is no longer known. It is out of
        # every digest from now on; the rep is told an admin can remove the post.
        return TakeBackResult(TakenBack.LOST_TRACK, facts)
    if row.state == "failed":
        return TakeBackResult(TakenBack.NEVER_POSTED, facts)
    queue_shout_out_deletion(uow, team_id=team_id, facts=facts)  # sent, or being sent
    return TakeBackResult(TakenBack.COMING_DOWN, facts)


def queue_shout_out_deletion(uow: UnitOfWork, *, team_id: str, facts: OutcomeFacts) -> None:
    """Queue the chat.delete of the outcome's shout-out, in Slack or on its way there: the
    dispatcher deletes it once its channel and ts are known. Under the take-back's own key, so
    once: taken back already, it is coming down already."""
    uow.outbox.add(
        team_id=team_id,
        post_key=f"debrief:{facts.id}:take-back",
        kind=TAKE_BACK,
        to=to_sent_post(shout_out_key(facts)),
        message={},
        method="chat.delete",
    )


def _queue_choice_dm(
    session: Session,
    now: datetime,
    team_id: str,
    facts: OutcomeFacts,
    consent: bool,
    channel_id: str | None,
    shout_out: ShoutOut,
) -> None:
    add_to_outbox(
        session,
        now=now,
        team_id=team_id,
        post_key=f"debrief:{facts.id}:celebration-choice",
        kind=CHOICE,
        to=to_user(facts.user_id),
        message=celebration_choice_dm(
            consent=consent,
            channel_id=channel_id,
            shout_out=shout_out,
            bounce_back=facts.kind == OutcomeKind.WIN.value,
            outcome_id=facts.id if consent else None,
        ),
    )
