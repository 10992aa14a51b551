"""What the /kudos tests over HTTP share (tests/e2e/test_kudos*_http.py): the people, a
workspace and recognition channel of each test's own (the `team` fixture), the modal, and
what Slack was sent.

Each test works in a workspace (team id) and recognition channel of its own, so tests sharing the
module's server and database never see each other's kudos, settings or digests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.slack import SlackDriver, _text_of

ADMIN, MANAGER, REP1, REP2 = "U0ADMIN", "U0MGR", "U0REP1", "U0REP2"
MANAGER_TZ = "America/Chicago"  # Maya's Slack time zone in testkit/live.py
BOT = "U0REBOUNDBOT"
GONE = "U0GONE"


@pytest.fixture
def team(live: LiveApp, standin: SlackStandIn) -> Iterator[SlackDriver]:
    suffix = uuid.uuid4().hex[:10].upper()
    channel = f"CK{suffix}"
    standin.add_channel(channel, f"wins-{suffix.lower()}")
    if GONE not in standin.users:
        standin.add_user(
            StandInUser(id=GONE, name="gone", real_name="Gone Person", tz="UTC", deleted=True)
        )
    team = SlackDriver.for_app(live, standin, f"TK{suffix}", channel=channel, run=suffix.lower())
    yield team
    team.close()


def _ephemerals_after(standin: SlackStandIn, seen: int, user_id: str) -> list[RecordedCall]:
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "chat.postEphemeral" and c.params.get("user") == user_id
            for c in calls[seen:]
        ),
        timeout=10,
    )
    return [
        c for c in calls[seen:] if c.method == "chat.postEphemeral" and c.params["user"] == user_id
    ]


def _dms_to(standin: SlackStandIn, user_id: str, marker: str) -> list[RecordedCall]:
    return [c for c in standin.messages_to(user_id) if marker in _text_of(c)]


# -- the modal ---------------------------------------------------------------------------------


def _open_modal(team: SlackDriver, standin: SlackStandIn, user_id: str) -> dict[str, Any]:
    seen = len(standin.calls)
    team.kudos(user_id, "")
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    (opened,) = [c for c in calls[seen:] if c.method == "views.open"]
    return opened.response["view"]


def _modal_values(recipients: list[str], category: str | None, message: str) -> dict[str, Any]:
    return {
        "recipients": {"value": state_value("multi_users_select", recipients)},
        "category": {"value": state_value("static_select", category)},
        "message": {"value": state_value("plain_text_input", message)},
    }
