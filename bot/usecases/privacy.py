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

from bot.blocks.privacy import export_comment, export_failed_message
from bot.outbox_hooks import register_hooks
from bot.uow import UnitOfWork, add_to_outbox, to_user
from bot.uploads import UPLOAD_METHOD, Upload, UploadFile, register_renderer, upload_payload
from storage import oauth_queries, privacy_queries, queries
from storage.models import OutboxMessage

EXPORT_JSON_FILENAME = "rebound-export.json"
# Spreadsheets run a cell that starts with one of these as a formula; a leading apostrophe
# keeps an exported deal name or answer as the text it was.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What an admin's workspace export holds, table by table and column by column: settings,
# people, the facts of each win and loss, kudos (posted in a channel anyway) and check-in
# bookkeeping. What a rep wrote about themselves (reflections and lessons, commitments, check-in
# answers and the questions that quote them, buyer feedback, a goal's why and its own metric)
# is private to the rep and their manager, and stays out; the export counts it instead. Columns
# are listed rather than excluded, so a column added later stays out until someone decides.
WORKSPACE_EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "members": (
        "id", "team_id", "user_id", "display_name", "tz", "tz_refreshed_at", "is_manager",
        "manager_user_id", "checkin_paused_until", "is_bot", "deleted", "created_at",
    ),
    "outcomes": (
        "id", "team_id", "user_id", "kind", "deal", "amount", "stage", "reason", "competitor",
        "luck", "pipeline_full", "healthy_stage_ratios", "discovery", "qualification",
        "objection_handling", "process_score", "classification", "occurred_at",
        "celebrate_consent", "celebration_posted_at", "bounce_back_losses",
        "bounce_back_recovery_seconds", "bounce_back_offered_at", "shout_out_taken_back_at",
        "reflection_requested_at", "reflection_answered_at",
        "calibrated_by", "calibrated_at", "calibration_agrees", "calibrated_practices",
        "calibrated_process_score", "calibrated_classification", "crm_source", "crm_deal_id",
        "crm_link", "created_at",
    ),
    "kudos": (
        "id", "team_id", "giver_user_id", "category", "message", "status", "channel_id",
        "message_ts", "created_at",
    ),
    "kudos_recipients": ("id", "team_id", "kudos_id", "user_id", "dm_status"),
    "checkins": (
        "id", "team_id", "user_id", "week_key", "due_at", "status", "sent_at",
        "reminder_sent_at", "answered_at", "created_at",
    ),
    "goals": (
        "id", "team_id", "user_id", "metric", "target", "progress", "cycle_start", "cycle_end",
        "reviewed_at", "created_at",
    ),
}  # fmt: skip
# Left out of the workspace export on purpose (a unit test checks every column of an exported
# table is in one list or the other): private text, and delivery bookkeeping.
WORKSPACE_EXPORT_WITHHELD: dict[str, tuple[str, ...]] = {
    # The scheduler's own due times (storage.due_times), not facts about the person.
    "members": ("next_checkin_at", "next_digest_at"),
    "outcomes": (
        "buyer_feedback", "submission_key", "reflection_reminded_at", "rep_dm_pending_since",
        "manager_note_pending_since", "bounce_back_pending_since",
        "celebration_failed_channel_id", "celebration_failed_at",
        "bounce_back_failed_channel_id", "bounce_back_failed_at",
        # The manager's sentence to the rep: private coaching, like the rep's own words.
        "calibration_note",
    ),
    "reflections": ("question", "answer"),
    "kudos": ("submission_key",),
    "kudos_recipients": ("dm_attempts", "dm_attempted_at"),
    "checkins": ("questions", "claimed_by", "claimed_at", "channel_id", "message_ts"),
    "checkin_answers": ("question", "answer"),
    "goals": ("custom_metric", "why", "submission_key"),
    # A check-in answer and the manager's reply to it: private to the two of them.
    "one_on_one_items": (
        "id", "team_id", "manager_user_id", "rep_user_id", "checkin_id", "question", "answer",
        "reply", "submission_key", "created_at", "done_at", "done_by",
    ),
}  # fmt: skip
COUNTS_FILENAME = "counts.csv"
COUNT_COLUMNS = (
    "team_id",
    "user_id",
    "reflections_answered",
    "commitments",
    "commitments_kept",
    "checkins_answered",
    "checkin_answers",
)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    title: str
    content: bytes


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_dict(row: SQLModel, columns: Sequence[str] | None = None) -> dict[str, Any]:
    """A row as JSON-ready values: ``columns``, or all of them in table order."""
    if columns is None:
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


def csv_bytes(rows: Sequence[SQLModel], columns: Sequence[str] | None = None) -> bytes:
    """One table as CSV with a header row (UTF-8): ``columns``, or all of them; ``rows`` must
    not be empty."""
    if columns is None:
        columns = list(type(rows[0]).__table__.columns.keys())  # type: ignore[attr-defined]
    return _csv_of([row_dict(row, columns) for row in rows], columns)


def _csv_of(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[name]) for name in columns])
    return buffer.getvalue().encode("utf-8")


