"""Each workspace its own Salesforce owner-email field, over HTTP: `rebound serve` in OAuth
mode with Alpha and Beta installed; Alpha's admin connects an org whose formula field is the
default Owner_Email__c, Beta's admin one whose field is Rep_Email__c, both from the CRM modal of
`/rebound settings`. Outbound Messages in the shape of Salesforce's WSDL carry both fields, with
different people in them: the DM reaching the rep named by the workspace's own field (and not
the decoy in the other) shows which field was read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.blocks.crm_settings import (
    ORG_BLOCK_ID,
    OWNER_FIELD_BLOCK_ID,
)
from storage.models import CrmConnection
from testkit.standin import SlackStandIn, StandInUser
from tests.support.crm import (
    ADMIN,
    endpoint_path,
    offers_about,
    outbound_message,
    salesforce_post,
    serve_two,
    sf_id,
    submit_crm,
    typed,
)
from tests.support.databases import BACKENDS
from tests.support.slack import ALPHA, BETA, SlackDriver, team_of

ORG_A, ORG_B = "00D5e000000FLDAEAG", "00D8a000000FLDBEAC"


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str


@dataclass(frozen=True)
class People:
    """Per workspace, the rep its own field names and a decoy the other field names."""

    rep_a: Person
    decoy_a: Person
    rep_b: Person
    decoy_b: Person


# -- the app, two workspaces ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(standin: SlackStandIn) -> People:
    def person(letter: str, name: str) -> Person:
        found = Person(
            user_id=f"U0{letter}" + uuid.uuid4().hex[:8].upper(),
            email=f"{name}-{uuid.uuid4().hex[:6]}@example.com",
        )
        standin.add_user(
            StandInUser(id=found.user_id, name=name, real_name=name.title(), email=found.email)
        )
        return found

    return People(
        rep_a=person("A", "ann"),
        decoy_a=person("C", "cat"),
        rep_b=person("B", "bob"),
        decoy_b=person("D", "dan"),
    )


@pytest.fixture(scope="module", params=BACKENDS)
def two(
    request: pytest.FixtureRequest,
    standin: SlackStandIn,
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SlackDriver]:
    """`rebound serve` in OAuth mode with Alpha and Beta installed."""
    with serve_two(request, standin, tmp_path_factory, folder_prefix="crm-owner-field") as driver:
        yield driver


@pytest.fixture(scope="module")
def connected(two: SlackDriver) -> dict[str, str]:
    """Alpha's org with the default field (the box left empty), Beta's with Rep_Email__c; each
    one's endpoint path, shown once."""
    paths = {}
    for team_id, values in (
        (ALPHA, {ORG_BLOCK_ID: typed(ORG_A)}),
        (BETA, {ORG_BLOCK_ID: typed(ORG_B), OWNER_FIELD_BLOCK_ID: typed("Rep_Email__c")}),
    ):
        saved = submit_crm(two.workspace(team_id), values)
        assert saved["response_action"] == "update", saved
        paths[team_id] = endpoint_path(saved["view"])
    return paths


# -- the tests ------------------------------------------------------------------------------------


def test_each_workspaces_message_is_read_with_its_own_field(
    two: SlackDriver, connected: dict[str, str], people: People
) -> None:
    name_a, name_b = f"Acme {uuid.uuid4().hex[:6]}", f"Globex {uuid.uuid4().hex[:6]}"
    opp_a, opp_b = sf_id("006"), sf_id("006")
    seen = two.mark()
    # Both messages carry both fields, naming different people.
    for path, org, opportunity, name, fields in (
        (
            connected[ALPHA],
            ORG_A,
            opp_a,
            name_a,
            {"Owner_Email__c": people.rep_a.email, "Rep_Email__c": people.decoy_a.email},
        ),
        (
            connected[BETA],
            ORG_B,
            opp_b,
            name_b,
            {"Owner_Email__c": people.decoy_b.email, "Rep_Email__c": people.rep_b.email},
        ),
    ):
        status, body = salesforce_post(two, path, outbound_message(org, opportunity, name, fields))
        assert status == 200 and "<Ack>true</Ack>" in body, body
    assert two.clock is not None
    two.tick_at(two.clock.now)
    two.settle()
    (offer_a,) = offers_about(two, seen, name_a)
    assert team_of(offer_a) == ALPHA and offer_a.conversation == "D" + people.rep_a.user_id[1:]
    (offer_b,) = offers_about(two, seen, name_b)
    assert team_of(offer_b) == BETA and offer_b.conversation == "D" + people.rep_b.user_id[1:]
    decoys = {"D" + p.user_id[1:] for p in (people.decoy_a, people.decoy_b)}
    assert [c for c in two.since(seen, "chat.postMessage") if c.conversation in decoys] == []


def test_the_field_is_shown_on_the_crm_line_and_a_bad_one_is_a_field_error(
    two: SlackDriver, connected: dict[str, str]
) -> None:
    beta = two.workspace(BETA)
    shown = json.dumps(beta.open_modal("/rebound", "settings", ADMIN), ensure_ascii=False)
    assert "owner email field `Rep_Email__c`" in shown
    alpha_shown = json.dumps(two.open_modal("/rebound", "settings", ADMIN), ensure_ascii=False)
    assert "owner email field `Owner_Email__c`" in alpha_shown
    answer = submit_crm(
        beta, {ORG_BLOCK_ID: typed(ORG_B), OWNER_FIELD_BLOCK_ID: typed("Owner.Email")}
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {OWNER_FIELD_BLOCK_ID}
    with two.session_factory() as session:
        row = session.get(CrmConnection, BETA)
        assert row is not None and row.salesforce_owner_email_field == "Rep_Email__c"
