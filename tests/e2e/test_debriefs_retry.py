"""Debrief messages Slack refused the first time, over HTTP and with the FakeClock's jobs and
outbox dispatch, on SQLite and PostgreSQL: retried until sent (once), given up on when they
never can be, never holding up anyone else's; plus the perfect miss's wording and check-in
follow-ups.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import Deps, make_dispatcher
from bot.blocks.debriefs import (
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
    perfect_miss_shout_out,
)
from bot.clock import FakeClock, utc_now
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.domain import checkins as checkin_domain
from bot.domain import week_key
from bot.domain.debriefs import KEEP_DOING_QUESTION
from bot.jobs import debriefs
from bot.scheduler import ScheduledJob
from bot.usecases import checkin_questions
from bot.usecases import debriefs as usecases
from storage import debriefs_queries as dq
from storage import outbox_queries
from storage.db import make_engine, make_session_factory
from storage.models import CheckIn, CheckInAnswer, Outcome
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.factories import (
    _lose,
    _reflect,
    log_win,
    lost_values,
    reflection_values,
)
from tests.support.slack import ALL_PRACTICES, DM, MANAGER, REP1, REP2, WINS, SlackDriver, _text

NOT_JOINED = "C0NOTJOINED"  # a channel the stand-in doesn't know: channel_not_found


@dataclass
class Jobs:
    """The debrief jobs and an outbox dispatcher (another replica's) on a FakeClock at the real
    now (the live server saves with the real clock)."""

    clock: FakeClock
    by_name: dict[str, ScheduledJob]
    dispatcher: Dispatcher


@pytest.fixture
def jobs(slack: SlackDriver) -> Iterator[Jobs]:
    clock = FakeClock(utc_now())
    settings = Settings(
        slack_bot_token=slack.standin.bot_token,
        slack_api_url=slack.standin.url,
        database_url=slack.live.database_url,
    )
    engine = make_engine(slack.live.database_url)
    deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
    dispatcher = make_dispatcher(deps)
    deps = replace(deps, dispatcher=dispatcher)
    try:
        yield Jobs(clock, dict(debriefs.scheduled_jobs(deps)), dispatcher)
    finally:
        engine.dispose()


def _dispatch(jobs: Jobs) -> None:
    """One scheduler tick's outbox dispatch, a minute after the last (ticks are 30 s apart): it
    retries what Slack refused for now, after looking for it in Slack when the outcome was
    unknown (once a minute per workspace, Slack's conversations.history limit)."""
    jobs.clock.advance(minutes=1)
    jobs.dispatcher.run_once(jobs.clock())


def _run(jobs: Jobs, name: str) -> None:
    """One tick of job `name`: the job, then the outbox dispatch that sends what it queued."""
    jobs.clock.advance(minutes=1)
    jobs.by_name[name](jobs.clock())
    jobs.dispatcher.run_once(jobs.clock())


def _posts(standin: SlackStandIn, seen: int, channel: str) -> list[RecordedCall]:
    """Every chat.postMessage to `channel` since `seen`, the failed ones included."""
    return [
        c
        for c in standin.calls[seen:]
        if c.method == "chat.postMessage" and c.conversation == channel
    ]


def _outcome(slack: SlackDriver, deal: str) -> Outcome:
    return next(o for o in slack.outcomes() if o.deal == deal)


def _seed_loss(
    slack: SlackDriver, user_id: str, deal: str, *, questions_sent_at: datetime
) -> Outcome:
    """A loss whose questions went out at `questions_sent_at` and were never answered."""
    for session in slack.db():
        outcome = dq.insert_outcome(
            session=session,
            values={
                "team_id": slack.team_id,
                "user_id": user_id,
                "kind": "loss",
                "deal": deal,
                "process_score": 0.2,
                "classification": "system-miss",
                "occurred_at": questions_sent_at,
                "submission_key": f"seed:{uuid.uuid4().hex}",
                "reflection_requested_at": questions_sent_at,
            },
        )
        session.commit()
        assert outcome is not None
        return outcome
    raise AssertionError("no session")


def _eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll for the live server's post-ack work (its Slack client retries with backoff)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- 1: one failing rep never blocks the others' reminders --------------------------------------


def test_reminders_give_up_on_a_rep_who_left_and_retry_a_hiccup_without_blocking(
    slack: SlackDriver, standin: SlackStandIn, jobs: Jobs
) -> None:
    slack.setup()
    clock = jobs.clock
    # Older than anything else in the module's database, so these come first in the queue.
    long_ago = clock() - timedelta(days=30)
    _seed_loss(slack, "U0GONE", "Gone deal", questions_sent_at=long_ago)
    _seed_loss(slack, REP1, "Hiccup deal", questions_sent_at=long_ago + timedelta(minutes=1))
    _seed_loss(slack, REP2, "Fine deal", questions_sent_at=long_ago + timedelta(minutes=2))

    seen = slack.mark()
    # The rep who left answers user_not_found; the next reminder meets a Slack outage (503;
    # a chat.postMessage is never re-sent by the client); the one after goes through.
    standin.fail_next("chat.postMessage", status=503, times=1, to=REP1)
    _run(jobs, "debrief-reflection-reminders")
    assert len(slack.posts_about(seen, "Fine deal", channel=DM[REP2])) == 1
    assert slack.posts_about(seen, "Hiccup deal") == []
    reminded = {o.deal: o.reflection_reminded_at is not None for o in slack.outcomes()}
    assert reminded == {"Gone deal": True, "Hiccup deal": False, "Fine deal": True}

    seen = slack.mark()
    _run(jobs, "debrief-reflection-reminders")
    _run(jobs, "debrief-reflection-reminders")
    assert len(slack.posts_about(seen, "Hiccup deal", channel=DM[REP1])) == 1
    assert slack.posts_about(seen, "Fine deal") == []
    tried_gone = [
        c
        for c in standin.calls[seen:]
        if c.method == "chat.postMessage" and c.params.get("channel") == "U0GONE"
    ]
    assert tried_gone == []  # off the queue for good
    assert all(o.reflection_reminded_at is not None for o in slack.outcomes())


# -- 2: a bounce-back waits for a recognition channel --------------------------------------------


def test_a_bounce_back_waits_for_a_channel_and_is_posted_once(
    slack: SlackDriver, standin: SlackStandIn, jobs: Jobs
) -> None:
    slack.setup(channel=None)
    clock = jobs.clock
    _lose(slack, REP2, "Loss A")
    _lose(slack, REP2, "Loss B")
    seen = slack.mark()
    dm, _ = log_win(slack, REP2, "Comeback")
    assert "bounce-back" in _text(dm) and "tipped my hat" not in _text(dm)
    # The rep says yes to sharing it (issue 12): the shout-out waits for a channel.
    clicked = slack.mark()
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(_outcome(slack, "Comeback").id), message=dm)
    reply = slack.wait(clicked, "chat.postMessage", channel=DM[REP2])[0]
    assert "no recognition channel" in _text(reply)
    assert _outcome(slack, "Comeback").bounce_back_pending_since is not None

    clock.advance(minutes=2)
    _dispatch(jobs)
    assert _outcome(slack, "Comeback").bounce_back_pending_since is not None  # still waiting

    slack.set_channel(WINS)
    standin.fail_next("chat.postMessage", status=503, times=1)
    _dispatch(jobs)  # Slack fails: tried again next tick
    assert slack.posts_about(seen, "Comeback", channel=WINS) == []
    _dispatch(jobs)
    _dispatch(jobs)
    shout_outs = slack.posts_about(seen, "Comeback", channel=WINS)
    assert len(shout_outs) == 1
    assert "bounced back after 2 losses" in _text(shout_outs[0])
    assert _outcome(slack, "Comeback").bounce_back_pending_since is None


# -- 3: a recognition channel the bot can't post in ---------------------------------------------


def test_a_channel_the_bot_cannot_post_in_is_explained_and_not_retried_until_changed(
    slack: SlackDriver, standin: SlackStandIn, jobs: Jobs
) -> None:
    slack.setup(channel=NOT_JOINED)
    clock = jobs.clock
    start = slack.mark()
    dm, perfect = _lose(slack, REP1, "Oscorp", practices=ALL_PRACTICES)
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(perfect.id), message=dm)
    choice = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    said = choice.params["text"]
    assert f"couldn't post in <#{NOT_JOINED}>" in said
    assert "invite @Rebound" in said and "/rebound settings" in said
    assert "no recognition channel" not in said
    assert "channel_not_found" not in _text(choice) and "not_in_channel" not in _text(choice)

    _lose(slack, REP2, "Loss C")
    _lose(slack, REP2, "Loss D")
    seen = slack.mark()
    win_dm, _ = log_win(slack, REP2, "Rebound win")
    assert "tipped my hat" not in _text(win_dm)
    clicked = slack.mark()
    slack.click(
        REP2, CELEBRATE_YES_ACTION_ID, str(_outcome(slack, "Rebound win").id), message=win_dm
    )
    refused = slack.wait(clicked, "chat.postMessage", channel=DM[REP2])[0]
    assert f"couldn't post in <#{NOT_JOINED}>" in _text(refused)
    assert len(_posts(standin, start, NOT_JOINED)) == 2  # each shout-out tried once

    clock.advance(minutes=2)
    for _ in range(2):
        _dispatch(jobs)
        _dispatch(jobs)
    assert len(_posts(standin, start, NOT_JOINED)) == 2  # not again in the same channel
    # Hours later it is tried there once more (someone may have invited the bot), then rests.
    clock.advance(hours=7)
    for _ in range(2):
        _dispatch(jobs)
        _dispatch(jobs)
    assert len(_posts(standin, start, NOT_JOINED)) == 4

    slack.set_channel(WINS)  # another channel is tried at once
    seen = slack.mark()
    for _ in range(2):
        _dispatch(jobs)
        _dispatch(jobs)
    assert len(slack.posts_about(seen, "Oscorp", channel=WINS)) == 1
    assert len(slack.posts_about(seen, "Rebound win", channel=WINS)) == 1
    assert _outcome(slack, "Oscorp").celebration_posted_at is not None
    assert _outcome(slack, "Rebound win").bounce_back_pending_since is None