def _files(
    document: dict[str, Any],
    tables: Mapping[str, Sequence[SQLModel]],
    columns: Mapping[str, Sequence[str]] | None = None,
) -> list[ExportFile]:
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
                    content=csv_bytes(rows, (columns or {}).get(name)),
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
        "one_on_one_agenda": [row_dict(r) for r in tables["one_on_one_items"]],
    }
    return _files(document, tables)


def workspace_export(*, session: Session, team_id: str, now: datetime) -> list[ExportFile]:
    """The workspace for an admin: settings, people, the facts of each outcome, kudos, goals
    and check-ins without a word any rep wrote about themselves, and per-person counts of
    those private texts (see WORKSPACE_EXPORT_COLUMNS)."""
    workspace = queries.get_workspace(session=session, team_id=team_id)
    tables = privacy_queries.workspace_rows(
        session=session, team_id=team_id, tables=tuple(WORKSPACE_EXPORT_COLUMNS)
    )
    counts = privacy_queries.private_text_counts(session=session, team_id=team_id)
    document: dict[str, Any] = {
        "kind": "workspace",
        "exported_at": now.isoformat(),
        "team_id": team_id,
        "workspace": row_dict(workspace) if workspace is not None else None,
        "note": "Reflections, commitments, check-in answers, buyer feedback and the why of "
        "each goal are private to each rep and their manager, so only their counts are here; "
        "each person can export their own with /rebound export.",
    }
    document.update(
        {
            name: [row_dict(r, WORKSPACE_EXPORT_COLUMNS[name]) for r in rows]
            for name, rows in tables.items()
        }
    )
    document["counts"] = counts
    files = _files(document, tables, WORKSPACE_EXPORT_COLUMNS)
    if counts:
        files.append(
            ExportFile(
                filename=COUNTS_FILENAME,
                title="Rebound counts per person (CSV)",
                content=_csv_of(counts, COUNT_COLUMNS),
            )
        )
    return files


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


def delete_workspace_data(uow: UnitOfWork, *, team_id: str) -> dict[str, int]:
    """An admin's "delete this workspace's data": every row at once, counts per table. The
    installation is kept (the app stays installed; an uninstall waits for its grace period)."""
    return oauth_queries.purge_workspace_data(
        session=uow.session, team_id=team_id, keep_installation=True
    )


def apply_reflection_retention(*, session: Session, now: datetime) -> dict[str, int]:
    """Delete reflections past each workspace's retention; deleted counts by team_id."""
    deleted: dict[str, int] = {}
    # Per retention period in use, not per workspace: a workspace with nothing old enough
    # costs nothing.
    for days in privacy_queries.retention_periods(session=session):
        for team_id, count in privacy_queries.delete_expired_reflections(
            session=session, days=days, now=now
        ).items():
            deleted[team_id] = deleted.get(team_id, 0) + count
    return dict(sorted(deleted.items()))


# A sent (or given-up) message's outbox row is kept this long, then deleted: longer than any
# window in which a job asks "was this queued already?" by its post key (a team review's 14
# days, a digest's week), so nothing is queued twice; short enough that copies of what was said
# to people don't pile up in the database.
OUTBOX_KEEP = timedelta(days=60)


def apply_outbox_retention(*, session: Session, now: datetime) -> int:
    """Delete one batch of old sent or given-up outbox rows; how many went."""
    return privacy_queries.delete_old_outbox_rows(session=session, before=now - OUTBOX_KEEP)


# --- the export, as an upload row (bot.uploads) -------------------------------------------------

EXPORT = "export"
EXPORT_FAILED = "export_failed"
_EXPORT_RENDERER = "export"


def queue_export(
    uow: UnitOfWork, *, team_id: str, user_id: str, whole_workspace: bool, request_key: str
) -> bool:
    """Queue the export's upload to the asker's DM, once per request (False when it was queued
    before: Slack retried the command). The files are made when the upload is sent, from what
    is stored then: no copy of anyone's data waits in the outbox."""
    scope = "workspace" if whole_workspace else "me"
    return uow.outbox.add(
        team_id=team_id,
        post_key=f"export:{user_id}:{scope}:{request_key}",
        kind=EXPORT,
        to=to_user(user_id),
        method=UPLOAD_METHOD,
        message=upload_payload(_EXPORT_RENDERER, user_id=user_id, scope=scope),
    )


def _render_export(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> Upload:
    whole_workspace = params["scope"] == "workspace"
    files = (
        workspace_export(session=session, team_id=team_id, now=now)
        if whole_workspace
        else personal_export(session=session, team_id=team_id, user_id=params["user_id"], now=now)
    )
    return Upload(
        files=[UploadFile(content=f.content, filename=f.filename, title=f.title) for f in files],
        initial_comment=export_comment(
            workspace=whole_workspace, filenames=[f.filename for f in files]
        ),
    )


def _export_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    """Slack never took the export (it gave up, or refused it for good): the asker is told by
    DM, once, so they can ask again."""
    add_to_outbox(
        session,
        now=now,
        team_id=row.team_id,
        post_key=f"{row.post_key}:failed",
        kind=EXPORT_FAILED,
        to=to_user(str(row.payload.get("user_id") or row.target_id)),
        message=export_failed_message(),
    )


register_renderer(_EXPORT_RENDERER, _render_export)
register_hooks(EXPORT, on_failed=_export_failed)
