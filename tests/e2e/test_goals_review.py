"""Goals' end-of-cycle reviews (the scheduler, in-process, against the stand-in): each rep's DM
once, the manager's table and chart, an unreachable rep, retries; and /rebound report's
charts."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import IDEMPOTENT_METHODS, Deps, build_ticker
from bot.clock import FakeClock
from bot.config import Settings
from bot.jobs import goals as goals_jobs
from storage import queries
from storage.db import make_engine, make_session_factory
from storage.models import Goal
from testkit.live import LiveApp
from testkit.standin import SlackStandIn
from tests.support.factories import (
    TEAM,
    add_goal,
    add_outcome,
    live_session,
    new_user,
)

# --- the end-of-cycle review (scheduler, in-process) ----------------------------------------------


ReviewTicker = Callable[[datetime], tuple[Any, FakeClock]]


def _review_cycle_end(today: date) -> date:
    """The next 30 November whose reviews (1 December, UTC) are still ahead of `today`.

    The ticker runs on a FakeClock at those instants while the live app (which shares the
    database) stays on the test's clock. Ahead of it, never behind: a row the ticker queues is
    then not yet due for the live app's dispatcher, so only the ticker sends it (behind it, the
    live app, woken by any request, would race the ticker for the row). Winter in London, Los
    Angeles and Chicago, whatever the year: the hours below hold."""
    year = today.year if today < date(today.year, 11, 29) else today.year + 1
    return date(year, 11, 30)


REVIEW_CYCLE_END = _review_cycle_end(datetime.now(UTC).date())
REVIEW_YEAR = REVIEW_CYCLE_END.year
REVIEW_IN_CYCLE = datetime(REVIEW_YEAR, 11, 10, 12, tzinfo=UTC)


def review_day(hour: int, minute: int = 0) -> datetime:
    """An instant on 1 December after REVIEW_CYCLE_END, in UTC."""
    return datetime(REVIEW_YEAR, 12, 1, hour, minute, tzinfo=UTC)


def reviews_to(standin: SlackStandIn, user_id: str) -> list[Any]:
    """The cycle-review messages in `user_id`'s DM (the rep's review, the manager's table): the
    ticker runs every job, so a weekly check-in may fall due on the same day too."""
    return [
        call
        for call in standin.messages_to(user_id)
        if str(
            call.params.get("metadata", {}).get("event_payload", {}).get("post_key", "")
        ).startswith(("review:", "team-review:"))
    ]


@pytest.fixture
def review_ticker(live: LiveApp, standin: SlackStandIn) -> Iterator[ReviewTicker]:
    """Makes the scheduler, in-process, on a FakeClock starting at the given instant (the live
    server runs none)."""
    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_api_url=standin.url,
        database_url=live.database_url,
    )
    engine = make_engine(live.database_url)

    def make(at: datetime) -> tuple[Any, FakeClock]:
        clock = FakeClock(at)
        deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
        return build_ticker(deps), clock

    yield make
    engine.dispose()


def new_team() -> str:
    return f"T{uuid.uuid4().hex[:8].upper()}"


def test_cycle_review_dms_each_rep_once_and_the_manager_gets_table_and_chart(
    live: LiveApp, standin: SlackStandIn, review_ticker: ReviewTicker
) -> None:
    manager = new_user(standin, tz="America/Chicago")
    lucky = new_user(standin, tz="Europe/London")
    perfect = new_user(standin, tz="America/Los_Angeles")
    no_goal = new_user(standin)
    team = new_team()
    end = REVIEW_CYCLE_END
    with live_session(live) as session:
        queries.set_reports(
            session=session,
            team_id=team,
            manager_user_id=manager,
            report_user_ids=[lucky, perfect, no_goal],
        )
        queries.upsert_member(session=session, team_id=team, user_id=manager, tz="America/Chicago")
        queries.upsert_member(session=session, team_id=team, user_id=lucky, tz="Europe/London")
        queries.upsert_member(
            session=session, team_id=team, user_id=perfect, tz="America/Los_Angeles"
        )
        add_goal(session, lucky, team_id=team, target=1000, start=end.replace(day=1), end=end)
        add_goal(session, perfect, team_id=team, target=1000, start=end.replace(day=1), end=end)
        add_outcome(session, lucky, "win", REVIEW_IN_CYCLE, score=0.2, amount=5000, team_id=team)
        add_outcome(session, perfect, "loss", REVIEW_IN_CYCLE, score=1.0, team_id=team)
        add_outcome(session, perfect, "win", REVIEW_IN_CYCLE, score=1.0, amount=100, team_id=team)
        # One or two outcomes are evidence enough here (the workspace's setting).
        queries.get_or_create_workspace(session=session, team_id=team)
        queries.update_workspace_settings(session=session, team_id=team, min_evidence=1)
        session.commit()

    # Midnight has passed in London, but reviews wait for the working day.
    ticker, clock = review_ticker(review_day(0, 30))
    seen = len(standin.calls)
    ticker.tick()
    clock.set(review_day(8, 59))
    ticker.tick()
    assert ticker.failures == []
    assert reviews_to(standin, lucky) == []

    # 09:00 in London: Leo's review. Los Angeles is still on 30 November.
    clock.set(review_day(9))
    ticker.tick()
    assert len(reviews_to(standin, lucky)) == 1
    assert reviews_to(standin, perfect) == []
    assert reviews_to(standin, manager) == []

    # Every rep's cycle ended at 08:00 UTC (midnight in LA); the manager's 09:00 is 15:00 UTC.
    clock.set(review_day(14, 59))
    ticker.tick()
    assert reviews_to(standin, manager) == []
    clock.set(review_day(15))
    ticker.tick()
    assert len(reviews_to(standin, manager)) == 1
    assert reviews_to(standin, perfect) == []  # 07:00 in Los Angeles

    clock.set(review_day(17))
    ticker.tick()
    ticker.tick()  # a second tick (or replica) sends nothing again
    assert ticker.failures == []
    lucky_dm = reviews_to(standin, lucky)
    perfect_dm = reviews_to(standin, perfect)
    assert len(lucky_dm) == 1 and len(perfect_dm) == 1
    assert reviews_to(standin, no_goal) == []
    assert "Lucky hit" in lucky_dm[0].params["text"]
    assert "masquerading as a win" in json.dumps(lucky_dm[0].params["blocks"])
    assert "Perfect miss" in perfect_dm[0].params["text"]
    perfect_text = json.dumps(perfect_dm[0].params["blocks"], ensure_ascii=False)
    assert "Celebrate the perfect miss" in perfect_text and perfect_text.count("🎉") == 1
    assert "Go out and do exactly what you did again" in perfect_text

    manager_posts = reviews_to(standin, manager)
    assert len(manager_posts) == 1
    table = json.dumps(manager_posts[0].params["blocks"], ensure_ascii=False)
    assert f"<@{lucky}>" in table and f"<@{perfect}>" in table
    assert f"<@{no_goal}> — no goal set" in table  # the whole team, goal or not
    assert "5,000" not in table  # amounts stay out of the team table
    completes = [
        c
        for c in standin.calls[seen:]
        if c.method == "files.completeUploadExternal"
        and c.params.get("channel_id") == manager_posts[0].conversation
    ]
    assert len(completes) == 1
    file_id = completes[0].params["files"][0]["id"]
    png = standin.uploaded_file(file_id)
    assert png is not None and png.startswith(b"\x89PNG")
    assert "Process score against attainment" in completes[0].params["initial_comment"]
    alt_txt = standin.uploaded_alt_txt(file_id) or ""
    assert alt_txt.startswith("Quadrant chart of your team's cycle ending ")
    assert ": 2 reps, " in alt_txt
    # What stands behind each dot (the chart's "n="), in words for a screen reader.
    assert re.search(r"process \d+%, from \d+ scored outcomes?\b", alt_txt), alt_txt
    with live_session(live) as session:
        reviewed = session.exec(select(Goal).where(Goal.team_id == team)).all()
        assert all(goal.reviewed_at is not None for goal in reviewed)


def _team_of_two(live: LiveApp, standin: SlackStandIn, first: str, second: str) -> str:
    """A UTC manager with two UTC reps whose goals end 30 November, `first`'s saved first."""
    manager = new_user(standin, tz="UTC")
    team = new_team()
    with live_session(live) as session:
        queries.set_reports(
            session=session, team_id=team, manager_user_id=manager, report_user_ids=[first, second]
        )
        for user_id in (manager, first, second):
            queries.upsert_member(session=session, team_id=team, user_id=user_id, tz="UTC")
        for user_id in (first, second):
            add_goal(
                session,
                user_id,
                team_id=team,
                start=REVIEW_CYCLE_END.replace(day=1),
                end=REVIEW_CYCLE_END,
            )
        session.commit()
    return manager


