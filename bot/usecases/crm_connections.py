"""Each workspace's own CRM (OAuth mode), in the unit of work:

- `crm_status` / `save_crm_connection`: what the CRM modal shows and saves (the admin check is
  the listener's, at submit). A HubSpot token and client secret are Fernet-encrypted with
  REBOUND_ENCRYPTION_KEY (storage.oauth_store.TokenCipher, as the installs' Slack tokens); a
  Salesforce endpoint token is made here (secrets.token_urlsafe), returned once for the
  confirmation view, and stored only as its SHA-256, so it can't be shown again.
- `hubspot_routes` / `salesforce_route`: which workspace a webhook belongs to, for the HTTP
  endpoints (bot.server), before anything of the request is stored.
- `hubspot_access_token`: the workspace's token, for the job that reads its deals.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from bot.crm.salesforce import token_digest
from bot.domain.crm_connections import (
    DEFAULT_OWNER_EMAIL_FIELD,
    CrmStatus,
    CrmSubmission,
    hint_of,
)
from bot.uow import UnitOfWork
from storage import crm_connection_queries as queries
from storage.models import CrmConnection
from storage.oauth_store import TokenCipher

# What the jobs and endpoints hold to read the stored secrets (they never import storage).
Cipher = TokenCipher


def make_cipher(encryption_key: str) -> TokenCipher:
    """The cipher of REBOUND_ENCRYPTION_KEY, the installs' Slack tokens' own."""
    return TokenCipher(encryption_key, what="CRM token or secret")


# 32 random bytes: the same strength SALESFORCE_OUTBOUND_TOKEN asks for (bot.config).
TOKEN_BYTES = 32
SALESFORCE_PATH = "/crm/salesforce/"


def _status(row: CrmConnection | None, *, global_hubspot_secret: bool) -> CrmStatus:
    if row is None:
        return CrmStatus(global_hubspot_secret=global_hubspot_secret)
    return CrmStatus(
        hubspot_portal_id=row.hubspot_portal_id,
        hubspot_token_hint=row.hubspot_token_hint,
        hubspot_secret_hint=row.hubspot_secret_hint,
        salesforce_org_id=row.salesforce_org_id,
        salesforce_token_hint=row.salesforce_token_hint,
        salesforce_owner_email_field=row.salesforce_owner_email_field,
        global_hubspot_secret=global_hubspot_secret,
    )


def crm_status(uow: UnitOfWork, *, team_id: str, global_hubspot_secret: bool) -> CrmStatus:
    row = queries.get(session=uow.session, team_id=team_id)
    return _status(row, global_hubspot_secret=global_hubspot_secret)


@dataclass(frozen=True)
class Saved:
    status: CrmStatus
    # The new endpoint's path (/crm/salesforce/<token>), this once; None when unchanged.
    salesforce_endpoint: str | None


@dataclass(frozen=True)
class Taken:
    """The portal or org is another workspace's: nothing was saved."""

    crm: str  # "hubspot" or "salesforce"


def save_crm_connection(
    uow: UnitOfWork,
    *,
    team_id: str,
    admin_user_id: str,
    submission: CrmSubmission,
    cipher: TokenCipher,
    global_hubspot_secret: bool,
) -> Saved | Taken:
    """Connect, replace or disconnect each CRM as the (already checked) submission says."""
    session = uow.session
    if submission.hubspot_portal_id is not None:
        other = queries.by_hubspot_portal(session=session, portal_id=submission.hubspot_portal_id)
        if other is not None and other.team_id != team_id:
            return Taken("hubspot")
    if submission.salesforce_org_id is not None:
        other = queries.by_salesforce_org(session=session, org_id=submission.salesforce_org_id)
        if other is not None and other.team_id != team_id:
            return Taken("salesforce")
    row = queries.get_for_update(session=session, team_id=team_id)
    _save_hubspot(row, submission, cipher)
    endpoint = _save_salesforce(row, submission)
    row.updated_by, row.updated_at = admin_user_id, uow.now()
    session.add(row)
    session.flush()
    return Saved(_status(row, global_hubspot_secret=global_hubspot_secret), endpoint)


def _save_hubspot(row: CrmConnection, submission: CrmSubmission, cipher: TokenCipher) -> None:
    portal = submission.hubspot_portal_id
    if portal is None:
        row.hubspot_portal_id = row.hubspot_access_token = row.hubspot_client_secret = None
        row.hubspot_token_hint = row.hubspot_secret_hint = None
        return
    if portal != row.hubspot_portal_id:
        # Another portal is another private app: nothing of the old one's is kept for it.
        row.hubspot_access_token = row.hubspot_client_secret = None
        row.hubspot_token_hint = row.hubspot_secret_hint = None
    row.hubspot_portal_id = portal
    if submission.hubspot_token is not None:
        row.hubspot_access_token = cipher.encrypt(submission.hubspot_token)
        row.hubspot_token_hint = hint_of(submission.hubspot_token)
    if submission.hubspot_secret is not None:
        row.hubspot_client_secret = cipher.encrypt(submission.hubspot_secret)
        row.hubspot_secret_hint = hint_of(submission.hubspot_secret)


def _save_salesforce(row: CrmConnection, submission: CrmSubmission) -> str | None:
    org = submission.salesforce_org_id
    if org is None:
        row.salesforce_org_id = row.salesforce_token_hash = row.salesforce_token_hint = None
        row.salesforce_owner_email_field = None
        return None
    row.salesforce_org_id = org
    row.salesforce_owner_email_field = submission.salesforce_owner_email_field
    if row.salesforce_token_hash is not None and not submission.new_salesforce_token:
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row.salesforce_token_hash = token_digest(token)
    row.salesforce_token_hint = hint_of(token)
    return SALESFORCE_PATH + token


# --- routing webhooks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalRoute:
    team_id: str
    client_secret: str | None  # the portal's own (decrypted); None: HUBSPOT_CLIENT_SECRET's


def hubspot_routes(
    uow: UnitOfWork, portal_ids: Iterable[str], *, cipher: TokenCipher
) -> dict[str, PortalRoute]:
    """The connected portals among `portal_ids`, with their workspace and signing secret."""
    rows = queries.by_hubspot_portals(session=uow.session, portal_ids=sorted(set(portal_ids)))
    return {
        row.hubspot_portal_id: PortalRoute(row.team_id, cipher.decrypt(row.hubspot_client_secret))
        for row in rows
        if row.hubspot_portal_id is not None
    }


@dataclass(frozen=True)
class OrgRoute:
    team_id: str
    org_id: str  # the 15-character form
    # The org's own owner-email formula field, read from its messages (bot.server).
    owner_email_field: str = DEFAULT_OWNER_EMAIL_FIELD


def salesforce_route(uow: UnitOfWork, token: str) -> OrgRoute | None:
    """The workspace whose endpoint token this is (by its hash: an indexed look-up of a value
    nobody can guess), or None."""
    if not token:
        return None
    row = queries.by_salesforce_token_hash(session=uow.session, token_hash=token_digest(token))
    if row is None or row.salesforce_org_id is None:
        return None
    return OrgRoute(
        row.team_id,
        row.salesforce_org_id,
        row.salesforce_owner_email_field or DEFAULT_OWNER_EMAIL_FIELD,
    )


def hubspot_access_token(uow: UnitOfWork, *, team_id: str, cipher: TokenCipher) -> str | None:
    row = queries.get(session=uow.session, team_id=team_id)
    if row is None or row.hubspot_portal_id is None:
        return None
    return cipher.decrypt(row.hubspot_access_token)
