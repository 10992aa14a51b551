"""Exactly-once posting and the scheduler tick, on SQLite and PostgreSQL, against the stand-in."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError

from bot.app import make_web_client
from bot.clock import FakeClock
from bot.config import Settings
from bot.delivery import Delivery
from bot.scheduler import Ticker
from storage import queries
from storage.db import make_engine, make_session_factory, upgrade
from testkit.standin import SlackStandIn

START = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
MESSAGE = {
    "text": "Bounced back!",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}


RUN = ""


@pytest.fixture(autouse=True)
def _unique_run_marker() -> None:
    # The stand-in is shared by the module (both backends): tell this test's messages apart.
    global RUN
    RUN = uuid.uuid4().hex[:8]


@pytest.fixture
def delivery_parts(database_url: str, standin: SlackStandIn):  # type: ignore[no-untyped-def]
    upgrade(database_url)
    engine = make_engine(database_url)
    settings = Settings(slack_bot_token=standin.bot_token, slack_api_url=standin.url)
    yield make_session_factory(engine), (lambda: make_web_client(settings)), FakeClock(START)
    engine.dispose()


def _posts(standin: SlackStandIn, key_text: str) -> int:
    return len(
        [c for c in standin.calls_to("chat.postMessage") if c.params.get("text") == key_text]
    )


def test_the_same_key_is_posted_once(delivery_parts, standin: SlackStandIn) -> None:  # type: ignore[no-untyped-def]
    session_factory, client, clock = delivery_parts
    delivery = Delivery(session_factory, client(), clock)
    message = {**MESSAGE, "text": f"once-1-{RUN}"}
    first = delivery.post(
        team_id="T1", post_key="k1", kind="test", channel="C0WINS", message=message
    )
    second = delivery.post(
        team_id="T1", post_key="k1", kind="test", channel="C0WINS", message=message
    )
    assert first is not None and first.channel == "C0WINS"
    assert second is None
    assert _posts(standin, f"once-1-{RUN}") == 1
    # Another workspace with the same key is a different post.
    assert (
        delivery.post(team_id="T2", post_key="k1", kind="test", channel="C0WINS", message=message)
        is not None
    )


def test_concurrent_senders_post_once(delivery_parts, standin: SlackStandIn) -> None:  # type: ignore[no-untyped-def]
    session_factory, client, clock = delivery_parts
    barrier = threading.Barrier(8)
    results: list[object] = []

    def send(worker: int) -> None:
        delivery = Delivery(session_factory, client(), clock, worker=f"w{worker}")
        barrier.wait()
        results.append(
            delivery.dm(
                team_id="T1",
                post_key="race",
                kind="test",
                user_id="U0REP1",
                message={**MESSAGE, "text": f"race-1-{RUN}"},
            )
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len([r for r in results if r is not None]) == 1
    assert _posts(standin, f"race-1-{RUN}") == 1


def test_a_failed_send_is_released_and_retried_later(delivery_parts, standin: SlackStandIn) -> None:  # type: ignore[no-untyped-def]
    session_factory, client, clock = delivery_parts
    delivery = Delivery(session_factory, client(), clock)
    # One try: a 5xx'd chat.postMessage is never re-sent by the client (Slack may have posted
    # it; bot.app.IdempotentServerErrorRetryHandler), so one 500 fails the call.
    standin.fail_next("chat.postMessage", status=500, times=1)
    with pytest.raises(SlackApiError):
        delivery.post(
            team_id="T1",
            post_key="flaky",
            kind="test",
            channel="C0WINS",
            message={**MESSAGE, "text": f"flaky-1-{RUN}"},
        )
    sent = delivery.post(
        team_id="T1",
        post_key="flaky",
        kind="test",
        channel="C0WINS",
        message={**MESSAGE, "text": f"flaky-1-{RUN}"},
    )
    assert sent is not None
    assert _posts(standin, f"flaky-1-{RUN}") == 1


def test_a_claim_left_by_a_dead_process_is_taken_over_after_its_lease(
    delivery_parts,
    standin: SlackStandIn,  # type: ignore[no-untyped-def]
) -> None:
    session_factory, client, clock = delivery_parts
    with session_factory() as session:
        claim = queries.claim_post(
            session=session,
            team_id="T1",
            post_key="orphan",
            kind="test",
            claimed_by="dead",
            now=clock(),
        )
        session.commit()
    assert claim is not None
    delivery = Delivery(session_factory, client(), clock, lease=timedelta(minutes=5))
    message = {**MESSAGE, "text": f"orphan-1-{RUN}"}
    clock.advance(minutes=1)
    assert (
        delivery.post(
            team_id="T1", post_key="orphan", kind="test", channel="C0WINS", message=message
        )
        is None
    )
    clock.advance(minutes=5)
    assert (
        delivery.post(
            team_id="T1", post_key="orphan", kind="test", channel="C0WINS", message=message
        )
        is not None
    )
    assert (
        delivery.post(
            team_id="T1", post_key="orphan", kind="test", channel="C0WINS", message=message
        )
        is None
    )
    assert _posts(standin, f"orphan-1-{RUN}") == 1


def test_ticker_runs_every_job_with_the_clocks_now_even_when_one_fails() -> None:
    clock = FakeClock(START)
    seen: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("boom")

    ticker = Ticker(jobs=[("broken", broken), ("records", seen.append)], clock=clock)
    ticker.tick()
    clock.advance(hours=1)
    ticker.tick()
    assert seen == [START, START + timedelta(hours=1)]
    assert [name for name, _ in ticker.failures] == ["broken", "broken"]


def test_a_sender_whose_claim_was_taken_over_cannot_release_the_new_claim(
    delivery_parts,  # type: ignore[no-untyped-def]
) -> None:
    session_factory, _client, clock = delivery_parts
    with session_factory() as session:
        first = queries.claim_post(
            session=session,
            team_id="T1",
            post_key="taken",
            kind="test",
            claimed_by="a",
            now=clock(),
        )
        session.commit()
    assert first is not None
    clock.advance(minutes=6)
    with session_factory() as session:
        second = queries.claim_post(
            session=session,
            team_id="T1",
            post_key="taken",
            kind="test",
            claimed_by="b",
            now=clock(),
            lease=timedelta(minutes=5),
        )
        session.commit()
    assert second is not None and second.claimed_by == "b"
    with session_factory() as session:  # "a" finally fails and tries to release its claim
        queries.release_post(session=session, post=first)
        session.commit()
    with session_factory() as session:
        post = queries.get_post(session=session, team_id="T1", post_key="taken")
        assert post is not None and post.claimed_by == "b"
