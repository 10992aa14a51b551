"""What the debrief listeners answer when a button's or form's outcome is not in this workspace:
"its rep removed it" only when it was of this workspace and the person's to see
(bot.usecases.removed_outcomes); anything else — another workspace's outcome, an id that never
was — is answered as before the removals existed: a click says nothing, a form says it is
someone else's. Neither says anything of another workspace: the answer is the same whether the
id is an outcome there or nowhere."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.app import Deps
from bot.blocks.correction_updates import OUTCOME_GONE_ERROR, outcome_gone_message
from bot.messaging import NOT_YOURS_ERROR, reply_to_click, team_id_of
from bot.usecases.removed_outcomes import removed_here


def _removed(deps: Deps, body: dict[str, Any], outcome_id: int) -> bool:
    with deps.uow() as uow:
        return removed_here(
            uow, team_id=team_id_of(body), user_id=body["user"]["id"], outcome_id=outcome_id
        )


def answer_missing_outcome(
    client: WebClient, body: dict[str, Any], deps: Deps, outcome_id: int
) -> None:
    """A click on a button whose outcome isn't here: removed by its rep (a stale button) gets
    the ephemeral saying so; not of this workspace (forged) gets nothing."""
    if _removed(deps, body, outcome_id):
        reply_to_click(client, body, outcome_gone_message())


def missing_outcome_error(deps: Deps, body: dict[str, Any], outcome_id: int) -> str:
    """The error under a form's field when its outcome isn't here: removed by the person
    themself while the form was open, or (not of this workspace) not theirs."""
    return OUTCOME_GONE_ERROR if _removed(deps, body, outcome_id) else NOT_YOURS_ERROR
