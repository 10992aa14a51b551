"""Debriefs saved before the outbox existed with a message still pending: the old retry jobs
were their only sender, so after the upgrade the scheduler's first tick queues them
(bot.usecases.debrief_adoption) and the dispatcher sends them, once, against the stand-in, on
both databases. A message the old posts table says went out is not sent again."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from bot.clock import FakeClock
from bot.uow import UnitOfWork
from bot.usecases import debrief_adoption
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.models import Outcome, PostLog
from testkit.standin import SlackStandIn
from tests.support.upgrades import UPGRADE_AT, add_workspace_with_wins, standin, world

TEAM = "T0UPGRADE"
REP, MANAGER = "U0REP1", "U0MGR"
# The clock of the ticker in `world` (tests/support/upgrades.py): the old rows are dated by it.
AT = UPGRADE_AT

__all__ = ["standin", "world"]  # the fixtures (tests/support/upgrades.py)


def _old_outcome(session: Any, kind: str, deal: str, **fields: Any) -> int:
    """An outcome as the code before the outbox left it: pending, with no outbox row."""
    outcome = dq.insert_outcome(
        session=session,
        values={
            "team_id": TEAM,
            "user_id": REP,
            "kind": kind,
            "deal": deal,
            "process_score": 0.2,
            "classification": "system-miss" if kind == "loss" else "system-hit",
            "occurred_at": AT - timedelta(hours=1),
            "submission_key": uuid.uuid4().hex,
            "rep_dm_pending_since": AT - timedelta(hours=1),
            **fields,
        },
    )
    assert outcome is not None and outcome.id is not None
    return outcome.id


def _sent_post(post_key: str, channel: str, ts: str) -> PostLog:
    """What the old posts table kept of a message it sent."""
    return PostLog(
        team_id=TEAM,
        post_key=post_key,
        kind="debrief",
        channel_id=channel,
        message_ts=ts,
        status="sent",
        claimed_at=AT - timedelta(hours=1),
        sent_at=AT - timedelta(minutes=59),
    )


def _posts(standin: SlackStandIn, channel: str, words: str) -> list[Any]:
    return [
        c
        for c in standin.messages_to(channel)
        if c.method == "chat.postMessage" and words in str(c.params)
    ]


def test_debrief_messages_left_pending_by_the_old_code_are_sent_once_after_the_upgrade(
    world: Any, standin: SlackStandIn
) -> None:
    session_factory, ticker = world
    with session_factory() as session:
        add_workspace_with_wins(session, TEAM)
        queries.upsert_member(session=session, team_id=TEAM, user_id=REP, manager_user_id=MANAGER)
        queries.upsert_member(session=session, team_id=TEAM, user_id=MANAGER)
        # A loss whose DM and manager's note the old retry job was still trying.
        pending = _old_outcome(
            session, "loss", "Initech", manager_note_pending_since=AT - timedelta(hours=1)
        )
        # A loss whose DM the old code sent (its posts table says so) but had not marked done.
        sent = _old_outcome(session, "loss", "Globex")
        session.add(
            PostLog(
                team_id=TEAM,
                post_key=f"debrief:{sent}:rep",
                kind="debrief-rep",
                channel_id="D0REP1",
                message_ts="1700000000.000100",
                status="sent",
                claimed_at=AT - timedelta(hours=1),
                sent_at=AT - timedelta(minutes=59),
            )
        )
        # A win that ended a losing streak, kept while its shout-out waited.
        _old_outcome(
            session,
            "win",
            "Hooli",
            bounce_back_losses=2,
            bounce_back_recovery_seconds=3 * 86400,
            bounce_back_pending_since=AT - timedelta(hours=1),
        )
        # A win whose DM the old code sent while its shout-out waited for a channel.
        early_dm = _old_outcome(
            session,
            "win",
            "Umbrella",
            rep_dm_pending_since=None,
            bounce_back_losses=2,
            bounce_back_recovery_seconds=86400,
            bounce_back_pending_since=AT - timedelta(hours=1),
        )
        session.add(_sent_post(f"debrief:{early_dm}:rep", "D0REP1", "1700000000.000200"))
        # A win whose shout-out the old code posted, its DM still to go.
        posted = _old_outcome(
            session,
            "win",
            "Vandelay",
            bounce_back_losses=3,
            bounce_back_recovery_seconds=86400,
            bounce_back_pending_since=AT - timedelta(hours=1),
        )
        session.add(_sent_post(f"debrief:{posted}:bounce-back", "C0WINS", "1700000000.000300"))
        session.commit()

    # One pass adopts everything: nothing is left for the next (a win's DM held behind its
    # queued shout-out included), so a process's adoption always ends.
    with UnitOfWork(session_factory, clock=FakeClock(AT)) as uow:
        adopted = debrief_adoption.adopt_unqueued_debrief_messages(uow)
    assert len(adopted) == 5
    with session_factory() as session:
        assert dq.outcomes_pending_without_outbox_rows(session=session, limit=10) == []

    for _ in range(3):  # later ticks (or processes) queue nothing again
        ticker.tick()
    assert ticker.failures == []
    # Umbrella: the old code never asked the rep, so its shout-out is not posted now (issue
    # 12); the DM the old code sent is not sent again.
    assert _posts(standin, "C0WINS", "Umbrella") == []
    assert _posts(standin, REP, "Umbrella") == []
    # Vandelay: up already, not posted again; the DM goes, saying where it went up.
    assert _posts(standin, "C0WINS", "Vandelay") == []
    vandelay = _posts(standin, REP, "Vandelay")
    assert len(vandelay) == 1 and "C0WINS" in str(vandelay[0].params)

    assert len(_posts(standin, REP, "Initech")) == 1
    assert len(_posts(standin, MANAGER, "Initech")) == 1
    assert _posts(standin, REP, "Globex") == []  # up already: not sent again
    # Hooli: never asked, so no shout-out; the rep's DM goes, telling the bounce-back privately.
    assert _posts(standin, "C0WINS", "Hooli") == []
    hooli = _posts(standin, REP, "Hooli")
    assert len(hooli) == 1 and "bounce-back" in str(hooli[0].params)
    assert "C0WINS" not in str(hooli[0].params)
    with session_factory() as session:
        loss = session.get(Outcome, pending)
        assert loss is not None
        assert loss.rep_dm_pending_since is None and loss.manager_note_pending_since is None
        assert loss.reflection_requested_at is not None  # the reminder counts from the DM
        old = session.get(Outcome, sent)
        assert old is not None and old.rep_dm_pending_since is None
        assert old.reflection_requested_at == AT - timedelta(minutes=59)
        row = outbox_queries.get(session=session, team_id=TEAM, post_key=f"debrief:{sent}:rep")
        assert row is not None and (row.state, row.sent_ts) == ("sent", "1700000000.000100")
        assert dq.outcomes_pending_without_outbox_rows(session=session, limit=10) == []
