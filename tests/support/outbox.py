"""The outbox tests' harness (tests/integration/test_outbox*.py): a database, a FakeClock at the
real now and a dispatcher factory (`Outbox`, the `outbox` fixture), the outbox-test kind's
hooks (recorded in HOOKED), and what Slack was sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from slack_sdk import WebClient
from sqlmodel import Session

from bot.clock import FakeClock, utc_now
from bot.dispatcher import (
    Dispatcher,
    register_hooks,
)
from bot.uow import UnitOfWork, to_channel
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
