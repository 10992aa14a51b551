"""Salesforce's closed deals in crm_deals (storage.models.CrmDeal): the rows still to read, and
forgetting a message's session once it is used. Keyword-only `session=`, never committing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.domain.crm import ERROR, RECEIVED, UNMATCHED
from storage.models import CrmDeal


def to_read(*, session: Session, source: str, now: datetime, limit: int) -> list[CrmDeal]:
    """Rows of `source` whose deal is still to be turned into an offer, due now, oldest first:
    new ones, failed reads, and deals that had no owner email (one may be found now)."""
    return list(
        session.exec(
            select(CrmDeal)
            .where(
                CrmDeal.source == source,
                col(CrmDeal.state).in_((RECEIVED, ERROR, UNMATCHED)),
                (col(CrmDeal.state) != UNMATCHED) | col(CrmDeal.owner_email).is_(None),
                (col(CrmDeal.next_try_at).is_(None)) | (col(CrmDeal.next_try_at) <= now),
            )
            .order_by(col(CrmDeal.id))
            .limit(limit)
        ).all()
    )


def forget_sessions(*, session: Session, row_ids: Iterable[int]) -> None:
    ids = list(row_ids)
    if ids:
        session.execute(
            update(CrmDeal).where(col(CrmDeal.id).in_(ids)).values(api_session=None, api_url=None)
        )
