"""Three app processes tick at the same instant on one PostgreSQL, against a stand-in that
answers some 429s and 5xx and rate-limits chat.postMessage: every rep gets exactly one check-in.

`FOR UPDATE SKIP LOCKED` compiles to nothing on SQLite, so this runs on PostgreSQL only."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from storage import queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import CheckIn
from testkit.live import app_env, run_ticks
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.databases import fresh_database

TEAM_ID = "T0MULTI"
MANAGER = "U0MPMGR"
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Berlin")
# Friday 27 Nov 2026, 23:00 UTC: after 14:00 local, on the same day, in each zone above.
AT = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
REPS = [f"U0MP{i:03d}" for i in range(40)]
ROOT = Path(__file__).resolve().parents[2]


def _delivered(calls: list[RecordedCall]) -> Counter[str]:
    return Counter(
        str(c.conversation)
        for c in calls
        if c.method == "chat.postMessage"
        and c.ok
        and str(c.params.get("text", "")).startswith("Your weekly check-in")
    )


def test_three_processes_send_each_check_in_exactly_once(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    standin.add_user(StandInUser(id=MANAGER, name="mp", real_name="Multi Manager", tz="UTC"))
    for index, user_id in enumerate(REPS):
        standin.add_user(
            StandInUser(id=user_id, name=user_id.lower(), real_name=user_id, tz=ZONES[index % 4])
        )
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        session_factory = make_session_factory(engine)
        with session_factory() as session:
            queries.set_reports(
                session=session, team_id=TEAM_ID, manager_user_id=MANAGER, report_user_ids=REPS
            )
            for index, user_id in enumerate(REPS):
                queries.upsert_member(
                    session=session,
                    team_id=TEAM_ID,
                    user_id=user_id,
                    tz=ZONES[index % 4],
                    tz_refreshed_at=AT - timedelta(days=1),
                )
            queries.upsert_member(
                session=session, team_id=TEAM_ID, user_id=MANAGER, tz_refreshed_at=AT
            )
            session.commit()

        seen = len(standin.calls)
        standin.fail_next("chat.postMessage", status=429, retry_after=1, times=3)
        standin.fail_next("chat.postMessage", status=503, times=2)
        standin.fail_next("chat.postMessage", status=502, times=1)
        standin.rate_limit("chat.postMessage", 20)
        env = app_env(standin, url, "0123456789abcdef") | {"REBOUND_SEND_RATE": "20"}
        # A post answered 5xx may be in Slack: the outbox looks in the DM's history before
        # sending it again (bot.dispatcher), no sooner than 30 s after, one read a minute per
        # workspace and process (Slack's limit). So, as under cron, `rebound tick` runs again
        # in the minutes after (three processes each time) until those are settled.
        for minutes in range(6):
            at = AT + timedelta(minutes=minutes)
            ticks = run_ticks(env | {"PYTHONPATH": str(ROOT)}, at, tmp_path, count=3)
            assert [code for code, _ in ticks] == [0, 0, 0], [output for _, output in ticks]
            if len(_delivered(standin.calls[seen:])) == len(REPS):
                break

        calls = standin.calls[seen:]
        posts = [c for c in calls if c.method == "chat.postMessage"]
        delivered = _delivered(calls)
        # The outbox sends to each rep's DM, which the stand-in names D + the id without U.
        assert delivered == Counter({"D" + rep[1:]: 1 for rep in REPS})
        errors = Counter(c.error for c in posts if not c.ok)
        assert errors["ratelimited"] >= 3 and errors["fatal_error"] == 3
        with session_factory() as session:
            rows = session.exec(select(CheckIn).where(CheckIn.team_id == TEAM_ID)).all()
            assert sorted(r.user_id for r in rows) == sorted(REPS)
            assert {r.status for r in rows} == {"sent"}
            # Which process sent which check-in is up to timing (one may take them all), so
            # only exactly-once is asserted, not how the work was shared.
        engine.dispose()
