"""What the data-rights tests over HTTP share (tests/e2e/test_privacy*_http.py): the database
of the module's live app (the `db` fixture), new teams and people, and what Slack was sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from storage.db import make_engine
from testkit.live import LiveApp
from testkit.standin import RecordedCall, SlackStandIn, StandInUser

ADMIN = "U0ADMIN"


# --- seeding -----------------------------------------------------------------------------------


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def db(live: LiveApp) -> Iterator[Session]:
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def new_team() -> str:
    return "T" + uuid.uuid4().hex[:9].upper()


def new_user(standin: SlackStandIn) -> str:
    user_id = "U" + uuid.uuid4().hex[:9].upper()
    standin.add_user(StandInUser(id=user_id, name=user_id.lower(), real_name=f"Rep {user_id}"))
    return user_id


def _ephemerals_to(calls: list[RecordedCall], user_id: str) -> list[RecordedCall]:
    return [c for c in calls if c.method == "chat.postEphemeral" and c.params["user"] == user_id]
