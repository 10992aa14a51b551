"""`/lost`, `/won`, reflections, perfect-miss consent, and `/rebound lessons`.

Listeners stay thin: ack, read the payload, call a use case in `bot.usecases.debriefs`, build
messages with `bot.blocks.debriefs`. Everything posted goes through Delivery with a key per
outcome, so Slack's retries and double clicks post once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.app import Deps
from bot.blocks.debriefs import (
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    LOST_CALLBACK_ID,
    REFLECT_ACTION_ID,
    REFLECT_CALLBACK_ID,
    WON_CALLBACK_ID,
    ShoutOut,
    already_reflected_modal,
    bounce_back_shout_out,
    celebration_choice_dm,
    consent_recorded_blocks,
    lessons_message,
    loss_debrief_dm,
    lost_modal,
    manager_note,
    not_your_questions,
    parse_lost_submission,
    parse_reflection_submission,
    parse_won_submission,
    perfect_miss_shout_out,
    read_reflection_metadata,
    reflection_modal,
    reflection_reminder_dm,
    reflection_saved_dm,
    win_logged_dm,
    won_modal,
)
from bot.delivery import Delivery, Sent
from bot.domain import Classification
from bot.domain.debriefs import OutcomeFacts
from bot.domain.text import parse_row_id
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.scheduler import ScheduledJob
from bot.slack_text import unescape_command_text
from bot.usecases import debriefs as usecases
from bot.usecases.debriefs import (
    NotYours,
    SavedOutcome,
    bounce_back_post_key,
)
from storage import debriefs_queries as dq

log = logging.getLogger(__name__)

T = TypeVar("T")
SAVE_FAILED = "Couldn't save just now. Please try again — your answers are still here."
# Slack errors after which sending the same message again cannot help: the person left or
# can't get DMs, or the bot can't post in the channel. Anything else is tried again later.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "user_not_found",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "access_denied",
    }
)


class Sending(Enum):
    """How one attempt to send a message ended."""

    SENT = "sent"  # in Slack: sent now, or before under the same post key
    LATER = "later"  # not now (Slack failed, or another worker is sending it): retry later
    NEVER = "never"  # a permanent Slack error: sending it again cannot help


def register(app: App, deps: Deps) -> None:
    @app.command("/lost")
    @tells_user_on_failure
    def lost_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        _open_modal(client, command, lost_modal(unescape_command_text(command.get("text") or "")))

    @app.command("/won")
    @tells_user_on_failure
    def won_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        _open_modal(client, command, won_modal(unescape_command_text(command.get("text") or "")))

    @app.view(LOST_CALLBACK_ID)
    def lost_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        submission, errors = parse_lost_submission(view["state"]["values"])
        if submission is None:
            ack(response_action="errors", errors=errors)
            return
        saved = _save_before_ack(
            ack,
            deps,
            lambda session: usecases.save_loss(
                session=session,
                team_id=team_id_of(body),
                user_id=body["user"]["id"],
                submission=submission,
                submission_key=_submission_key(view),
                now=deps.clock(),
            ),
        )
        if saved is not None:
            _announce_loss(_delivery(deps, client), team_id_of(body), saved)

    @app.view(WON_CALLBACK_ID)
    def won_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        submission, errors = parse_won_submission(view["state"]["values"])
        if submission is None:
            ack(response_action="errors", errors=errors)
            return
        saved = _save_before_ack(
            ack,
            deps,
            lambda session: usecases.save_win(
                session=session,
                team_id=team_id_of(body),
                user_id=body["user"]["id"],
                submission=submission,
                submission_key=_submission_key(view),
                now=deps.clock(),
            ),
        )
        if saved is not None:
            _announce_win(_delivery(deps, client), team_id_of(body), saved)

    @app.action(REFLECT_ACTION_ID)
    def reflect_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        outcome_id = _int(action.get("value"))
        if outcome_id is None:
            return
        with deps.session_factory() as session:
            prompt = usecases.reflection_prompt(
                session=session,
                team_id=team_id_of(body),
                user_id=body["user"]["id"],
                outcome_id=outcome_id,
            )
            session.commit()
        if prompt is None:
            return
        if isinstance(prompt, NotYours):
            reply_to_click(client, body, not_your_questions(prompt.owner_user_id))
            return
        view = (
            already_reflected_modal(prompt.deal, prompt.answered)
            if prompt.answered
            else reflection_modal(
                prompt.deal,
                prompt.outcome_id,
                prompt.commitment,
                perfect_miss=prompt.perfect_miss,
            )
        )
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            log.warning("views.open for reflections failed: %s", error.response.get("error"))

    @app.view(REFLECT_CALLBACK_ID)
    def reflections_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        ids = read_reflection_metadata(view.get("private_metadata", ""))
        if ids is None:
            ack()
            return
        outcome_id, commitment_id = ids.outcome_id, ids.commitment_id
        values = view["state"]["values"]
        # The metadata says whether this modal asked "did you do it?" (then it's required).
        submission, errors = parse_reflection_submission(
            values, asks_follow_up=commitment_id is not None, perfect_miss=ids.perfect_miss
        )
        if submission is None:
            ack(response_action="errors", errors=errors)
            return
        team_id, user_id = team_id_of(body), body["user"]["id"]
        try:
            owner = _owner_of(deps, team_id, outcome_id)
        except Exception:  # the database is down: keep the modal and what was written
            log.exception("reading the debrief failed")
            ack(response_action="errors", errors={"commitment": SAVE_FAILED})
            return
        if owner != user_id:
            # Another rep's questions (a forged or misrouted form): said in the form, nothing saved.
            ack(response_action="errors", errors={"commitment": NOT_YOURS_ERROR})
            return
        saved = _save_before_ack(
            ack,
            deps,
            lambda session: usecases.save_reflections(
                session=session,
                team_id=team_id,
                user_id=user_id,
                outcome_id=outcome_id,
                commitment_id=commitment_id,
                submission=submission,
                now=deps.clock(),
            ),
            error_block="commitment",
        )
        if saved is None or not saved.first_time:
            return
        _attempt(
            "reflection thanks",
            lambda: _delivery(deps, client).dm(
                team_id=team_id,
                post_key=f"debrief:{outcome_id}:reflected",
                kind="debrief-reflected",
                user_id=user_id,
                message=reflection_saved_dm(
                    saved.deal,
                    saved.commitment,
                    saved.followed_up,
                    perfect_miss=saved.perfect_miss,
                ),
            ),
        )

    def celebration_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        outcome_id = _int(action.get("value"))
        if outcome_id is None:
            return
        team_id, user_id = team_id_of(body), body["user"]["id"]
        owner = _owner_of(deps, team_id, outcome_id)
        if owner is not None and owner != user_id:
            # Only the rep may say whether their perfect miss is celebrated.
            reply_to_click(client, body, not_yours_message("choice", owner))
            return
        consent = action.get("action_id") == CELEBRATE_YES_ACTION_ID
        with deps.session_factory() as session:
            state = usecases.choose_celebration(
                session=session,
                team_id=team_id,
                user_id=user_id,
                outcome_id=outcome_id,
                consent=consent,
                now=deps.clock(),
            )
            session.commit()
        if state is None or state.consent is None:
            return
        delivery = _delivery(deps, client)
        shout_out = ShoutOut.POSTED if state.posted else ShoutOut.NO_CHANNEL
        if state.consent and state.channel_id and not state.posted:
            if state.failed_channel_id == state.channel_id:
                shout_out = ShoutOut.CHANNEL_FAILED  # known not to work until settings change
            else:
                shout_out = _post_perfect_miss(
                    delivery, team_id, state.facts, state.channel_id, wait_for_in_flight=True
                )
        if not state.first_answer:
            # A double click: the request that recorded the answer tells the rep how it went
            # (this one may have found that request's post still in flight).
            _replace_consent_buttons(client, body, consent=state.consent is True)
            return
        _attempt(
            "celebration choice",
            lambda: delivery.dm(
                team_id=team_id,
                post_key=f"debrief:{outcome_id}:celebration-choice",
                kind="debrief-celebration-choice",
                user_id=user_id,
                message=celebration_choice_dm(
                    consent=state.consent is True,
                    channel_id=state.channel_id,
                    shout_out=shout_out,
                ),
            ),
        )
        _replace_consent_buttons(client, body, consent=state.consent is True)

    app.action(CELEBRATE_YES_ACTION_ID)(celebration_clicked)
    app.action(CELEBRATE_NO_ACTION_ID)(celebration_clicked)


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, ScheduledJob]]:
    """Each job sends every due item on its own: one that fails (a rep who left, a channel
    the bot isn't in, a Slack hiccup) never holds up the others."""

    def remind_reflections(now: datetime) -> None:
        with deps.session_factory() as session:
            due = dq.reflection_reminders_due(session=session, now=now)
            session.commit()
        for outcome in due:
            _remind(delivery, outcome.team_id, usecases.facts_of(outcome), now)

    def send_pending_rep_dms(now: datetime) -> None:
        with deps.session_factory() as session:
            notices = usecases.pending_rep_dms(session=session, now=now)
            session.commit()
        for notice in notices:
            if notice.facts.kind == "win":
                message = win_logged_dm(
                    notice.facts, notice.resilience, shout_out_channel=notice.shout_out_channel
                )
            else:
                message = loss_debrief_dm(
                    notice.facts, recognition_channel_id=notice.recognition_channel_id
                )
            _send_rep_dm(delivery, notice.team_id, notice.facts, message)

    def send_pending_manager_notes(now: datetime) -> None:
        with deps.session_factory() as session:
            notices = usecases.pending_manager_notes(session=session, now=now)
            session.commit()
        for notice in notices:
            _send_manager_note(delivery, notice.team_id, notice.facts, notice.manager_user_id)

    def post_waiting_celebrations(now: datetime) -> None:
        with deps.session_factory() as session:
            due = dq.celebrations_due(session=session, now=now)
            session.commit()
        for outcome, channel_id in due:
            _post_perfect_miss(delivery, outcome.team_id, usecases.facts_of(outcome), channel_id)

    def post_waiting_bounce_backs(now: datetime) -> None:
        with deps.session_factory() as session:
            due = usecases.pending_bounce_backs(session=session, now=now)
            session.commit()
        for team_id, facts, channel_id in due:
            _post_bounce_back(delivery, team_id, facts, channel_id)

    # Shout-outs before the reps' DMs: a win's DM retried in the same tick can then say
    # where its bounce-back went up.
    return [
        ("debrief-reflection-reminders", remind_reflections),
        ("debrief-waiting-celebrations", post_waiting_celebrations),
        ("debrief-waiting-bounce-backs", post_waiting_bounce_backs),
        ("debrief-pending-rep-dms", send_pending_rep_dms),
        ("debrief-pending-manager-notes", send_pending_manager_notes),
    ]


def reply_with_lessons(client: WebClient, deps: Deps, command: dict[str, Any], text: str) -> None:
    """`/rebound lessons [words]`, after the ack: an ephemeral list only the asker sees.

    `text` is as Slack sent it (AT&amp;T); the words are searched, and echoed, as typed."""
    with deps.session_factory() as session:
        result = usecases.find_lessons(
            session=session,
            team_id=command["team_id"],
            user_id=command["user_id"],
            text=unescape_command_text(text),
        )
        session.commit()
    send_ephemeral(client, command, lessons_message(result))


# --- after the ack (and from the scheduler, for what Slack refused the first time) -------------


def _announce_loss(delivery: Delivery, team_id: str, saved: SavedOutcome) -> None:
    message = loss_debrief_dm(saved.facts, recognition_channel_id=saved.recognition_channel_id)
    _send_rep_dm(delivery, team_id, saved.facts, message)
    if saved.manager_user_id is not None:
        _send_manager_note(delivery, team_id, saved.facts, saved.manager_user_id)


def _announce_win(delivery: Delivery, team_id: str, saved: SavedOutcome) -> None:
    facts = saved.facts
    shout_out_channel = None
    if facts.bounce_back_losses and saved.recognition_channel_id:
        posted = _post_bounce_back(delivery, team_id, facts, saved.recognition_channel_id)
        shout_out_channel = saved.recognition_channel_id if posted is Sending.SENT else None
    message = win_logged_dm(facts, saved.resilience, shout_out_channel=shout_out_channel)
    _send_rep_dm(delivery, team_id, facts, message)
    if facts.classification is Classification.LUCKY_HIT and saved.manager_user_id is not None:
        _send_manager_note(delivery, team_id, facts, saved.manager_user_id)


def _send_rep_dm(
    delivery: Delivery, team_id: str, facts: OutcomeFacts, message: dict[str, Any]
) -> Sending:
    """The rep's DM about their win or loss. A loss's DM carries the reflection questions, so
    the reminder counts from when it is in Slack; a transient failure leaves it to the job."""
    post_key = f"debrief:{facts.id}:rep"
    kind = "win-rep" if facts.kind == "win" else "debrief-rep"
    sending = _send(
        delivery,
        team_id,
        post_key,
        "rep DM",
        lambda: delivery.dm(
            team_id=team_id, post_key=post_key, kind=kind, user_id=facts.user_id, message=message
        ),
    )
    if sending is not Sending.LATER:
        asked_at = delivery.clock() if sending is Sending.SENT and facts.kind == "loss" else None
        _write(
            delivery,
            lambda session: dq.finish_rep_dm(
                session=session, outcome_id=facts.id, questions_sent_at=asked_at
            ),
        )
    return sending


def _send_manager_note(
    delivery: Delivery, team_id: str, facts: OutcomeFacts, manager_user_id: str | None
) -> Sending:
    """The private note to the rep's manager; no manager (any more): nothing to send."""
    sending = Sending.NEVER
    if manager_user_id is not None:
        post_key = f"debrief:{facts.id}:manager"
        sending = _send(
            delivery,
            team_id,
            post_key,
            "manager note",
            lambda: delivery.dm(
                team_id=team_id,
                post_key=post_key,
                kind="debrief-manager",
                user_id=manager_user_id,
                message=manager_note(facts),
            ),
        )
    if sending is not Sending.LATER:
        _write(
            delivery, lambda session: dq.finish_manager_note(session=session, outcome_id=facts.id)
        )
    return sending


def _remind(delivery: Delivery, team_id: str, facts: OutcomeFacts, now: datetime) -> None:
    """One reminder per debrief, ever: the post key is the guarantee; the timestamp takes it
    off the queue, also when it can never be sent (the rep left)."""
    post_key = f"debrief:{facts.id}:reminder"
    sending = _send(
        delivery,
        team_id,
        post_key,
        "reflection reminder",
        lambda: delivery.dm(
            team_id=team_id,
            post_key=post_key,
            kind="debrief-reminder",
            user_id=facts.user_id,
            message=reflection_reminder_dm(facts),
        ),
    )
    if sending is not Sending.LATER:
        _write(
            delivery,
            lambda session: dq.mark_reflection_reminded(
                session=session, outcome_id=facts.id, now=now
            ),
        )


def _post_perfect_miss(
    delivery: Delivery,
    team_id: str,
    facts: OutcomeFacts,
    channel_id: str,
    *,
    wait_for_in_flight: bool = False,
) -> ShoutOut:
    """Post the consented shout-out once. Marked posted only when the post log says it is in
    Slack: another worker's send in flight may still fail and leave it to the job."""
    post_key = f"debrief:{facts.id}:perfect-miss"
    sending = _send(
        delivery,
        team_id,
        post_key,
        "perfect-miss shout-out",
        lambda: delivery.post(
            team_id=team_id,
            post_key=post_key,
            kind="perfect-miss",
            channel=channel_id,
            message=perfect_miss_shout_out(facts),
        ),
        wait_for_in_flight=wait_for_in_flight,
    )
    if sending is Sending.SENT:
        _write(
            delivery,
            lambda session: dq.mark_celebration_posted(
                session=session, outcome_id=facts.id, now=delivery.clock()
            ),
        )
        return ShoutOut.POSTED
    if sending is Sending.NEVER:
        _write(
            delivery,
            lambda session: dq.mark_celebration_failed(
                session=session, outcome_id=facts.id, channel_id=channel_id, now=delivery.clock()
            ),
        )
        return ShoutOut.CHANNEL_FAILED
    return ShoutOut.LATER


def _post_bounce_back(
    delivery: Delivery, team_id: str, facts: OutcomeFacts, channel_id: str
) -> Sending:
    """Post the bounce-back shout-out once; kept for the job when Slack refused it (and not
    tried in a channel the bot can't post in until an admin picks another)."""
    post_key = bounce_back_post_key(facts.id)
    sending = _send(
        delivery,
        team_id,
        post_key,
        "bounce-back shout-out",
        lambda: delivery.post(
            team_id=team_id,
            post_key=post_key,
            kind="bounce-back",
            channel=channel_id,
            message=bounce_back_shout_out(facts),
        ),
    )
    if sending is Sending.SENT:
        _write(
            delivery,
            lambda session: dq.mark_bounce_back_posted(session=session, outcome_id=facts.id),
        )
    elif sending is Sending.NEVER:
        _write(
            delivery,
            lambda session: dq.mark_bounce_back_failed(
                session=session, outcome_id=facts.id, channel_id=channel_id, now=delivery.clock()
            ),
        )
    return sending


# How long a request that finds another one's send in flight looks for it to land: 3 s.
IN_FLIGHT_CHECKS, IN_FLIGHT_CHECK_SECONDS = 30, 0.1


def _send(
    delivery: Delivery,
    team_id: str,
    post_key: str,
    what: str,
    send: Callable[[], Sent | None],
    *,
    wait_for_in_flight: bool = False,
) -> Sending:
    """Try one send, never raising. SENT only when the post log says it went out: a None from
    Delivery may also mean another worker's send is still in flight, and that one may fail.
    `wait_for_in_flight`: a person is about to be told how it went (a double click's first
    request), so give such a send a moment to land; jobs never wait."""
    if not delivery.is_installed(team_id):
        return Sending.NEVER  # uninstalled: its data waits for deletion, nothing to send
    try:
        sent = send()
    except SlackApiError as error:
        code = error.response.get("error")
        if code in PERMANENT_SLACK_ERRORS:
            log.info("%s %s can never be sent (%s); giving up", what, post_key, code)
            return Sending.NEVER
        log.warning("%s %s not sent (%s); retrying later", what, post_key, code)
        return Sending.LATER
    except Exception:
        log.exception("%s %s not sent; retrying later", what, post_key)
        return Sending.LATER
    if sent is not None:
        return Sending.SENT
    # Another request holds the claim (a double click): its send usually lands within moments,
    # so look again briefly before saying "later" (we are past the ack; nothing waits on us).
    for _ in range(IN_FLIGHT_CHECKS if wait_for_in_flight else 0):
        if delivery.already_sent(team_id=team_id, post_key=post_key):
            return Sending.SENT
        time.sleep(IN_FLIGHT_CHECK_SECONDS)
    if delivery.already_sent(team_id=team_id, post_key=post_key):
        return Sending.SENT
    return Sending.LATER


def _write(delivery: Delivery, change: Callable[[Session], None]) -> None:
    with delivery.session_factory() as session:
        change(session)
        session.commit()


def _owner_of(deps: Deps, team_id: str, outcome_id: int) -> str | None:
    """Whose debrief `outcome_id` is in this workspace (None when there is no such debrief)."""
    with deps.session_factory() as session:
        outcome = dq.get_outcome(session=session, team_id=team_id, outcome_id=outcome_id)
        return outcome.user_id if outcome is not None else None


def _replace_consent_buttons(client: WebClient, body: dict[str, Any], *, consent: bool) -> None:
    message, channel = body.get("message"), (body.get("channel") or {}).get("id")
    if not message or not channel or not message.get("ts"):
        return
    try:
        client.chat_update(
            channel=channel,
            ts=message["ts"],
            text=message.get("text") or "Debrief saved",
            blocks=consent_recorded_blocks(message.get("blocks") or [], consent=consent),
        )
    except SlackApiError as error:
        log.info("could not update the consent message: %s", error.response.get("error"))


# --- plumbing ------------------------------------------------------------------------------------


def _open_modal(client: WebClient, command: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        send_ephemeral(
            client,
            command,
            {
                "text": "Slack didn't let me open the form just now. "
                f"Please run `{command['command']}` again."
            },
        )


def _save_before_ack(
    ack: Ack, deps: Deps, save: Callable[[Session], T | None], *, error_block: str = "deal"
) -> T | None:
    """Save in one short transaction, then ack. Saved before the ack on purpose: if the write
    fails, the modal stays open with everything typed. None: nothing new to announce (a repeat
    submission of the same view, or a failure already answered)."""
    try:
        with deps.session_factory() as session:
            result = save(session)
            session.commit()
    except Exception:
        log.exception("saving a debrief failed")
        ack(response_action="errors", errors={error_block: SAVE_FAILED})
        return None
    ack()
    return result


def _delivery(deps: Deps, client: WebClient) -> Delivery:
    return Delivery(deps.session_factory, client, deps.clock)


def _attempt(what: str, send: Callable[[], object]) -> None:
    """One failed Slack call must not stop the others; each has its own post key, so nothing
    sent is ever sent twice."""
    try:
        send()
    except Exception:
        log.exception("%s failed", what)


def _submission_key(view: dict[str, Any]) -> str:
    # The view id is the same for every submission of one modal, Slack retries included.
    return f"view:{view['id']}"


def _int(value: Any) -> int | None:
    try:
        return parse_row_id(value)
    except ValueError:
        return None
