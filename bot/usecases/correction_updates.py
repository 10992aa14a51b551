"""When a rep corrects or removes an outcome, the messages already posted about it follow
(issue 12), through the outbox, in the unit of work of the correction itself:

- the manager's note: updated (chat.update) with the corrected facts and who corrected it when;
  after a removal, replaced by a short note with no buttons left to act on;
- the rep's own DMs (the debrief, the lessons kept): updated where they show what changed;
  after a removal, replaced by a short note;
- a public shout-out: taken down (chat.delete, as the rep's own "Take it back" does) when the
  outcome no longer is a perfect miss or a bounce-back, or is removed; updated when only its
  deal's name or the practices it names changed.

Exactly once, in order. Each message is one of "surfaces" of the outcome, whose original row's
post key is known. A row no dispatcher has claimed yet (`pending`) gets the corrected message as
its payload, so it goes out corrected and nothing else is queued. A row that is being sent, is
unknown, or is sent gets a chat.update row whose target is that post (`to_sent_post`): the
dispatcher waits while the original is not in Slack yet, then updates the channel and ts it was
sent with. A correction's update is made when it is sent, from the outcome as it is then
(`OUTCOME_MESSAGE` renderer), so two corrections' updates, in whatever order they go, both show
the latest; one still waiting is reused (its key) rather than queued twice. A removal's updates
are made now (the outcome is gone when they are sent); the removal deletes every pending row
about the outcome first (storage.corrections_queries.delete_outcome), corrections' included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.blocks.correction_updates import (
    corrected_note_line,
    corrected_rep_line,
    lessons_kept_renamed,
    removed_manager_note,
    removed_rep_dm,
    with_line,
)
from bot.blocks.debriefs import (
    bounce_back_shout_out,
    calibrated_manager_note,
    consent_recorded_blocks,
    loss_debrief_dm,
    manager_note,
    perfect_miss_shout_out,
    reflection_reminder_dm,
    taken_back_blocks,
    win_lesson_saved_dm,
    win_logged_dm,
)
from bot.domain import Classification, OutcomeKind
from bot.domain.debriefs import NotYours, OutcomeFacts
from bot.post_metadata import Unrenderable
from bot.uow import UnitOfWork, to_sent_post, to_user
from bot.uploads import register_message_renderer
from bot.usecases.calibration_rounds import calibrated_note_key
from bot.usecases.debriefs import (
    MANAGER_NOTE,
    TakenBack,
    _manager_id,
    _resilience_line,
    bounce_back_post_key,
    calibration_of,
    counted_facts,
    facts_of,
    perfect_miss_key,
    queue_shout_out_deletion,
    shout_out_key,
    take_back_shout_out,
)
from bot.usecases.lessons import win_lesson
from storage import corrections_queries as cq
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.models import Outcome, Workspace

# The messages about one outcome that a correction may change: the manager's note, the rep's
# debrief DM, its reminder, the lessons-kept DM, the shout-out, and the rep's DM after saying yes
# to it (with "Take it back").
MANAGER, REP, REMINDER, REFLECTED = "manager", "rep", "reminder", "reflected"
SHOUT_OUT, CHOICE = "shout-out", "celebration-choice"
# Outbox kinds: a correction's chat.update, and a removal's.
UPDATE_KIND, REMOVAL_KIND = "outcome-update", "outcome-removed"
# The renderer of a correction's chat.update (bot.uploads): the message as the outcome is now.
OUTCOME_MESSAGE = "outcome-message"
UPDATE_METHOD = "chat.update"
IN_SLACK_OR_ON_ITS_WAY = ("sending", "unknown", "sent")


def original_key(outcome_id: int, surface: str, kind: str) -> str:
    """The post key the surface was first sent under (bot.usecases.debriefs)."""
    if surface == SHOUT_OUT:
        if kind == OutcomeKind.WIN.value:
            return bounce_back_post_key(outcome_id)
        return perfect_miss_key(outcome_id)
    return f"debrief:{outcome_id}:{surface}"


def _update_prefix(outcome_id: int, surface: str) -> str:
    return f"debrief:{outcome_id}:{surface}-update-"


# --- the messages as the outcome is now ---------------------------------------------------------


def _fits_shout_out(facts: OutcomeFacts, workspace: Workspace | None) -> bool:
    """Whether the outcome still is what its shout-out celebrates."""
    if facts.kind == OutcomeKind.LOSS.value:
        return facts.classification is Classification.PERFECT_MISS
    minimum = workspace.bounce_back_min_losses if workspace is not None else 1
    return facts.bounce_back_recovery is not None and (facts.bounce_back_losses or 0) >= minimum


def _rep_dm(
    session: Session, outcome: Outcome, facts: OutcomeFacts, workspace: Workspace | None
) -> dict[str, Any]:
    """The rep's DM about the outcome as it would be sent now, with their answer to "celebrate
    it?" (or "share it?") in place of its buttons once they gave one."""
    channel = workspace.recognition_channel_id if workspace is not None else None
    win = facts.kind == OutcomeKind.WIN.value
    if win:
        history = [
            o
            for o in dq.outcomes_of(
                session=session, team_id=outcome.team_id, user_id=outcome.user_id
            )
            if o.occurred_at <= outcome.occurred_at
        ]
        message = win_logged_dm(
            facts,
            _resilience_line(history),
            shout_out_channel=None,
            share_offer=outcome.bounce_back_offered_at is not None,
            recognition_channel_id=channel,
        )
    else:
        message = loss_debrief_dm(facts, recognition_channel_id=channel)
    blocks = message["blocks"]
    if outcome.celebrate_consent is not None:
        blocks = consent_recorded_blocks(
            blocks, consent=outcome.celebrate_consent, bounce_back=win, outcome_id=facts.id
        )
        if outcome.shout_out_taken_back_at is not None:
            blocks = taken_back_blocks(blocks, never_posted=False)
    return {**message, "blocks": blocks}


