"""Debriefs saved before the outbox existed with a message still pending: the old retry jobs
were their only sender, so after the upgrade the scheduler's first tick queues them
(bot.usecases.debrief_adoption) and the dispatcher sends them, once, against the stand-in, on
both databases. A message the old posts table says went out is not sent again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import Deps, build_ticker
from bot.clock import FakeClock
from bot.config import Settings
from storage import debriefs_queries as dq
from storage import outbox_queries, queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import Outcome, PostLog
from testkit.live import make_standin
from testkit.standin import SlackStandIn

TEAM = "T0UPGRADE"
REP, MANAGER = "U0REP1", "U0MGR"
# Any instant: nothing here depends on the calendar; the ticker runs on this clock.
AT = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    server = make_standin()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def world(database_url: str, standin: SlackStandIn) -> Iterator[Any]:
    upgrade(database_url)
    engine = make_engine(database_url)
    session_factory = make_session_factory(engine)
    settings = Settings(
        slack_bot_token=standin.bot_token, slack_api_url=standin.url, database_url=database_url
    )
    deps = Deps(settings=settings, session_factory=session_factory, clock=FakeClock(AT))
    yield session_factory, build_ticker(deps)
    engine.dispose()


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
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        queries.update_workspace_settings(
            session=session, team_id=TEAM, recognition_channel_id="C0WINS"
        )
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
        session.commit()

    for _ in range(3):  # later ticks (or processes) queue nothing again
        ticker.tick()
    assert ticker.failures == []

    assert len(_posts(standin, REP, "Initech")) == 1
    assert len(_posts(standin, MANAGER, "Initech")) == 1
    assert _posts(standin, REP, "Globex") == []  # up already: not sent again
    assert len(_posts(standin, "C0WINS", "Hooli")) == 1  # the bounce-back shout-out
    assert len(_posts(standin, REP, "Hooli")) == 1  # then the rep's DM, saying where it went
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
