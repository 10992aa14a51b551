"""Updating a post through the outbox (issue 12: a rep corrected or removed an outcome): a
chat.update row whose target is another row's post ("sent_post") goes to the channel and ts that
row was sent with, once it is in Slack — a post not sent yet is waited for, never called off —
and a message made at send time is rendered then. Slack's refusals are read as chat.update
documents them (https://docs.slack.dev/reference/methods/chat.update). SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import Session

from bot.clock import FakeClock, utc_now
from bot.dispatcher import Dispatcher
from bot.uow import Target, UnitOfWork, to_channel, to_sent_post
from bot.uploads import register_message_renderer
from storage import outbox_queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage
from testkit.standin import SlackStandIn

# What the renderer below makes: read when the row is sent, not when it was queued.
CURRENT = {"text": "as queued"}


def _render_current(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    return {"text": CURRENT["text"], "blocks": []}


register_message_renderer("update-test", _render_current)


@dataclass
class Outbox:
    """One database, a FakeClock at the real now, a dispatcher and a workspace of its own."""

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

    def add(
        self,
        post_key: str,
        message: dict[str, Any],
        *,
        to: Target,
        method: str = "chat.postMessage",
    ) -> None:
        with UnitOfWork(self.session_factory, clock=self.clock) as uow:
            uow.outbox.add(
                team_id=self.team,
                post_key=post_key,
                kind="update-test",
                to=to,
                message=message,
                method=method,
            )

    def update(self, post_key: str, message: dict[str, Any]) -> str:
        key = f"{post_key}:update"
        self.add(key, message, to=to_sent_post(post_key), method="chat.update")
        return key

    def row(self, post_key: str) -> OutboxMessage:
        with self.session_factory() as session:
            row = outbox_queries.get(session=session, team_id=self.team, post_key=post_key)
            assert row is not None
            return row

    def set(self, key: str, **values: object) -> None:
        with self.session_factory() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.team_id == self.team, OutboxMessage.post_key == key)  # type: ignore[arg-type]
                .values(**values)
            )
            session.commit()

    def updates(self) -> list[dict[str, Any]]:
        return [
            c.params
            for c in self.standin.calls_to("chat.update", ok_only=False)
            if c.token == f"xoxb-{self.team}-test"
        ]


@pytest.fixture
def outbox(database_url: str, standin: SlackStandIn) -> Iterator[Outbox]:
    upgrade(database_url)
    box = Outbox(database_url, standin, FakeClock(utc_now()))
    standin.add_team(box.team, f"Team {box.team}")
    yield box
    box.engine.dispose()


def _post_now(outbox: Outbox, key: str) -> str:
    outbox.add(key, {"text": f"first {key}"}, to=to_channel("C0WINS"))
    outbox.dispatcher().run_once(outbox.clock())
    row = outbox.row(key)
    assert row.state == "sent" and row.sent_ts
    return row.sent_ts


def test_a_sent_post_is_updated_where_it_was_sent_and_rendered_when_it_goes(
    outbox: Outbox,
) -> None:
    ts = _post_now(outbox, "k-sent")
    CURRENT["text"] = "as queued"
    key = outbox.update("k-sent", {"renderer": "update-test"})
    CURRENT["text"] = "as it is now"  # a second correction landed before the update went
    outbox.dispatcher().run_once(outbox.clock())
    (params,) = outbox.updates()
    assert (params["channel"], params["ts"], params["text"]) == ("C0WINS", ts, "as it is now")
    assert params["blocks"] == []  # sent whole: no block of the old message survives
    held = outbox.standin.message_at("C0WINS", ts)
    assert held is not None and held["text"] == "as it is now"
    assert outbox.row(key).state == "sent"
    outbox.dispatcher().run_once(outbox.clock() + timedelta(minutes=5))
    assert len(outbox.updates()) == 1  # once


def test_an_update_waits_for_a_post_not_sent_yet_and_never_calls_it_off(outbox: Outbox) -> None:
    outbox.add("k-later", {"text": "original"}, to=to_channel("C0WINS"))
    later = outbox.clock() + timedelta(minutes=10)
    outbox.set("k-later", not_before=later)  # refused for now: due again in ten minutes
    key = outbox.update("k-later", {"text": "corrected", "blocks": []})
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.updates() == []
    assert outbox.row("k-later").state == "pending"  # still to be sent, not called off
    waiting = outbox.row(key)
    assert (waiting.state, waiting.last_error) == ("pending", "post not sent yet")
    assert waiting.not_before >= later and waiting.attempts == 0

    outbox.dispatcher().run_once(later + timedelta(seconds=1))
    ts = outbox.row("k-later").sent_ts
    assert ts is not None
    outbox.dispatcher().run_once(later + timedelta(minutes=1))
    assert [(p["ts"], p["text"]) for p in outbox.updates()] == [(ts, "corrected")]


def test_an_update_of_a_post_that_never_went_out_fails_quietly(outbox: Outbox) -> None:
    outbox.add("k-failed", {"text": "never"}, to=to_channel("C0WINS"))
    outbox.set("k-failed", state="failed", last_error="channel_not_found")
    key = outbox.update("k-failed", {"text": "corrected", "blocks": []})
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.updates() == []
    assert (outbox.row(key).state, outbox.row(key).last_error) == ("failed", "nothing_to_update")


def test_slacks_refusals_to_update_are_final(outbox: Outbox) -> None:
    # Deleted meanwhile: "No message exists with the requested timestamp".
    ts = _post_now(outbox, "k-gone")
    WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url).chat_delete(
        channel="C0WINS", ts=ts
    )
    key = outbox.update("k-gone", {"text": "corrected", "blocks": []})
    outbox.dispatcher().run_once(outbox.clock())
    assert (outbox.row(key).state, outbox.row(key).last_error) == ("failed", "message_not_found")

    # Not the bot's message: "Bot users may also update the messages they post" — only those.
    theirs = outbox.standin.add_message_by_someone_else("C0WINS", "a person's words")
    outbox.add("k-theirs", {"text": "x"}, to=to_channel("C0WINS"))
    outbox.set("k-theirs", state="sent", sent_channel="C0WINS", sent_ts=theirs)
    key = outbox.update("k-theirs", {"text": "corrected", "blocks": []})
    outbox.dispatcher().run_once(outbox.clock())
    assert (outbox.row(key).state, outbox.row(key).last_error) == ("failed", "cant_update_message")
    held = outbox.standin.message_at("C0WINS", theirs)
    assert held is not None and held["text"] == "a person's words"
    outbox.dispatcher().run_once(outbox.clock() + timedelta(hours=2))
    assert len(outbox.updates()) == 2  # neither tried again
