"""Claiming rows of a work table for one process, so that replicas on one database share the work
instead of each doing all of it (the outbox's dispatchers, the CRM jobs).

A claim is one UPDATE whose subquery picks the due rows:

- PostgreSQL: the subquery locks what it picks ``FOR UPDATE SKIP LOCKED``, so two processes
  claiming at once take different rows, and neither waits for the other.
- SQLite: ``FOR UPDATE`` compiles to nothing, but writers are serialised by the database file's
  lock and the UPDATE checks the conditions again on each row it writes, so a row is claimed by
  one statement only.

Either way the UPDATE repeats the subquery's conditions, so a row another process claimed
between the pick and the write (PostgreSQL re-reads a row an UPDATE waited for) is left alone.
A claim is only a claim once the caller's transaction commits: commit it before the slow call
(Slack, a CRM), so no row lock is held while waiting on the network.
Like every query module: keyword-only ``session=``, never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session


def claim_ids(
    *,
    session: Session,
    table: Table,
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    values: Mapping[str, Any],
) -> list[int]:
    """Set ``values`` (the claim: who holds it, until when, maybe a new state) on up to
    ``limit`` rows matching every condition of ``due``, in ``order_by`` order, skipping rows
    another transaction has locked; the ids of the rows claimed."""
    picked = select(table.c.id).where(*due).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(table.c.id.in_(picked.scalar_subquery()), *due)
        .values(**values)
        .returning(table.c.id)
    )
    return [row[0] for row in session.execute(statement).all()]
