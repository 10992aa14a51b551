"""Taking a post back through the outbox (issue 12): a chat.delete row whose target is another
row's post ("sent_post") goes to the channel and ts that row was sent with, once that is known;
a post not sent yet is called off instead; Slack's answers are read as chat.delete documents
them (https://docs.slack.dev/reference/methods/chat.delete). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlmodel import Session

from bot.dispatcher import register_hooks
from bot.uow import UnitOfWork, to_channel, to_sent_post
from storage import outbox_queries
from storage.models import OutboxMessage
from tests.support.outbox import Outbox, outbox_fixture

__all__ = ["outbox"]  # the fixture (tests/support/outbox.py)

FAILED: list[tuple[str, str]] = []


def _failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    FAILED.append((row.post_key, code))


register_hooks("take-back-test", on_failed=_failed)


outbox = outbox_fixture("post-test")


def _take_back(outbox: Outbox, post_key: str) -> str:
    key = f"{post_key}:take-back"
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        uow.outbox.add(
            team_id=outbox.team,
            post_key=key,
            kind="take-back-test",
            to=to_sent_post(post_key),
            message={},
            method="chat.delete",
        )
    return key


def _post_now(outbox: Outbox, key: str) -> str:
    """Queue a post to #wins and send it; its ts."""
    outbox.add(key, f"shout-out {key}", to=to_channel("C0WINS"))
    outbox.dispatcher().run_once(outbox.clock())
    row = outbox.row(key)
    assert row.state == "sent" and row.sent_ts
    return row.sent_ts


def test_a_sent_post_is_deleted_with_the_channel_and_ts_it_was_sent_with(outbox: Outbox) -> None:
    ts = _post_now(outbox, "k-sent")
    key = _take_back(outbox, "k-sent")
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.calls("chat.delete") == [{"channel": "C0WINS", "ts": ts}]
    assert not outbox.standin.has_message("C0WINS", ts)
    assert outbox.row(key).state == "sent"
    outbox.dispatcher().run_once(outbox.clock() + timedelta(minutes=5))
    assert len(outbox.calls("chat.delete")) == 1  # once


def test_a_post_still_pending_is_called_off_and_never_sent(outbox: Outbox) -> None:
    outbox.add("k-later", "never seen", to=to_channel("C0WINS"))
    outbox.set("k-later", not_before=outbox.clock() + timedelta(hours=1))
    key = _take_back(outbox, "k-later")
    outbox.dispatcher().run_once(outbox.clock())
    assert (outbox.row("k-later").state, outbox.row("k-later").last_error) == (
        "failed",
        "taken_back",
    )
    assert outbox.row(key).last_error == "never_posted"
    outbox.dispatcher().run_once(outbox.clock() + timedelta(hours=2))
    assert [
        c
        for c in outbox.standin.calls_to("chat.postMessage")
        if c.params.get("text") == "never seen"
    ] == []
    assert outbox.calls("chat.delete") == []
    assert (key, "never_posted") in FAILED  # no word needed; the feature's hook decides


def test_a_post_whose_send_is_unknown_is_waited_for_then_deleted(outbox: Outbox) -> None:
    client = WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url)
    ts = str(client.chat_postMessage(channel="C0WINS", text="in flight")["ts"])
    outbox.add("k-flight", "in flight", to=to_channel("C0WINS"))
    outbox.set("k-flight", state="unknown", not_before=outbox.clock() + timedelta(hours=1))
    key = _take_back(outbox, "k-flight")
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.calls("chat.delete") == [] and outbox.row(key).state == "pending"
    assert outbox.row(key).last_error == "post in flight"
    # Reconciliation finds it in Slack: now its channel and ts are known.
    with outbox.session_factory() as session:
        row = outbox_queries.get(session=session, team_id=outbox.team, post_key="k-flight")
        assert row is not None and row.id is not None
        outbox_queries.mark_sent(
            session=session, row_id=row.id, worker="w", channel="C0WINS", ts=ts, now=outbox.clock()
        )
        session.commit()
    outbox.dispatcher().run_once(outbox.clock() + timedelta(seconds=31))
    assert outbox.calls("chat.delete") == [{"channel": "C0WINS", "ts": ts}]
    assert outbox.row(key).state == "sent"


def test_message_not_found_is_done_and_a_5xx_is_tried_again(outbox: Outbox) -> None:
    ts = _post_now(outbox, "k-gone")
    # Someone removed it by hand already: "No message exists with the requested timestamp".
    WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url).chat_delete(
        channel="C0WINS", ts=ts
    )
    key = _take_back(outbox, "k-gone")
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.row(key).state == "sent"

    ts = _post_now(outbox, "k-503")
    outbox.standin.fail_next("chat.delete", status=503)
    key = _take_back(outbox, "k-503")
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.row(key).state == "pending" and outbox.standin.has_message("C0WINS", ts)
    outbox.dispatcher().run_once(outbox.clock() + timedelta(minutes=2))
    assert outbox.row(key).state == "sent" and not outbox.standin.has_message("C0WINS", ts)


def test_cant_delete_message_fails_the_row_for_the_feature_to_tell(outbox: Outbox) -> None:
    _post_now(outbox, "k-refused")
    outbox.standin.fail_next("chat.delete", error="cant_delete_message")
    key = _take_back(outbox, "k-refused")
    outbox.dispatcher().run_once(outbox.clock())
    row = outbox.row(key)
    assert (row.state, row.last_error) == ("failed", "cant_delete_message")
    assert (key, "cant_delete_message") in FAILED
