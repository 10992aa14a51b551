"""The outbox and its dispatcher against the Slack stand-in, on SQLite and PostgreSQL: each row
is sent once through 5xx-after-posting, hangs, lost database writes and two dispatchers; 429s
wait without counting; permanent errors give up, transient ones back off; reconciliation reads
stay under conversations.history's limit without holding up anyone else's sends."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlmodel import Session

from bot.clock import FakeClock, utc_now
from bot.dispatcher import (
    MAX_ATTEMPTS,
    METADATA_EVENT_TYPE,
    Dispatcher,
    MetadataRefused,
    register_hooks,
    with_post_key,
)
from bot.uow import UnitOfWork, to_channel, to_recognition_channel, to_user
from bot.uploads import register_message_renderer
from storage import outbox_queries, queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage
from testkit.live import allow_postgres_connections
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.databases import fresh_database

HOOKED: list[tuple[str, str, str | None]] = []


def _record_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    HOOKED.append(("sent", row.post_key, ts))


def _record_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    HOOKED.append(("failed", row.post_key, code))


register_hooks("outbox-test", on_sent=_record_sent, on_failed=_record_failed)


@dataclass
class Outbox:
    """One database, a FakeClock at the real now (Slack's message ts are real times) and a
    dispatcher factory; `team` is a workspace of this test's own."""

    url: str
    standin: SlackStandIn
    clock: FakeClock
    team: str = field(default_factory=lambda: f"T{uuid.uuid4().hex[:8].upper()}")

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        self.session_factory = make_session_factory(self.engine)

    def dispatcher(
        self, *, worker: str = "test-worker", timeout: float = 5, **options
    ) -> Dispatcher:  # type: ignore[no-untyped-def]
        client = WebClient(token=self.standin.bot_token, base_url=self.standin.url, timeout=timeout)
        return Dispatcher(
            self.session_factory,
            client,
            self.clock,
            worker=worker,
            token_for_team=lambda team_id: f"xoxb-{team_id}-test",
            **options,
        )

    def add(self, post_key: str, text_: str, *, to=None, team: str | None = None) -> None:  # type: ignore[no-untyped-def]
        with UnitOfWork(self.session_factory, clock=self.clock) as uow:
            uow.outbox.add(
                team_id=team or self.team,
                post_key=post_key,
                kind="outbox-test",
                to=to or to_channel("C0WINS"),
                message={"text": text_},
            )

    def row(self, post_key: str, team: str | None = None) -> OutboxMessage:
        with self.session_factory() as session:
            row = outbox_queries.get(session=session, team_id=team or self.team, post_key=post_key)
            assert row is not None
            return row


@pytest.fixture
def outbox(database_url: str, standin: SlackStandIn) -> Iterator[Outbox]:
    upgrade(database_url)
    box = Outbox(database_url, standin, FakeClock(utc_now()))
    standin.add_team(box.team, f"Team {box.team}")
    yield box
    box.engine.dispose()


def _posted(standin: SlackStandIn, text_: str) -> list[RecordedCall]:
    """Messages Slack has with this text (whatever the client was told)."""
    return [c for c in standin.calls_to("chat.postMessage") if c.params.get("text") == text_]


def _marker() -> str:
    return f"outbox-{uuid.uuid4().hex[:10]}"


# --- the basics ----------------------------------------------------------------------------------


def test_a_row_is_sent_once_with_its_post_key_in_the_metadata(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-basic", marker)
    outbox.add("k-basic", "a second add of the same key is ignored")
    dispatcher = outbox.dispatcher()
    assert dispatcher.run_once(outbox.clock()) == 1
    assert dispatcher.run_once(outbox.clock()) == 0
    [post] = _posted(outbox.standin, marker)
    assert post.params["metadata"] == {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"post_key": "k-basic", "team_id": outbox.team},
    }
    row = outbox.row("k-basic")
    assert (row.state, row.attempts, row.sent_ts) == ("sent", 1, post.response["ts"])
    assert ("sent", "k-basic", post.response["ts"]) in HOOKED


def test_a_dm_is_sent_to_the_conversation_slack_opens(outbox: Outbox) -> None:
    """chat.postMessage takes the user id as `channel` and opens the DM itself
    (docs.slack.dev/reference/methods/chat.postMessage), so a DM costs no conversations.open
    (Tier 3, 50 a minute): a fan-out to every rep is paced by chat.postMessage alone."""
    marker = _marker()
    seen = len(outbox.standin.calls)
    outbox.add("k-dm", marker, to=to_user("U0REP1"))
    outbox.dispatcher().run_once(outbox.clock())
    [post] = _posted(outbox.standin, marker)
    assert post.params["channel"] == "U0REP1" and post.conversation == "D0REP1"
    assert [c.method for c in outbox.standin.calls[seen:]] == ["chat.postMessage"]
    assert outbox.row("k-dm").sent_channel == "D0REP1"  # the DM's own id, from the answer


def test_a_dm_slack_took_but_answered_502_is_looked_for_in_the_dms_history(
    outbox: Outbox,
) -> None:
    """Sent by user id, an unknown DM is looked for in the DM itself: conversations.history
    wants a conversation id, so the DM is opened (conversations.open) for the read."""
    marker = _marker()
    outbox.add("k-dm-502", marker, to=to_user("U0REP1"))
    dispatcher = outbox.dispatcher()
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-dm-502").state == "unknown"
    seen = len(outbox.standin.calls)
    outbox.clock.advance(minutes=1)
    dispatcher.run_once(outbox.clock())
    [post] = _posted(outbox.standin, marker)  # found, not sent again
    row = outbox.row("k-dm-502")
    assert (row.state, row.sent_ts, row.sent_channel) == ("sent", post.response["ts"], "D0REP1")
    calls = [(c.method, c.ok) for c in outbox.standin.calls[seen:]]
    assert calls == [("conversations.open", True), ("conversations.history", True)]


def test_a_rolled_back_unit_of_work_queues_nothing(outbox: Outbox) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        uow.outbox.add(
            team_id=outbox.team,
            post_key="k-rolled-back",
            kind="outbox-test",
            to=to_channel("C0WINS"),
            message={"text": "never"},
        )
        raise RuntimeError("the fact that caused it failed to save")
    with outbox.session_factory() as session:
        assert outbox_queries.rows_of(session=session, team_id=outbox.team) == []


# --- ambiguous outcomes --------------------------------------------------------------------------


def test_a_post_slack_took_but_answered_502_is_found_in_history_not_sent_again(
    outbox: Outbox,
) -> None:
    marker = _marker()
    outbox.add("k-502", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-502").state == "unknown"
    assert len(_posted(outbox.standin, marker)) == 1  # Slack has it; the client heard 502

    dispatcher.run_once(outbox.clock())  # too soon to look: nothing happens
    assert outbox.row("k-502").state == "unknown"
    seen = len(outbox.standin.calls)
    outbox.clock.advance(minutes=1)
    dispatcher.run_once(outbox.clock())
    [post] = _posted(outbox.standin, marker)
    row = outbox.row("k-502")
    assert (row.state, row.sent_ts, row.sent_channel) == ("sent", post.response["ts"], "C0WINS")
    [history] = [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"]
    assert history.params["include_all_metadata"] in (True, "1", "true")
    assert ("sent", "k-502", post.response["ts"]) in HOOKED


def test_a_post_whose_history_cannot_be_read_is_given_up_on_not_sent_twice(
    outbox: Outbox,
) -> None:
    """An install from before the history scopes can't look: Slack may have the post, so it
    is not sent again (https://docs.slack.dev/reference/methods/conversations.history lists
    missing_scope among its errors)."""
    marker = _marker()
    outbox.add("k-no-scope", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    dispatcher.run_once(outbox.clock())
    outbox.standin.fail_next("conversations.history", error="missing_scope")
    outbox.clock.advance(minutes=1)
    dispatcher.run_once(outbox.clock())
    outbox.clock.advance(minutes=10)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    row = outbox.row("k-no-scope")
    assert (row.state, row.last_error) == ("failed", "unverifiable:missing_scope")


def _raise_on_sent(
    session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
) -> None:
    raise RuntimeError("a feature's bookkeeping broke")


register_hooks("outbox-test-broken-hook", on_sent=_raise_on_sent)


def test_a_failing_on_sent_hook_still_leaves_the_row_sent(outbox: Outbox) -> None:
    marker = _marker()
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        uow.outbox.add(
            team_id=outbox.team,
            post_key="k-broken-hook",
            kind="outbox-test-broken-hook",
            to=to_channel("C0WINS"),
            message={"text": marker},
        )
    dispatcher = outbox.dispatcher()
    dispatcher.run_once(outbox.clock())
    outbox.clock.advance(minutes=10)  # past the lease: a row left "sending" would be retried
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-broken-hook").state == "sent"


def test_a_post_that_failed_before_slack_acted_is_looked_for_then_sent(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-503", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", status=503)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-503").state == "unknown" and _posted(outbox.standin, marker) == []
    outbox.clock.advance(minutes=1)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-503").state == "sent"


def test_a_post_whose_answer_never_came_is_sent_once(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-hang", marker)
    dispatcher = outbox.dispatcher(timeout=0.5)
    outbox.standin.accept_then_hang("chat.postMessage", seconds=1.5)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-hang").state == "unknown"
    outbox.clock.advance(minutes=1)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-hang").state == "sent"


def _outage_until(outbox: Outbox, over: threading.Event) -> threading.Thread:
    """Make the database unreachable for the dispatcher until `over` is set: PostgreSQL
    refuses connections; SQLite's file is write-locked by another writer (past the app's 5 s
    busy timeout, a write fails with "database is locked")."""
    ready = threading.Event()

    def outage() -> None:
        if outbox.url.startswith("postgresql"):
            from sqlalchemy.engine import make_url

            url = make_url(outbox.url)
            admin = url.set(database="postgres").render_as_string(hide_password=False)
            allow_postgres_connections(admin, url.database or "", False)
            ready.set()
            over.wait(60)
            allow_postgres_connections(admin, url.database or "", True)
            return
        engine = make_engine(outbox.url)
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
            ready.set()
            over.wait(60)
            connection.exec_driver_sql("ROLLBACK")
        engine.dispose()

    thread = threading.Thread(target=outage)
    thread.start()
    ready.wait(30)
    return thread


def test_a_lost_database_write_after_slacks_answer_is_sent_once(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-lost-mark", marker)
    dispatcher = outbox.dispatcher(timeout=10)
    # Slack takes the post and holds its answer 2 s: the database goes away meanwhile.
    outbox.standin.accept_then_hang("chat.postMessage", seconds=2.0)
    sent = threading.Event()
    sender = threading.Thread(target=lambda: (dispatcher.send_due(outbox.clock()), sent.set()))
    sender.start()
    outbox.standin.wait_for(lambda calls: any(c.params.get("text") == marker for c in calls))
    outage = _outage_until(outbox, sent)
    sender.join(timeout=60)
    outage.join(timeout=60)
    outbox.engine.dispose()  # connections the outage ended
    row = outbox.row("k-lost-mark")
    assert row.state == "sending"  # Slack has it; the mark never landed
    assert len(_posted(outbox.standin, marker)) == 1

    # Another dispatcher (a replica, or this process after a restart) once the lease is over.
    outbox.clock.advance(minutes=6)
    replica = outbox.dispatcher(worker="replica")
    replica.run_once(outbox.clock())
    # The request may still be in flight: looked for after the reconcile delay, not at once.
    assert outbox.row("k-lost-mark").state == "unknown"
    assert len(_posted(outbox.standin, marker)) == 1
    outbox.clock.advance(minutes=1)
    replica.run_once(outbox.clock())
    assert outbox.row("k-lost-mark").state == "sent"
    assert len(_posted(outbox.standin, marker)) == 1


# --- Slack says no, or not now -------------------------------------------------------------------


def test_retry_after_is_honoured_and_not_counted_as_an_attempt(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-429", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", status=429, retry_after=30)
    dispatcher.run_once(outbox.clock())
    row = outbox.row("k-429")
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.not_before == outbox.clock() + timedelta(seconds=30)
    outbox.clock.advance(seconds=29)
    dispatcher.run_once(outbox.clock())
    assert _posted(outbox.standin, marker) == []
    outbox.clock.advance(seconds=1)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-429").attempts == 1


def test_a_permanent_error_fails_the_row_and_a_transient_one_backs_off(outbox: Outbox) -> None:
    outbox.add("k-gone", "to a channel that doesn't exist", to=to_channel("C0NOSUCH"))
    marker = _marker()
    outbox.add("k-flaky", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", error="channel_not_found")
    outbox.standin.fail_next("chat.postMessage", error="internal_error")
    dispatcher.run_once(outbox.clock())
    gone = outbox.row("k-gone")
    assert (gone.state, gone.last_error) == ("failed", "channel_not_found")
    assert ("failed", "k-gone", "channel_not_found") in HOOKED
    flaky = outbox.row("k-flaky")
    assert (flaky.state, flaky.attempts, flaky.last_error) == ("pending", 1, "internal_error")
    assert flaky.not_before == outbox.clock() + timedelta(seconds=30)

    outbox.clock.advance(seconds=30)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-gone").state == "failed"


def test_a_workspace_without_a_bot_token_is_sent_nothing(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-uninstalled", marker)
    client = WebClient(base_url=outbox.standin.url, timeout=5)
    dispatcher = Dispatcher(
        outbox.session_factory, client, outbox.clock, token_for_team=lambda team_id: None
    )
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-uninstalled").state == "failed"
    assert _posted(outbox.standin, marker) == []


def test_a_recognition_channel_row_waits_until_a_channel_is_set(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-wins", marker, to=to_recognition_channel())
    dispatcher = outbox.dispatcher()
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-wins").state == "pending"
    assert outbox.row("k-wins").attempts == 0
    outbox.clock.advance(minutes=30)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-wins").state == "pending"  # looked at again in an hour
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        queries.update_workspace_settings(
            session=uow.session, team_id=outbox.team, recognition_channel_id="C0WINS"
        )
    dispatcher.run_once(outbox.clock())  # saving the channel woke the row
    [post] = _posted(outbox.standin, marker)
    assert post.conversation == "C0WINS"
    assert outbox.row("k-wins").state == "sent"


# --- reconciliation under conversations.history's limit ------------------------------------------


def test_reconciling_stays_under_the_history_limit_and_never_holds_up_other_sends(
    outbox: Outbox,
) -> None:
    other = f"T{uuid.uuid4().hex[:8].upper()}"
    outbox.standin.add_team(other, "Other team")
    standin = outbox.standin
    # The stand-in's conversations.history allows 1 call a minute, on the test's clock.
    start = outbox.clock()
    standin.monotonic = lambda: (outbox.clock() - start).total_seconds()
    standin.rate_limit("conversations.history", per_minute=1)
    try:
        markers = {user: _marker() for user in ("U0REP1", "U0REP2", "U0MGR")}
        for user, marker in markers.items():
            outbox.add(f"k-unknown-{user}", marker, to=to_user(user))
        dispatcher = outbox.dispatcher()
        standin.accept_then_fail("chat.postMessage", status=502, times=3)
        dispatcher.run_once(outbox.clock())
        assert {outbox.row(f"k-unknown-{u}").state for u in markers} == {"unknown"}

        seen = len(standin.calls)
        outbox.clock.advance(minutes=1)
        other_marker = _marker()
        outbox.add("k-other", other_marker, team=other)
        dispatcher.run_once(outbox.clock())
        histories = [c for c in standin.calls[seen:] if c.method == "conversations.history"]
        assert len(histories) == 1 and all(c.ok for c in histories)
        # The other workspace's post went out in the same run.
        assert len(_posted(standin, other_marker)) == 1
        settled = [u for u in markers if outbox.row(f"k-unknown-{u}").state == "sent"]
        assert len(settled) == 1

        for _ in range(3):
            outbox.clock.advance(minutes=1)
            dispatcher.run_once(outbox.clock())
        histories = [c for c in standin.calls[seen:] if c.method == "conversations.history"]
        assert len(histories) == 3 and all(c.ok for c in histories)
        assert {outbox.row(f"k-unknown-{u}").state for u in markers} == {"sent"}
        for marker in markers.values():
            assert len(_posted(standin, marker)) == 1
    finally:
        with standin._lock:
            standin._buckets.pop("conversations.history", None)
        standin.monotonic = __import__("time").monotonic


def test_a_history_search_goes_on_from_its_page_in_whichever_process_reads_next(
    outbox: Outbox,
) -> None:
    """A page of history holds 15 messages for apps outside the Marketplace; a post buried
    under 16 newer ones is on the second page. The cursor lives on the row, so the process
    that takes the next minute's slot reads page two instead of starting over."""
    marker = _marker()
    outbox.add("k-buried", marker)
    first, second = (outbox.dispatcher(worker=f"process-{n}") for n in (1, 2))
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    first.run_once(outbox.clock())
    assert outbox.row("k-buried").state == "unknown"
    others = WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url, timeout=5)
    for n in range(16):
        others.chat_postMessage(channel="C0WINS", text=f"{marker} newer {n}")
    seen = len(outbox.standin.calls)
    outbox.clock.advance(minutes=1)
    first.reconcile_due(outbox.clock())
    assert outbox.row("k-buried").state == "unknown"  # not on the first page
    assert outbox.row("k-buried").history_cursor
    outbox.clock.advance(minutes=1)
    second.reconcile_due(outbox.clock())
    [post] = _posted(outbox.standin, marker)
    row = outbox.row("k-buried")
    assert (row.state, row.sent_ts) == ("sent", post.response["ts"])
    reads = [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"]
    assert [bool(c.params.get("cursor")) for c in reads] == [False, True]


def test_processes_share_one_history_read_a_minute_per_workspace(outbox: Outbox) -> None:
    """Slack allows apps outside the Marketplace 1 conversations.history request a minute per
    workspace (https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps),
    whichever process makes it: three dispatchers reconciling at once take one slot between
    them, kept in the database."""
    standin = outbox.standin
    start = outbox.clock()
    standin.monotonic = lambda: (outbox.clock() - start).total_seconds()
    standin.rate_limit("conversations.history", per_minute=1)
    try:
        markers = {user: _marker() for user in ("U0REP1", "U0REP2", "U0MGR")}
        for user, marker in markers.items():
            outbox.add(f"k-shared-{user}", marker, to=to_user(user))
        # One row per claim, so each process holds a row of its own to look for.
        dispatchers = [outbox.dispatcher(worker=f"process-{n}", batch=1) for n in range(3)]
        standin.accept_then_fail("chat.postMessage", status=502, times=3)
        dispatchers[0].run_once(outbox.clock())
        assert {outbox.row(f"k-shared-{u}").state for u in markers} == {"unknown"}

        seen = len(standin.calls)
        for minute in range(1, 4):
            outbox.clock.advance(minutes=1)
            for dispatcher in dispatchers:
                dispatcher.reconcile_due(outbox.clock())
            histories = [c for c in standin.calls[seen:] if c.method == "conversations.history"]
            assert len(histories) == minute and all(c.ok for c in histories)
        assert {outbox.row(f"k-shared-{u}").state for u in markers} == {"sent"}
        for marker in markers.values():
            assert len(_posted(standin, marker)) == 1
    finally:
        with standin._lock:
            standin._buckets.pop("conversations.history", None)
        standin.monotonic = __import__("time").monotonic


def test_a_history_429_holds_the_workspaces_slot_until_the_apps_clock_passes_it(
    outbox: Outbox,
) -> None:
    """A 429's Retry-After on conversations.history holds the workspace's slot (api_slots) on
    the process's own clock, the one the slot is taken and compared on: here an hour behind the
    wall clock, so a hold reckoned from the wall clock would keep the row waiting an hour."""
    outbox.clock.advance(hours=-1)  # behind: Slack's real message ts stay after `oldest`
    marker = _marker()
    outbox.add("k-held", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-held").state == "unknown"

    seen = len(outbox.standin.calls)
    outbox.clock.advance(minutes=1)
    outbox.standin.fail_next("conversations.history", status=429, retry_after=120)
    dispatcher.run_once(outbox.clock())

    def reads() -> list[RecordedCall]:
        return [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"]

    assert [c.ok for c in reads()] == [False]
    outbox.clock.advance(seconds=119)
    dispatcher.run_once(outbox.clock())
    assert len(reads()) == 1 and outbox.row("k-held").state == "unknown"  # still held
    outbox.clock.advance(seconds=1)
    dispatcher.run_once(outbox.clock())
    assert [c.ok for c in reads()] == [False, True]
    assert outbox.row("k-held").state == "sent"
    assert len(_posted(outbox.standin, marker)) == 1


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


def _raise_type_error(
    session: Session, team_id: str, payload: dict[str, object], now: datetime
) -> dict[str, object]:
    raise TypeError("a bug in rendering")


register_message_renderer("outbox-test-broken-renderer", _raise_type_error)


def test_a_bug_before_the_request_backs_off_and_is_given_up_on_not_looked_for(
    outbox: Outbox,
) -> None:
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        uow.outbox.add(
            team_id=outbox.team,
            post_key="k-bug",
            kind="outbox-test",
            to=to_channel("C0WINS"),
            message={"renderer": "outbox-test-broken-renderer"},
        )
    dispatcher = outbox.dispatcher()
    seen = len(outbox.standin.calls)
    dispatcher.run_once(outbox.clock())
    row = outbox.row("k-bug")
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "TypeError")
    assert row.not_before == outbox.clock() + timedelta(seconds=30)
    for _ in range(MAX_ATTEMPTS + 5):
        outbox.clock.advance(hours=2)
        dispatcher.run_once(outbox.clock())
    row = outbox.row("k-bug")
    assert (row.state, row.attempts, row.last_error) == (
        "failed",
        MAX_ATTEMPTS,
        "gave_up:TypeError",
    )
    assert ("failed", "k-bug", "gave_up:TypeError") in HOOKED
    # Nothing ever left, so nothing was looked for.
    assert [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"] == []


def _return_unencodable(
    session: Session, team_id: str, payload: dict[str, object], now: datetime
) -> dict[str, object]:
    return {"text": "made at", "blocks": [{"type": "section", "at": now}]}  # a datetime


register_message_renderer("outbox-test-unencodable-renderer", _return_unencodable)


def test_a_body_that_will_not_encode_is_a_failure_before_the_request_not_an_unknown(
    outbox: Outbox,
) -> None:
    """slack-sdk encodes the body itself; the dispatcher checks it first, so that anything
    raised inside slack-sdk can be taken as "may have reached Slack" (and looked for)."""
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        uow.outbox.add(
            team_id=outbox.team,
            post_key="k-unencodable",
            kind="outbox-test",
            to=to_channel("C0WINS"),
            message={"renderer": "outbox-test-unencodable-renderer"},
        )
    seen = len(outbox.standin.calls)
    outbox.dispatcher().run_once(outbox.clock())
    row = outbox.row("k-unencodable")
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "TypeError")
    assert [c.method for c in outbox.standin.calls[seen:]] == []


def test_an_unknown_outcome_counts_as_an_attempt_and_is_given_up_on(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-always-503", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", status=503, times=MAX_ATTEMPTS)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-always-503").state == "unknown"
    for _ in range(MAX_ATTEMPTS + 5):
        outbox.clock.advance(minutes=2)
        dispatcher.run_once(outbox.clock())
    row = outbox.row("k-always-503")
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error is not None and row.last_error.startswith("gave_up:")
    assert _posted(outbox.standin, marker) == []


# --- message metadata ----------------------------------------------------------------------------


def test_a_messages_own_metadata_keeps_the_post_key_or_is_refused(outbox: Outbox) -> None:
    """One message carries one metadata event (https://docs.slack.dev/messaging/
    message-metadata): a caller's payload joins the post key; another event type can't."""
    merged, other = _marker(), _marker()
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        uow.outbox.add(
            team_id=outbox.team,
            post_key="k-own-metadata",
            kind="outbox-test",
            to=to_channel("C0WINS"),
            message={
                "text": merged,
                "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"n": 3}},
            },
        )
        uow.outbox.add(
            team_id=outbox.team,
            post_key="k-other-event",
            kind="outbox-test",
            to=to_channel("C0WINS"),
            message={"text": other, "metadata": {"event_type": "deal_won", "event_payload": {}}},
        )
    outbox.dispatcher().run_once(outbox.clock())
    [post] = _posted(outbox.standin, merged)
    assert post.params["metadata"] == {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"n": 3, "post_key": "k-own-metadata", "team_id": outbox.team},
    }
    assert _posted(outbox.standin, other) == []
    row = outbox.row("k-other-event")
    assert (row.state, row.last_error) == ("failed", "metadata_event_type:deal_won")
    with pytest.raises(MetadataRefused):
        with_post_key({"metadata": {"event_payload": {"post_key": "another"}}}, "k", "T1")


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
