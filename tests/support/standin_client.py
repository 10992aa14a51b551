"""What the stand-in's own tests share (tests/integration/test_standin*.py): a small stand-in
of their own (the `standin` fixture, in place of conftest's module-wide one), a WebClient for
it, and blocks to send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from testkit.standin import SlackStandIn, StandInUser

BOT_TOKEN = "xoxb-standin"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn()
    server.add_user(
        StandInUser(
            id="U0ALICE",
            name="alice",
            real_name="Alice Rep",
            tz="America/Los_Angeles",
        )
    )
    server.add_user(
        StandInUser(id="U0BOSS", name="boss", real_name="Bo Boss", is_admin=True, is_owner=True)
    )
    server.add_channel("C0WINS", "wins")
    with server:
        yield server


def client_for(standin: SlackStandIn, **kwargs: Any) -> WebClient:
    kwargs.setdefault("token", BOT_TOKEN)
    return WebClient(base_url=standin.url, **kwargs)


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def modal(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("hello")],
        **extra,
    }
