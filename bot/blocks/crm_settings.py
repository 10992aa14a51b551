"""The CRM part of `/rebound settings` when Rebound serves many workspaces: the line in the
settings modal that opens it, the CRM modal (pushed on top of the settings), the reading of its
submission into field errors or a CrmSubmission, and the confirmation view that shows a new
Salesforce endpoint URL its one time.

Secrets are never put back into a view: a connected token or secret shows as "ending …1234"
and its field stays empty (empty keeps it). Views and their limits:
https://docs.slack.dev/reference/views/modal-views; `response_action: errors` keyed by block_id,
`response_action: update` to replace the submitted view:
https://docs.slack.dev/surfaces/modals#updating_response.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bot.blocks.kit import (
    button,
    context,
    divider,
    escape_mrkdwn,
    header,
    input_block,
    modal,
    option,
    plain,
    section,
)
from bot.blocks.kit import state as input_state
from bot.domain.crm_connections import (
    DEFAULT_OWNER_EMAIL_FIELD,
    MAX_OWNER_EMAIL_FIELD,
    ORG_ID,
    PORTAL_ID,
    CrmStatus,
    CrmSubmission,
    canonical_org,
    is_owner_email_field,
)

CRM_SETTINGS_OPEN_ACTION_ID = "crm_settings_open"
CRM_SETTINGS_CALLBACK_ID = "crm_settings"
PORTAL_BLOCK_ID = "crm_hubspot_portal"
TOKEN_BLOCK_ID = "crm_hubspot_token"
SECRET_BLOCK_ID = "crm_hubspot_secret"
ORG_BLOCK_ID = "crm_salesforce_org"
NEW_URL_BLOCK_ID = "crm_salesforce_new_url"
OWNER_FIELD_BLOCK_ID = "crm_salesforce_owner_field"
NEW_URL_VALUE = "new"
# Longest values taken: HubSpot private-app tokens and client secrets are far shorter; a paste
# of something else entirely is refused rather than stored.
MAX_SECRET = 500

NOT_ADMIN_CRM_ERROR = (
    "Only Rebound admins can change the CRM connection: workspace owners and admins, and "
    "anyone listed in REBOUND_ADMINS. Nothing was changed."
)
PORTAL_TAKEN_ERROR = (
    "That HubSpot portal is already connected to Rebound in another Slack workspace."
)
ORG_TAKEN_ERROR = "That Salesforce org is already connected to Rebound in another Slack workspace."
SAVE_FAILED_ERROR = "Couldn't save just now. Please try Save again."


def _ending(hint: str | None) -> str:
    return f"ending …{hint}" if hint else "set"


def crm_status_text(status: CrmStatus) -> str:
    """One line per CRM: connected or not, and which secret (its last characters) if so. The
    ids are checked on the way in and the hints are a secret's last characters: escaped all
    the same, as anything pasted into a modal."""
    status = dataclasses.replace(
        status,
        **{
            name: escape_mrkdwn(value)
            for name, value in dataclasses.asdict(status).items()
            if isinstance(value, str)
        },
    )
    if status.hubspot_connected:
        secret = (
            f"client secret {_ending(status.hubspot_secret_hint)}"
            if status.hubspot_secret_hint
            else "signed with HUBSPOT_CLIENT_SECRET"
        )
        hubspot = (
            f"*HubSpot*: connected ✓, portal {status.hubspot_portal_id}, token "
            f"{_ending(status.hubspot_token_hint)}, {secret}"
        )
    else:
        hubspot = "*HubSpot*: not connected"
    if status.salesforce_connected:
        salesforce = (
            f"*Salesforce*: connected ✓, org {status.salesforce_org_id}, endpoint URL "
            f"{_ending(status.salesforce_token_hint)}, owner email field "
            f"`{status.owner_email_field}`"
        )
    else:
        salesforce = "*Salesforce*: not connected"
    return f"{hubspot}\n{salesforce}"


def crm_settings_entry(status: CrmStatus) -> list[dict[str, Any]]:
    """The settings modal's CRM line: the status and a button that opens the CRM modal."""
    return [
        section(
            crm_status_text(status),
            block_id="crm_settings",
            accessory=button(
                "Change CRM connection"
                if status.hubspot_connected or status.salesforce_connected
                else "Connect a CRM",
                CRM_SETTINGS_OPEN_ACTION_ID,
                value="open",
            ),
        )
    ]