# -- 4: a shout-out another worker is still sending ----------------------------------------------


def test_a_shout_out_still_being_sent_elsewhere_is_not_marked_posted(
    slack: SlackDriver, jobs: Jobs
) -> None:
    slack.setup()
    dm, outcome = _lose(slack, REP1, "Cyberdyne", practices=ALL_PRACTICES)
    post_key = f"debrief:{outcome.id}:perfect-miss"
    # Another worker (a dispatcher on another replica) has claimed the shout-out and is sending.
    for session in slack.db():
        outbox_queries.enqueue(
            session=session,
            team_id=slack.team_id,
            post_key=post_key,
            kind="perfect-miss",
            target_kind="recognition_channel",
            target_id=None,
            payload=perfect_miss_shout_out(usecases.facts_of(outcome)),
            now=utc_now(),
        )
        row = outbox_queries.get(session=session, team_id=slack.team_id, post_key=post_key)
        assert row is not None
        row.state, row.claimed_by = "sending", "other-replica"
        row.lease_until = utc_now() + timedelta(minutes=5)
        session.add(row)
        session.commit()
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    choice = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    assert f"I'll post your shout-out in <#{WINS}>" in choice.params["text"]
    assert _outcome(slack, "Cyberdyne").celebration_posted_at is None

    # That worker's send fails (Slack said no for now), and it puts the row back: the
    # dispatcher posts the shout-out.
    for session in slack.db():
        row = outbox_queries.get(session=session, team_id=slack.team_id, post_key=post_key)
        assert row is not None and row.id is not None
        assert outbox_queries.reschedule(
            session=session,
            row_id=row.id,
            worker="other-replica",
            not_before=utc_now(),
            error="internal_error",
        )
        session.commit()
    _dispatch(jobs)
    _dispatch(jobs)
    # Whichever dispatcher takes the row back (this one, or the live server's, whose clock
    # has passed its not-before too), it goes up once: wait for it, then for quiet.
    slack.wait(seen, "chat.postMessage", channel=WINS)
    slack.settle()
    assert len(slack.posts_about(seen, "Cyberdyne", channel=WINS)) == 1
    assert _outcome(slack, "Cyberdyne").celebration_posted_at is not None


