"""Updating a post through the outbox (issue 12: a rep corrected or removed an outcome): a
chat.update row whose target is another row's post ("sent_post") goes to the channel and ts that
row was sent with, once it is in Slack — a post not sent yet is waited for, never called off —
and a message made at send time is rendered then. Slack's refusals are read as chat.update
documents them (https://docs.slack.dev/reference/methods/chat.update). SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.uow import to_channel
from bot.uploads import register_message_renderer
from tests.support.outbox import Outbox, outbox_fixture

__all__ = ["outbox"]  # the fixture (tests/support/outbox.py)

# What the renderer below makes: read when the row is sent, not when it was queued.
CURRENT = {"text": "as queued"}


def _render_current(
    session: Session, team_id: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    return {"text": CURRENT["text"], "blocks": []}


register_message_renderer("update-test", _render_current)


outbox = outbox_fixture("update-test")


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
    (params,) = outbox.calls("chat.update")
    assert (params["channel"], params["ts"], params["text"]) == ("C0WINS", ts, "as it is now")
    assert params["blocks"] == []  # sent whole: no block of the old message survives
    held = outbox.standin.message_at("C0WINS", ts)
    assert held is not None and held["text"] == "as it is now"
    assert outbox.row(key).state == "sent"
    outbox.dispatcher().run_once(outbox.clock() + timedelta(minutes=5))
    assert len(outbox.calls("chat.update")) == 1  # once


def test_an_update_waits_for_a_post_not_sent_yet_and_never_calls_it_off(outbox: Outbox) -> None:
    outbox.add("k-later", {"text": "original"}, to=to_channel("C0WINS"))
    later = outbox.clock() + timedelta(minutes=10)
    outbox.set("k-later", not_before=later)  # refused for now: due again in ten minutes
    key = outbox.update("k-later", {"text": "corrected", "blocks": []})
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.calls("chat.update") == []
    assert outbox.row("k-later").state == "pending"  # still to be sent, not called off
    waiting = outbox.row(key)
    assert (waiting.state, waiting.last_error) == ("pending", "post not sent yet")
    assert waiting.not_before >= later and waiting.attempts == 0

    outbox.dispatcher().run_once(later + timedelta(seconds=1))
    ts = outbox.row("k-later").sent_ts
    assert ts is not None
    outbox.dispatcher().run_once(later + timedelta(minutes=1))
    assert [(p["ts"], p["text"]) for p in outbox.calls("chat.update")] == [(ts, "corrected")]


def test_an_update_of_a_post_that_never_went_out_fails_quietly(outbox: Outbox) -> None:
    outbox.add("k-failed", {"text": "never"}, to=to_channel("C0WINS"))
    outbox.set("k-failed", state="failed", last_error="channel_not_found")
    key = outbox.update("k-failed", {"text": "corrected", "blocks": []})
    outbox.dispatcher().run_once(outbox.clock())
    assert outbox.calls("chat.update") == []
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
    assert len(outbox.calls("chat.update")) == 2  # neither tried again
