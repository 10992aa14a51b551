"""Weekly check-ins over HTTP: `/checkin`, the DM's buttons, the answer modal, pauses; plus the
pure builders, the pause syntax and the pacer as units."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Deps, build_ticker, make_dispatch_client
from bot.blocks.checkins import (
    MAX_DIGEST_REPS,
    checkin_message,
    checkin_modal,
    digest_message,
    parse_checkin_submission,
)
from bot.clock import FakeClock
from bot.config import Settings
from bot.dispatcher import DEFAULT_LEASE, INLINE_429_SECONDS, LEASE_MARGIN, Dispatcher
from bot.domain import next_checkin_at
from bot.domain.checkins import Question, RatingDrop, RepWeek
from bot.pacing import TokenBuckets
from bot.uow import UnitOfWork, to_user
from bot.usecases import checkin_schedule
from storage import checkins_queries as cq
from storage import outbox_queries, queries
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import CheckInAnswer, Goal, Member, Outcome, Reflection
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn, StandInUser

MANAGER, REP1, REP2 = "U0MGR", "U0REP1", "U0REP2"
TEXT = Question("worked", "What worked this week that you want to do again?")
RATING = Question("rating_discovery", "Discovery was on point", kind="rating")
GOAL = Question("goal_progress", "Progress toward your goal so far", kind="number")


# --- units: builders, pause syntax, pacer -------------------------------------------------


def test_checkin_message_lists_the_questions_with_answer_and_skip_buttons() -> None:
    message = checkin_message(42, [TEXT, RATING, GOAL], "week of 23 Nov")
    rendered = json.dumps(message)
    assert TEXT.text in rendered
    assert "progress toward your goal" in rendered
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["checkin_open", "checkin_skip"]
    assert {e["value"] for e in actions["elements"]} == {"42"}


def test_modal_prefills_previous_answers() -> None:
    view = checkin_modal(7, [TEXT, RATING, GOAL], {"worked": "Calls", "rating_discovery": "4"}, "w")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert view["private_metadata"] == "7" and len(view["title"]["text"]) <= 24
    assert blocks["worked"]["element"]["initial_value"] == "Calls"
    assert blocks["rating_discovery"]["element"]["initial_option"]["value"] == "4"
    assert "initial_value" not in blocks["goal_progress"]["element"]


def _values(**answers: Any) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for key, value in answers.items():
        kind = {"worked": "plain_text_input", "goal_progress": "number_input"}.get(key)
        values[key] = {"answer": state_value(kind or "static_select", value)}
    return values


def test_parse_submission_keeps_answers_and_rejects_blank_or_long_text() -> None:
    questions = [TEXT, RATING, GOAL]
    answers, errors = parse_checkin_submission(
        _values(worked="  Calls  ", rating_discovery="3", goal_progress="12.50"), questions
    )
    assert errors == {}
    assert answers == {"worked": "Calls", "rating_discovery": "3", "goal_progress": "12.5"}
    assert "worked" in parse_checkin_submission(_values(worked="   "), questions)[1]
    assert "worked" in parse_checkin_submission(_values(worked="x" * 3001), questions)[1]
    assert "goal_progress" in parse_checkin_submission(_values(goal_progress="-1"), questions)[1]
    nothing = parse_checkin_submission(_values(worked=None, rating_discovery=None), questions)
    assert nothing == ({}, {"worked": "Answer at least one question, or close and skip this week."})


def test_digest_counts_answers_and_names_who_is_missing() -> None:
    reps = [
        RepWeek(
            "U1", "answered", [("Q?", "A.")], {"discovery": 2}, [RatingDrop("discovery", 4, 2)]
        ),
        RepWeek("U2", "sent"),
        RepWeek("U3", "skipped"),
        RepWeek("U4", "none"),
    ]
    rendered = json.dumps(digest_message("week of 23 Nov", reps))
    assert "1 of 2 answered (50%)" in rendered
    assert "Not answered yet: <@U2>" in rendered
    assert "Skipped or paused: <@U3>" in rendered
    assert "Discovery was on point 4 \\u2192 2" in rendered
    assert "<@U4>" not in rendered


def test_a_big_team_digest_stays_within_slacks_block_limit() -> None:
    reps = [RepWeek(f"U{i}", "answered", [("Q?", "A" * 900)]) for i in range(60)]
    message = digest_message("week of 23 Nov", reps)
    assert len(message["blocks"]) <= 50
    assert f"…and {60 - MAX_DIGEST_REPS} more answered" in json.dumps(message, ensure_ascii=False)


NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2w", NOW + timedelta(weeks=2)),
        ("3d", NOW + timedelta(days=3)),
        ("3 days", NOW + timedelta(days=3)),
        ("until 2026-12-01", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),  # midnight in New York
    ],
)
def test_parse_pause(text: str, expected: datetime) -> None:
    assert checkin_schedule.parse_pause(text, NOW, "America/New_York") == expected


@pytest.mark.parametrize(
    "text", ["", "soon", "2", "0d", "until 2026-11-01", "until 2026-13-01", "60w"]
)
def test_parse_pause_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        checkin_schedule.parse_pause(text, NOW, "America/New_York")


def test_pacer_spreads_sends_and_a_hold_stops_them() -> None:
    # The outbox dispatcher's pacing (a workspace's chat.postMessage at REBOUND_SEND_RATE,
    # burst of one), on a clock of the test's.
    moments = [0.0]
    buckets = TokenBuckets(monotonic=lambda: moments[0])
    key = ("T1", "chat.postMessage")

    def wait_turn() -> None:
        while (wait := buckets.wait(key, 60.0 * 10.0, 1.0)) > 0:
            moments[0] += wait

    for _ in range(11):
        wait_turn()
    assert moments[0] == pytest.approx(1.0)
    buckets.hold(key, 3.0)
    wait_turn()
    assert moments[0] >= 4.0


def test_one_send_stops_retrying_within_its_budget_so_the_claim_outlives_it(
    standin: SlackStandIn, sqlite_url: str
) -> None:
    # A long Retry-After is not waited out inside one send (the claim's lease would have to
    # outlive it): the row is put back until then, and sent by a later dispatch.
    url = sqlite_url
    upgrade(url)
    engine = make_engine(url)
    clock = FakeClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    template = make_dispatch_client(
        Settings(slack_bot_token=standin.bot_token, slack_api_url=standin.url)
    )
    dispatcher = Dispatcher(
        make_session_factory(engine),
        template,
        clock,
        worker="w1",
        monotonic=lambda: clock().timestamp(),
        sleep=lambda seconds: clock.advance(seconds=seconds) and None,
    )
    with UnitOfWork(make_session_factory(engine), clock=clock) as uow:
        uow.outbox.add(
            team_id="T1", post_key="budget", kind="test", to=to_user(REP1), message={"text": "hi"}
        )
    seen = len(standin.calls)
    started = clock()
    # Two 429s asking for 30 s each: neither is slept through.
    standin.fail_next("chat.postMessage", status=429, retry_after=30, times=2)
    dispatcher.run_once(clock())
    clock.advance(seconds=30)
    dispatcher.run_once(clock())
    with make_session_factory(engine)() as session:
        row = outbox_queries.get(session=session, team_id="T1", post_key="budget")
        assert row is not None and row.state == "pending"
        assert row.last_error == "ratelimited"
    attempts = [c for c in standin.calls[seen:] if c.method == "chat.postMessage"]
    assert len(attempts) == 2 and 30 <= (clock() - started).total_seconds() <= 60
    clock.advance(seconds=30)
    dispatcher.run_once(clock())
    sent = [c for c in standin.calls[seen:] if c.method == "chat.postMessage" and c.ok]
    assert len(sent) == 1
    # A send waits out short 429s inline only while its last request (at the client's
    # timeout) still ends within the LEASE_MARGIN left of its claim: a first request, the
    # inline waits and a last one end well within the claim's lease.
    assert LEASE_MARGIN.total_seconds() - template.timeout > INLINE_429_SECONDS
    worst = LEASE_MARGIN.total_seconds() + template.timeout
    assert worst < DEFAULT_LEASE.total_seconds() / 2
    engine.dispose()


# --- over HTTP ----------------------------------------------------------------------------


@pytest.fixture
def team_id() -> str:
    # The live app's database is shared by the module: each test has a workspace of its own.
    return "T" + uuid.uuid4().hex[:10].upper()


@pytest.fixture
def session_factory(live: LiveApp) -> Iterator[SessionFactory]:
    engine = make_engine(live.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _new_calls(standin: SlackStandIn, seen: int, method: str, count: int = 1) -> list[RecordedCall]:
    calls = standin.wait_for(
        lambda calls: len([c for c in calls[seen:] if c.method == method and c.ok]) >= count,
        timeout=10,
    )
    return [c for c in calls[seen:] if c.method == method and c.ok]


def _open_via_command(live: LiveApp, standin: SlackStandIn, team_id: str, user: str) -> dict:
    seen = len(standin.calls)
    reply = live.sender(team_id).slash_command("/checkin", "", user_id=user)
    assert reply.status == 200
    opened = _new_calls(standin, seen, "views.open")[0]
    return opened.params["view"] | {"id": opened.response["view"]["id"]}


def _text_keys(view: dict[str, Any]) -> list[str]:
    return [
        b["block_id"]
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
    ]


def _answers(session_factory: SessionFactory, checkin_id: int) -> list[CheckInAnswer]:
    with session_factory() as session:
        statement = select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin_id)
        return list(session.exec(statement).all())


def test_checkin_command_opens_the_week_and_answering_again_edits(
    live: LiveApp, standin: SlackStandIn, team_id: str, session_factory: SessionFactory
) -> None:
    view = _open_via_command(live, standin, team_id, REP1)
    assert view["callback_id"] == "checkin_answer"
    checkin_id = int(view["private_metadata"])
    first_key = _text_keys(view)[0]
    values = {
        first_key: {"answer": state_value("plain_text_input", "Followed up within a day")},
        "rating_discovery": {"answer": state_value("static_select", "4")},
    }
    seen = len(standin.calls)
    reply = live.sender(team_id).view_submission(view, user_id=REP1, values=values)
    assert reply.status == 200 and not reply.body.strip()
    thanks = _new_calls(standin, seen, "chat.postMessage")
    assert thanks[0].conversation == _dm(REP1) and "saved" in thanks[0].params["text"]
    # Slack retries the same view: nothing new is saved or posted.
    again = live.sender(team_id).view_submission(view, user_id=REP1, values=values)
    assert again.status == 200
    assert len(_answers(session_factory, checkin_id)) == 2
    time.sleep(1.0)  # the server's post-ack work for the retry, had it posted anything
    assert len(_thanks_to(standin, seen, REP1)) == 1

    # Later that week: `/checkin` opens the same check-in, prefilled; the edit replaces.
    reopened = _open_via_command(live, standin, team_id, REP1)
    assert int(reopened["private_metadata"]) == checkin_id
    blocks = {b.get("block_id"): b for b in reopened["blocks"]}
    assert blocks[first_key]["element"]["initial_value"] == "Followed up within a day"
    assert blocks["rating_discovery"]["element"]["initial_option"]["value"] == "4"
    values[first_key] = {"answer": state_value("plain_text_input", "Asked for the next meeting")}
    values["rating_discovery"] = {"answer": state_value("static_select", None)}
    seen = len(standin.calls)
    live.sender(team_id).view_submission(reopened, user_id=REP1, values=values)
    _new_calls(standin, seen, "chat.postMessage")
    answers = _answers(session_factory, checkin_id)
    assert [(a.question_key, a.answer) for a in answers] == [
        (first_key, "Asked for the next meeting")
    ]
    with session_factory() as session:
        checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
        assert checkin is not None and checkin.status == "answered"


def _dm(user_id: str) -> str:
    """The app's DM with the person, where the outbox sends what is for them (the stand-in's
    conversations.open answers D + the user id without its U)."""
    return "D" + user_id[1:]


def _thanks_to(standin: SlackStandIn, seen: int, user_id: str) -> list[RecordedCall]:
    return [
        c
        for c in standin.calls[seen:]
        if c.method == "chat.postMessage"
        and c.ok
        and c.conversation == _dm(user_id)
        and "is saved" in str(c.params.get("text"))
    ]


def test_blank_and_too_long_answers_keep_the_modal_open(
    live: LiveApp, standin: SlackStandIn, team_id: str, session_factory: SessionFactory
) -> None:
    view = _open_via_command(live, standin, team_id, REP2)
    key = _text_keys(view)[0]
    sender = live.sender(team_id)
    blank = sender.view_submission(
        view, user_id=REP2, values={key: {"answer": state_value("plain_text_input", "   ")}}
    ).json()
    assert blank["response_action"] == "errors" and key in blank["errors"]
    long = sender.view_submission(
        view, user_id=REP2, values={key: {"answer": state_value("plain_text_input", "x" * 3001)}}
    ).json()
    assert long["response_action"] == "errors" and key in long["errors"]
    empty = sender.view_submission(view, user_id=REP2, values={}).json()
    assert empty["response_action"] == "errors"
    assert _answers(session_factory, int(view["private_metadata"])) == []


def test_pause_resume_and_a_hint_for_bad_syntax(
    live: LiveApp, standin: SlackStandIn, team_id: str, session_factory: SessionFactory
) -> None:
    sender = live.sender(team_id)
    for bad in ("pause", "pause forever", "holiday"):
        body = sender.slash_command("/checkin", bad, user_id=REP1).json()
        assert body["response_type"] == "ephemeral" and "/checkin pause 2w" in body["text"]
        assert "didn't catch that" in body["text"]
    # Written right but impossible: the reason, not the generic hint.
    for impossible, reason in (
        ("pause 0d", "in the future"),
        ("pause until 2020-01-01", "in the future"),
        ("pause 60w", "a year at most"),
    ):
        body = sender.slash_command("/checkin", impossible, user_id=REP1).json()
        assert body["response_type"] == "ephemeral" and reason in body["text"], impossible
        assert "didn't catch that" not in body["text"]
    # Not paused: resume says so.
    seen = len(standin.calls)
    sender.slash_command("/checkin", "resume", user_id=REP1)
    reply = _new_calls(standin, seen, "chat.postEphemeral")[0]
    assert "weren't paused" in reply.params["text"] and "Welcome back" not in reply.params["text"]
    seen = len(standin.calls)
    assert sender.slash_command("/checkin", "pause 2w", user_id=REP1).status == 200
    reply = _new_calls(standin, seen, "chat.postEphemeral")[0]
    assert reply.params["user"] == REP1 and "paused until" in reply.params["text"]
    with session_factory() as session:
        member = queries.get_member(session=session, team_id=team_id, user_id=REP1)
        assert member is not None and member.checkin_paused_until is not None
        expected = datetime.now(UTC) + timedelta(weeks=2)
        assert abs(member.checkin_paused_until - expected) < timedelta(minutes=1)
    seen = len(standin.calls)
    sender.slash_command("/checkin", "resume", user_id=REP1)
    reply = _new_calls(standin, seen, "chat.postEphemeral")[0]
    assert "Welcome back" in reply.params["text"]
    with session_factory() as session:
        member = queries.get_member(session=session, team_id=team_id, user_id=REP1)
        assert member is not None and member.checkin_paused_until is None


def _goal(team_id: str, user_id: str, metric: str, *, progress: float = 0.0) -> Goal:
    today = datetime.now(UTC).date()
    return Goal(
        team_id=team_id,
        user_id=user_id,
        metric=metric,
        target=10,
        progress=progress,
        cycle_start=today - timedelta(days=10),
        cycle_end=today + timedelta(days=20),
    )


def test_a_meetings_goal_is_asked_about_and_the_answer_shows_in_goal(
    live: LiveApp, standin: SlackStandIn, team_id: str, session_factory: SessionFactory
) -> None:
    with session_factory() as session:
        session.add(_goal(team_id, REP1, "meetings", progress=2))
        session.add(_goal(team_id, REP2, "revenue"))
        session.commit()
    # Revenue is counted from wins: no question about it.
    revenue_view = _open_via_command(live, standin, team_id, REP2)
    assert all(b.get("block_id") != "goal_progress" for b in revenue_view["blocks"])

    view = _open_via_command(live, standin, team_id, REP1)
    assert any(b.get("block_id") == "goal_progress" for b in view["blocks"])
    values = {
        _text_keys(view)[0]: {"answer": state_value("plain_text_input", "Booked more demos")},
        "goal_progress": {"answer": state_value("number_input", "7")},
    }
    seen = len(standin.calls)
    live.sender(team_id).view_submission(view, user_id=REP1, values=values)
    _new_calls(standin, seen, "chat.postMessage")
    seen = len(standin.calls)
    assert live.sender(team_id).slash_command("/goal", "", user_id=REP1).status == 200
    shown = _new_calls(standin, seen, "chat.postEphemeral")[0]
    assert "7 of 10" in json.dumps(shown.params["blocks"])


def test_skip_on_an_answered_check_in_leaves_the_dm_and_says_so(
    live: LiveApp, standin: SlackStandIn, team_id: str, session_factory: SessionFactory
) -> None:
    view = _open_via_command(live, standin, team_id, REP2)
    checkin_id = int(view["private_metadata"])
    values = {
        _text_keys(view)[0]: {"answer": state_value("plain_text_input", "Asked for referrals")}
    }
    seen = len(standin.calls)
    live.sender(team_id).view_submission(view, user_id=REP2, values=values)
    thanks = _new_calls(standin, seen, "chat.postMessage")[0]
    message = {"ts": thanks.response["ts"], "channel": thanks.response["channel"]}
    seen = len(standin.calls)
    live.sender(team_id).block_actions(
        user_id=REP2,
        actions=[{"action_id": "checkin_skip", "value": str(checkin_id)}],
        message=message,
    )
    note = _new_calls(standin, seen, "chat.postEphemeral")[0]
    assert note.params["user"] == REP2 and "already answered" in note.params["text"]
    assert [c for c in standin.calls[seen:] if c.method == "chat.update"] == []
    with session_factory() as session:
        checkin = cq.get_checkin(session=session, checkin_id=checkin_id)
        assert checkin is not None and checkin.status == "answered"


def _ticker_at(live: LiveApp, standin: SlackStandIn, moment: datetime) -> Any:
    settings = Settings(
        slack_bot_token=standin.bot_token, slack_api_url=standin.url, database_url=live.database_url
    )
    engine = make_engine(live.database_url)
    deps = Deps(
        settings=settings, session_factory=make_session_factory(engine), clock=FakeClock(moment)
    )
    return build_ticker(deps), engine


def test_the_scheduled_dm_asks_about_this_weeks_loss_and_last_commitment_then_buttons_work(
    live: LiveApp, standin: SlackStandIn, team_id: str, session_factory: SessionFactory
) -> None:
    # A rep of this test only: other tests' reps may be due at the same time.
    REP1 = "U0LOSSREP"  # noqa: N806
    standin.add_user(StandInUser(id=REP1, name="lou", real_name="Lou Loss", tz="Europe/London"))
    friday = next_checkin_at(datetime.now(UTC), "Europe/London", 4, 14)
    with session_factory() as session:
        queries.set_reports(
            session=session, team_id=team_id, manager_user_id=MANAGER, report_user_ids=[REP1]
        )
        older = Outcome(
            team_id=team_id,
            user_id=REP1,
            kind="loss",
            deal="Globex",
            process_score=0.4,
            classification="system-miss",
            occurred_at=friday - timedelta(days=20),
            submission_key=f"s-{uuid.uuid4().hex}",
        )
        loss = Outcome(
            team_id=team_id,
            user_id=REP1,
            kind="loss",
            deal="Acme renewal",
            process_score=0.8,
            classification="perfect-miss",
            occurred_at=friday - timedelta(days=1),
            submission_key=f"s-{uuid.uuid4().hex}",
        )
        session.add(older)
        session.add(loss)
        session.flush()
        session.add(
            Reflection(
                team_id=team_id,
                user_id=REP1,
                outcome_id=older.id or 0,
                question_key="differently",
                question="One thing I will do differently",
                answer="Qualify budget on call one",
                is_commitment=True,
                created_at=friday - timedelta(days=20),
            )
        )
        today = friday.date()
        session.add(
            Goal(
                team_id=team_id,
                user_id=REP1,
                metric="deals_won",
                target=6,
                cycle_start=date(today.year, today.month, 1),
                cycle_end=today + timedelta(days=20),
            )
        )
        session.commit()
    ticker, engine = _ticker_at(live, standin, friday - timedelta(hours=1))
    try:
        ticker.tick()  # reads the time zone
        seen = len(standin.calls)
        ticker.clock.set(friday)  # type: ignore[attr-defined]
        ticker.tick()
        ticker.tick()
        assert ticker.failures == []
    finally:
        engine.dispose()
    dms = [
        c
        for c in standin.calls[seen:]
        if c.method == "chat.postMessage" and c.conversation == _dm(REP1)
    ]
    assert len(dms) == 1
    dm = dms[0]
    section = dm.params["blocks"][1]["text"]["text"]
    lines = [line for line in section.splitlines() if line.startswith("• ")]
    assert "Acme renewal" in lines[0]
    assert "Qualify budget on call one" in lines[1] and "Did you do it?" in lines[1]
    assert len(lines) == 3
    # Deals won are counted from the wins: the check-in does not ask for them.
    assert "progress toward your goal" not in json.dumps(dm.params["blocks"])

    message = {"ts": dm.response["ts"], "channel": dm.response["channel"]}
    actions = next(b for b in dm.params["blocks"] if b["type"] == "actions")["elements"]
    seen = len(standin.calls)
    live.sender(team_id).block_actions(
        user_id=REP1,
        actions=[{"action_id": "checkin_open", "value": actions[0]["value"]}],
        message=message,
    )
    view = _new_calls(standin, seen, "views.open")[0].params["view"]
    assert view["private_metadata"] == actions[0]["value"]
    assert all(b.get("block_id") != "goal_progress" for b in view["blocks"])

    # Someone else's button does nothing.
    seen = len(standin.calls)
    live.sender(team_id).block_actions(
        user_id=REP2,
        actions=[{"action_id": "checkin_skip", "value": actions[1]["value"]}],
        message=message,
    )
    response_url = live.sender(team_id).new_response_url("actions")
    live.sender(team_id).block_actions(
        user_id=REP1,
        actions=[{"action_id": "checkin_skip", "value": actions[1]["value"]}],
        message=message,
        response_url=response_url,
    )
    # The clicked DM says "skipped": replaced through the click's response_url, the direct
    # answer, never a chat.update outside the outbox.
    (replaced,) = standin.wait_for_responses(response_url)
    assert replaced["replace_original"] is True and "Skipped" in replaced["text"]
    assert [c for c in standin.calls[seen:] if c.method == "chat.update"] == []
    with session_factory() as session:
        checkin = cq.get_checkin(session=session, checkin_id=int(actions[1]["value"]))
        assert checkin is not None and checkin.status == "skipped"
        member = session.exec(
            select(Member).where(Member.team_id == team_id, Member.user_id == REP1)
        ).one()
        assert member.tz == "Europe/London"
