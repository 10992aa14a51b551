"""Install, uninstall and the deletion of an uninstalled workspace's data after its grace period.

Keyword-only `session=`; the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import MetaData, Table, delete, select, text
from sqlmodel import Session, SQLModel
from sqlmodel import select as select_rows

from storage.models import Workspace
from storage.oauth_store import oauth_metadata
from storage.queries import get_or_create_workspace


def mark_installed(
    *, session: Session, team_id: str, name: str | None, enterprise_id: str | None = None
) -> Workspace:
    """A (re)install: the workspace exists, knows its Grid org (if any), and nothing is
    scheduled for deletion."""
    workspace = get_or_create_workspace(session=session, team_id=team_id, name=name)
    if workspace.uninstalled_at is not None or workspace.enterprise_id != enterprise_id:
        workspace.uninstalled_at = None
        workspace.enterprise_id = enterprise_id
        session.add(workspace)
    return workspace


def enterprise_of(*, session: Session, team_id: str) -> str | None:
    """The Grid org of `team_id`'s workspace, as recorded at install (None outside Grid).

    When the workspace row doesn't know it (its data was deleted on request and the row made
    again since), the workspace's latest installation does: without it, a Grid workspace's bot
    token could no longer be found."""
    workspace = session.get(Workspace, team_id)
    if workspace is not None and workspace.enterprise_id is not None:
        return workspace.enterprise_id
    latest = session.execute(
        text(
            "SELECT enterprise_id FROM slack_installations WHERE team_id = :team_id "
            "ORDER BY installed_at DESC, id DESC LIMIT 1"
        ),
        {"team_id": team_id},
    ).scalar_one_or_none()
    return latest


def mark_uninstalled(*, session: Session, team_id: str, now: datetime) -> Workspace:
    """Start the grace period (an earlier uninstall time is kept: re-sent events change nothing)."""
    workspace = get_or_create_workspace(session=session, team_id=team_id)
    if workspace.uninstalled_at is None:
        workspace.uninstalled_at = now
        session.add(workspace)
    return workspace


def workspaces_to_purge(*, session: Session, now: datetime) -> list[str]:
    """Team ids uninstalled for longer than their `data_grace_days`."""
    uninstalled = session.exec(
        # Uninstalled before now (always so when the grace is over): a range read of
        # ix_workspaces_uninstalled, where IS NOT NULL would scan every workspace.
        select_rows(Workspace).where(Workspace.uninstalled_at <= now)  # type: ignore[operator]
    ).all()
    return sorted(
        w.team_id
        for w in uninstalled
        if w.uninstalled_at is not None
        and w.uninstalled_at + timedelta(days=w.data_grace_days) <= now
    )


def still_due_for_purge(*, session: Session, team_id: str, now: datetime) -> bool:
    """Lock the workspace row (PostgreSQL) and say whether it is still past its grace period."""
    workspace = session.get(Workspace, team_id, with_for_update=True)
    return (
        workspace is not None
        and workspace.uninstalled_at is not None
        and workspace.uninstalled_at + timedelta(days=workspace.data_grace_days) <= now
    )


def _tables_children_first(*metadatas: MetaData) -> list[Table]:
    tables: list[Table] = []
    for metadata in metadatas:
        tables.extend(reversed(metadata.sorted_tables))
    return tables


def purge_workspace_data(
    *, session: Session, team_id: str, keep_installation: bool = False
) -> dict[str, int]:
    """Delete every row of `team_id` in every table (children before parents, the workspace row
    last); returns the number of rows deleted per table. `keep_installation` keeps the OAuth
    install (its tokens), for an admin who wants the data gone but the app still installed."""
    deleted: dict[str, int] = {}
    metadatas = (SQLModel.metadata,) if keep_installation else (SQLModel.metadata, oauth_metadata())
    for table in _tables_children_first(*metadatas):
        if "team_id" in table.c and table.name != Workspace.__tablename__:
            condition = table.c.team_id == team_id
        else:
            # A table without team_id belongs to a parent that has one (none today, but a new
            # child table must not block the parent's deletion with its foreign key).
            parent = next(
                (
                    fk
                    for fk in table.foreign_keys
                    if "team_id" in fk.column.table.c and table.name != Workspace.__tablename__
                ),
                None,
            )
            if parent is None:
                continue
            parents = select(parent.column).where(parent.column.table.c.team_id == team_id)
            condition = parent.parent.in_(parents)
        result = session.execute(delete(table).where(condition))
        if result.rowcount:
            deleted[table.name] = result.rowcount
    result = session.execute(
        delete(Workspace.__table__).where(Workspace.__table__.c.team_id == team_id)  # type: ignore[attr-defined]
    )
    if result.rowcount:
        deleted[Workspace.__tablename__] = result.rowcount
    return deleted
