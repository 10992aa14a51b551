"""The CRM jobs claim the rows they read, on both databases: while one process is reading a deal
from its CRM, another process's pass finds nothing to read; a crashed process's claim runs out
on the app's clock and its rows are read again by another; a process whose claim was taken over
has its late records refused; concurrent claims never share a row."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.app import Deps
from bot.clock import FakeClock
from bot.config import Settings
from bot.crm.hubspot_api import Closing, HubSpotReader
from bot.domain.crm import ClosedDeal, StageChange
from bot.jobs.crm import Readers, match_unmatched_deals, read_hubspot_deals
from bot.slack_clients import TeamClients
from bot.uow import UnitOfWork
from bot.usecases import crm
from storage import queries
from storage.db import SessionFactory, make_session_factory
from storage.models import CrmDeal, OutboxMessage
from tests.support.migrated_engine import engine

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

TEAM, REP = "T0CLAIM", "U0CLAIM"
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
A, B = "host-a:101", "host-b:202"


@dataclass
class World:
    factory: SessionFactory
    clock: FakeClock

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory, clock=self.clock)

    def deps(self) -> Deps:
        settings = Settings(slack_bot_token="xoxb-unused", database_url="sqlite://")
        return Deps(settings=settings, session_factory=self.factory, clock=self.clock)

    def rows(self) -> list[CrmDeal]:
        with self.factory() as session:
            return list(session.exec(select(CrmDeal).order_by(col(CrmDeal.id))).all())

    def offers(self) -> list[str]:
        with self.factory() as session:
            statement = select(OutboxMessage.post_key).where(
                col(OutboxMessage.post_key).startswith("crm:")
            )
            return sorted(session.exec(statement).all())


@pytest.fixture
def world(engine: Engine) -> World:
    factory = make_session_factory(engine)
    with factory() as session:
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        session.commit()
    return World(factory, FakeClock(START))


def _store(world: World, *deal_ids: str) -> None:
    with world.uow() as uow:
        crm.store_stage_changes(
            uow, [StageChange("hubspot", TEAM, f"ev{d}", d, "closedlost") for d in deal_ids]
        )


def _deal(change: StageChange, email: str | None = "leo@example.com") -> ClosedDeal:
    return ClosedDeal(
        source=change.source,
        team_id=change.team_id,
        event_key=change.event_key,
        deal_id=change.deal_id,
        won=False,
        name=f"Deal {change.deal_id}",
        amount=Decimal("100"),
        owner_email=email,
        link=change.link,
    )


@dataclass
class FakeReader:
    """HubSpotReader's two reads, answered here; `during` runs inside the deal read, as if
    another process ticked while this one waits for HubSpot."""

    during: Callable[[], None] | None = None
    read: list[str] = field(default_factory=list)

    def closing_of(self, stage: str) -> Closing:
        return Closing(closed=True, won=False)

    def closed_deals(
        self, closings: Sequence[tuple[StageChange, bool]]
    ) -> tuple[list[ClosedDeal], dict[str, str]]:
        self.read += [change.deal_id for change, _ in closings]
        if self.during is not None:
            self.during()
        return [_deal(change) for change, _ in closings], {}


class FakeSlack:
    """users.lookupByEmail: everyone is Leo; each lookup counted."""

    def __init__(self, user_id: str | None = REP) -> None:
        self.user_id = user_id
        self.lookups: list[str] = []

    def client_for(self, team_id: str) -> Any:
        return self

    def users_lookupByEmail(self, *, email: str) -> dict[str, Any]:  # noqa: N802 (slack-sdk's)
        from slack_sdk.errors import SlackApiError

        self.lookups.append(email)
        if self.user_id is None:
            raise SlackApiError("users_not_found", {"ok": False, "error": "users_not_found"})
        return {"user": {"id": self.user_id}}


def _reader(fake: FakeReader) -> Readers:
    """Every workspace read with the one fake (the one-workspace mode's readers)."""
    return lambda team_id: cast(HubSpotReader, fake)


def _clients(fake: FakeSlack) -> TeamClients:
    return cast(TeamClients, fake)


def test_a_pass_reading_the_crm_holds_its_rows_and_another_process_reads_none(
    world: World,
) -> None:
    _store(world, "101", "102", "103")
    second = FakeReader()
    inside: list[int] = []

    def other_process_ticks() -> None:
        # A's claim is committed and no transaction is open while HubSpot is read: B's whole
        # pass runs now, and finds nothing it may read.
        inside.append(
            read_hubspot_deals(world.deps(), _reader(second), _clients(FakeSlack()), worker=B)
        )

    first = FakeReader(during=other_process_ticks)
    handled = read_hubspot_deals(world.deps(), _reader(first), _clients(FakeSlack()), worker=A)
    assert (handled, inside) == (3, [0])
    assert sorted(first.read) == ["101", "102", "103"] and second.read == []
    assert world.offers() == [f"crm:hubspot:{d}:offer" for d in ("101", "102", "103")]
    rows = world.rows()
    assert {r.state for r in rows} == {"offered"}
    assert {(r.claimed_by, r.claimed_until) for r in rows} == {(None, None)}  # released


def test_a_crashed_process_claim_runs_out_and_another_reads_the_deal(world: World) -> None:
    _store(world, "201")
    with world.uow() as uow:  # A claims, then dies before recording anything
        assert [p.deal_id for p in crm.pending_reads(uow, source="hubspot", worker=A)] == ["201"]
    [row] = world.rows()
    assert (row.claimed_by, row.claimed_until) == (A, START + crm.CLAIM_LEASE)
    before_expiry = FakeReader()
    world.clock.set(START + crm.CLAIM_LEASE - timedelta(seconds=1))
    assert (
        read_hubspot_deals(world.deps(), _reader(before_expiry), _clients(FakeSlack()), worker=B)
        == 0
    )
    assert before_expiry.read == []
    world.clock.set(START + crm.CLAIM_LEASE + timedelta(seconds=1))
    after = FakeReader()
    assert read_hubspot_deals(world.deps(), _reader(after), _clients(FakeSlack()), worker=B) == 1
    assert after.read == ["201"]
    assert world.offers() == ["crm:hubspot:201:offer"]


def test_a_late_record_from_a_process_whose_claim_was_taken_is_refused(world: World) -> None:
    _store(world, "301")
    with world.uow() as uow:
        [slow] = crm.pending_reads(uow, source="hubspot", worker=A)
    world.clock.set(START + crm.CLAIM_LEASE + timedelta(minutes=1))
    with world.uow() as uow:  # A was too slow: B takes the row over
        [taken] = crm.pending_reads(uow, source="hubspot", worker=B)
    assert taken.row_id == slow.row_id
    change = StageChange("hubspot", TEAM, slow.event_key, slow.deal_id, "closedlost")
    with world.uow() as uow:  # A's answer arrives at last: not A's row any more
        late = crm.receive_closed_deals(
            uow, [_deal(change)], owners={"leo@example.com": REP}, worker=A
        )
        crm.record_crm_failure(uow, [slow.row_id], "HTTP 503", worker=A)
    assert (late.offered, late.taken) == (0, 1)
    [row] = world.rows()
    assert (row.state, row.claimed_by, row.attempts) == ("received", B, 0)
    with world.uow() as uow:
        mine = crm.receive_closed_deals(
            uow, [_deal(change)], owners={"leo@example.com": REP}, worker=B
        )
    assert mine.offered == 1
    assert world.offers() == ["crm:hubspot:301:offer"]


def test_unmatched_deals_are_claimed_for_their_slack_lookup(world: World) -> None:
    with world.uow() as uow:
        crm.receive_closed_deals(uow, [_deal(StageChange("hubspot", TEAM, "ev401", "401", "x"))])
    world.clock.set(START + timedelta(minutes=6))  # the retry delay passed
    slack_b = FakeSlack()
    inside: list[int] = []

    class SlowSlack(FakeSlack):
        def users_lookupByEmail(self, *, email: str) -> dict[str, Any]:  # noqa: N802
            inside.append(match_unmatched_deals(world.deps(), _clients(slack_b), worker=B))
            return super().users_lookupByEmail(email=email)

    slack_a = SlowSlack()
    assert match_unmatched_deals(world.deps(), _clients(slack_a), worker=A) == 1
    assert (slack_a.lookups, slack_b.lookups, inside) == (["leo@example.com"], [], [0])
    assert world.offers() == ["crm:hubspot:401:offer"]


def test_concurrent_claims_never_share_a_row(world: World) -> None:
    ids = [str(500 + i) for i in range(40)]
    _store(world, *ids)
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def claim_all(worker: str) -> None:
        start.wait()
        got: list[str] = []
        while True:
            with world.uow() as uow:
                batch = crm.pending_reads(uow, source="hubspot", worker=worker, limit=3)
            if not batch:
                break
            got += [p.deal_id for p in batch]
        claimed[worker] = got

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [deal for got in claimed.values() for deal in got]
    assert len(claimed) == 4
    assert sorted(every) == sorted(ids)  # each row claimed exactly once


def test_salesforce_opportunities_are_claimed_for_their_owner_read(world: World) -> None:
    from bot.crm.salesforce import OpportunityNotification
    from bot.usecases import salesforce

    note = OpportunityNotification(
        notification_id="04l5e000000AbCdAAA",
        opportunity_id="0065e00000AbCdEAAZ",
        name="Globex",
        stage="Closed Lost",
        closed=True,
        won=False,
        amount=Decimal("10"),
        currency=None,
        owner_email=None,
    )
    with world.uow() as uow:
        salesforce.store_outbound_notifications(
            uow,
            [note],
            team_id=TEAM,
            api_url="https://acme.my.salesforce.com",
            session_id="sealed-session",
            link_base="https://acme.my.salesforce.com",
        )
    with world.uow() as uow:
        [mine] = salesforce.pending_deals(uow, worker=A)
        assert salesforce.pending_deals(uow, worker=B) == []  # A is reading its owner
    assert mine.api_session == "sealed-session"
    assert mine.deal.link == "https://acme.my.salesforce.com/0065e00000AbCdEAAZ"
    deal = dataclasses.replace(mine.deal, owner_email="leo@example.com")
    with world.uow() as uow:  # B may not forget the session of a row it does not hold
        salesforce.receive_read_deals(
            uow, [deal], owners={"leo@example.com": REP}, sessions_done=[mine.row_id], worker=B
        )
    [row] = world.rows()
    assert (row.state, row.api_session, row.claimed_by) == ("received", "sealed-session", A)
    with world.uow() as uow:
        received = salesforce.receive_read_deals(
            uow, [deal], owners={"leo@example.com": REP}, sessions_done=[mine.row_id], worker=A
        )
    assert received.offered == 1
    [row] = world.rows()
    assert (row.state, row.api_session, row.claimed_by) == ("offered", None, None)


def test_one_event_id_in_two_workspaces_is_settled_in_each(world: World) -> None:
    """HubSpot's eventId "is not guaranteed to be unique", and two portals can send the same
    one: each workspace's pass (the job receives per workspace) settles only its own row and
    leaves the other's claim alone, so both deals are offered in the same pass."""
    other = "T0OTHER"
    with world.uow() as uow:
        queries.get_or_create_workspace(session=uow.session, team_id=other)
        crm.store_stage_changes(
            uow,
            [
                StageChange("hubspot", TEAM, "ev-same", "501", "closedlost"),
                StageChange("hubspot", other, "ev-same", "502", "closedlost"),
            ],
        )
    with world.uow() as uow:
        claimed = crm.pending_reads(uow, source="hubspot", worker=A)
    assert sorted(r.team_id for r in claimed) == sorted([TEAM, other])
    received = []
    for row in claimed:
        change = StageChange("hubspot", row.team_id, row.event_key, row.deal_id, "closedlost")
        with world.uow() as uow:
            received.append(
                crm.receive_closed_deals(
                    uow, [_deal(change)], owners={"leo@example.com": REP}, worker=A
                )
            )
    assert [(r.offered, r.taken) for r in received] == [(1, 0), (1, 0)]
    assert sorted(world.offers()) == ["crm:hubspot:501:offer", "crm:hubspot:502:offer"]
    assert {(r.state, r.claimed_by) for r in world.rows()} == {("offered", None)}
