"""A manager's calibration of the rep's score (issue 12): *Agree* on the manager's note, *I see
it differently* and its modal; who may calibrate is the rep's manager or a workspace admin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.debriefs import (
    ALREADY_CALIBRATED,
    NO_SUCH_OUTCOME,
    NOT_THE_MANAGER,
    OWN_OUTCOME,
    calibration_modal,
    parse_calibration_submission,
    read_calibration_metadata,
)
from bot.blocks.kit import message
from bot.domain.calibration import CalibrationSubmission
from bot.domain.debriefs import OutcomeFacts
from bot.features._interactions import RowClick, form_row_and_answers, on_row_click, open_modal
from bot.features._save_before_ack import SAVE_FAILED
from bot.messaging import (
    reply_to_click,
    team_id_of,
)
from bot.slack_users import SlackUnavailable, is_rebound_admin, lookup_profile
from bot.usecases import calibration as calibrations
from bot.usecases.calibration import Calibrated, Refusal

log = logging.getLogger(__name__)

T = TypeVar("T")


REFUSALS: dict[Refusal, str] = {
    Refusal.NO_SUCH_OUTCOME: NO_SUCH_OUTCOME,
    Refusal.NOT_THE_MANAGER: NOT_THE_MANAGER,
    Refusal.OWN_OUTCOME: OWN_OUTCOME,
    Refusal.ALREADY_CALIBRATED: ALREADY_CALIBRATED,
}


AGREE_FAILED = "Couldn't save your agreement just now. Please click *Agree* again in a minute."


CANNOT_CHECK = (
    "I couldn't check with Slack who may calibrate this just now. Please try again in a moment."
)


@on_row_click
def calibration_agreed(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    """*Agree* on the manager's note: saved at once (the note is updated through the outbox)."""
    try:
        result = _calibrate(
            client, click.deps, click.team_id, click.user_id, outcome_id=click.row_id
        )
    except SlackUnavailable:
        reply_to_click(client, body, message(CANNOT_CHECK))
        return
    except Exception:  # the database is down: nothing was saved, and they are told so
        log.exception("saving an agreement failed")
        reply_to_click(client, body, message(AGREE_FAILED))
        return
    if isinstance(result, Refusal):
        reply_to_click(client, body, message(REFUSALS[result]))


@on_row_click
def calibrate_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
    """*I see it differently*: the modal, for whoever may calibrate (checked again at submit)."""

    def target(is_admin: bool) -> OutcomeFacts | Refusal:
        with click.deps.uow() as uow:
            return calibrations.calibration_target(
                uow,
                team_id=click.team_id,
                outcome_id=click.row_id,
                user_id=click.user_id,
                is_admin=is_admin,
            )

    try:
        facts = _as_manager_or_admin(client, click.deps, click.user_id, target)
    except SlackUnavailable:
        reply_to_click(client, body, message(CANNOT_CHECK))
        return
    if isinstance(facts, Refusal):
        reply_to_click(client, body, message(REFUSALS[facts]))
        return
    if not open_modal(client, body["trigger_id"], calibration_modal(facts), what="a calibration"):
        reply_to_click(
            client,
            body,
            message("Slack didn't let me open the form just now. Please click again."),
        )


def calibration_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The manager's view: field errors keep the modal open; who may calibrate is checked here,
    in the unit of work that saves it, and a refusal is said under the sentence."""
    form = form_row_and_answers(ack, view, read_calibration_metadata, parse_calibration_submission)
    if form is None:
        return
    outcome_id, submission = form
    try:
        result = _calibrate(
            client,
            context["deps"],
            team_id_of(body),
            body["user"]["id"],
            outcome_id=outcome_id,
            submission=submission,
        )
    except SlackUnavailable:
        ack(response_action="errors", errors={"note": CANNOT_CHECK})
        return
    except Exception:  # the database is down: keep the modal and what was written
        log.exception("saving a calibration failed")
        ack(response_action="errors", errors={"note": SAVE_FAILED})
        return
    if isinstance(result, Refusal):
        ack(response_action="errors", errors={"note": REFUSALS[result]})
        return
    ack()


def _calibrate(
    client: WebClient,
    deps: Deps,
    team_id: str,
    user_id: str,
    *,
    outcome_id: int,
    submission: CalibrationSubmission | None = None,
) -> Calibrated | Refusal:
    """Record `user_id`'s calibration (None: an *Agree*) as the rep's manager or an admin."""

    def save(is_admin: bool) -> Calibrated | Refusal:
        with deps.uow() as uow:
            return calibrations.record_calibration(
                uow,
                team_id=team_id,
                outcome_id=outcome_id,
                user_id=user_id,
                is_admin=is_admin,
                submission=submission,
            )

    return _as_manager_or_admin(client, deps, user_id, save)


def _as_manager_or_admin(
    client: WebClient, deps: Deps, user_id: str, act: Callable[[bool], T]
) -> T:
    """`act(is_admin)` as the rep's manager (our records), and only when that is refused, as
    a workspace admin if Slack says they are one (users.info; raises SlackUnavailable when
    Slack didn't answer). A refusal wrote nothing, so asking again is safe."""
    configured = user_id in deps.settings.admins
    result = act(configured)
    if result is not Refusal.NOT_THE_MANAGER or configured:
        return result
    profile = lookup_profile(client, user_id)
    if not is_rebound_admin(profile, user_id, deps.settings.admins):
        return result
    return act(True)