def render(
    session: Session,
    outcome: Outcome,
    surface: str,
    corrected_at: datetime | None,
    *,
    calibration_cleared: bool = False,
) -> dict[str, Any] | None:
    """The surface's message as the outcome is now (chat.postMessage's arguments but the
    channel); None when there is nothing to show (a lesson not kept, a shout-out that no longer
    fits: that one is taken down instead). `calibration_cleared`: a correction cleared the
    manager's calibration, which the manager's note says (unless they calibrated it again)."""
    workspace = queries.get_workspace(session=session, team_id=outcome.team_id)
    facts = replace(facts_of(outcome), currency=workspace.currency if workspace else None)
    if surface == MANAGER:
        calibration = calibration_of(outcome)
        note = calibrated_manager_note(facts, calibration) if calibration else manager_note(facts)
        line = (
            corrected_note_line(
                facts, corrected_at, calibration_cleared=calibration_cleared and not calibration
            )
            if corrected_at
            else None
        )
        return with_line(note, line)
    if surface == REP:
        shout_out_down = (
            outcome.celebrate_consent is True
            and outcome.shout_out_taken_back_at is not None
            and not _fits_shout_out(facts, workspace)
        )
        line = (
            corrected_rep_line(corrected_at, shout_out_down=shout_out_down)
            if corrected_at
            else None
        )
        return with_line(_rep_dm(session, outcome, facts, workspace), line)
    if surface == REMINDER:
        # Worded for the outcome as it counts: a manager's calibration where there is one.
        return reflection_reminder_dm(counted_facts(outcome))
    if surface == REFLECTED:
        if facts.kind == OutcomeKind.WIN.value:
            lesson = win_lesson(session, outcome)
            return win_lesson_saved_dm(lesson) if lesson is not None else None
        assert outcome.id is not None
        sent = outbox_queries.get(
            session=session,
            team_id=outcome.team_id,
            post_key=original_key(outcome.id, REFLECTED, outcome.kind),
        )
        return lessons_kept_renamed(sent.payload, facts.deal) if sent is not None else None
    if surface == SHOUT_OUT:
        # As it was posted: the manager's view where they calibrated it (a perfect miss they saw
        # names what they saw held).
        counted = replace(counted_facts(outcome), currency=facts.currency)
        if not _fits_shout_out(counted, workspace):
            return None
        if counted.kind == OutcomeKind.WIN.value:
            return bounce_back_shout_out(counted)
        return perfect_miss_shout_out(counted)
    raise ValueError(f"no such surface: {surface}")


def _render_update(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """A correction's chat.update, made when it is sent: the outcome as it is then."""
    outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=int(params["outcome_id"]))
    if outcome is None:
        # Removed since: the removal's own update says so; this one must not undo it.
        raise Unrenderable("outcome_removed")
    corrected = params.get("corrected_at")
    message = render(
        session,
        outcome,
        str(params["surface"]),
        datetime.fromisoformat(corrected) if isinstance(corrected, str) else None,
        calibration_cleared=bool(params.get("calibration_cleared")),
    )
    if message is None:
        raise Unrenderable("nothing_to_update")
    return message


register_message_renderer(OUTCOME_MESSAGE, _render_update)


# --- queueing what follows ----------------------------------------------------------------------


