"""The outbox's reconciliation against the Slack stand-in, on SQLite and PostgreSQL: reading
conversations.history for unknown rows stays under its limit (one read a minute per
workspace, shared by every process) without holding up anyone else's sends."""

from __future__ import annotations

import uuid

from slack_sdk import WebClient

from bot.uow import to_user
from testkit.standin import RecordedCall
from tests.support.outbox import Outbox, _marker, _posted, history_read_once_a_minute, outbox

__all__ = ["outbox"]  # the fixtures (tests/support/outbox.py)


# --- reconciliation under conversations.history's limit ------------------------------------------


def test_reconciling_stays_under_the_history_limit_and_never_holds_up_other_sends(
    outbox: Outbox,
) -> None:
    other = f"T{uuid.uuid4().hex[:8].upper()}"
    outbox.standin.add_team(other, "Other team")
    standin = outbox.standin
    with history_read_once_a_minute(outbox):
        markers = {user: _marker() for user in ("U0REP1", "U0REP2", "U0MGR")}
        for user, marker in markers.items():
            outbox.add(f"k-unknown-{user}", marker, to=to_user(user))
        dispatcher = outbox.dispatcher()
        standin.accept_then_fail("chat.postMessage", status=502, times=3)
        dispatcher.run_once(outbox.clock())
        assert {outbox.row(f"k-unknown-{u}").state for u in markers} == {"unknown"}

        seen = len(standin.calls)
        outbox.clock.advance(minutes=1)
        other_marker = _marker()
        outbox.add("k-other", other_marker, team=other)
        dispatcher.run_once(outbox.clock())
        histories = [c for c in standin.calls[seen:] if c.method == "conversations.history"]
        assert len(histories) == 1 and all(c.ok for c in histories)
        # The other workspace's post went out in the same run.
        assert len(_posted(standin, other_marker)) == 1
        settled = [u for u in markers if outbox.row(f"k-unknown-{u}").state == "sent"]
        assert len(settled) == 1

        for _ in range(3):
            outbox.clock.advance(minutes=1)
            dispatcher.run_once(outbox.clock())
        histories = [c for c in standin.calls[seen:] if c.method == "conversations.history"]
        assert len(histories) == 3 and all(c.ok for c in histories)
        assert {outbox.row(f"k-unknown-{u}").state for u in markers} == {"sent"}
        for marker in markers.values():
            assert len(_posted(standin, marker)) == 1


def test_a_history_search_goes_on_from_its_page_in_whichever_process_reads_next(
    outbox: Outbox,
) -> None:
    """A page of history holds 15 messages for apps outside the Marketplace; a post buried
    under 16 newer ones is on the second page. The cursor lives on the row, so the process
    that takes the next minute's slot reads page two instead of starting over."""
    marker = _marker()
    outbox.add("k-buried", marker)
    first, second = (outbox.dispatcher(worker=f"process-{n}") for n in (1, 2))
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    first.run_once(outbox.clock())
    assert outbox.row("k-buried").state == "unknown"
    others = WebClient(token=f"xoxb-{outbox.team}-test", base_url=outbox.standin.url, timeout=5)
    for n in range(16):
        others.chat_postMessage(channel="C0WINS", text=f"{marker} newer {n}")
    seen = len(outbox.standin.calls)
    outbox.clock.advance(minutes=1)
    first.reconcile_due(outbox.clock())
    assert outbox.row("k-buried").state == "unknown"  # not on the first page
    assert outbox.row("k-buried").history_cursor
    outbox.clock.advance(minutes=1)
    second.reconcile_due(outbox.clock())
    [post] = _posted(outbox.standin, marker)
    row = outbox.row("k-buried")
    assert (row.state, row.sent_ts) == ("sent", post.response["ts"])
    reads = [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"]
    assert [bool(c.params.get("cursor")) for c in reads] == [False, True]


def test_processes_share_one_history_read_a_minute_per_workspace(outbox: Outbox) -> None:
    """Slack allows apps outside the Marketplace 1 conversations.history request a minute per
    workspace (https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps),
    whichever process makes it: three dispatchers reconciling at once take one slot between
    them, kept in the database."""
    standin = outbox.standin
    with history_read_once_a_minute(outbox):
        markers = {user: _marker() for user in ("U0REP1", "U0REP2", "U0MGR")}
        for user, marker in markers.items():
            outbox.add(f"k-shared-{user}", marker, to=to_user(user))
        # One row per claim, so each process holds a row of its own to look for.
        dispatchers = [outbox.dispatcher(worker=f"process-{n}", batch=1) for n in range(3)]
        standin.accept_then_fail("chat.postMessage", status=502, times=3)
        dispatchers[0].run_once(outbox.clock())
        assert {outbox.row(f"k-shared-{u}").state for u in markers} == {"unknown"}

        seen = len(standin.calls)
        for minute in range(1, 4):
            outbox.clock.advance(minutes=1)
            for dispatcher in dispatchers:
                dispatcher.reconcile_due(outbox.clock())
            histories = [c for c in standin.calls[seen:] if c.method == "conversations.history"]
            assert len(histories) == minute and all(c.ok for c in histories)
        assert {outbox.row(f"k-shared-{u}").state for u in markers} == {"sent"}
        for marker in markers.values():
            assert len(_posted(standin, marker)) == 1


def test_a_history_429_holds_the_workspaces_slot_until_the_apps_clock_passes_it(
    outbox: Outbox,
) -> None:
    """A 429's Retry-After on conversations.history holds the workspace's slot (api_slots) on
    the process's own clock, the one the slot is taken and compared on: here an hour behind the
    wall clock, so a hold reckoned from the wall clock would keep the row waiting an hour."""
    outbox.clock.advance(hours=-1)  # behind: Slack's real message ts stay after `oldest`
    marker = _marker()
    outbox.add("k-held", marker)
    dispatcher = outbox.dispatcher()
    outbox.standin.accept_then_fail("chat.postMessage", status=502)
    dispatcher.run_once(outbox.clock())
    assert outbox.row("k-held").state == "unknown"

    seen = len(outbox.standin.calls)
    outbox.clock.advance(minutes=1)
    outbox.standin.fail_next("conversations.history", status=429, retry_after=120)
    dispatcher.run_once(outbox.clock())

    def reads() -> list[RecordedCall]:
        return [c for c in outbox.standin.calls[seen:] if c.method == "conversations.history"]

    assert [c.ok for c in reads()] == [False]
    outbox.clock.advance(seconds=119)
    dispatcher.run_once(outbox.clock())
    assert len(reads()) == 1 and outbox.row("k-held").state == "unknown"  # still held
    outbox.clock.advance(seconds=1)
    dispatcher.run_once(outbox.clock())
    assert [c.ok for c in reads()] == [False, True]
    assert outbox.row("k-held").state == "sent"
    assert len(_posted(outbox.standin, marker)) == 1
