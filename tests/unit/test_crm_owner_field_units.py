"""Each workspace's Salesforce owner-email field (OAuth mode), without a server: the CRM
modal's *Owner email field* read as a custom field's API name or a field error, and shown on
the CRM line."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks.crm_settings import (
    ORG_BLOCK_ID,
    OWNER_FIELD_BLOCK_ID,
    crm_settings_entry,
    crm_settings_modal,
    parse_crm_submission,
)
from bot.domain.crm_connections import CrmStatus, is_owner_email_field
from testkit.simulator import state_value
from testkit.standin import BlockKitChecker

ORG = "00D5e000000KQ2e"
CONNECTED = CrmStatus(salesforce_org_id=ORG, salesforce_token_hint="Ab_-")


def values(org: str = "", field: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block_id, value in ((ORG_BLOCK_ID, org), (OWNER_FIELD_BLOCK_ID, field)):
        if value:
            found[block_id] = {"value": state_value("plain_text_input", value)}
    return found


@pytest.mark.parametrize(
    "name", ["Owner_Email__c", "Rep_Email__c", "OwnerEmail2__c", "acme__Owner_Email__c"]
)
def test_custom_field_api_names_are_taken(name: str) -> None:
    assert is_owner_email_field(name)
    submission, errors = parse_crm_submission(values(ORG, name), CrmStatus())
    assert errors == {} and submission.salesforce_owner_email_field == name


@pytest.mark.parametrize(
    "name",
    [
        "Owner.Email",  # a relationship path, not a field of the message
        "Owner Email",  # the label, not the API name
        "Owner_Email",  # no __c: not a custom field
        "1Owner__c",  # must begin with a letter
        "_Owner__c",
        "Owner_Email___c",  # the Field Name would end with an underscore
        "Owner_Email__C",
        "Owner-Email__c",
        "<Owner__c>",
        "A" * 78 + "__c",  # over 80 characters
    ],
)
def test_anything_else_is_a_field_error_and_nothing_is_saved(name: str) -> None:
    assert not is_owner_email_field(name)
    submission, errors = parse_crm_submission(values(ORG, name), CrmStatus())
    assert set(errors) == {OWNER_FIELD_BLOCK_ID}
    assert "__c" in errors[OWNER_FIELD_BLOCK_ID]
    assert submission.salesforce_org_id is None and submission.salesforce_owner_email_field is None


def test_empty_is_the_default_and_a_field_needs_an_org() -> None:
    submission, errors = parse_crm_submission(values(ORG), CrmStatus())
    assert errors == {} and submission.salesforce_owner_email_field is None
    # A new field typed with no org would be dropped: said so.
    _, errors = parse_crm_submission(values(field="Rep_Email__c"), CrmStatus())
    assert set(errors) == {OWNER_FIELD_BLOCK_ID}
    # Disconnecting with the stored field still shown in its box: no error, nothing kept.
    stored = CrmStatus(salesforce_org_id=ORG, salesforce_owner_email_field="Rep_Email__c")
    submission, errors = parse_crm_submission(values(field="Rep_Email__c"), stored)
    assert errors == {} and submission.salesforce_org_id is None
    assert submission.salesforce_owner_email_field is None


def test_the_modal_and_the_crm_line_show_the_field() -> None:
    stored = CrmStatus(
        salesforce_org_id=ORG,
        salesforce_token_hint="Ab_-",
        salesforce_owner_email_field="Rep_Email__c",
    )
    modal = crm_settings_modal(stored)
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    element = inputs[OWNER_FIELD_BLOCK_ID]["element"]
    assert inputs[OWNER_FIELD_BLOCK_ID]["optional"] is True
    assert element["initial_value"] == "Rep_Email__c"
    assert element["placeholder"]["text"] == "Owner_Email__c"
    unset = crm_settings_modal(CONNECTED)
    (box,) = [b for b in unset["blocks"] if b.get("block_id") == OWNER_FIELD_BLOCK_ID]
    assert "initial_value" not in box["element"]
    checker = BlockKitChecker()
    checker.check_view(modal)
    assert checker.problems == []
    (line,) = crm_settings_entry(stored)
    assert "owner email field `Rep_Email__c`" in line["text"]["text"]
    (line,) = crm_settings_entry(CONNECTED)
    assert "owner email field `Owner_Email__c`" in line["text"]["text"]
