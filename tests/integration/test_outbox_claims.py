"""The outbox's claims and leases, on SQLite and PostgreSQL: the same key in two workspaces, two
dispatchers racing for rows, a dead process's claim, a claim taken over, a lease that runs
out or is too short: each row is sent once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

from slack_sdk import WebClient

from bot.clock import FakeClock, utc_now
from bot.dispatcher import (
    Dispatcher,
    with_post_key,
)
from bot.uow import UnitOfWork, to_channel, to_user
from storage import outbox_queries
from storage.db import make_engine, upgrade
from storage.models import OutboxMessage
from testkit.standin import SlackStandIn
from tests.support.databases import fresh_database
from tests.support.outbox import Outbox, _marker, _posted, outbox

__all__ = ["outbox"]  # the fixtures (tests/support/outbox.py)


# --- exactly once across workspaces, processes and leases -----------------------------------------
# (what tests/integration/test_delivery.py asked of the old post_log Delivery, for the outbox)


def test_the_same_key_in_another_workspace_is_another_message(outbox: Outbox) -> None:
    other = f"T{uuid.uuid4().hex[:8].upper()}"
    outbox.standin.add_team(other, f"Team {other}")
    marker = _marker()
    outbox.add("k-shared", marker)
    outbox.add("k-shared", marker, team=other)
    outbox.dispatcher().run_once(outbox.clock())
    posts = _posted(outbox.standin, marker)
    assert len(posts) == 2
    assert {p.params["metadata"]["event_payload"]["team_id"] for p in posts} == {
        outbox.team,
        other,
    }
    assert outbox.row("k-shared").state == "sent"
    assert outbox.row("k-shared", other).state == "sent"


def test_dispatchers_racing_for_one_dm_send_it_once(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-race", marker, to=to_user("U0REP1"))
    dispatchers = [outbox.dispatcher(worker=f"w{i}") for i in range(4)]
    barrier = threading.Barrier(len(dispatchers))
    handled: list[int] = []

    def run(dispatcher: Dispatcher) -> None:
        barrier.wait()
        handled.append(dispatcher.run_once(outbox.clock()))

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(handled) == [0, 0, 0, 1]
    assert len(_posted(outbox.standin, marker)) == 1
    row = outbox.row("k-race")
    assert (row.state, row.attempts) == ("sent", 1)


def _claim_as(outbox: Outbox, worker: str) -> OutboxMessage:
    """Claim this test's one due row for `worker` (a process that then dies, say)."""
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        [row] = outbox_queries.claim_due(
            session=uow.session,
            limit=10,
            now=outbox.clock(),
            worker=worker,
            lease=timedelta(minutes=5),
        )
        return row


def test_a_claim_left_by_a_dead_process_is_sent_by_another_after_its_lease(
    outbox: Outbox,
) -> None:
    marker = _marker()
    outbox.add("k-orphan", marker)
    _claim_as(outbox, "dead")  # ... and it died before the request left
    dispatcher = outbox.dispatcher(worker="alive")
    outbox.clock.advance(minutes=4)
    assert dispatcher.run_once(outbox.clock()) == 0  # within its lease nobody else sends it
    row = outbox.row("k-orphan")
    assert (row.state, row.claimed_by) == ("sending", "dead")
    assert _posted(outbox.standin, marker) == []
    outbox.clock.advance(minutes=2)
    dispatcher.run_once(outbox.clock())  # after it, another takes it over and sends it, once
    assert len(_posted(outbox.standin, marker)) == 1
    outbox.clock.advance(minutes=6)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-orphan").state == "sent"