def _text_input(
    initial: str | None = None, *, placeholder: str | None = None, max_length: int = MAX_SECRET
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder)
    return element


def crm_settings_modal(status: CrmStatus) -> dict[str, Any]:
    keep = "Leave empty to keep it."
    token_hint = (
        f"Connected ✓, {_ending(status.hubspot_token_hint)}. {keep}"
        if status.hubspot_token_hint
        else "The private app's access token (Auth tab), with the scopes "
        "crm.objects.deals.read and crm.objects.owners.read."
    )
    if status.hubspot_secret_hint:
        secret_hint = f"Connected ✓, {_ending(status.hubspot_secret_hint)}. {keep}"
    else:
        secret_hint = "The private app's client secret (Auth tab): it signs HubSpot's webhooks."
        if status.global_hubspot_secret:
            secret_hint += " Leave empty if this server's HUBSPOT_CLIENT_SECRET signs them."
    blocks: list[dict[str, Any]] = [
        section(crm_status_text(status)),
        context(
            "Closed deals in your CRM start a debrief offer in the owner's DM. Tokens and "
            "secrets are stored encrypted and never shown again."
        ),
        divider(),
        header("HubSpot"),
        input_block(
            PORTAL_BLOCK_ID,
            "Portal id (Hub ID)",
            _text_input(status.hubspot_portal_id, placeholder="e.g. 62515", max_length=19),
            optional=True,
            hint="Your HubSpot account's number, in the account menu at the top right. "
            "Leave empty to disconnect HubSpot.",
        ),
        input_block(
            TOKEN_BLOCK_ID,
            "Private app access token",
            _text_input(placeholder="pat-…"),
            optional=True,
            hint=token_hint,
        ),
        input_block(
            SECRET_BLOCK_ID,
            "Private app client secret",
            _text_input(),
            optional=True,
            hint=secret_hint,
        ),
        divider(),
        header("Salesforce"),
        input_block(
            ORG_BLOCK_ID,
            "Org id",
            _text_input(status.salesforce_org_id, placeholder="00D…", max_length=18),
            optional=True,
            hint="Setup → Company Information → Salesforce.com Organization ID. Rebound makes "
            "this workspace's Outbound Message endpoint URL and shows it once. Leave empty to "
            "disconnect Salesforce.",
        ),
        input_block(
            OWNER_FIELD_BLOCK_ID,
            "Owner email field",
            _text_input(
                status.salesforce_owner_email_field,
                placeholder=DEFAULT_OWNER_EMAIL_FIELD,
                max_length=MAX_OWNER_EMAIL_FIELD,
            ),
            optional=True,
            hint="The API name of the Opportunity formula field holding the owner's email "
            f"(Setup → Object Manager → Opportunity → Fields). Empty: {DEFAULT_OWNER_EMAIL_FIELD}.",
        ),
    ]
    if status.salesforce_connected:
        choice = option("Make a new endpoint URL", NEW_URL_VALUE)
        choice["description"] = plain(
            "The current one stops working at once; update the Outbound Message."
        )
        blocks.append(
            input_block(
                NEW_URL_BLOCK_ID,
                "Endpoint URL",
                {"type": "checkboxes", "action_id": "value", "options": [choice]},
                optional=True,
            )
        )
    return modal(
        "CRM connection",
        blocks,
        callback_id=CRM_SETTINGS_CALLBACK_ID,
        submit="Save",
        close="Back",
    )


def _value(values: Mapping[str, Any], block_id: str) -> str:
    return str(input_state(values, block_id).get("value") or "").strip()


