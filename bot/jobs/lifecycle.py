"""The data of a workspace that uninstalled Rebound is deleted once its grace period is over."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.app import Deps
from bot.scheduler import ScheduledJob
from bot.usecases import lifecycle as usecases

log = logging.getLogger(__name__)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    def purge_uninstalled_workspaces(now: datetime) -> None:
        with deps.uow() as uow:
            due = usecases.workspaces_to_purge(uow, now=now)
        for team_id in due:
            with deps.uow() as uow:
                deleted = usecases.purge_if_still_due(uow, team_id=team_id, now=now)
            if deleted is None:
                continue  # installed again meanwhile
            log.warning("deleted the data of uninstalled workspace %s: %s", team_id, deleted)

    return [("purge-uninstalled-workspaces", purge_uninstalled_workspaces)]
