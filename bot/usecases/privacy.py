"""Data rights: build export files, forget a person, apply reflection retention.

No Slack here; callers commit. Exports are bytes ready for files upload v2.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, SQLModel

from storage import privacy_queries, queries

EXPORT_JSON_FILENAME = "rebound-export.json"
# Spreadsheets run a cell that starts with one of these as a formula; a leading apostrophe
# keeps an exported deal name or answer as the text it was.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Reflections are private to the rep and their manager, so a workspace export leaves them out.
WORKSPACE_EXPORT_TABLES = tuple(t for t in privacy_queries.EXPORT_TABLES if t != "reflections")


@dataclass(frozen=True)
class ExportFile:
    filename: str
    title: str
    content: bytes


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_dict(row: SQLModel) -> dict[str, Any]:
    """A row as JSON-ready values, columns in table order."""
    columns = type(row).__table__.columns.keys()  # type: ignore[attr-defined]
    return {name: _plain(getattr(row, name)) for name in columns}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    text = str(_plain(value))
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def csv_bytes(rows: Sequence[SQLModel]) -> bytes:
    """One table as CSV with a header row (UTF-8); ``rows`` must not be empty."""
    columns = list(type(rows[0]).__table__.columns.keys())  # type: ignore[attr-defined]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, name)) for name in columns])
    return buffer.getvalue().encode("utf-8")


def _files(document: dict[str, Any], tables: Mapping[str, Sequence[SQLModel]]) -> list[ExportFile]:
    files = [
        ExportFile(
            filename=EXPORT_JSON_FILENAME,
            title="Rebound export (JSON)",
            content=json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"),
        )
    ]
    for name, rows in tables.items():
        if rows:
            files.append(
                ExportFile(
                    filename=f"{name}.csv",
                    title=f"Rebound {name.replace('_', ' ')} (CSV)",
                    content=csv_bytes(rows),
                )
            )
    return files


def personal_export(
    *, session: Session, team_id: str, user_id: str, now: datetime
) -> list[ExportFile]:
    """Everything Rebound keeps about one person: a JSON document and a CSV per table."""
    tables = privacy_queries.personal_rows(session=session, team_id=team_id, user_id=user_id)
    members = tables["members"]
    given = [k for k in tables["kudos"] if getattr(k, "giver_user_id", None) == user_id]
    received_ids = {
        r.kudos_id  # type: ignore[attr-defined]
        for r in tables["kudos_recipients"]
        if r.user_id == user_id  # type: ignore[attr-defined]
    }
    document = {
        "kind": "personal",
        "exported_at": now.isoformat(),
        "team_id": team_id,
        "user_id": user_id,
        "profile": row_dict(members[0]) if members else None,
        "outcomes": [row_dict(r) for r in tables["outcomes"]],
        "reflections": [row_dict(r) for r in tables["reflections"]],
        "kudos_given": [_kudos_dict(k, tables["kudos_recipients"]) for k in given],
        "kudos_received": [
            _kudos_dict(k, tables["kudos_recipients"], only_user=user_id)
            for k in tables["kudos"]
            if k.id in received_ids  # type: ignore[attr-defined]
        ],
        "checkins": _checkins_with_answers(tables),
        "goals": [row_dict(r) for r in tables["goals"]],
    }
    return _files(document, tables)


def workspace_export(*, session: Session, team_id: str, now: datetime) -> list[ExportFile]:
    """The whole workspace for an admin, reflections aside (they stay private to each rep)."""
    workspace = queries.get_workspace(session=session, team_id=team_id)
    tables = privacy_queries.workspace_rows(
        session=session, team_id=team_id, tables=WORKSPACE_EXPORT_TABLES
    )
    document: dict[str, Any] = {
        "kind": "workspace",
        "exported_at": now.isoformat(),
        "team_id": team_id,
        "workspace": row_dict(workspace) if workspace is not None else None,
        "note": "Reflections are private to each rep and their manager and are not included; "
        "each person can export their own with /rebound export.",
    }
    document.update({name: [row_dict(r) for r in rows] for name, rows in tables.items()})
    return _files(document, tables)


def _kudos_dict(
    kudos: SQLModel, recipients: Sequence[SQLModel], *, only_user: str | None = None
) -> dict[str, Any]:
    """A kudos with its recipients; a received kudos lists only the person themselves, since
    the export is theirs and who else was recognised is not."""
    kudos_id = kudos.id  # type: ignore[attr-defined]
    named = [
        r.user_id  # type: ignore[attr-defined]
        for r in recipients
        if r.kudos_id == kudos_id  # type: ignore[attr-defined]
        and (only_user is None or r.user_id == only_user)  # type: ignore[attr-defined]
    ]
    return {**row_dict(kudos), "recipients": named}


def _checkins_with_answers(tables: Mapping[str, Sequence[SQLModel]]) -> list[dict[str, Any]]:
    answers_of: dict[int, list[dict[str, Any]]] = {}
    for answer in tables["checkin_answers"]:
        answers_of.setdefault(answer.checkin_id, []).append(row_dict(answer))  # type: ignore[attr-defined]
    return [
        {**row_dict(c), "answers": answers_of.get(c.id, [])}  # type: ignore[attr-defined]
        for c in tables["checkins"]
    ]


def forget_member(*, session: Session, team_id: str, user_id: str) -> dict[str, int]:
    """Delete one person's data in the workspace; counts per kind (all zero the second time)."""
    return privacy_queries.delete_personal_rows(session=session, team_id=team_id, user_id=user_id)


def apply_reflection_retention(*, session: Session, now: datetime) -> dict[str, int]:
    """Delete reflections past each workspace's retention; deleted counts by team_id."""
    deleted: dict[str, int] = {}
    for team_id, days in privacy_queries.workspaces_with_retention(session=session):
        count = privacy_queries.delete_reflections_created_before(
            session=session, team_id=team_id, before=now - timedelta(days=days)
        )
        if count:
            deleted[team_id] = count
    return deleted