def test_a_dispatcher_whose_claim_was_taken_over_cannot_touch_the_new_claim(
    outbox: Outbox,
) -> None:
    outbox.add("k-taken", _marker())
    first = _claim_as(outbox, "a")
    assert first.id is not None
    outbox.clock.advance(minutes=6)
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        assert outbox_queries.expire_leases(session=uow.session, now=outbox.clock()) == 1
        [taken] = outbox_queries.claim_unknown(
            session=uow.session,
            limit=10,
            now=outbox.clock(),
            worker="b",
            lease=timedelta(minutes=5),
        )
    assert taken.id == first.id and taken.claimed_by == "b"
    # "a" finally comes back and tries to settle the row it once held: every write is refused.
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        session, now = uow.session, outbox.clock()
        assert not outbox_queries.release_unknown(
            session=session, row_id=first.id, worker="a", not_before=None
        )
        assert not outbox_queries.mark_unknown(
            session=session, row_id=first.id, worker="a", error="late", check_at=now
        )
        assert not outbox_queries.record_attempt(
            session=session,
            row_id=first.id,
            worker="a",
            channel="C0WINS",
            now=now,
            lease_left=timedelta(0),
        )
    row = outbox.row("k-taken")
    assert (row.state, row.claimed_by, row.attempts) == ("unknown", "b", 0)


# --- two dispatchers on PostgreSQL ---------------------------------------------------------------


