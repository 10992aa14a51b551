"""Salesforce's closed deals in crm_deals (storage.models.CrmDeal): forgetting a message's
session once it is used (the rows to read are claimed with storage.crm_queries.claim_to_read).
Keyword-only `session=`, never committing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, col

from storage.models import CrmDeal


def forget_sessions(*, session: Session, row_ids: Iterable[int], worker: str | None) -> None:
    """The sessions of these rows are used (or useless): cleared, on the rows `worker` still
    holds (another process that took a row over may still need its session)."""
    ids = list(row_ids)
    if ids:
        statement = update(CrmDeal).where(col(CrmDeal.id).in_(ids))
        if worker is not None:
            statement = statement.where(col(CrmDeal.claimed_by) == worker)
        session.execute(statement.values(api_session=None, api_url=None))
