"""Check-in scheduling with an injected clock, on SQLite and PostgreSQL, against the stand-in:
time zones and DST, reminders, pauses and skips, the manager's digest, a claim left by a dead
process. No sleeping: the clock moves and the ticker ticks."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.clock import FakeClock
from bot.jobs import checkins as checkin_jobs
from bot.jobs.checkins import REMINDER_BATCH, CheckinJobs
from bot.slack_clients import TeamClients
from bot.usecases import checkin_questions, checkin_schedule, privacy
from storage import checkins_queries as cq
from storage import queries
from storage.db import upgrade
from storage.models import CheckIn, Member
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.slack import SlackDriver

MANAGER = "U0MGR"  # America/Chicago in the stand-in
LONDON = "U0REP1"
LA = "U0REP2"
NEW_YORK = "U0NYREP"
KOLKATA = "U0CFGADMIN"
EXTRA_USERS = (StandInUser(id=NEW_YORK, name="nia", real_name="Nia York", tz="America/New_York"),)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def dm(user_id: str) -> str:
    """The app's DM with the person, where the outbox sends what is for them (the stand-in's
    conversations.open answers D + the user id without its U)."""
    return "D" + user_id[1:]


def checkin_dms(calls: list[RecordedCall], user_id: str) -> list[RecordedCall]:
    return [
        c
        for c in calls
        if c.conversation == dm(user_id)
        and str(c.params.get("text", "")).startswith("Your weekly check-in")
    ]


def texts_to(calls: list[RecordedCall], user_id: str) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.conversation == dm(user_id)]


@pytest.fixture
def world(database_url: str, standin: SlackStandIn) -> Iterator[SlackDriver]:
    """A workspace of its own on the scheduler alone (no server): a test clock, one ticker."""
    for user in EXTRA_USERS:
        standin.add_user(user)
    upgrade(database_url)
    world = SlackDriver(
        standin,
        database_url,
        team_id="T" + uuid.uuid4().hex[:10].upper(),
        clock=FakeClock(utc(2026, 10, 26, 12)),
        settings_overrides={"send_rate_per_second": 500},
    )
    yield world
    world.close()


def team(world: SlackDriver, reps: list[str], **workspace: object) -> None:
    with world.session_factory() as session:
        queries.get_or_create_workspace(session=session, team_id=world.team_id)
        if workspace:
            queries.update_workspace_settings(session=session, team_id=world.team_id, **workspace)
        queries.set_reports(
            session=session, team_id=world.team_id, manager_user_id=MANAGER, report_user_ids=reps
        )
        session.commit()


def checkin_rows(world: SlackDriver, user_id: str) -> list[CheckIn]:
    with world.session_factory() as session:
        statement = select(CheckIn).where(
            CheckIn.team_id == world.team_id, CheckIn.user_id == user_id
        )
        return sorted(session.exec(statement).all(), key=lambda c: c.week_key)


# --- time zones and DST -------------------------------------------------------------------


def test_new_york_rep_gets_friday_2pm_local_across_the_fall_back(world: SlackDriver) -> None:
    team(world, [NEW_YORK])
    # Friday 30 Oct 2026, 14:00 EDT = 18:00 UTC.
    assert checkin_dms(world.tick_at(utc(2026, 10, 30, 17, 59)), NEW_YORK) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 10, 30, 18, 0)), NEW_YORK)) == 1
    assert checkin_dms(world.tick_at(utc(2026, 10, 30, 18, 1)), NEW_YORK) == []
    # Clocks fall back on Sunday 1 Nov: Friday 6 Nov, 14:00 EST = 19:00 UTC.
    assert checkin_dms(world.tick_at(utc(2026, 11, 6, 18, 0)), NEW_YORK) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 11, 6, 19, 0)), NEW_YORK)) == 1
    assert [c.week_key for c in checkin_rows(world, NEW_YORK)] == ["2026-W44", "2026-W45"]


def test_new_york_rep_across_the_spring_forward(world: SlackDriver) -> None:
    world.clock.set(utc(2026, 3, 2, 12))
    team(world, [NEW_YORK])
    # Friday 6 Mar 2026, 14:00 EST = 19:00 UTC; clocks spring forward Sunday 8 Mar.
    assert checkin_dms(world.tick_at(utc(2026, 3, 6, 18, 0)), NEW_YORK) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 3, 6, 19, 0)), NEW_YORK)) == 1
    # Friday 13 Mar, 14:00 EDT = 18:00 UTC.
    assert checkin_dms(world.tick_at(utc(2026, 3, 13, 17, 59)), NEW_YORK) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 3, 13, 18, 0)), NEW_YORK)) == 1


def test_a_check_in_hour_skipped_by_dst_moves_to_the_end_of_the_gap(world: SlackDriver) -> None:
    world.clock.set(utc(2026, 3, 2, 12))
    # Sundays at 02:00: on 8 Mar 2026 New York jumps from 02:00 EST to 03:00 EDT (07:00 UTC).
    team(world, [NEW_YORK], checkin_weekday=6, checkin_hour=2)
    assert checkin_dms(world.tick_at(utc(2026, 3, 8, 6, 59)), NEW_YORK) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 3, 8, 7, 0)), NEW_YORK)) == 1


def test_kolkata_rep_at_half_past_eight_utc(world: SlackDriver) -> None:
    team(world, [KOLKATA])
    # Friday 30 Oct 2026, 14:00 IST (UTC+5:30) = 08:30 UTC.
    assert checkin_dms(world.tick_at(utc(2026, 10, 30, 8, 29)), KOLKATA) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 10, 30, 8, 30)), KOLKATA)) == 1


def test_a_rep_whose_time_zone_changes_follows_it_after_the_weekly_refresh(
    world: SlackDriver, standin: SlackStandIn
) -> None:
    user = StandInUser(id="U0MOVER", name="max", real_name="Max Mover", tz="Europe/London")
    standin.add_user(user)
    team(world, [user.id])
    world.tick_at(utc(2026, 10, 29, 12, 0))  # the time zone is read: London
    # Friday 30 Oct 2026: 14:00 in London is 14:00 UTC (GMT since 25 Oct).
    assert len(checkin_dms(world.tick_at(utc(2026, 10, 30, 14, 0)), user.id)) == 1
    standin.add_user(StandInUser(id=user.id, name="max", real_name="Max Mover", tz="Asia/Tokyo"))
    # A week later Slack says Tokyo: 14:00 JST is 05:00 UTC on Friday 6 Nov.
    world.tick_at(utc(2026, 11, 5, 12, 1))  # a week on, the refresh reads the new zone
    with world.session_factory() as session:
        member = queries.get_member(session=session, team_id=world.team_id, user_id=user.id)
        assert member is not None and member.tz == "Asia/Tokyo"
    assert checkin_dms(world.tick_at(utc(2026, 11, 6, 4, 59)), user.id) == []
    assert len(checkin_dms(world.tick_at(utc(2026, 11, 6, 5, 0)), user.id)) == 1


def test_a_time_zone_refresh_never_brings_back_someone_forgotten_meanwhile(
    world: SlackDriver, standin: SlackStandIn
) -> None:
    user = StandInUser(id="U0GONE", name="gus", real_name="Gus Gone", tz="Europe/London")
    standin.add_user(user)
    team(world, [user.id])
    world.tick_at(utc(2026, 10, 29, 12, 0))  # the time zone is read
    # A week on, the refresh reads Slack again; while Slack answers, the person clicks
    # forget-me (bot.usecases.privacy.forget_member, committed).
    # Every read hangs a little (the manager's is read too, in either order).
    standin.accept_then_hang("users.info", seconds=1.5, times=2)
    seen = len(standin.calls)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            world.tick_at(utc(2026, 11, 5, 12, 1))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    ticking = threading.Thread(target=refresh)
    ticking.start()
    standin.wait_for(
        lambda calls: any(
            c.method == "users.info" and c.params.get("user") == user.id for c in calls[seen:]
        ),
        timeout=10,
    )
    with world.session_factory() as session:
        privacy.forget_member(session=session, team_id=world.team_id, user_id=user.id)
        session.commit()
    ticking.join(timeout=30)
    assert not ticking.is_alive() and errors == []
    with world.session_factory() as session:
        assert queries.get_member(session=session, team_id=world.team_id, user_id=user.id) is None


# --- reminders, skips and pauses ----------------------------------------------------------


def test_one_reminder_after_the_workspace_delay_when_unanswered(world: SlackDriver) -> None:
    team(world, [LONDON, LA], checkin_reminder_hours=24)
    world.tick_at(utc(2026, 10, 30, 14, 0))  # London's check-in
    world.tick_at(utc(2026, 10, 30, 22, 0))  # LA's (14:00 PDT)
    la = checkin_rows(world, LA)[0]
    with world.session_factory() as session:
        checkin = cq.get_checkin(session=session, checkin_id=la.id or 0)
        assert checkin is not None
        checkin_questions.save_checkin_answers(
            session=session,
            checkin=checkin,
            answers={"worked": "Discovery calls"},
            now=world.clock(),
        )
        session.commit()
    assert texts_to(world.tick_at(utc(2026, 10, 31, 13, 59)), LONDON) == []
    reminders = world.tick_at(utc(2026, 10, 31, 14, 0))
    assert [t for t in texts_to(reminders, LONDON) if "nudge" in t] != []
    assert len(texts_to(reminders, LONDON)) == 1
    later = world.tick_at(utc(2026, 10, 31, 23, 0)) + world.tick_at(utc(2026, 11, 1, 2, 0))
    assert texts_to(later, LONDON) == []
    assert texts_to(later, LA) == []  # answered: no reminder
    assert checkin_rows(world, LONDON)[0].reminder_sent_at is not None


def test_skipping_this_week_stops_the_reminder(world: SlackDriver) -> None:
    team(world, [LONDON])
    world.tick_at(utc(2026, 10, 30, 14, 0))
    row = checkin_rows(world, LONDON)[0]
    with world.session_factory() as session:
        assert cq.skip_checkin(session=session, checkin_id=row.id or 0)
        session.commit()
    assert texts_to(world.tick_at(utc(2026, 10, 31, 14, 0)), LONDON) == []
    # Next week comes as usual.
    assert len(checkin_dms(world.tick_at(utc(2026, 11, 6, 14, 0)), LONDON)) == 1


def test_a_pause_stops_check_ins_until_it_ends_and_resume_ends_it_early(world: SlackDriver) -> None:
    team(world, [LONDON, LA])
    world.tick_at(utc(2026, 10, 28, 9, 0))  # read the time zones
    start = utc(2026, 10, 28, 10, 0)
    with world.session_factory() as session:
        checkin_schedule.pause(
            session=session,
            team_id=world.team_id,
            user_id=LONDON,
            until=checkin_schedule.parse_pause("2w", start, "Europe/London"),
        )
        checkin_schedule.pause(
            session=session,
            team_id=world.team_id,
            user_id=LA,
            until=checkin_schedule.parse_pause("until 2026-12-01", start, "America/Los_Angeles"),
        )
        session.commit()
    assert checkin_dms(world.tick_at(utc(2026, 10, 30, 14, 0)), LONDON) == []
    assert checkin_dms(world.tick_at(utc(2026, 11, 6, 14, 0)), LONDON) == []
    # The pause ends on Wednesday 11 Nov; Friday 13 Nov comes again.
    assert len(checkin_dms(world.tick_at(utc(2026, 11, 13, 14, 0)), LONDON)) == 1
    assert [c.status for c in checkin_rows(world, LONDON)][:2] == ["skipped", "skipped"]
    # LA is paused until 1 Dec, but resumes early.
    assert checkin_dms(world.tick_at(utc(2026, 11, 13, 22, 0)), LA) == []
    with world.session_factory() as session:
        checkin_schedule.resume(
            session=session, team_id=world.team_id, user_id=LA, now=world.clock()
        )
        session.commit()
    assert len(checkin_dms(world.tick_at(utc(2026, 11, 20, 22, 0)), LA)) == 1


def test_reminders_keep_coming_behind_more_old_unanswered_check_ins_than_a_batch(
    world: SlackDriver,
) -> None:
    team(world, [LONDON])
    old = world.clock() - timedelta(days=10)
    stale = [
        {
            "team_id": world.team_id,
            "user_id": f"U0STALE{i:04d}",
            "week_key": "2026-W42",
            "due_at": old,
            "status": "sent",
            "sent_at": old,
        }
        for i in range(REMINDER_BATCH + 5)
    ]
    with world.session_factory() as session:
        assert cq.insert_checkins_if_absent(session=session, rows=stale) == len(stale)
        session.commit()
    world.tick_at(utc(2026, 10, 30, 14, 0))  # London's check-in is sent
    reminders = world.tick_at(utc(2026, 10, 31, 14, 0))
    assert [t for t in texts_to(reminders, LONDON) if "nudge" in t] != []
    # The old ones are past their window: never reminded, days late.
    assert [c for c in reminders if str(c.conversation).startswith(dm("U0STALE"))] == []


def test_failing_time_zone_reads_wait_their_turn_instead_of_starving_others(
    world: SlackDriver, standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkin_jobs, "TZ_REFRESH_BATCH", 2)
    people = [f"U0TZ{world.team_id[-4:]}{n}" for n in "ABC"]
    for user_id in people:
        standin.add_user(StandInUser(id=user_id, name=user_id.lower(), real_name=user_id))
        with world.session_factory() as session:  # one by one: ids in this order
            queries.upsert_member(session=session, team_id=world.team_id, user_id=user_id)
            session.commit()
    # The first two reads fail for good (429 after 429, past all retries: the app's client
    # tries each read 4 times, bot.app.make_web_client); nothing else does.
    standin.fail_next("users.info", status=429, retry_after=0, times=8)
    world.tick_at(utc(2026, 10, 28, 9, 0))
    assert [_tz_read_at(world, p) for p in people] == [None, None, None]
    world.tick_at(utc(2026, 10, 28, 9, 1))  # the third is read now, not the failing two again
    assert [_tz_read_at(world, p) is None for p in people] == [True, True, False]
    world.tick_at(utc(2026, 10, 28, 9, 30))  # the failed ones come back after a while
    assert all(_tz_read_at(world, p) is not None for p in people)


def _tz_read_at(world: SlackDriver, user_id: str) -> datetime | None:
    with world.session_factory() as session:
        member = queries.get_member(session=session, team_id=world.team_id, user_id=user_id)
        assert member is not None
        return member.tz_refreshed_at


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_slack_leaves_the_zone_unread_and_no_check_in_at_utc(
    world: SlackDriver, standin: SlackStandIn
) -> None:
    tokyo = f"U0TYO{world.team_id[-4:]}"
    standin.add_user(StandInUser(id=tokyo, name="yuki", real_name="Yuki", tz="Asia/Tokyo"))
    team(world, [tokyo])
    unreachable = WebClient(
        token=standin.bot_token, base_url=f"http://127.0.0.1:{_closed_port()}/api/"
    )
    jobs = CheckinJobs(world.deps(), TeamClients(unreachable), worker="test")
    jobs.refresh_timezones(utc(2026, 10, 29, 12, 0))  # a connection error, not a Slack error
    assert _tz_read_at(world, tokyo) is None
    jobs.plan(utc(2026, 10, 30, 14, 0))  # 14:00 UTC: the guessed zone's check-in time
    assert checkin_rows(world, tokyo) == []
    # Slack reachable again: Tokyo's zone is read, and Friday's check-in is Tokyo's 14:00.
    assert len(checkin_dms(world.tick_at(utc(2026, 10, 30, 14, 1)), tokyo)) == 1
    [row] = checkin_rows(world, tokyo)
    assert row.due_at == utc(2026, 10, 30, 5, 0)


def test_gets_checkins_says_who_gets_them(world: SlackDriver) -> None:
    team(world, [LONDON])
    with world.session_factory() as session:
        assert checkin_schedule.gets_checkins(
            session=session, team_id=world.team_id, user_id=LONDON
        )
        assert not checkin_schedule.gets_checkins(
            session=session, team_id=world.team_id, user_id=MANAGER
        )
        assert not checkin_schedule.gets_checkins(
            session=session, team_id=world.team_id, user_id="U0NOBODY"
        )


def test_managers_who_report_to_nobody_and_bots_get_no_check_in(world: SlackDriver) -> None:
    team(world, [LONDON])
    with world.session_factory() as session:
        queries.upsert_member(session=session, team_id=world.team_id, user_id="U0REBOUNDBOT")
        session.commit()
    calls = world.tick_at(utc(2026, 10, 30, 14, 0)) + world.tick_at(utc(2026, 10, 30, 21, 0))
    assert checkin_dms(calls, MANAGER) == []
    assert checkin_dms(calls, "U0REBOUNDBOT") == []
    with world.session_factory() as session:
        bot = queries.get_member(session=session, team_id=world.team_id, user_id="U0REBOUNDBOT")
        assert isinstance(bot, Member) and bot.is_bot


# --- the digest ---------------------------------------------------------------------------


def _answer(world: SlackDriver, user_id: str, week_index: int, answers: dict[str, str]) -> None:
    row = checkin_rows(world, user_id)[week_index]
    with world.session_factory() as session:
        checkin = cq.get_checkin(session=session, checkin_id=row.id or 0)
        assert checkin is not None
        checkin_questions.save_checkin_answers(
            session=session, checkin=checkin, answers=answers, now=world.clock()
        )
        session.commit()


def first_text_question(world: SlackDriver, user_id: str, week_index: int) -> str:
    row = checkin_rows(world, user_id)[week_index]
    return next(q["key"] for q in row.questions if q["kind"] == "text")


def test_manager_digest_once_a_week_with_rate_drops_and_who_is_missing(world: SlackDriver) -> None:
    team(world, [LONDON, LA])
    world.tick_at(utc(2026, 10, 23, 14, 0))
    world.tick_at(utc(2026, 10, 23, 21, 0))
    _answer(world, LONDON, 0, {"rating_discovery": "4", "rating_pipeline_full": "3"})
    world.tick_at(utc(2026, 10, 30, 14, 0))
    world.tick_at(utc(2026, 10, 30, 21, 0))
    _answer(
        world,
        LONDON,
        1,
        {
            first_text_question(world, LONDON, 1): "Asked for the meeting earlier",
            "rating_discovery": "2",
            "rating_pipeline_full": "4",
        },
    )
    # Chicago (CDT): Saturday 31 Oct 14:00 = 19:00 UTC.
    assert texts_to(world.tick_at(utc(2026, 10, 31, 18, 59)), MANAGER) == []
    digest = texts_to(world.tick_at(utc(2026, 10, 31, 19, 0)), MANAGER)
    assert digest == ["Team check-ins for week of 26 Oct: 1 of 2 answered."]
    assert texts_to(world.tick_at(utc(2026, 10, 31, 20, 0)), MANAGER) == []
    sent = [
        c
        for c in world.standin.calls_to("chat.postMessage")
        if c.conversation == dm(MANAGER) and "week of 26 Oct" in str(c.params.get("text"))
    ][-1]
    body = str(sent.params["blocks"])
    assert "1 of 2 answered (50%)" in body
    assert f"Not answered yet: <@{LA}>" in body
    assert "Discovery was on point 4 → 2" in body
    assert "Asked for the meeting earlier" in body
    assert "Kept the pipeline full 3 → 4" not in body
    # Issue 12: beside the answers, the button a manager replies with, naming the check-in.
    answered = checkin_rows(world, LONDON)[1]
    reply = [
        block["accessory"]
        for block in sent.params["blocks"]
        if block.get("accessory", {}).get("action_id") == "checkin_reply_open"
    ]
    assert reply == [
        {
            "type": "button",
            "action_id": "checkin_reply_open",
            "text": {"type": "plain_text", "text": "Reply"},
            "value": str(answered.id),
        }
    ]


def test_a_claim_left_by_a_dead_process_is_sent_by_another_after_the_lease(
    world: SlackDriver,
) -> None:
    team(world, [LONDON])
    world.tick_at(utc(2026, 10, 30, 13, 0))  # read the time zone
    friday = utc(2026, 10, 30, 14, 0)
    with world.session_factory() as session:
        assert checkin_schedule.plan_due_checkins(session=session, now=friday) >= 1
        claimed = cq.claim_due_checkins(
            session=session,
            now=friday,
            lease=timedelta(minutes=5),
            claimed_by="dead-process",
            limit=1000,
        )
        session.commit()
    assert LONDON in {c.user_id for c in claimed if c.team_id == world.team_id}
    # The claimer died before sending. Within its lease nobody else sends it...
    assert checkin_dms(world.tick_at(friday + timedelta(minutes=4)), LONDON) == []
    # ...after it, another process takes the check-in over and sends it, once.
    assert len(checkin_dms(world.tick_at(friday + timedelta(minutes=6)), LONDON)) == 1
    assert checkin_dms(world.tick_at(friday + timedelta(minutes=12)), LONDON) == []
    [row] = checkin_rows(world, LONDON)
    assert row.status == "sent" and row.claimed_by != "dead-process"
