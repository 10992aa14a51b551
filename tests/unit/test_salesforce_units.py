"""Salesforce Outbound Messages without a server or a database: the SOAP parsed as the WSDL
shapes it (https://developer.salesforce.com/docs/platform/api/guide/
sforce-api-om-outboundmessaging-wsdl.html), hostile XML refused, the acknowledgement's shape,
the token and org checks, which hosts are trusted with a session, and the settings' one-line
errors."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

import pytest

from bot.config import ConfigError, load_settings
from bot.crm.salesforce import (
    ACK,
    BadMessage,
    is_token_valid,
    parse_message,
    salesforce_origin,
    same_org,
)
from bot.crm.salesforce_api import SessionSeal

ORG = "00D5e000000KQ2eEAG"
TOKEN = "kQ7vN2xR9pL4mW8sT1yB6cF3hJ5dG0aZ-e_u"
BASE: dict[str, str] = {}


def note(
    sobject: str = "sf:Opportunity",
    *,
    notification_id: str = "04l5e00000Gx7QzAAJ",
    fields: str = (
        "<sf:Id>0065e00000ABCDeAAO</sf:Id><sf:Amount>60000.0</sf:Amount>"
        "<sf:IsClosed>true</sf:IsClosed><sf:IsWon>false</sf:IsWon>"
        "<sf:Name>Acme renewal</sf:Name><sf:Owner_Email__c>Leo@Example.com</sf:Owner_Email__c>"
        "<sf:StageName>Closed Lost</sf:StageName>"
    ),
) -> str:
    return (
        f"<Notification><Id>{notification_id}</Id>"
        f'<sObject xsi:type="{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{fields}</sObject></Notification>"
    )


def message(*notes: str, prolog: str = "", session: str = '<SessionId xsi:nil="true"/>') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{ORG}</OrganizationId><ActionId>04k5e000000CaRkAAK</ActionId>"
        f"{session}"
        "<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/59.0/00D5e</EnterpriseUrl>"
        "<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/00D5e</PartnerUrl>"
        + "".join(notes)
        + "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_an_opportunity_notification_is_read_as_the_wsdl_shapes_it() -> None:
    parsed = parse_message(message(note()), owner_email_field="Owner_Email__c")
    assert parsed.organization_id == ORG and parsed.session_id is None
    assert parsed.instance_url() == "https://acme.my.salesforce.com"
    [opportunity] = parsed.notifications
    assert opportunity.notification_id == "04l5e00000Gx7QzAAJ"
    assert opportunity.opportunity_id == "0065e00000ABCDeAAO"
    assert (opportunity.name, opportunity.stage) == ("Acme renewal", "Closed Lost")
    assert (opportunity.closed, opportunity.won) == (True, False)
    assert opportunity.amount == Decimal("60000.0")
    assert opportunity.owner_email == "Leo@Example.com"


def test_another_field_name_a_missing_field_and_other_objects() -> None:
    account = note("sf:Account", notification_id="04l5e00000Gx7R0AAJ")
    parsed = parse_message(
        message(note(), account, session="<SessionId>00D!AQ0.session</SessionId>"),
        owner_email_field="Rep_Email__c",
    )
    assert [n.owner_email for n in parsed.notifications] == [None]
    assert parsed.other_objects == 1 and parsed.session_id == "00D!AQ0.session"


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
        '<!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE soapenv:Envelope SYSTEM "https://evil.example/x.dtd">',
    ],
    ids=["entity expansion", "external entity", "dtd"],
)
def test_dtds_and_entities_are_refused(prolog: str) -> None:
    with pytest.raises(BadMessage, match="refused XML"):
        parse_message(message(note(), prolog=prolog), owner_email_field="Owner_Email__c")


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<a/>",
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>',
        message(note(notification_id="../../etc")),
        message(note(fields="<sf:Name>No id</sf:Name>")),
        message(*(note(notification_id=f"04l5e00000Gx{i:04d}AAJ") for i in range(101))),
    ],
    ids=["not xml", "not soap", "no notifications", "bad id", "no opportunity id", "101"],
)
def test_what_salesforce_never_sends_is_a_bad_message(body: bytes) -> None:
    with pytest.raises(BadMessage):
        parse_message(body, owner_email_field="Owner_Email__c")


def test_the_acknowledgement_is_notifications_response_with_ack_true() -> None:
    root = ElementTree.fromstring(ACK)
    ack = root.find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body/"
        "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
        "{http://soap.sforce.com/2005/09/outbound}Ack"
    )
    assert ack is not None and ack.text == "true"


def test_token_org_and_trusted_hosts() -> None:
    assert is_token_valid(TOKEN, TOKEN)
    assert not is_token_valid(TOKEN, TOKEN[:-1]) and not is_token_valid("", "")
    assert same_org("00D5e000000KQ2e", ORG) and same_org(ORG, ORG)
    assert not same_org("00D8a000000XYZ9", ORG)
    assert salesforce_origin("https://acme.my.salesforce.com/services/Soap/u/59.0/x") == (
        "https://acme.my.salesforce.com"
    )
    for untrusted in (
        "http://acme.my.salesforce.com/x",
        "https://evil.example/x",
        "https://acme.my.salesforce.com.evil.example/x",
        "https://salesforce.com@evil.example/x",
        None,
    ):
        assert salesforce_origin(untrusted) is None


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"SALESFORCE_OUTBOUND_TOKEN": "short"}, "SALESFORCE_OUTBOUND_TOKEN"),
        ({"SALESFORCE_OUTBOUND_TOKEN": "x" * 31 + "/"}, "SALESFORCE_OUTBOUND_TOKEN"),
        ({"SALESFORCE_OUTBOUND_TOKEN": TOKEN, "SALESFORCE_ORG_ID": "acme"}, "SALESFORCE_ORG_ID"),
        (
            {"SALESFORCE_OUTBOUND_TOKEN": TOKEN, "SALESFORCE_OWNER_EMAIL_FIELD": "Owner.Email"},
            "SALESFORCE_OWNER_EMAIL_FIELD",
        ),
        (
            {"SALESFORCE_OUTBOUND_TOKEN": TOKEN, "SALESFORCE_API_URL": "http://acme.example"},
            "SALESFORCE_API_URL",
        ),
        ({"SALESFORCE_ORG_ID": "00D5e000000KQ2e"}, "SALESFORCE_OUTBOUND_TOKEN"),
    ],
)
def test_salesforce_settings_fail_in_one_line(extra: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE, **extra})
    assert raised.value.variable == variable
    assert "\n" not in str(raised.value) and str(raised.value).startswith(f"{variable}: ")


def test_salesforce_settings_read() -> None:
    settings = load_settings(
        {
            **BASE,
            "SALESFORCE_OUTBOUND_TOKEN": TOKEN,
            "SALESFORCE_ORG_ID": "00D5e000000KQ2e",
            "SALESFORCE_API_URL": "https://acme.my.salesforce.com/",
        }
    )
    assert settings.salesforce_enabled and settings.salesforce_org_id == "00D5e000000KQ2e"
    assert settings.salesforce_owner_email_field == "Owner_Email__c"
    assert settings.salesforce_api_url == "https://acme.my.salesforce.com"
    assert not load_settings(BASE).salesforce_enabled


def test_a_session_is_sealed_with_the_outbound_token() -> None:
    sealed = SessionSeal(TOKEN).seal("00D!AQ0.session")
    assert "00D!AQ0.session" not in sealed
    assert SessionSeal(TOKEN).open(sealed) == "00D!AQ0.session"
    assert SessionSeal(TOKEN[::-1]).open(sealed) is None  # the token changed since
    assert SessionSeal(TOKEN).open("not a seal") is None