AFTER_EVERY_REVIEW = review_day(18)


def test_an_unreachable_rep_is_reviewed_unsent_and_blocks_nobody(
    live: LiveApp,
    standin: SlackStandIn,
    review_ticker: ReviewTicker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticker, _ = review_ticker(AFTER_EVERY_REVIEW)
    ticker.tick()  # earlier tests' reviews, out of the way
    # Deactivated: never added to the stand-in, so a post to their id says channel_not_found.
    gone = "U" + uuid.uuid4().hex[:9].upper()
    reachable = new_user(standin, tz="UTC")
    manager = _team_of_two(live, standin, gone, reachable)
    # A batch of one: a review that failed for ever would take the whole batch every tick.
    monkeypatch.setattr(goals_jobs, "REVIEW_BATCH", 1)

    ticker.tick()
    ticker.tick()
    assert ticker.failures == []
    assert len(reviews_to(standin, reachable)) == 1
    posts = reviews_to(standin, manager)
    assert len(posts) == 1  # the team review went out, unreachable rep and all
    table = json.dumps(posts[0].params["blocks"], ensure_ascii=False)
    assert f"<@{gone}>" in table and "couldn't be reached by DM" in table
    assert f"<@{reachable}>" in table
    with live_session(live) as session:
        goals = session.exec(select(Goal).where(Goal.user_id.in_([gone, reachable]))).all()  # type: ignore[attr-defined]
        assert all(goal.reviewed_at is not None for goal in goals)

    def attempts() -> int:
        return len(
            [
                c
                for c in standin.calls_to("chat.postMessage", ok_only=False)
                if c.params.get("channel") == gone
            ]
        )

    tried = attempts()
    assert tried >= 1
    ticker.tick()
    assert attempts() == tried  # not retried every tick


def test_a_transient_error_retries_the_review(
    live: LiveApp, standin: SlackStandIn, review_ticker: ReviewTicker
) -> None:
    ticker, clock = review_ticker(AFTER_EVERY_REVIEW)
    ticker.tick()
    first, second = new_user(standin, tz="UTC"), new_user(standin, tz="UTC")
    _team_of_two(live, standin, first, second)
    # A 500 for the first rep's DM (the client never re-sends a chat.postMessage: Slack may
    # have posted it; bot.app.IdempotentServerErrorRetryHandler).
    standin.fail_next("chat.postMessage", status=500, times=1)
    ticker.tick()
    assert reviews_to(standin, first) == []
    assert len(reviews_to(standin, second)) == 1
    with live_session(live) as session:
        goal = session.exec(select(Goal).where(Goal.user_id == first)).one()
        assert goal.reviewed_at is None  # not given up on
    # The next tick, a minute on: the outbox looks for the DM in Slack (the 500 may have come
    # after Slack posted it), doesn't find it, and sends it.
    clock.advance(minutes=1)
    ticker.tick()
    assert len(reviews_to(standin, first)) == 1


@pytest.mark.parametrize("failing", ["files.getUploadURLExternal", "files.completeUploadExternal"])
def test_a_failed_chart_upload_is_retried_once_on_a_later_tick(
    live: LiveApp, standin: SlackStandIn, review_ticker: ReviewTicker, failing: str
) -> None:
    ticker, clock = review_ticker(AFTER_EVERY_REVIEW)
    ticker.tick()
    manager = _team_of_two(live, standin, new_user(standin, tz="UTC"), new_user(standin, tz="UTC"))
    channel = "D" + manager[1:]

    def charts_sent() -> int:
        return len(
            [
                c
                for c in standin.calls_to("files.completeUploadExternal")
                if c.params.get("channel_id") == channel
            ]
        )

    # The first try and, for the idempotent step, both of the client's retries fail (the
    # completing step, which shares the file, is never re-sent): the upload raises.
    standin.fail_next(failing, status=500, times=3 if failing in IDEMPOTENT_METHODS else 1)
    ticker.tick()
    assert len(reviews_to(standin, manager)) == 1  # the table went out
    assert charts_sent() == 0
    clock.advance(minutes=1)  # a later tick: past the upload's backoff
    ticker.tick()
    assert charts_sent() == 1
    clock.advance(minutes=1)
    ticker.tick()
    assert charts_sent() == 1 and len(reviews_to(standin, manager)) == 1


# --- /rebound report ------------------------------------------------------------------------------


def test_rebound_report_uploads_charts_to_the_managers_dm(
    live: LiveApp, standin: SlackStandIn
) -> None:
    manager = new_user(standin)
    rep = new_user(standin)
    now = live.clock()
    with live_session(live) as session:
        queries.set_reports(
            session=session, team_id=TEAM, manager_user_id=manager, report_user_ids=[rep]
        )
        add_goal(
            session,
            rep,
            target=10,
            start=now.date() - timedelta(days=3),
            end=now.date() + timedelta(days=20),
        )
        for index, reason in enumerate(["Price", "Price", "Timing"]):
            add_outcome(session, rep, "loss", now - timedelta(days=index + 1), reason=reason)
        add_outcome(session, rep, "win", now - timedelta(hours=1), amount=4)
        session.commit()

    seen = len(standin.calls)
    assert live.sender().slash_command("/rebound", "report", user_id=manager).status == 200
    calls = standin.wait_for(
        lambda calls: (
            len([c for c in calls[seen:] if c.method == "files.completeUploadExternal"]) >= 2
            and any(c.method == "chat.postEphemeral" for c in calls[seen:])
        ),
        timeout=20,
    )
    uploads = [c for c in calls[seen:] if c.method == "files.completeUploadExternal"]
    assert {c.params["channel_id"] for c in uploads} == {"D" + manager[1:]}
    comments = " ".join(c.params["initial_comment"] for c in uploads)
    assert f"<@{rep}>" in comments and "Price" in comments
    # The Pareto says what was in the team's control apart from what wasn't (issue 12).
    assert "In our control: 0 of 3 (0%). Outside our control: 3." in comments
    titles = {c.params["files"][0]["title"] for c in uploads}
    assert titles == {"Your team's cycle so far", "Loss reasons"}
    # Each chart says what it shows, for screen readers (files.getUploadURLExternal alt_txt).
    alt = {
        c.params["files"][0]["title"]: standin.uploaded_alt_txt(c.params["files"][0]["id"])
        for c in uploads
    }
    assert (alt["Your team's cycle so far"] or "").startswith(
        "Quadrant chart of your team's cycle so far: 1 rep, 0 at or above goal,"
    )
    # Three losses are too few for a pattern: the chart and its words count them, no more.
    assert alt["Loss reasons"] == (
        "Bar chart of loss reasons over the last 90 days, 3 losses: Price 2; Timing 1. "
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5. "
        "In our control: 0 of 3 (0%). Outside our control: 3."
    )
    pareto_comment = next(
        c.params["initial_comment"]
        for c in uploads
        if c.params["files"][0]["title"] == "Loss reasons"
    )
    assert pareto_comment == (
        "Loss reasons so far: Price 2, Timing 1. "
        "Too early for a pattern: 3 losses so far, and a pattern needs at least 5. "
        "In our control: 0 of 3 (0%). Outside our control: 3."
    )

    # The manager can ask for one rep's bounce-back timeline; a rep can't ask for others'.
    seen = len(standin.calls)
    live.sender().slash_command("/rebound", f"report @{rep.lower()}", user_id=manager)
    calls = standin.wait_for(
        lambda calls: (
            any(c.method == "files.completeUploadExternal" for c in calls[seen:])
            and any(c.method == "chat.postEphemeral" for c in calls[seen:])
        ),
        timeout=20,
    )
    timeline = [c for c in calls[seen:] if c.method == "files.completeUploadExternal"][0]
    assert timeline.params["files"][0]["title"] == "Bounce-back timeline"
    alt_txt = standin.uploaded_alt_txt(timeline.params["files"][0]["id"]) or ""
    assert "last 4 outcomes: 1 win, 3 losses, 1 bounce-back" in alt_txt
    seen = len(standin.calls)
    live.sender().slash_command("/rebound", f"report @{manager.lower()}", user_id=rep)
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "chat.postEphemeral" and c.params["user"] == rep for c in calls[seen:]
        ),
        timeout=10,
    )
    refusal = [c for c in calls[seen:] if c.method == "chat.postEphemeral"][0]
    assert "someone who reports to you" in refusal.params["text"]
    assert not any(c.method == "files.completeUploadExternal" for c in standin.calls[seen:])
