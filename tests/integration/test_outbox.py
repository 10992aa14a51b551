"""The outbox and its dispatcher against the Slack stand-in, on SQLite and PostgreSQL: each row
is sent once, with its post key in the message's metadata, through 5xx-after-posting, hangs,
lost database writes and a rolled-back unit of work."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlmodel import Session

from bot.dispatcher import (
    METADATA_EVENT_TYPE,
    register_hooks,
)
from bot.uow import UnitOfWork, to_channel, to_user
from storage import outbox_queries
from storage.db import make_engine
from storage.models import OutboxMessage
from testkit.live import allow_postgres_connections
from tests.support.outbox import HOOKED, Outbox, _marker, _posted, outbox

__all__ = ["outbox"]  # the fixtures (tests/support/outbox.py)


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
