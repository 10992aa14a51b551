"""A workspace's install lifecycle: uninstalling starts the grace period, after which its data
is deleted (unless it was installed again meanwhile)."""

from __future__ import annotations

from datetime import datetime

from bot.uow import UnitOfWork
from storage import oauth_queries


def mark_uninstalled(uow: UnitOfWork, *, team_id: str) -> None:
    """Slack said the app was uninstalled: the grace period starts now."""
    oauth_queries.mark_uninstalled(session=uow.session, team_id=team_id, now=uow.now())


def workspaces_to_purge(uow: UnitOfWork, *, now: datetime) -> list[str]:
    """Workspaces uninstalled longer ago than their grace period."""
    return oauth_queries.workspaces_to_purge(session=uow.session, now=now)


def purge_if_still_due(uow: UnitOfWork, *, team_id: str, now: datetime) -> dict[str, int] | None:
    """Delete the workspace's data, counts per table; None when it is no longer due (re-checked
    under a row lock: a reinstall that just happened wins)."""
    if not oauth_queries.still_due_for_purge(session=uow.session, team_id=team_id, now=now):
        return None
    return oauth_queries.purge_workspace_data(session=uow.session, team_id=team_id)
