"""Uploads through the outbox (bot.uploads), on SQLite and PostgreSQL against the stand-in: the
file is made when the row is sent, uploaded once to the person's DM, and a row nobody can draw
fails without a call to Slack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlmodel import Session

from bot.clock import FakeClock, utc_now
from bot.dispatcher import Dispatcher
from bot.uow import UnitOfWork, to_user
from bot.uploads import UPLOAD_METHOD, Upload, UploadFile, register_renderer, upload_payload
from storage import outbox_queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from testkit.standin import SlackStandIn, StandInUser

RENDERED: list[str] = []


def _render(session: Session, team_id: str, params: Mapping[str, Any], now: datetime) -> Upload:
    RENDERED.append(params["marker"])
    return Upload(
        files=[UploadFile(content=params["marker"].encode(), filename="a.txt", title="A file")],
        initial_comment=f"Here it is: {params['marker']}",
    )


register_renderer("test.upload", _render)


@pytest.fixture
def world(
    database_url: str, standin: SlackStandIn
) -> Iterator[tuple[SessionFactory, Dispatcher, FakeClock, str, str]]:
    upgrade(database_url)
    engine = make_engine(database_url)
    session_factory = make_session_factory(engine)
    clock = FakeClock(utc_now())
    team = f"T{uuid.uuid4().hex[:8].upper()}"
    user = "U" + uuid.uuid4().hex[:9].upper()
    standin.add_team(team, f"Team {team}")
    standin.add_user(StandInUser(id=user, name=user.lower(), real_name="Rep"))
    client = WebClient(token=standin.bot_token, base_url=standin.url, timeout=5)
    dispatcher = Dispatcher(
        session_factory, client, clock, token_for_team=lambda team_id: f"xoxb-{team_id}-test"
    )
    yield session_factory, dispatcher, clock, team, user
    engine.dispose()


def _queue(
    session_factory: SessionFactory, clock: FakeClock, team: str, user: str, **params: Any
) -> str:
    key = f"upload-{uuid.uuid4().hex[:8]}"
    with UnitOfWork(session_factory, clock=clock) as uow:
        uow.outbox.add(
            team_id=team,
            post_key=key,
            kind="upload-test",
            to=to_user(user),
            method=UPLOAD_METHOD,
            message=params,
        )
    return key


def test_an_upload_is_drawn_when_sent_and_shared_once_in_the_dm(
    world: tuple[SessionFactory, Dispatcher, FakeClock, str, str], standin: SlackStandIn
) -> None:
    session_factory, dispatcher, clock, team, user = world
    marker = uuid.uuid4().hex
    key = _queue(session_factory, clock, team, user, **upload_payload("test.upload", marker=marker))
    assert marker not in RENDERED  # nothing is made while it waits
    dispatcher.run_once(clock())
    dispatcher.run_once(clock())
    shares = [
        c
        for c in standin.calls_to("files.completeUploadExternal")
        if marker in str(c.params.get("initial_comment"))
    ]
    assert len(shares) == 1
    assert RENDERED.count(marker) == 1
    assert shares[0].params["channel_id"] == "D" + user[1:]
    assert standin.uploaded_file(shares[0].params["files"][0]["id"]) == marker.encode()
    with session_factory() as session:
        row = outbox_queries.get(session=session, team_id=team, post_key=key)
        assert row is not None and row.state == "sent"


def test_an_upload_nobody_can_draw_fails_without_calling_slack(
    world: tuple[SessionFactory, Dispatcher, FakeClock, str, str], standin: SlackStandIn
) -> None:
    session_factory, dispatcher, clock, team, user = world
    seen = len(standin.calls)
    key = _queue(session_factory, clock, team, user, **upload_payload("no.such.renderer"))
    dispatcher.run_once(clock())
    assert not any(c.method.startswith("files.") for c in standin.calls[seen:])
    with session_factory() as session:
        row = outbox_queries.get(session=session, team_id=team, post_key=key)
        assert row is not None and row.state == "failed"
        assert row.last_error == "no_renderer:no.such.renderer"