def _follow(
    uow: UnitOfWork,
    outcome: Outcome,
    surface: str,
    corrected_at: datetime | None,
    *,
    calibration_cleared: bool = False,
) -> None:
    """The surface shows the outcome as it is now: its pending row rewritten, or an update of
    the message once it is in Slack. Nothing for a message that never went out and never will."""
    assert outcome.id is not None
    session, team_id = uow.session, outcome.team_id
    key = original_key(outcome.id, surface, outcome.kind)
    original = outbox_queries.get(session=session, team_id=team_id, post_key=key)
    if original is None or original.state == "failed":
        return
    message = render(
        session, outcome, surface, corrected_at, calibration_cleared=calibration_cleared
    )
    if message is None:
        return
    if original.state == "pending" and cq.replace_pending_payload(
        session=session, team_id=team_id, post_key=key, payload=message
    ):
        return  # not claimed yet: it goes out as corrected
    payload: dict[str, Any] = {
        "renderer": OUTCOME_MESSAGE,
        "outcome_id": outcome.id,
        "surface": surface,
        "corrected_at": corrected_at.isoformat() if corrected_at else None,
    }
    prefix = _update_prefix(outcome.id, surface)
    keys = sorted(
        cq.outbox_keys_like(session=session, team_id=team_id, prefix=prefix),
        key=lambda k: int(k.removeprefix(prefix) or 0),
    )
    waiting = (
        outbox_queries.get(session=session, team_id=team_id, post_key=keys[-1]) if keys else None
    )
    if (
        waiting is not None
        and waiting.state == "pending"
        and waiting.payload.get("calibration_cleared")
    ):
        # The update still waiting said a calibration was cleared: this one says it too.
        payload["calibration_cleared"] = True
    elif calibration_cleared:
        payload["calibration_cleared"] = True
    # An update still waiting is made when it goes, so it shows this correction too; only its
    # date is refreshed.
    if keys and cq.replace_pending_payload(
        session=session, team_id=team_id, post_key=keys[-1], payload=payload
    ):
        return
    _queue_update(uow, team_id, key, f"{prefix}{len(keys) + 1}", payload)


def _follow_sent(
    uow: UnitOfWork, team_id: str, key: str, message: dict[str, Any], update_key: str
) -> None:
    """A message made now (not at send time) replaces the one sent as `key`: its payload while no
    dispatcher has claimed it, else a chat.update once it is in Slack (`update_key`, once)."""
    session = uow.session
    original = outbox_queries.get(session=session, team_id=team_id, post_key=key)
    if original is None or original.state not in ("pending", *IN_SLACK_OR_ON_ITS_WAY):
        return
    if original.state == "pending" and cq.replace_pending_payload(
        session=session, team_id=team_id, post_key=key, payload=message
    ):
        return
    _queue_update(uow, team_id, key, update_key, message)


def _queue_update(
    uow: UnitOfWork,
    team_id: str,
    key: str,
    update_key: str,
    message: Mapping[str, Any],
    kind: str = UPDATE_KIND,
) -> None:
    """Queue, as `update_key`, the chat.update of the message sent as `key`: the dispatcher waits
    while that one is not in Slack yet, then updates the channel and ts it was sent with."""
    uow.outbox.add(
        team_id=team_id,
        post_key=update_key,
        kind=kind,
        to=to_sent_post(key),
        message=message,
        method=UPDATE_METHOD,
    )


def _take_down(uow: UnitOfWork, outcome: Outcome) -> None:
    """The shout-out no longer fits: down, as if the rep took it back (called off when not posted
    yet; deleted through the outbox once it is), and the DM where they agreed to it says so
    instead of offering "Take it back"."""
    assert outcome.id is not None
    result = take_back_shout_out(
        uow, team_id=outcome.team_id, user_id=outcome.user_id, outcome_id=outcome.id
    )
    uow.session.refresh(outcome)
    if isinstance(result, NotYours) or result is None:
        return
    if result.taken_back not in (TakenBack.NEVER_POSTED, TakenBack.COMING_DOWN):
        return
    key = f"debrief:{outcome.id}:{CHOICE}"
    choice = outbox_queries.get(session=uow.session, team_id=outcome.team_id, post_key=key)
    if choice is None:
        return  # not queued yet: its hook sees the take-back and queues none
    blocks = taken_back_blocks(
        list(choice.payload.get("blocks") or []),
        never_posted=result.taken_back is TakenBack.NEVER_POSTED,
    )
    _follow_sent(uow, outcome.team_id, key, {**choice.payload, "blocks": blocks}, f"{key}-update-1")


def _shout_out_changed(before: OutcomeFacts, after: OutcomeFacts) -> bool:
    """What a shout-out shows changed: the deal's name, or a perfect miss's practices."""
    return before.deal != after.deal or (
        after.kind == OutcomeKind.LOSS.value and before.practices != after.practices
    )


