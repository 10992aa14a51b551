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


def _shares_of(standin: SlackStandIn, marker: str) -> list[Any]:
    """The shares Slack made of this upload (whatever the client was told)."""
    return [
        c
        for c in standin.calls_to("files.completeUploadExternal")
        if marker in str(c.params.get("initial_comment"))
    ]


def _row(session_factory: SessionFactory, team: str, key: str) -> Any:
    with session_factory() as session:
        row = outbox_queries.get(session=session, team_id=team, post_key=key)
        assert row is not None
        return row


def test_a_share_slack_made_but_answered_502_is_found_with_files_info_not_shown_twice(
    world: tuple[SessionFactory, Dispatcher, FakeClock, str, str], standin: SlackStandIn
) -> None:
    """files.completeUploadExternal answered 502 after sharing: the row is unknown, and
    files.info on the attempt's file (its `shares`) says it is in the DM: marked sent, never
    uploaded again."""
    session_factory, dispatcher, clock, team, user = world
    marker = uuid.uuid4().hex
    key = _queue(session_factory, clock, team, user, **upload_payload("test.upload", marker=marker))
    standin.accept_then_fail("files.completeUploadExternal", status=502)
    dispatcher.run_once(clock())
    row = _row(session_factory, team, key)
    assert row.state == "unknown" and row.attempt_files
    [share] = _shares_of(standin, marker)
    file_id = share.params["files"][0]["id"]
    assert row.attempt_files == file_id
    seen = len(standin.calls)
    clock.advance(minutes=1)
    dispatcher.run_once(clock())
    dispatcher.run_once(clock())
    assert len(_shares_of(standin, marker)) == 1  # shown once
    row = _row(session_factory, team, key)
    assert (row.state, row.sent_channel) == ("sent", "D" + user[1:])
    assert [(c.method, c.params.get("file")) for c in standin.calls[seen:]] == [
        ("files.info", file_id)
    ]


def test_a_share_that_failed_before_slack_acted_is_looked_for_then_uploaded_again(
    world: tuple[SessionFactory, Dispatcher, FakeClock, str, str], standin: SlackStandIn
) -> None:
    """A 503 that Slack answered without sharing: files.info finds the file shared nowhere,
    so the upload goes again (new files) and is shown once."""
    session_factory, dispatcher, clock, team, user = world
    marker = uuid.uuid4().hex
    key = _queue(session_factory, clock, team, user, **upload_payload("test.upload", marker=marker))
    standin.fail_next("files.completeUploadExternal", status=503)
    dispatcher.run_once(clock())
    assert _row(session_factory, team, key).state == "unknown"
    clock.advance(minutes=1)
    dispatcher.run_once(clock())
    dispatcher.run_once(clock())
    shares = [c for c in _shares_of(standin, marker) if c.ok]
    assert len(shares) == 1
    row = _row(session_factory, team, key)
    assert row.state == "sent"
    first, second = str(row.attempt_files).split(",")
    assert first != second and shares[0].params["files"][0]["id"] == second


def test_an_upload_step_that_fails_before_the_share_is_retried_not_looked_for(
    world: tuple[SessionFactory, Dispatcher, FakeClock, str, str], standin: SlackStandIn
) -> None:
    """Nothing is shown before files.completeUploadExternal: a 5xx of the upload URL step
    (after its own retries) is a plain failure, tried again after a backoff."""
    session_factory, dispatcher, clock, team, user = world
    marker = uuid.uuid4().hex
    key = _queue(session_factory, clock, team, user, **upload_payload("test.upload", marker=marker))
    standin.fail_next("files.getUploadURLExternal", status=503, times=3)
    dispatcher.run_once(clock())
    row = _row(session_factory, team, key)
    assert (row.state, row.last_error, row.attempt_files) == ("pending", "http_503", None)
    clock.advance(minutes=5)
    dispatcher.run_once(clock())
    assert len(_shares_of(standin, marker)) == 1
    assert _row(session_factory, team, key).state == "sent"
