"""The outbox tests' harness (tests/integration/test_outbox*.py): a database, a FakeClock at the
real now and a dispatcher factory (`Outbox`, the `outbox` fixture, or `outbox_fixture(kind)` for
a module whose rows are of a kind of its own), the outbox-test kind's hooks (recorded in
HOOKED), what Slack was sent, and conversations.history limited to a read a minute on the
test's clock (`history_read_once_a_minute`)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import Session

from bot.clock import FakeClock, utc_now
from bot.dispatcher import (
    Dispatcher,
    register_hooks,
)
from bot.uow import Target, UnitOfWork, to_channel, to_sent_post
from storage import outbox_queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage
from testkit.standin import RecordedCall, SlackStandIn

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
    dispatcher factory; `team` is a workspace of this test's own, `kind` the kind its rows are
    queued as."""

    url: str
    standin: SlackStandIn
    clock: FakeClock
    kind: str = "outbox-test"
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

    def add(
        self,
        post_key: str,
        message: str | dict[str, Any],
        *,
        to: Target | None = None,
        team: str | None = None,
        method: str = "chat.postMessage",
    ) -> None:
        """Queue a row; a str is the message's text."""
        with UnitOfWork(self.session_factory, clock=self.clock) as uow:
            uow.outbox.add(
                team_id=team or self.team,
                post_key=post_key,
                kind=self.kind,
                to=to or to_channel("C0WINS"),
                message={"text": message} if isinstance(message, str) else message,
                method=method,
            )

    def update(self, post_key: str, message: dict[str, Any]) -> str:
        """Queue a chat.update of the post `post_key` names; its key."""
        key = f"{post_key}:update"
        self.add(key, message, to=to_sent_post(post_key), method="chat.update")
        return key

    def row(self, post_key: str, team: str | None = None) -> OutboxMessage:
        with self.session_factory() as session:
            row = outbox_queries.get(session=session, team_id=team or self.team, post_key=post_key)
            assert row is not None
            return row

    def set(self, key: str, **values: object) -> None:
        """Put a row in a state the dispatcher alone would take long to reach."""
        with self.session_factory() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.team_id == self.team, OutboxMessage.post_key == key)  # type: ignore[arg-type]
                .values(**values)
            )
            session.commit()

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The params of every `method` call this workspace's token made, refused ones too."""
        return [
            c.params
            for c in self.standin.calls_to(method, ok_only=False)
            if c.token == f"xoxb-{self.team}-test"
        ]


@contextlib.contextmanager
def history_read_once_a_minute(outbox: Outbox) -> Iterator[None]:
    """Within it the stand-in's conversations.history allows 1 call a minute, reckoned on the
    test's clock; afterwards it is unlimited again and back on the real clock (the stand-in is
    shared by the module's tests)."""
    standin = outbox.standin
    start = outbox.clock()
    standin.monotonic = lambda: (outbox.clock() - start).total_seconds()
    standin.rate_limit("conversations.history", per_minute=1)
    try:
        yield
    finally:
        with standin._lock:
            standin._buckets.pop("conversations.history", None)
        standin.monotonic = time.monotonic


def outbox_fixture(kind: str = "outbox-test") -> Callable[..., Iterator[Outbox]]:
    """The `outbox` fixture for rows of `kind` (a module assigns it to the name `outbox`)."""

    @pytest.fixture
    def outbox(database_url: str, standin: SlackStandIn) -> Iterator[Outbox]:
        upgrade(database_url)
        box = Outbox(database_url, standin, FakeClock(utc_now()), kind)
        standin.add_team(box.team, f"Team {box.team}")
        yield box
        box.engine.dispose()

    return outbox


outbox = outbox_fixture()


def _posted(standin: SlackStandIn, text_: str) -> list[RecordedCall]:
    """Messages Slack has with this text (whatever the client was told)."""
    return [c for c in standin.calls_to("chat.postMessage") if c.params.get("text") == text_]


def _marker() -> str:
    return f"outbox-{uuid.uuid4().hex[:10]}"
