"""`/goal`, `/rebound report` (charts in a DM) and the Home dashboard's buttons.

Listeners are module-level functions: ack, parse, call one use case of
`bot.usecases.goal_form` or `bot.usecases.reports` in a unit of work, hand its result to a
builder of `bot.blocks.goals`. What they cause (the "goal saved" DM, the report's charts) is
queued in the outbox in the same transaction and sent by the dispatcher. The end-of-cycle review
is a job (bot.jobs.goals).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.dashboard import HOME_CHECKIN_ACTION_ID, HOME_LOST_ACTION_ID, HOME_WON_ACTION_ID
from bot.blocks.debriefs import lost_modal, won_modal
from bot.blocks.goals import (
    CHANGE_GOAL_ACTION_ID,
    GOAL_CALLBACK_ID,
    GoalDefaults,
    goal_id_of,
    goal_modal,
    goal_progress_message,
    parse_goal_submission,
)
from bot.domain.text import parse_row_id
from bot.features._interactions import open_modal
from bot.features._save_before_ack import save_before_ack
from bot.jobs import goals as jobs
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.slack_users import fetch_profile
from bot.usecases import goal_form, reports
from bot.usecases.goal_reviews import FirstNames
from bot.usecases.goals import local_today

log = logging.getLogger(__name__)
SAVE_FAILED = "Couldn't save just now. Please try Save again."
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def first_names(client: WebClient) -> FirstNames:
    """People's first names from Slack, for chart labels."""
    return jobs.first_names(client)


def register(app: App, deps: Deps) -> None:
    """What answers which request (the listeners read `deps` from Bolt's context)."""
    app.command("/goal")(goal_command)
    app.action(CHANGE_GOAL_ACTION_ID)(change_goal)
    app.view(GOAL_CALLBACK_ID)(goal_submitted)
    app.action(HOME_LOST_ACTION_ID)(open_lost_from_home)
    app.action(HOME_WON_ACTION_ID)(open_won_from_home)
    app.action(HOME_CHECKIN_ACTION_ID)(open_checkin_from_home)


scheduled_jobs = jobs.scheduled_jobs


# --- /goal -------------------------------------------------------------------------------------


@tells_user_on_failure
def goal_command(
    ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """With a goal set: its progress, privately. Without: the modal, on the workspace's cycle."""
    ack()
    deps: Deps = context["deps"]
    team_id, user_id = command["team_id"], command["user_id"]
    with deps.uow() as uow:
        shown = goal_form.goal_or_cycle(
            uow,
            team_id=team_id,
            user_id=user_id,
            fetch_profile=lambda: fetch_profile(client, user_id),
        )
    if shown.progress is not None:
        send_ephemeral(client, command, goal_progress_message(shown.progress))
        return
    start, end = shown.cycle
    _open_modal(client, command["trigger_id"], GoalDefaults(cycle_start=start, cycle_end=end))


def change_goal(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps: Deps = context["deps"]
    value = (body.get("actions") or [{}])[0].get("value") or ""
    try:
        goal_id: int | None = parse_row_id(value)
    except ValueError:
        goal_id = None
    with deps.uow() as uow:
        defaults = goal_form.goal_to_change(
            uow, team_id=team_id_of(body), user_id=body["user"]["id"], goal_id=goal_id
        )
    if isinstance(defaults, goal_form.NotYourGoal):
        reply_to_click(client, body, not_yours_message("goal", defaults.owner_user_id))
        return
    _open_modal(client, body["trigger_id"], defaults)


def goal_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    replacing = goal_id_of(view)
    try:
        with deps.uow() as uow:
            form = goal_form.goal_form(
                uow, team_id=team_id, user_id=user_id, replacing_goal_id=replacing
            )
    except Exception:  # the database is down: keep the modal and what was typed
        log.exception("reading the rep's timezone failed")
        ack(response_action="errors", errors={"why": SAVE_FAILED})
        return
    if form.replaced_owner is not None and form.replaced_owner != user_id:
        # A form changing another rep's goal (forged, or forwarded): nothing is saved.
        ack(response_action="errors", errors={"why": NOT_YOURS_ERROR})
        return
    submission, errors = parse_goal_submission(
        view["state"]["values"], local_today(deps.clock(), form.tz)
    )
    if submission is None:
        ack(response_action="errors", errors=errors)
        return
    # Saved before ack, with the "goal saved" DM queued in the same transaction.
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: goal_form.record_goal(
            uow,
            team_id=team_id,
            user_id=user_id,
            tz=form.tz,
            submission=submission,
            submission_key=view["id"],
            replacing_goal_id=replacing,
        ),
        error_block="why",
        message=SAVE_FAILED,
    )


def _open_modal(client: WebClient, trigger_id: str, defaults: GoalDefaults) -> None:
    open_modal(client, trigger_id, goal_modal(defaults), what="/goal")


# --- /rebound report ------------------------------------------------------------------------


def send_report(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    """`/rebound report`: a manager gets the team's quadrant and loss-reason charts in their DM;
    `/rebound report @rep` (a manager's rep) or a rep without a team gets a bounce-back timeline."""
    user_id = command["user_id"]
    mention = _MENTION.search(command.get("text") or "")
    try:
        with deps.uow() as uow:
            queued = reports.queue_report(
                uow,
                team_id=command["team_id"],
                user_id=user_id,
                subject=mention.group(1) if mention else None,
                request_key=command.get("trigger_id") or deps.clock().isoformat(),
                first_names=first_names(client),
                whose=lambda subject: _whose(client, subject, user_id),
            )
    except reports.NotYourReport:
        send_ephemeral(
            client,
            command,
            {"text": "You can ask for your own report, or for someone who reports to you."},
        )
        return
    where = (
        "Your team report is in your DM."
        if queued.subject is None
        else "The bounce-back timeline is in your DM."
    )
    send_ephemeral(client, command, {"text": where})


def _whose(client: WebClient, subject: str, viewer: str) -> str:
    """ "your", or "Leo's": whose timeline a chart shows, in words (a chart's alt text can't
    hold a mention)."""
    if subject == viewer:
        return "your"
    profile = fetch_profile(client, subject)
    name = profile.display_name.split()[0] if profile and profile.display_name.split() else ""
    return f"{name}'s" if name else "your rep's"


# --- the Home tab ----------------------------------------------------------------------------


def open_lost_from_home(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """The Home dashboard's buttons open the very modals of /lost, /won and /checkin."""
    ack()
    open_modal(client, body["trigger_id"], lost_modal(), what="/lost from Home")


def open_won_from_home(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    open_modal(client, body["trigger_id"], won_modal(), what="/won from Home")


def open_checkin_from_home(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    from bot.features.checkins import open_week_modal

    ack()
    command = {
        "team_id": team_id_of(body),
        "user_id": body["user"]["id"],
        "trigger_id": body["trigger_id"],
    }
    open_week_modal(client, context["deps"], command)