def follow_correction(
    uow: UnitOfWork,
    *,
    team_id: str,
    outcome_id: int,
    before: OutcomeFacts,
    after: OutcomeFacts,
    calibration_cleared: bool = False,
) -> None:
    """Queue what the correction changes in Slack (see the module's docstring);
    `calibration_cleared`: it cleared the manager's calibration (bot.usecases.corrections)."""
    outcome = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=outcome_id)
    if outcome is None:
        return
    now = uow.now()
    if outcome.celebrate_consent is True and outcome.shout_out_taken_back_at is None:
        workspace = queries.get_workspace(session=uow.session, team_id=team_id)
        # A win's correction leaves its bounce-back as it was (only a removal changes a streak),
        # so only a loss can stop being what its shout-out celebrates: as Rebound counts it, the
        # manager's calibration where it stands (a rename keeps it; bot.usecases.corrections).
        counted = counted_facts(outcome)
        if counted.kind == OutcomeKind.LOSS.value and not _fits_shout_out(counted, workspace):
            _take_down(uow, outcome)  # no longer a perfect miss
        elif _shout_out_changed(before, after) or calibration_cleared:
            _follow(uow, outcome, SHOUT_OUT, None)
    _follow_manager(uow, outcome, after, now, calibration_cleared)
    _follow(uow, outcome, REP, now)
    perfect = Classification.PERFECT_MISS
    if (
        before.deal != after.deal
        or (before.classification is perfect) != (after.classification is perfect)
        or calibration_cleared
    ):
        _follow(uow, outcome, REMINDER, None)  # names the deal; a perfect miss's nudge differs
    if before.deal != after.deal:
        _follow(uow, outcome, REFLECTED, None)


def _follow_manager(
    uow: UnitOfWork,
    outcome: Outcome,
    after: OutcomeFacts,
    now: datetime,
    calibration_cleared: bool = False,
) -> None:
    """The manager's note follows; a win corrected into a lucky hit gets one (the manager hears
    of lucky hits); a calibration's update of the note still waiting carries the correction."""
    assert outcome.id is not None
    session, team_id = uow.session, outcome.team_id
    key = original_key(outcome.id, MANAGER, outcome.kind)
    if outbox_queries.get(session=session, team_id=team_id, post_key=key) is None:
        manager = _manager_id(session, team_id, outcome.user_id)
        note = render(session, outcome, MANAGER, now)
        if after.classification is Classification.LUCKY_HIT and manager and note is not None:
            uow.outbox.add(
                team_id=team_id, post_key=key, kind=MANAGER_NOTE, to=to_user(manager), message=note
            )
        return
    _follow(uow, outcome, MANAGER, now, calibration_cleared=calibration_cleared)
    calibrated_key = calibrated_note_key(session, team_id, outcome.id)
    calibrated = outbox_queries.get(session=session, team_id=team_id, post_key=calibrated_key)
    note = render(session, outcome, MANAGER, now, calibration_cleared=calibration_cleared)
    if calibrated is not None and calibrated.state == "pending" and note is not None:
        cq.replace_pending_payload(
            session=session,
            team_id=team_id,
            post_key=calibrated_key,
            payload={"ts": calibrated.payload.get("ts"), **note},
        )


def follow_bounce_back_change(uow: UnitOfWork, *, team_id: str, win_id: int) -> None:
    """A win whose bounce-back was worked out again (an earlier loss removed): its DM shows the
    new streak, and its shout-out follows (down when it is no longer a bounce-back worth one)."""
    win = dq.get_outcome(session=uow.session, team_id=team_id, outcome_id=win_id)
    if win is None:
        return
    uow.session.refresh(win)  # its bounce-back was just written past the session
    if win.celebrate_consent is True and win.shout_out_taken_back_at is None:
        workspace = queries.get_workspace(session=uow.session, team_id=team_id)
        if _fits_shout_out(facts_of(win), workspace):
            _follow(uow, win, SHOUT_OUT, None)
        else:
            _take_down(uow, win)
    _follow(uow, win, REP, None)


def follow_removal(uow: UnitOfWork, *, team_id: str, facts: OutcomeFacts) -> None:
    """After the outcome was deleted (and with it every row about it not sent yet): its messages
    in Slack, or on their way there, are replaced by a short note or taken down."""
    session, now = uow.session, uow.now()
    removed: dict[str, dict[str, Any]] = {
        MANAGER: removed_manager_note(facts, now),
        **{s: removed_rep_dm(facts, now) for s in (REP, REMINDER, REFLECTED, CHOICE)},
    }
    for surface, message in removed.items():
        key = original_key(facts.id, surface, facts.kind)
        original = outbox_queries.get(session=session, team_id=team_id, post_key=key)
        if original is None or original.state not in IN_SLACK_OR_ON_ITS_WAY:
            continue
        _queue_update(
            uow, team_id, key, f"debrief:{facts.id}:{surface}-removed", message, REMOVAL_KIND
        )
    shout_out = outbox_queries.get(session=session, team_id=team_id, post_key=shout_out_key(facts))
    if shout_out is not None and shout_out.state in IN_SLACK_OR_ON_ITS_WAY:
        queue_shout_out_deletion(uow, team_id=team_id, facts=facts)