def test_two_dispatchers_on_postgresql_send_each_of_200_rows_once(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        box = Outbox(url, standin, FakeClock(utc_now()))
        standin.add_team(box.team, "Two dispatchers")
        run = _marker()
        with UnitOfWork(box.session_factory, clock=box.clock) as uow:
            for n in range(200):
                uow.outbox.add(
                    team_id=box.team,
                    post_key=f"k-{n}",
                    kind="outbox-test",
                    to=to_channel("C0GENERAL"),
                    message={"text": f"{run}-{n}"},
                )
        dispatchers = [
            box.dispatcher(worker=f"worker-{i}", post_per_channel_seconds=0.001) for i in (1, 2)
        ]
        threads = [threading.Thread(target=d.run_once, args=(box.clock(),)) for d in dispatchers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        texts = [
            c.params.get("text")
            for c in standin.calls_to("chat.postMessage")
            if str(c.params.get("text", "")).startswith(run)
        ]
        assert sorted(texts) == sorted(f"{run}-{n}" for n in range(200))
        with box.session_factory() as session:
            rows = outbox_queries.rows_of(session=session, team_id=box.team)
            assert {r.state for r in rows} == {"sent"}
            assert {r.attempts for r in rows} == {1}
        box.engine.dispose()


# --- claims, leases and attempts -----------------------------------------------------------------


def _claim_and_record(outbox: Outbox, worker: str, channel: str = "C0WINS") -> int:
    """`worker` claims the due row and records its attempt, as a dispatcher does just before
    its request leaves; the row's id."""
    with outbox.session_factory() as session:
        [row] = outbox_queries.claim_due(
            session=session,
            limit=10,
            now=outbox.clock(),
            worker=worker,
            lease=timedelta(minutes=5),
        )
        assert row.id is not None
        assert outbox_queries.record_attempt(
            session=session,
            row_id=row.id,
            worker=worker,
            channel=channel,
            now=outbox.clock(),
            lease_left=timedelta(seconds=30),
        )
        session.commit()
        return row.id


def test_a_lease_that_runs_out_mid_send_is_looked_for_later_never_sent_again_at_once(
    outbox: Outbox,
) -> None:
    marker = _marker()
    outbox.add("k-slow", marker)
    # A dispatcher ("slow") sent the request; Slack has not acted on it yet, and its lease
    # runs out meanwhile (a stalled answer, a paused process, clocks apart).
    _claim_and_record(outbox, "slow")
    outbox.clock.advance(minutes=6)
    replica = outbox.dispatcher(worker="replica")
    replica.run_once(outbox.clock())
    assert _posted(outbox.standin, marker) == []  # not sent blind while it may be in flight
    row = outbox.row("k-slow")
    assert (row.state, row.not_before) == ("unknown", outbox.clock() + timedelta(seconds=30))

    # The slow request lands, as the slow dispatcher sent it: with its post key.
    slow = WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url, timeout=5)
    landed = slow.chat_postMessage(
        channel="C0WINS", **with_post_key({"text": marker}, "k-slow", outbox.team)
    )
    outbox.clock.advance(minutes=1)
    replica.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    row = outbox.row("k-slow")
    assert (row.state, row.sent_ts) == ("sent", landed["ts"])


def test_a_process_whose_claim_was_lost_cannot_overwrite_the_new_owners_result(
    outbox: Outbox,
) -> None:
    outbox.add("k-owner", _marker())
    row_id = _claim_and_record(outbox, "old")
    outbox.clock.advance(minutes=6)
    now = outbox.clock()
    with outbox.session_factory() as session:
        outbox_queries.expire_leases(session=session, now=now, recheck=timedelta(0))
        [taken] = outbox_queries.claim_unknown(
            session=session, limit=10, now=now, worker="new", lease=timedelta(minutes=5)
        )
        assert taken.id == row_id
        # The old owner's late results are refused while the new one holds the row...
        assert not outbox_queries.mark_failed(
            session=session, row_id=row_id, worker="old", error="late", now=now
        )
        assert not outbox_queries.mark_sent(
            session=session, row_id=row_id, worker="old", channel="C0WINS", ts="1.0", now=now
        )
        # ...and once it is sent, nothing moves it again, the new owner included.
        assert outbox_queries.mark_sent(
            session=session, row_id=row_id, worker="new", channel="C0WINS", ts="2.0", now=now
        )
        for worker in ("old", "new"):
            assert not outbox_queries.mark_failed(
                session=session, row_id=row_id, worker=worker, error="late", now=now
            )
            assert not outbox_queries.mark_sent(
                session=session, row_id=row_id, worker=worker, channel="C0X", ts="3.0", now=now
            )
            assert not outbox_queries.mark_unknown(
                session=session, row_id=row_id, worker=worker, error="late", check_at=now
            )
            assert not outbox_queries.reschedule(
                session=session, row_id=row_id, worker=worker, not_before=now, error="late"
            )
        session.commit()
    row = outbox.row("k-owner")
    assert (row.state, row.sent_ts, row.sent_channel, row.last_error) == (
        "sent",
        "2.0",
        "C0WINS",
        None,
    )


def test_a_send_refused_for_a_short_lease_goes_back_to_pending_and_is_sent_once(
    outbox: Outbox,
) -> None:
    """Pacing ate the lease (the second post to a channel waits its turn; here the wait costs
    4 min 40 s of the 5 min lease): record_attempt refuses the send, and the row must not be
    left "sending" until the lease runs out."""
    first, second = _marker(), _marker()
    outbox.add("k-first", first)
    outbox.add("k-second", second)
    start = outbox.clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        # The first wait is a long stall; later ones take only what they ask.
        outbox.clock.advance(seconds=seconds + (0 if slept else 280))
        slept.append(seconds)

    dispatcher = outbox.dispatcher(
        sleep=sleep, monotonic=lambda: (outbox.clock() - start).total_seconds()
    )
    assert dispatcher.send_due(outbox.clock()) == 2
    row = outbox.row("k-second")
    assert (row.state, row.claimed_by, row.attempts) == ("pending", None, 0)
    assert _posted(outbox.standin, second) == []
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, first)) == 1
    assert len(_posted(outbox.standin, second)) == 1
    row = outbox.row("k-second")
    assert (row.state, row.attempts) == ("sent", 1)


# --- an in-memory SQLite database ----------------------------------------------------------------


def test_an_in_memory_database_lends_its_one_connection_to_one_thread_at_a_time() -> None:
    """A request's transaction and the dispatcher's must not interleave on the one connection
    ":memory:" is: a commit in one thread would commit the other's half-done work."""
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE facts (n INTEGER)")
    done = threading.Event()

    def other_thread() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO facts VALUES (2)")
        done.set()

    with engine.connect() as connection:
        connection.exec_driver_sql("INSERT INTO facts VALUES (1)")
        thread = threading.Thread(target=other_thread)
        thread.start()
        # Unshared, the other thread commits at once (and this insert with it); shared one at
        # a time, it waits for this transaction to end.
        done.wait(1.0)
        connection.rollback()
    thread.join(timeout=30)
    with engine.connect() as connection:
        facts = [n for (n,) in connection.exec_driver_sql("SELECT n FROM facts")]
    assert facts == [2]
    engine.dispose()
