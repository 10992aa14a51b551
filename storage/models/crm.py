"""Deals read from a CRM and the workspace's CRM connections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.columns import Money, UTCDateTime


class CrmDeal(SQLModel, table=True):
    """One closed deal a CRM told us about, kept whatever became of it (bot.domain.crm states).

    ``event_key`` is the CRM's own notification id (HubSpot's eventId, Salesforce's
    notification Id), unique per workspace and CRM: a redelivered notification finds its row
    and has no second effect. ``deal_id`` is the deal in that CRM: one deal closing is offered once,
    however many notifications say so."""

    __tablename__ = "crm_deals"
    __table_args__ = (
        # Per workspace: two portals' (or orgs') notification ids may be alike (HubSpot says
        # an eventId "is not guaranteed to be unique"), and one's must never hide the other's.
        UniqueConstraint("team_id", "source", "event_key", name="uq_crm_deals_team_source_event"),
        Index("ix_crm_deals_team_deal", "team_id", "source", "deal_id"),
        # The job's queries: the rows still to read or match, and offers due a reminder.
        Index("ix_crm_deals_state", "state", "next_try_at"),
        Index("ix_crm_deals_reminder_due", "state", "reminded_at", "offered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    source: str  # bot.domain.crm.CRM_SOURCES
    event_key: str
    deal_id: str
    state: str  # bot.domain.crm.CRM_DEAL_STATES
    # The stage the notification moved the deal into, as the CRM names it (HubSpot's stage id).
    crm_stage: str | None = None
    won: bool | None = None
    name: str = ""
    amount: float | None = Field(default=None, sa_type=Money)
    currency: str | None = None
    crm_reason: str | None = None
    owner_email: str | None = None
    link: str | None = None
    slack_user_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    # When the next read or match may be tried (None: at once).
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    debriefed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Salesforce only: where and with which session (the Outbound Message's own SessionId,
    # encrypted: bot.crm.salesforce_api.SessionSeal) the owner's email is read back when the
    # message has no owner-email field. Kept until that one read is done, then cleared.
    api_url: str | None = None
    api_session: str | None = None
    # The process reading this row's deal from the CRM now (storage.claims), and until when its
    # claim holds (the app's clock): the other replicas leave the row alone meanwhile, and a
    # crashed process's claim simply runs out.
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CrmConnection(SQLModel, table=True):
    """A workspace's own CRM, connected from `/rebound settings` when Rebound serves many
    workspaces (OAuth mode; one workspace uses the HUBSPOT_* / SALESFORCE_* settings instead).

    A webhook finds its workspace here: HubSpot's by the event's ``portalId``, Salesforce's by
    the token in its URL (kept only as its SHA-256: it is never shown again, and a database
    copy can't be used to post deals) and the message's OrganizationId. The HubSpot token and
    client secret are Fernet-encrypted with REBOUND_ENCRYPTION_KEY, as the Slack tokens of the
    installs are (storage.oauth_store.TokenCipher). The ``*_hint`` columns hold a secret's last
    four characters, for "connected ✓, ending …1234" in the modal."""

    __tablename__ = "crm_connections"
    __table_args__ = (
        UniqueConstraint("hubspot_portal_id", name="uq_crm_connections_hubspot_portal"),
        UniqueConstraint("salesforce_org_id", name="uq_crm_connections_salesforce_org"),
        UniqueConstraint("salesforce_token_hash", name="uq_crm_connections_salesforce_token"),
    )

    team_id: str = Field(primary_key=True)
    hubspot_portal_id: str | None = None
    hubspot_access_token: str | None = None  # encrypted
    hubspot_client_secret: str | None = None  # encrypted; None: HUBSPOT_CLIENT_SECRET's
    hubspot_token_hint: str | None = None
    hubspot_secret_hint: str | None = None
    salesforce_org_id: str | None = None  # the 15-character form
    salesforce_token_hash: str | None = None  # hex SHA-256 of the URL's token
    salesforce_token_hint: str | None = None
    # The Opportunity formula field holding the owner's email, as this org named it; None:
    # Owner_Email__c (SALESFORCE_OWNER_EMAIL_FIELD is the one-workspace mode's).
    salesforce_owner_email_field: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
