"""`/lost`, `/won`, reflections, perfect-miss consent, and `/rebound lessons`.

Listeners stay thin: ack, read the payload, call a use case in `bot.usecases.debriefs`, build
messages with `bot.blocks.debriefs`. Everything posted goes through Delivery with a key per
outcome, so Slack's retries and double clicks post once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
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
    already_reflected_modal,
    bounce_back_shout_out,
    celebration_choice_dm,
    consent_recorded_blocks,
    lessons_message,
    loss_debrief_dm,
    lost_modal,
    manager_note,
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
from bot.delivery import Delivery
from bot.domain import Classification
from bot.messaging import send_ephemeral
from bot.scheduler import ScheduledJob
from bot.usecases import debriefs as usecases
from bot.usecases.debriefs import SavedOutcome
from storage import debriefs_queries as dq

log = logging.getLogger(__name__)

T = TypeVar("T")
SAVE_FAILED = "Couldn't save just now. Please try again — your answers are still here."


def register(app: App, deps: Deps) -> None:
    @app.command("/lost")
    def lost_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        _open_modal(client, command, lost_modal(command.get("text") or ""))

    @app.command("/won")
    def won_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        _open_modal(client, command, won_modal(command.get("text") or ""))

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
                team_id=_team_id(body),
                user_id=body["user"]["id"],
                submission=submission,
                submission_key=_submission_key(view),
                now=deps.clock(),
            ),
        )
        if saved is not None:
            _announce_loss(_delivery(deps, client), _team_id(body), saved)

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
                team_id=_team_id(body),
                user_id=body["user"]["id"],
                submission=submission,
                submission_key=_submission_key(view),
                now=deps.clock(),
            ),
        )
        if saved is not None:
            _announce_win(_delivery(deps, client), _team_id(body), saved)

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
                team_id=_team_id(body),
                user_id=body["user"]["id"],
                outcome_id=outcome_id,
            )
            session.commit()
        if prompt is None:
            return
        view = (
            already_reflected_modal(prompt.deal, prompt.answered)
            if prompt.answered
            else reflection_modal(prompt.deal, prompt.outcome_id, prompt.commitment)
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
        outcome_id, commitment_id = ids
        values = view["state"]["values"]
        # The metadata says whether this modal asked "did you do it?" (then it's required).
        submission, errors = parse_reflection_submission(
            values, asks_follow_up=commitment_id is not None
        )
        if submission is None:
            ack(response_action="errors", errors=errors)
            return
        team_id, user_id = _team_id(body), body["user"]["id"]
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
                message=reflection_saved_dm(saved.deal, saved.commitment, saved.followed_up),
            ),
        )

    def celebration_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        outcome_id = _int(action.get("value"))
        if outcome_id is None:
            return
        team_id, user_id = _team_id(body), body["user"]["id"]
        consent = action.get("action_id") == CELEBRATE_YES_ACTION_ID
        with deps.session_factory() as session:
            state = usecases.choose_celebration(
                session=session,
                team_id=team_id,
                user_id=user_id,
                outcome_id=outcome_id,
                consent=consent,
            )
            session.commit()
        if state is None or state.consent is None:
            return
        delivery = _delivery(deps, client)
        posted = state.posted
        if state.consent and state.channel_id and not posted:
            posted = _post_perfect_miss(delivery, team_id, state.facts, state.channel_id)
        _attempt(
            "celebration choice",
            lambda: delivery.dm(
                team_id=team_id,
                post_key=f"debrief:{outcome_id}:celebration-choice",
                kind="debrief-celebration-choice",
                user_id=user_id,
                message=celebration_choice_dm(
                    consent=state.consent is True, channel_id=state.channel_id, posted=posted
                ),
            ),
        )
        _replace_consent_buttons(client, body, consent=state.consent is True)

    app.action(CELEBRATE_YES_ACTION_ID)(celebration_clicked)
    app.action(CELEBRATE_NO_ACTION_ID)(celebration_clicked)


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, ScheduledJob]]:
    def remind_reflections(now: datetime) -> None:
        with deps.session_factory() as session:
            due = dq.reflection_reminders_due(session=session, now=now)
            session.commit()
        for outcome in due:
            assert outcome.id is not None
            # One reminder per debrief, ever: the post key is the guarantee, the timestamp
            # only keeps the next tick from looking at it again.
            delivery.dm(
                team_id=outcome.team_id,
                post_key=f"debrief:{outcome.id}:reminder",
                kind="debrief-reminder",
                user_id=outcome.user_id,
                message=reflection_reminder_dm(usecases.facts_of(outcome)),
            )
            with deps.session_factory() as session:
                dq.mark_reflection_reminded(session=session, outcome_id=outcome.id, now=now)
                session.commit()

    def post_waiting_celebrations(now: datetime) -> None:
        with deps.session_factory() as session:
            due = dq.celebrations_due(session=session)
            session.commit()
        for outcome, channel_id in due:
            _post_perfect_miss(delivery, outcome.team_id, usecases.facts_of(outcome), channel_id)

    return [
        ("debrief-reflection-reminders", remind_reflections),
        ("debrief-waiting-celebrations", post_waiting_celebrations),
    ]


def reply_with_lessons(client: WebClient, deps: Deps, command: dict[str, Any], text: str) -> None:
    """`/rebound lessons [words]`, after the ack: an ephemeral list only the asker sees."""
    with deps.session_factory() as session:
        result = usecases.find_lessons(
            session=session, team_id=command["team_id"], user_id=command["user_id"], text=text
        )
        session.commit()
    send_ephemeral(client, command, lessons_message(result))


# --- after the ack -------------------------------------------------------------------------------


def _announce_loss(delivery: Delivery, team_id: str, saved: SavedOutcome) -> None:
    facts = saved.facts
    _attempt(
        "loss debrief DM",
        lambda: delivery.dm(
            team_id=team_id,
            post_key=f"debrief:{facts.id}:rep",
            kind="debrief-rep",
            user_id=facts.user_id,
            message=loss_debrief_dm(facts, recognition_channel_id=saved.recognition_channel_id),
        ),
    )
    _note_manager(delivery, team_id, saved)


def _announce_win(delivery: Delivery, team_id: str, saved: SavedOutcome) -> None:
    facts = saved.facts
    shout_out_channel = saved.recognition_channel_id if facts.bounce_back_losses else None
    if shout_out_channel:
        _attempt(
            "bounce-back shout-out",
            lambda: delivery.post(
                team_id=team_id,
                post_key=f"debrief:{facts.id}:bounce-back",
                kind="bounce-back",
                channel=shout_out_channel,
                message=bounce_back_shout_out(facts),
            ),
        )
    _attempt(
        "win DM",
        lambda: delivery.dm(
            team_id=team_id,
            post_key=f"debrief:{facts.id}:rep",
            kind="win-rep",
            user_id=facts.user_id,
            message=win_logged_dm(facts, saved.resilience, shout_out_channel=shout_out_channel),
        ),
    )
    if facts.classification is Classification.LUCKY_HIT:
        _note_manager(delivery, team_id, saved)


def _note_manager(delivery: Delivery, team_id: str, saved: SavedOutcome) -> None:
    manager = saved.manager_user_id
    if manager is None:
        return
    _attempt(
        "manager note",
        lambda: delivery.dm(
            team_id=team_id,
            post_key=f"debrief:{saved.facts.id}:manager",
            kind="debrief-manager",
            user_id=manager,
            message=manager_note(saved.facts),
        ),
    )


def _post_perfect_miss(
    delivery: Delivery, team_id: str, facts: usecases.OutcomeFacts, channel_id: str
) -> bool:
    """Post the consented shout-out once; True when it is (now or before) in the channel."""
    try:
        delivery.post(
            team_id=team_id,
            post_key=f"debrief:{facts.id}:perfect-miss",
            kind="perfect-miss",
            channel=channel_id,
            message=perfect_miss_shout_out(facts),
        )
    except Exception:
        log.exception("perfect-miss shout-out for outcome %s failed; retried later", facts.id)
        return False
    with delivery.session_factory() as session:
        dq.mark_celebration_posted(session=session, outcome_id=facts.id, now=delivery.clock())
        session.commit()
    return True


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
        return int(value)
    except (TypeError, ValueError):
        return None


def _team_id(body: dict[str, Any]) -> str:
    return (body.get("team") or {}).get("id") or body.get("team_id") or body["user"]["team_id"]
