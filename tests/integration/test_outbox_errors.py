"""The outbox's dispatcher against the Slack stand-in, on SQLite and PostgreSQL, when Slack says
no or the row can't be sent: 429s wait without counting; permanent errors give up, transient
ones back off; a workspace without a token or a recognition channel gets nothing yet; a bug
before the request is a failure to send, never an unknown; a message's own metadata keeps
the post key."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import Session

from bot.dispatcher import (
    MAX_ATTEMPTS,
    METADATA_EVENT_TYPE,
    Dispatcher,
    MetadataRefused,
    with_post_key,
)
from bot.uow import UnitOfWork, to_channel, to_recognition_channel
from bot.uploads import register_message_renderer
from storage import queries
from tests.support.outbox import HOOKED, Outbox, _marker, _posted, outbox

__all__ = ["outbox"]  # the fixtures (tests/support/outbox.py)


# --- Slack says no, or not now -------------------------------------------------------------------


def test_retry_after_is_honoured_and_not_counted_as_an_attempt(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-429", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", status=429, retry_after=30)
    dispatcher.run_once(outbox.clock())
    row = outbox.row("k-429")
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.not_before == outbox.clock() + timedelta(seconds=30)
    outbox.clock.advance(seconds=29)
    dispatcher.run_once(outbox.clock())
    assert _posted(outbox.standin, marker) == []
    outbox.clock.advance(seconds=1)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-429").attempts == 1


def test_a_permanent_error_fails_the_row_and_a_transient_one_backs_off(outbox: Outbox) -> None:
    outbox.add("k-gone", "to a channel that doesn't exist", to=to_channel("C0NOSUCH"))
    marker = _marker()
    outbox.add("k-flaky", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", error="channel_not_found")
    outbox.standin.fail_next("chat.postMessage", error="internal_error")
    dispatcher.run_once(outbox.clock())
    gone = outbox.row("k-gone")
    assert (gone.state, gone.last_error) == ("failed", "channel_not_found")
    assert ("failed", "k-gone", "channel_not_found") in HOOKED
    flaky = outbox.row("k-flaky")
    assert (flaky.state, flaky.attempts, flaky.last_error) == ("pending", 1, "internal_error")
    assert flaky.not_before == outbox.clock() + timedelta(seconds=30)

    outbox.clock.advance(seconds=30)
    dispatcher.run_once(outbox.clock())
    assert len(_posted(outbox.standin, marker)) == 1
    assert outbox.row("k-gone").state == "failed"


def test_a_workspace_without_a_bot_token_is_sent_nothing(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-uninstalled", marker)
    client = WebClient(base_url=outbox.standin.url, timeout=5)
    dispatcher = Dispatcher(
        outbox.session_factory, client, outbox.clock, token_for_team=lambda team_id: None
    )
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-uninstalled").state == "failed"
    assert _posted(outbox.standin, marker) == []


def test_a_recognition_channel_row_waits_until_a_channel_is_set(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-wins", marker, to=to_recognition_channel())
    dispatcher = outbox.dispatcher()
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-wins").state == "pending"
    assert outbox.row("k-wins").attempts == 0
    outbox.clock.advance(minutes=30)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-wins").state == "pending"  # looked at again in an hour
    with UnitOfWork(outbox.session_factory, clock=outbox.clock) as uow:
        queries.update_workspace_settings(
            session=uow.session, team_id=outbox.team, recognition_channel_id="C0WINS"
        )
    dispatcher.run_once(outbox.clock())  # saving the channel woke the row
    [post] = _posted(outbox.standin, marker)
    assert post.conversation == "C0WINS"
    assert outbox.row("k-wins").state == "sent"


def _raise_type_error(
    session: Session, team_id: str, payload: dict[str, object], now: datetime
) -> dict[str, object]:
    raise TypeError("a bug in rendering")


register_message_renderer("outbox-test-broken-renderer", _raise_type_error)


def test_a_bug_before_the_request_backs_off_and_is_given_up_on_not_looked_for(
    outbox: Outbox,
) -> None:
    outbox.add("k-bug", {"renderer": "outbox-test-broken-renderer"})
    dispatcher = outbox.dispatcher()
    seen = len(outbox.standin.calls)
    dispatcher.run_once(outbox.clock())
    row = outbox.row("k-bug")
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "TypeError")
    assert row.not_before == outbox.clock() + timedelta(seconds=30)
    for _ in range(MAX_ATTEMPTS + 5):
        outbox.clock.advance(hours=2)
        dispatcher.run_once(outbox.clock())
    row = outbox.row("k-bug")
    assert (row.state, row.attempts, row.last_error) == (
        "failed",
        MAX_ATTEMPTS,
        "gave_up:TypeError",
    )
    assert ("failed", "k-bug", "gave_up:TypeError") in HOOKED
    # Nothing ever left, so nothing was looked for.
    assert [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"] == []


def _return_unencodable(
    session: Session, team_id: str, payload: dict[str, object], now: datetime
) -> dict[str, object]:
    return {"text": "made at", "blocks": [{"type": "section", "at": now}]}  # a datetime


register_message_renderer("outbox-test-unencodable-renderer", _return_unencodable)


def test_a_body_that_will_not_encode_is_a_failure_before_the_request_not_an_unknown(
    outbox: Outbox,
) -> None:
    """slack-sdk encodes the body itself; the dispatcher checks it first, so that anything
    raised inside slack-sdk can be taken as "may have reached Slack" (and looked for)."""
    outbox.add("k-unencodable", {"renderer": "outbox-test-unencodable-renderer"})
    seen = len(outbox.standin.calls)
    outbox.dispatcher().run_once(outbox.clock())
    row = outbox.row("k-unencodable")
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "TypeError")
    assert [c.method for c in outbox.standin.calls[seen:]] == []


def test_an_unknown_outcome_counts_as_an_attempt_and_is_given_up_on(outbox: Outbox) -> None:
    marker = _marker()
    outbox.add("k-always-503", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.fail_next("chat.postMessage", status=503, times=MAX_ATTEMPTS)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-always-503").state == "unknown"
    for _ in range(MAX_ATTEMPTS + 5):
        outbox.clock.advance(minutes=2)
        dispatcher.run_once(outbox.clock())
    row = outbox.row("k-always-503")
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error is not None and row.last_error.startswith("gave_up:")
    assert _posted(outbox.standin, marker) == []


# --- message metadata ----------------------------------------------------------------------------


def test_a_messages_own_metadata_keeps_the_post_key_or_is_refused(outbox: Outbox) -> None:
    """One message carries one metadata event (https://docs.slack.dev/messaging/
    message-metadata): a caller's payload joins the post key; another event type can't."""
    merged, other = _marker(), _marker()
    outbox.add(
        "k-own-metadata",
        {
            "text": merged,
            "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"n": 3}},
        },
    )
    outbox.add(
        "k-other-event",
        {"text": other, "metadata": {"event_type": "deal_won", "event_payload": {}}},
    )
    outbox.dispatcher().run_once(outbox.clock())
    [post] = _posted(outbox.standin, merged)
    assert post.params["metadata"] == {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"n": 3, "post_key": "k-own-metadata", "team_id": outbox.team},
    }
    assert _posted(outbox.standin, other) == []
    row = outbox.row("k-other-event")
    assert (row.state, row.last_error) == ("failed", "metadata_event_type:deal_won")
    with pytest.raises(MetadataRefused):
        with_post_key({"metadata": {"event_payload": {"post_key": "another"}}}, "k", "T1")
