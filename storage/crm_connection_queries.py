"""Each workspace's own CRM connection (storage.models.CrmConnection): found by workspace, by
HubSpot portal, by Salesforce token hash or org. Keyword-only `session=`, never committing.
The values are stored as given: encrypting and hashing are the caller's
(bot.usecases.crm_connections)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import CrmConnection


def get(*, session: Session, team_id: str) -> CrmConnection | None:
    return session.get(CrmConnection, team_id)


def get_for_update(*, session: Session, team_id: str) -> CrmConnection:
    """The workspace's row, locked (PostgreSQL) and made if it is not there yet."""
    row = session.get(CrmConnection, team_id, with_for_update=True)
    if row is None:
        row = CrmConnection(team_id=team_id)
        session.add(row)
        session.flush()
    return row


def by_hubspot_portal(*, session: Session, portal_id: str) -> CrmConnection | None:
    return session.exec(
        select(CrmConnection).where(CrmConnection.hubspot_portal_id == portal_id)
    ).first()


def by_hubspot_portals(*, session: Session, portal_ids: list[str]) -> list[CrmConnection]:
    if not portal_ids:
        return []
    return list(
        session.exec(
            select(CrmConnection).where(
                CrmConnection.hubspot_portal_id.in_(portal_ids)  # type: ignore[union-attr]
            )
        ).all()
    )


def by_salesforce_token_hash(*, session: Session, token_hash: str) -> CrmConnection | None:
    return session.exec(
        select(CrmConnection).where(CrmConnection.salesforce_token_hash == token_hash)
    ).first()


def by_salesforce_org(*, session: Session, org_id: str) -> CrmConnection | None:
    return session.exec(
        select(CrmConnection).where(CrmConnection.salesforce_org_id == org_id)
    ).first()