# -- 5: the rep's DM and the manager's note are retried until sent -------------------------------


def test_a_failed_debrief_dm_and_manager_note_are_retried_until_sent_once(
    slack: SlackDriver, standin: SlackStandIn, jobs: Jobs
) -> None:
    slack.setup()
    clock = jobs.clock
    view = slack.open_modal("/lost", "Soylent", REP1)
    seen = slack.mark()
    # Slack is down for both DMs (one try each: a chat.postMessage is never re-sent by the
    # client).
    standin.fail_next("chat.postMessage", status=503, times=2)
    slack.submit(view, REP1, lost_values("Soylent", practices=ALL_PRACTICES))

    def both_attempts_over() -> bool:
        failed = [c for c in standin.calls[seen:] if c.method == "chat.postMessage" and not c.ok]
        return len(failed) >= 2 and slack.post_log() == []  # both claims released

    _eventually(both_attempts_over, "the server's two failed sends")
    outcome = _outcome(slack, "Soylent")
    assert outcome.reflection_requested_at is None  # the questions never arrived
    assert outcome.rep_dm_pending_since is not None
    assert outcome.manager_note_pending_since is not None

    clock.advance(minutes=2)
    seen = slack.mark()
    for _ in range(2):
        _dispatch(jobs)
        _dispatch(jobs)
    rep_dms = slack.posts_about(seen, "Soylent", channel=DM[REP1])
    notes = slack.posts_about(seen, "Soylent", channel=DM[MANAGER])
    assert len(rep_dms) == 1 and len(notes) == 1
    assert CELEBRATE_YES_ACTION_ID in _text(rep_dms[0])  # the consent buttons did arrive
    assert REFLECT_ACTION_ID in _text(rep_dms[0])
    outcome = _outcome(slack, "Soylent")
    assert outcome.reflection_requested_at is not None
    assert outcome.rep_dm_pending_since is None and outcome.manager_note_pending_since is None
    assert sorted(p.post_key for p in slack.post_log()) == [
        f"debrief:{outcome.id}:manager",
        f"debrief:{outcome.id}:rep",
    ]

    # The buttons work.
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=rep_dms[0])
    slack.wait(seen, "chat.postMessage", channel=WINS)


