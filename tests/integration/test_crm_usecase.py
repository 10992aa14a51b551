"""Closed deals through the use case on both databases: each notification once, each deal
closing one offer, the offer queued with the deal in one transaction, hand debriefs respected,
unmatched deals kept and offered on the next pass, one reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.clock import FakeClock
from bot.domain.crm import ClosedDeal, StageChange
from bot.domain.debriefs import LossSubmission
from bot.uow import UnitOfWork
from bot.usecases import crm
from bot.usecases.debriefs import record_loss
from storage import queries
from storage.db import make_session_factory
from storage.models import CrmDeal, OutboxMessage, Outcome
from tests.support.migrated_engine import engine
from tests.support.submissions import loss_submission

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

TEAM, REP = "T0CRM", "U0REP1"
W = "host:1"  # the worker (process) claiming rows
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def uow(engine: Engine, clock: FakeClock) -> UnitOfWork:
    factory = make_session_factory(engine)
    with factory() as session:
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        session.commit()
    return UnitOfWork(factory, clock=clock)


def _deal(event: str, deal_id: str = "101", **fields: object) -> ClosedDeal:
    values: dict[str, object] = {
        "source": "hubspot",
        "team_id": TEAM,
        "event_key": event,
        "deal_id": deal_id,
        "won": False,
        "name": "Acme renewal",
        "amount": Decimal("60000"),
        "currency": "GBP",
        "crm_reason": "Price",
        "owner_email": "Leo@Example.com",
        **fields,
    }
    return ClosedDeal(**values)  # type: ignore[arg-type]


def _loss(deal: str) -> LossSubmission:
    return loss_submission(deal, practices={"discovery": True})


def _offers(session: Session) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.team_id == TEAM, col(OutboxMessage.post_key).startswith("crm:"))
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def _rows(session: Session) -> list[CrmDeal]:
    return list(session.exec(select(CrmDeal).order_by(col(CrmDeal.id))).all())


def test_each_notification_once_and_each_deal_one_offer(uow: UnitOfWork) -> None:
    owners = {"leo@example.com": REP}
    with uow:
        first = crm.receive_closed_deals(uow, [_deal("e1")], owners=owners)
    with uow:
        again = crm.receive_closed_deals(uow, [_deal("e1"), _deal("e2")], owners=owners)
        offers = _offers(uow.session)
        rows = _rows(uow.session)
    assert (first.offered, again.offered, again.duplicates) == (1, 0, 2)
    assert [o.post_key for o in offers] == ["crm:hubspot:101:offer"]
    assert offers[0].target_id == REP
    assert offers[0].payload["text"] == (
        "When you lose an opportunity, it hurts. HubSpot marked *Acme renewal* (£60,000) closed "
        "lost. Debrief it while it's fresh?"
    )
    assert [(r.event_key, r.state) for r in rows] == [("e1", "offered"), ("e2", "duplicate")]
    assert rows[0].owner_email == "leo@example.com"


def test_the_offer_is_queued_with_the_deal_or_not_at_all(uow: UnitOfWork) -> None:
    with pytest.raises(RuntimeError), uow:
        crm.receive_closed_deals(uow, [_deal("e1")], owners={"leo@example.com": REP})
        raise RuntimeError("the transaction fails after the use case")
    with uow:
        assert _rows(uow.session) == [] and _offers(uow.session) == []


def test_stored_notifications_are_filled_in_when_read(uow: UnitOfWork, clock: FakeClock) -> None:
    change = StageChange("hubspot", TEAM, "e9", "205", "closedlost")
    with uow:
        stored = crm.store_stage_changes(uow, [change, change])
    with uow:
        replayed = crm.store_stage_changes(uow, [change])
        pending = crm.pending_reads(uow, source="hubspot", worker=W)
    assert (stored.new, stored.replayed, replayed.new) == (1, 1, 0)
    assert [(p.event_key, p.deal_id, p.stage) for p in pending] == [("e9", "205", "closedlost")]
    with uow:
        crm.record_crm_failure(uow, [pending[0].row_id], "HTTP 503")
    with uow:
        assert crm.pending_reads(uow, source="hubspot", worker=W) == []  # retried after a while
        assert crm.unmatched_count(uow, team_id=TEAM) == 1  # shown to admins meanwhile
    clock.set(START + timedelta(minutes=6))
    with uow:
        assert len(crm.pending_reads(uow, source="hubspot", worker=W)) == 1
        crm.receive_closed_deals(uow, [_deal("e9", "205")], owners={"leo@example.com": REP})
    with uow:
        assert [r.state for r in _rows(uow.session)] == ["offered"]
        assert crm.unmatched_count(uow, team_id=TEAM) == 0


def test_a_deal_debriefed_by_hand_gets_no_offer(uow: UnitOfWork) -> None:
    submission = _loss("acme  RENEWAL")
    with uow:
        record_loss(uow, team_id=TEAM, user_id=REP, submission=submission, submission_key="v1")
    with uow:
        received = crm.receive_closed_deals(uow, [_deal("e1")], owners={"leo@example.com": REP})
        assert _offers(uow.session) == []
    assert received.debriefed == 1


def test_unmatched_deals_are_kept_then_offered_once_matched(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    with uow:
        deals = [_deal("e1"), _deal("e2", "102", owner_email=None)]
        received = crm.receive_closed_deals(uow, deals)
    assert received.unmatched == 2
    with uow:
        assert crm.unmatched_deals(uow, worker=W) == []  # not before the retry delay
        assert crm.pending_reads(uow, source="hubspot", worker=W) == []
    clock.set(START + timedelta(minutes=6))
    with uow:
        # The owner with an email is looked up in Slack again; the deal with no owner is read
        # from the CRM again (an owner may be set there since).
        kept = crm.unmatched_deals(uow, worker=W)
        assert [k.owner_email for k in kept] == ["leo@example.com"]
        assert [p.deal_id for p in crm.pending_reads(uow, source="hubspot", worker=W)] == ["102"]
        offered = crm.offer_matched_deals(uow, {kept[0].row_id: REP})
    with uow:
        assert offered == 1
        assert [o.post_key for o in _offers(uow.session)] == ["crm:hubspot:101:offer"]
        assert crm.unmatched_count(uow, team_id=TEAM) == 1
        # Its owner is set in the CRM now: the re-read offers it.
        crm.receive_closed_deals(
            uow,
            [_deal("e2", "102", owner_email="leo@example.com")],
            owners={"leo@example.com": REP},
        )
    with uow:
        assert [o.post_key for o in _offers(uow.session)] == [
            "crm:hubspot:101:offer",
            "crm:hubspot:102:offer",
        ]
        assert crm.unmatched_count(uow, team_id=TEAM) == 0
        # Tried less and less often while nobody matches: 5 minutes, then 10, 20 ... 6 hours.
        assert [crm.retry_after(n).total_seconds() / 60 for n in (1, 2, 3, 9)] == [5, 10, 20, 360]


def test_one_reminder_and_none_after_a_debrief(uow: UnitOfWork, clock: FakeClock) -> None:
    owners = {"leo@example.com": REP}
    with uow:
        crm.receive_closed_deals(
            uow, [_deal("e1"), _deal("e2", "102", name="Globex")], owners=owners
        )
        offer_ids = [r.id for r in _rows(uow.session)]
    submission = _loss("Globex")
    with uow:
        record_loss(
            uow,
            team_id=TEAM,
            user_id=REP,
            submission=submission,
            submission_key="v2",
            crm_offer_id=offer_ids[1],
        )
    clock.set(START + timedelta(hours=25))
    with uow:
        assert crm.queue_offer_reminders(uow) == 1
    with uow:
        assert crm.queue_offer_reminders(uow) == 0
        keys = [o.post_key for o in _offers(uow.session)]
        outcome = uow.session.exec(select(Outcome).where(Outcome.deal == "Globex")).one()
    assert keys == [
        "crm:hubspot:101:offer",
        "crm:hubspot:102:offer",
        "crm:hubspot:101:reminder",
    ]
    assert (outcome.crm_source, outcome.crm_deal_id) == ("hubspot", "102")


def test_forget_me_deletes_the_deals_offered_to_the_person(uow: UnitOfWork) -> None:
    from storage.privacy_queries import delete_personal_rows

    with uow:
        crm.receive_closed_deals(
            uow,
            [_deal("e1"), _deal("e2", "102", owner_email="priya@example.com")],
            owners={"leo@example.com": REP, "priya@example.com": "U0REP2"},
        )
    with uow:
        delete_personal_rows(session=uow.session, team_id=TEAM, user_id=REP)
    with uow:
        assert [(r.deal_id, r.slack_user_id) for r in _rows(uow.session)] == [("102", "U0REP2")]


PRIYA = "U0REP2"


def test_another_reps_debrief_of_the_same_name_is_not_this_deals(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    with uow:
        record_loss(
            uow, team_id=TEAM, user_id=PRIYA, submission=_loss("Acme renewal"), submission_key="p1"
        )
    with uow:
        # Leo's deal of that name is offered to Leo; one no one owns yet is kept for admins.
        received = crm.receive_closed_deals(
            uow,
            [_deal("e1"), _deal("e2", "102", owner_email=None)],
            owners={"leo@example.com": REP},
        )
        assert [o.target_id for o in _offers(uow.session)] == [REP]
        assert crm.unmatched_count(uow, team_id=TEAM) == 1
    assert (received.offered, received.unmatched, received.debriefed) == (1, 1, 0)
    # Once its owner is known, their own debrief of that name is what counts.
    with uow:
        crm.receive_closed_deals(
            uow,
            [_deal("e2", "102", owner_email="priya@example.com")],
            owners={"priya@example.com": PRIYA},
        )
        assert [r.state for r in _rows(uow.session)] == ["offered", "debriefed"]


def test_a_debrief_settles_only_its_own_reps_offers(uow: UnitOfWork, clock: FakeClock) -> None:
    with uow:
        crm.receive_closed_deals(
            uow,
            [_deal("e1"), _deal("e2", "102", name="Globex"), _deal("e3", "103", owner_email=None)],
            owners={"leo@example.com": REP},
        )
        leo_offer = _rows(uow.session)[1].id
    with uow:
        # Priya's debrief of her own "Acme renewal", and one whose submission names Leo's Globex
        # offer: neither is Leo's, and neither settles his offers or the unmatched deal.
        record_loss(
            uow, team_id=TEAM, user_id=PRIYA, submission=_loss("Acme renewal"), submission_key="p1"
        )
        record_loss(
            uow,
            team_id=TEAM,
            user_id=PRIYA,
            submission=_loss("Acme renewal"),
            submission_key="p2",
            crm_offer_id=leo_offer,
        )
    with uow:
        assert [r.state for r in _rows(uow.session)] == ["offered", "offered", "unmatched"]
        assert crm.unmatched_count(uow, team_id=TEAM) == 1
        start = crm.start_debrief(
            uow, team_id=TEAM, user_id=REP, row_id=_rows(uow.session)[0].id or 0
        )
        assert isinstance(start, crm.DebriefStart)
        linked = uow.session.exec(select(Outcome.crm_deal_id).where(Outcome.user_id == PRIYA)).all()
        assert linked == [None, None]
    clock.set(START + timedelta(hours=25))
    with uow:
        assert crm.queue_offer_reminders(uow) == 2
    # Leo's own debrief of his offer settles it.
    with uow:
        record_loss(
            uow,
            team_id=TEAM,
            user_id=REP,
            submission=_loss("Globex"),
            submission_key="l1",
            crm_offer_id=leo_offer,
        )
    with uow:
        assert [r.state for r in _rows(uow.session)] == ["offered", "debriefed", "unmatched"]