def parse_crm_submission(
    values: Mapping[str, Any], status: CrmStatus
) -> tuple[CrmSubmission, dict[str, str]]:
    """The submission, or field errors (block_id -> message) with nothing to save."""
    errors: dict[str, str] = {}
    portal, token, secret = (
        _value(values, PORTAL_BLOCK_ID),
        _value(values, TOKEN_BLOCK_ID),
        _value(values, SECRET_BLOCK_ID),
    )
    for block_id, given in ((TOKEN_BLOCK_ID, token), (SECRET_BLOCK_ID, secret)):
        if given and (len(given) > MAX_SECRET or any(c.isspace() for c in given)):
            errors[block_id] = "Paste it exactly as HubSpot shows it, with no spaces."
    if portal and not PORTAL_ID.fullmatch(portal):
        errors[PORTAL_BLOCK_ID] = (
            "A portal id is a number: HubSpot shows yours as Hub ID in the account menu."
        )
    elif not portal and (token or secret):
        errors[PORTAL_BLOCK_ID] = (
            "Add the portal id the private app belongs to (or leave the token and secret empty)."
        )
    elif portal:
        new_portal = portal != status.hubspot_portal_id
        if not token and (new_portal or not status.hubspot_token_hint):
            errors.setdefault(
                TOKEN_BLOCK_ID,
                "Paste the private app's access token: a portal can't be read without it.",
            )
        has_secret = bool(secret) or (status.hubspot_secret_hint is not None and not new_portal)
        if not has_secret and not status.global_hubspot_secret:
            errors.setdefault(
                SECRET_BLOCK_ID,
                "Paste the private app's client secret (Auth tab): it signs HubSpot's webhooks.",
            )
    org = _value(values, ORG_BLOCK_ID)
    if org and not ORG_ID.fullmatch(org):
        errors[ORG_BLOCK_ID] = (
            "That isn't an org id: Setup → Company Information shows it (15 or 18 characters, "
            "starting 00D)."
        )
    owner_field = _value(values, OWNER_FIELD_BLOCK_ID)
    if owner_field and not is_owner_email_field(owner_field):
        errors[OWNER_FIELD_BLOCK_ID] = (
            "That isn't a custom field's API name: letters, digits and underscores, starting "
            f"with a letter and ending in __c, e.g. {DEFAULT_OWNER_EMAIL_FIELD} (Object "
            "Manager → Opportunity → Fields shows it as Field Name)."
        )
    elif owner_field and not org and owner_field != status.salesforce_owner_email_field:
        # A field typed for no org would be dropped; the one shown goes with a disconnect.
        errors[OWNER_FIELD_BLOCK_ID] = (
            "Add the org id too: the field is read from that org's Outbound Messages."
        )
    chosen = input_state(values, NEW_URL_BLOCK_ID).get("selected_options") or []
    new_url = any(isinstance(o, dict) and o.get("value") == NEW_URL_VALUE for o in chosen)
    if errors:
        return CrmSubmission(), errors
    return (
        CrmSubmission(
            hubspot_portal_id=portal or None,
            hubspot_token=token or None,
            hubspot_secret=secret or None,
            salesforce_org_id=canonical_org(org) if org else None,
            new_salesforce_token=new_url,
            salesforce_owner_email_field=(owner_field or None) if org else None,
        ),
        {},
    )


def crm_saved_view(
    status: CrmStatus, *, public_url: str | None, salesforce_endpoint: str | None
) -> dict[str, Any]:
    """What the CRM modal becomes once saved: the new status, where HubSpot sends its webhooks,
    and a new Salesforce endpoint URL, shown this once (Rebound keeps only its hash)."""
    base = public_url or "https://YOUR-REBOUND-HOST"
    blocks: list[dict[str, Any]] = [section("Saved.\n" + crm_status_text(status))]
    if status.hubspot_connected:
        blocks.append(
            section(
                f"In the HubSpot private app's *Webhooks* tab, set the target URL to "
                f"`{base}/crm/hubspot` and subscribe to the deal property *Deal stage*."
            )
        )
    if salesforce_endpoint is not None:
        blocks.append(
            section(
                "*Your Salesforce endpoint URL* (copy it now: it is shown only this once; "
                f"Rebound keeps no copy it could show again):\n`{base}{salesforce_endpoint}`"
            )
        )
        blocks.append(
            context(
                "Put it in the Outbound Message's Endpoint URL (Setup → Outbound Messages). "
                "Lost it? Open this again and make a new one."
            )
        )
    if public_url is None:
        blocks.append(
            context(
                "This server's REBOUND_PUBLIC_URL isn't set: put Rebound's public address "
                "where it says YOUR-REBOUND-HOST, and ask whoever runs Rebound to set it."
            )
        )
    return modal("CRM connection", blocks, close="Done")