def test_a_debrief_dm_that_can_never_arrive_is_given_up_on(slack: SlackDriver) -> None:
    slack.setup()
    newcomer = "U0NOTINSLACK"  # Slack answers user_not_found for them
    view = slack.open_modal("/lost", "Ghost deal", newcomer)
    slack.submit(view, newcomer, lost_values("Ghost deal"))

    def given_up() -> bool:
        outcomes = [o for o in slack.outcomes() if o.deal == "Ghost deal"]
        return bool(outcomes) and outcomes[0].rep_dm_pending_since is None

    _eventually(given_up, "the DM to be given up on")
    outcome = _outcome(slack, "Ghost deal")
    # No questions went out, so no reminder will nag about them either.
    assert outcome.reflection_requested_at is None


# -- 6: a perfect miss asks what to keep doing ---------------------------------------------------


def test_a_perfect_miss_asks_what_to_keep_doing_and_follows_up_on_it(
    slack: SlackDriver, jobs: Jobs
) -> None:
    slack.setup()
    clock = jobs.clock
    dm, perfect = _lose(slack, REP1, "Tyrell", practices=ALL_PRACTICES)
    assert KEEP_DOING_QUESTION in _text(dm)
    assert "One thing I will do differently" not in _text(dm)

    seen = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(perfect.id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    commitment = next(b for b in view["blocks"] if b.get("block_id") == "commitment")
    assert commitment["label"]["text"] == KEEP_DOING_QUESTION
    body = slack.submit(view, REP1, reflection_values("")).json()
    assert "keep doing" in body["errors"]["commitment"]
    seen = slack.mark()
    slack.submit(view, REP1, reflection_values("Multi-thread from the first call"))
    thanks = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    assert "to keep doing exactly the same" in _text(thanks)
    kept = [r for r in slack.reflections() if r.is_commitment]
    assert [(r.question, r.answer) for r in kept] == [
        (KEEP_DOING_QUESTION, "Multi-thread from the first call")
    ]

    # An unanswered perfect miss gets a reminder that doesn't ask what to change.
    _lose(slack, REP2, "Wonka", practices=ALL_PRACTICES)
    clock.advance(hours=25)
    seen = slack.mark()
    _run(jobs, "debrief-reflection-reminders")
    reminder = _text(slack.posts_about(seen, "Wonka", channel=DM[REP2])[0])
    assert "keep doing exactly the same" in reminder
    assert "what do you need to change" not in reminder

    # The next debrief asks whether they kept doing it.
    _, system = _lose(slack, REP1, "Nakatomi", practices=["discovery"])
    seen = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(system.id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    rendered = json.dumps(view["blocks"])
    assert "Multi-thread from the first call" in rendered and "Did you do it?" in rendered
    assert "One thing I will do differently" in rendered  # a system miss asks what to change


# -- 7: a commitment a check-in asked about is not asked again -----------------------------------


def _checkin_asking_about_the_commitment(slack: SlackDriver, user_id: str) -> int:
    """A check-in with the questions the check-ins feature itself chooses this week."""
    now = utc_now()
    week = week_key(now, "UTC")
    for session in slack.db():
        questions = checkin_questions.choose_questions(
            session=session, team_id=slack.team_id, user_id=user_id, week=week, tz="UTC", now=now
        )
        asked = [q for q in questions if q.key == dq.CHECKIN_COMMITMENT_KEY]
        assert asked and asked[0].ref.startswith(dq.CHECKIN_REFLECTION_REF)
        checkin = CheckIn(
            team_id=slack.team_id,
            user_id=user_id,
            week_key=week,
            due_at=now,
            status="sent",
            sent_at=now,
            questions=[q.as_row() for q in questions],
        )
        session.add(checkin)
        session.commit()
        assert checkin.id is not None
        return checkin.id
    raise AssertionError("no session")


def _answer_checkin(slack: SlackDriver, checkin_id: int, answer: str) -> None:
    for session in slack.db():
        session.add(
            CheckInAnswer(
                team_id=slack.team_id,
                checkin_id=checkin_id,
                question_key=dq.CHECKIN_COMMITMENT_KEY,
                question="Did you do it?",
                answer=answer,
            )
        )
        checkin = session.exec(select(CheckIn).where(CheckIn.id == checkin_id)).one()
        checkin.status, checkin.answered_at = "answered", utc_now()
        session.add(checkin)
        session.commit()


def _asks_did_you_do_it(slack: SlackDriver, outcome: Outcome) -> bool:
    seen = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(outcome.id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    return "followed_up" in {b.get("block_id") for b in view["blocks"]}


def test_a_commitment_answered_in_a_check_in_is_not_asked_about_again(slack: SlackDriver) -> None:
    slack.setup()
    _, first = _lose(slack, REP1, "Initrode", practices=["discovery"])
    _reflect(slack, REP1, first, reflection_values("Call the CFO in week one"))
    _, second = _lose(slack, REP1, "Vandelay", practices=["discovery"])

    checkin_id = _checkin_asking_about_the_commitment(slack, REP1)
    assert _asks_did_you_do_it(slack, second)  # asked in the check-in, not answered yet
    _answer_checkin(slack, checkin_id, "   ")
    assert _asks_did_you_do_it(slack, second)  # a blank answer is no answer

    for session in slack.db():
        row = session.exec(select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin_id))
        saved = row.one()
        saved.answer = "Yes — we met on day three."
        session.add(saved)
        session.commit()
    assert not _asks_did_you_do_it(slack, second)


def test_the_check_in_commitment_key_is_the_one_check_ins_use() -> None:
    assert dq.CHECKIN_COMMITMENT_KEY == checkin_domain.COMMITMENT_KEY
