"""0026 on SQLite: the tables whose ids post keys name are rebuilt with AUTOINCREMENT, keeping
their rows and their children's, and a new row's id is above every id used before (also one
whose row is gone but whose post key is still in the outbox)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from storage.db import make_engine, upgrade
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Kudos,
    KudosRecipient,
    OneOnOneItem,
    OutboxMessage,
    Outcome,
    Reflection,
)

# Any instant: nothing here depends on the calendar.
AT = datetime(2026, 11, 27, 12, tzinfo=UTC)
TEAM = "T0AUTOINC"


def _outcome(n: int) -> Outcome:
    return Outcome(
        team_id=TEAM,
        user_id="U0LEO",
        kind="loss",
        deal=f"Deal {n}",
        process_score=0.5,
        classification="system-miss",
        occurred_at=AT,
        submission_key=f"sub-{n}",
    )


def _seed_at_0025(url: str) -> dict[str, int]:
    """Rows as 0025 kept them; the newest outcome was removed, its sent DM's key remains."""
    upgrade(url, "0025_crm_claims")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            outcomes = [_outcome(n) for n in range(3)]
            session.add_all(outcomes)
            kudos = Kudos(team_id=TEAM, giver_user_id="U0MGR", category="win", message="Nice")
            checkin = CheckIn(team_id=TEAM, user_id="U0LEO", week_key="2026-W48", due_at=AT)
            session.add_all([kudos, checkin])
            session.flush()
            session.add_all(
                [
                    Reflection(
                        team_id=TEAM,
                        user_id="U0LEO",
                        outcome_id=outcomes[0].id,
                        question_key="q1",
                        question="What went well?",
                        answer="Discovery",
                    ),
                    KudosRecipient(team_id=TEAM, kudos_id=kudos.id, user_id="U0LEO"),
                    CheckInAnswer(
                        team_id=TEAM, checkin_id=checkin.id, question_key="q", question="How?"
                    ),
                    OneOnOneItem(
                        team_id=TEAM,
                        manager_user_id="U0MGR",
                        rep_user_id="U0LEO",
                        checkin_id=checkin.id,
                        question="How?",
                        answer="Fine",
                        reply="Talk Monday",
                        submission_key="item-1",
                    ),
                    OutboxMessage(
                        team_id=TEAM,
                        post_key=f"debrief:{outcomes[2].id}:rep",
                        kind="debrief-rep",
                        not_before=AT,
                        created_at=AT,
                        state="sent",
                    ),
                ]
            )
            session.commit()
            removed = outcomes[2].id
            assert removed is not None
            session.delete(outcomes[2])
            session.commit()
            return {"removed_outcome": removed, "kudos": kudos.id or 0, "checkin": checkin.id or 0}
    finally:
        engine.dispose()


def test_upgrade_keeps_rows_and_never_hands_out_a_used_id(sqlite_url: str) -> None:
    seeded = _seed_at_0025(sqlite_url)

    upgrade(sqlite_url)

    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            for table in ("outcomes", "kudos", "checkins", "one_on_one_items"):
                sql = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE type='table' AND name=:t"),
                    {"t": table},
                ).scalar_one()
                assert "AUTOINCREMENT" in sql, table
        with Session(engine) as session:
            deals = session.exec(select(Outcome.deal).order_by(col(Outcome.id))).all()
            assert deals == ["Deal 0", "Deal 1"]
            # The children survive the rebuild of their parents (whose DROP TABLE cascades).
            assert [r.answer for r in session.exec(select(Reflection)).all()] == ["Discovery"]
            assert len(session.exec(select(KudosRecipient)).all()) == 1
            assert len(session.exec(select(CheckInAnswer)).all()) == 1
            assert [i.reply for i in session.exec(select(OneOnOneItem)).all()] == ["Talk Monday"]

            fresh = _outcome(9)
            kudos = Kudos(team_id=TEAM, giver_user_id="U0MGR", category="win", message="Again")
            checkin = CheckIn(team_id=TEAM, user_id="U0LEO", week_key="2026-W49", due_at=AT)
            session.add_all([fresh, kudos, checkin])
            session.commit()
            # Above the removed outcome's id: its post key "debrief:<id>:rep" is still taken.
            assert fresh.id is not None and fresh.id > seeded["removed_outcome"]
            assert kudos.id is not None and kudos.id > seeded["kudos"]
            assert checkin.id is not None and checkin.id > seeded["checkin"]

            # ... and a row deleted now never gives its id back either.
            taken = fresh.id
            session.delete(fresh)
            session.commit()
            again = _outcome(10)
            session.add(again)
            session.commit()
            assert again.id is not None and again.id > taken
    finally:
        engine.dispose()
