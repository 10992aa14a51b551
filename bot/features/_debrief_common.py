"""What the debrief listeners share: whose debrief a click is about."""

from __future__ import annotations

from bot.app import Deps
from bot.usecases import debriefs as usecases


def _owner_of(deps: Deps, team_id: str, outcome_id: int) -> str | None:
    """Whose debrief `outcome_id` is in this workspace (None when there is no such debrief)."""
    with deps.uow() as uow:
        return usecases.debrief_owner(uow, team_id=team_id, outcome_id=outcome_id)
