"""The digest's "Reply" and its form: a manager replies to a rep's check-in answer and puts it
on their one-on-one agenda. The reply DM is an outbox row written with the agenda item
(bot.usecases.one_on_ones); the agenda is shown on both Homes (bot.features.home), where the
rep or their manager marks an item "Done" (bot.usecases.agenda_done)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.one_on_ones import (
    AGENDA_DONE_ACTION_ID,
    NOT_THEIR_MANAGER_ERROR,
    REPLY_ACTION_ID,
    REPLY_CALLBACK_ID,
    not_on_their_agenda_message,
    not_their_manager_message,
    parse_reply_submission,
    read_reply_metadata,
    reply_modal,
)
from bot.domain.one_on_ones import AgendaRefusal
from bot.features._interactions import RowClick, form_row_and_answers, on_row_click, open_modal
from bot.features._save_before_ack import SAVE_FAILED, save_before_ack
from bot.messaging import reply_to_click, team_id_of
from bot.slack_users import SlackUnavailable, fetch_profile, is_rebound_admin, lookup_profile
from bot.usecases import agenda_done
from bot.usecases import one_on_ones as usecases
from bot.usecases.one_on_ones import NotTheirManager

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    app.action(REPLY_ACTION_ID)(reply_clicked)
    app.view(REPLY_CALLBACK_ID)(reply_submitted)
    app.action(AGENDA_DONE_ACTION_ID)(agenda_done_clicked)


@on_row_click
def reply_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    with click.deps.uow() as uow:
        target = usecases.reply_target(
            session=uow.session,
            team_id=click.team_id,
            user_id=click.user_id,
            checkin_id=click.row_id,
        )
    if target is None:
        return
    if isinstance(target, NotTheirManager):
        reply_to_click(client, body, not_their_manager_message(target.rep_user_id))
        return
    open_modal(client, body["trigger_id"], reply_modal(target), what="a check-in reply")


def reply_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    form = form_row_and_answers(ack, view, read_reply_metadata, parse_reply_submission)
    if form is None:
        return
    checkin_id, submission = form
    deps: Deps = context["deps"]
    team_id, user_id = team_id_of(body), body["user"]["id"]
    try:
        with deps.uow() as uow:
            target = usecases.reply_target(
                session=uow.session, team_id=team_id, user_id=user_id, checkin_id=checkin_id
            )
    except Exception:  # the database is down: keep the modal and what was written
        log.exception("reading the check-in failed")
        ack(response_action="errors", errors={"reply": SAVE_FAILED})
        return
    if not isinstance(target, usecases.ReplyTarget):
        # Not (or no longer) their manager, or no such check-in: said in the form, nothing sent.
        ack(response_action="errors", errors={"reply": NOT_THEIR_MANAGER_ERROR})
        return
    save_before_ack(
        ack,
        deps.uow(),
        lambda uow: usecases.send_reply(
            uow,
            team_id=team_id,
            manager_user_id=user_id,
            checkin_id=checkin_id,
            submission=submission,
            # The view id is the same for every submission of one modal, Slack retries included.
            submission_key=f"view:{view['id']}",
        ),
        error_block="reply",
    )


@on_row_click
def agenda_done_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    """ "Done" on a Home's agenda line. The profiles the two Homes are rendered with are read
    from Slack first (users.info), outside the transaction; whether the clicker may close it is
    decided inside it, from our records (and, only when they would be refused, from whether
    Slack says they are an admin)."""
    deps, team_id, user_id, item_id = click.deps, click.team_id, click.user_id, click.row_id
    with deps.uow() as uow:
        people = agenda_done.agenda_item_people(
            session=uow.session, team_id=team_id, item_id=item_id
        )
    if people is None:
        return  # no such item here (a stale or forged id): nothing to change or say
    admins = deps.settings.admins
    is_admin = user_id in admins
    if not people.may_close(user_id, is_admin=is_admin):
        # Not theirs by our records: an admin may still close it (users.info says so).
        try:
            is_admin = is_rebound_admin(lookup_profile(client, user_id), user_id, admins)
        except SlackUnavailable:
            is_admin = False
    homes: dict[str, agenda_done.HomeOf] = {}
    if people.may_close(user_id, is_admin=is_admin):  # else refused below: no Home to render
        for person in dict.fromkeys(people.homes):
            profile = fetch_profile(client, person)
            homes[person] = agenda_done.HomeOf(profile, is_rebound_admin(profile, person, admins))
    with deps.uow() as uow:
        result = agenda_done.close_item(
            uow, team_id=team_id, user_id=user_id, item_id=item_id, is_admin=is_admin, homes=homes
        )
    if isinstance(result, agenda_done.Refused) and result.why is AgendaRefusal.NOT_THEIRS:
        reply_to_click(client, body, not_on_their_agenda_message(result.people.rep_user_id))
    # Closed: both Homes come from the outbox. Already done: those publishes are queued already.
