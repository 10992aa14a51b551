"""The data of a workspace that uninstalled Rebound is deleted once its grace period is over."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.app import Deps
from bot.scheduler import ScheduledJob
from storage import oauth_queries

log = logging.getLogger(__name__)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    def purge_uninstalled_workspaces(now: datetime) -> None:
        with deps.uow() as uow:
            due = oauth_queries.workspaces_to_purge(session=uow.session, now=now)
        for team_id in due:
            with deps.uow() as uow:
                # Re-checked under a row lock: a reinstall that just happened wins.
                if not oauth_queries.still_due_for_purge(
                    session=uow.session, team_id=team_id, now=now
                ):
                    continue
                deleted = oauth_queries.purge_workspace_data(session=uow.session, team_id=team_id)
            log.warning("deleted the data of uninstalled workspace %s: %s", team_id, deleted)

    return [("purge-uninstalled-workspaces", purge_uninstalled_workspaces)]
