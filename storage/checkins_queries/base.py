"""SQL that the check-in queries share: the dialect's INSERT (for ON CONFLICT) and the
"due" test of an indexed time column (storage.checkins_queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def _dialect_insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def _due(column: Any, now: datetime) -> Any:
    """Not worked out yet (NULL) or come: a range read of the column's index either way."""
    return or_(column.is_(None), column <= now)
