"""Taking a post back through the outbox (issue 12): a chat.delete row whose target is another
row's post ("sent_post") goes to the channel and ts that row was sent with, once that is known;
a post not sent yet is called off instead; Slack's answers are read as chat.delete documents
them (https://docs.slack.dev/reference/methods/chat.delete). SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import Session

from bot.clock import FakeClock, utc_now
from bot.dispatcher import Dispatcher, register_hooks
from bot.uow import Target, UnitOfWork, to_channel, to_sent_post
from storage import outbox_queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage
from testkit.standin import SlackStandIn

FAILED: list[tuple[str, str]] = []


def _failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    FAILED.append((row.post_key, code))


register_hooks("take-back-test", on_failed=_failed)


@dataclass
class Outbox:
    """One database, a FakeClock at the real now (Slack's ts are real times), a dispatcher
    factory and a workspace of this test's own (as in test_outbox)."""

    url: str
    standin: SlackStandIn
    clock: FakeClock
    team: str = field(default_factory=lambda: f"T{uuid.uuid4().hex[:8].upper()}")

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        self.session_factory = make_session_factory(self.engine)

    def dispatcher(self) -> Dispatcher:
        client = WebClient(token=self.standin.bot_token, base_url=self.standin.url, timeout=5)
        return Dispatcher(
            self.session_factory,
            client,
            self.clock,
            worker="test-worker",
            token_for_team=lambda team_id: f"xoxb-{team_id}-test",
        )

    def add(self, post_key: str, text: str, *, to: Target) -> None:
        with UnitOfWork(self.session_factory, clock=self.clock) as uow:
            uow.outbox.add(
                team_id=self.team,
                post_key=post_key,
                kind="post-test",
                to=to,
                message={"text": text},
            )

    def row(self, post_key: str) -> OutboxMessage:
        with self.session_factory() as session:
            row = outbox_queries.get(session=session, team_id=self.team, post_key=post_key)
            assert row is not None
            return row


@pytest.fixture
def outbox(database_url: str, standin: SlackStandIn) -> Iterator[Outbox]:
    upgrade(database_url)
    box = Outbox(database_url, standin, FakeClock(utc_now()))
    standin.add_team(box.team, f"Team {box.team}")
    yield box
    box.engine.dispose()


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


def _set(outbox: Outbox, key: str, **values: object) -> None:
    with outbox.session_factory() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.team_id == outbox.team, OutboxMessage.post_key == key)  # type: ignore[arg-type]
            .values(**values)
        )
        session.commit()


def _deletes(outbox: Outbox) -> list[dict[str, object]]:
    return [
        c.params
        for c in outbox.standin.calls_to("chat.delete", ok_only=False)
        if c.token == f"xoxb-{outbox.team}-test"
    ]


def test_a_sent_post_is_deleted_with_the_channel_and_ts_it_was_sent_with(outbox: Outbox) -> None:
    ts = _post_now(outbox, "k-sent")
    key = _take_back(outbox, "k-sent")
    outbox.dispatcher().run_once(outbox.clock())
    assert _deletes(outbox) == [{"channel": "C0WINS", "ts": ts}]
    assert not outbox.standin.has_message("C0WINS", ts)
    assert outbox.row(key).state == "sent"
    outbox.dispatcher().run_once(outbox.clock() + timedelta(minutes=5))
    assert len(_deletes(outbox)) == 1  # once


def test_a_post_still_pending_is_called_off_and_never_sent(outbox: Outbox) -> None:
    outbox.add("k-later", "never seen", to=to_channel("C0WINS"))
    _set(outbox, "k-later", not_before=outbox.clock() + timedelta(hours=1))
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
    assert _deletes(outbox) == []
    assert (key, "never_posted") in FAILED  # no word needed; the feature's hook decides


def test_a_post_whose_send_is_unknown_is_waited_for_then_deleted(outbox: Outbox) -> None:
    client = WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url)
    ts = str(client.chat_postMessage(channel="C0WINS", text="in flight")["ts"])
    outbox.add("k-flight", "in flight", to=to_channel("C0WINS"))
    _set(outbox, "k-flight", state="unknown", not_before=outbox.clock() + timedelta(hours=1))
    key = _take_back(outbox, "k-flight")
    outbox.dispatcher().run_once(outbox.clock())
    assert _deletes(outbox) == [] and outbox.row(key).state == "pending"
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
    assert _deletes(outbox) == [{"channel": "C0WINS", "ts": ts}]
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
