"""0017_shout_out_consent: bounce-back shout-outs queued before reps were asked are never
posted, and the win DM each held back still goes out (the adoption job picks it up)."""

from __future__ import annotations

from sqlalchemy import text

from bot.clock import FakeClock
from bot.uow import UnitOfWork
from bot.usecases import debrief_adoption
from storage import debriefs_queries as dq
from storage import outbox_queries
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import Outcome

AT = "2026-11-30 12:00:00+00:00"


def _win(connection, deal: str) -> int:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO outcomes (team_id, user_id, kind, deal, pipeline_full,"
            " healthy_stage_ratios, discovery, qualification, objection_handling, process_score,"
            " classification, occurred_at, submission_key, bounce_back_losses,"
            " bounce_back_recovery_seconds, rep_dm_pending_since, bounce_back_pending_since,"
            " created_at) VALUES ('T0UP', 'U0REP', 'win', :deal, true, true, true, true, true,"
            " 1.0, 'system-hit', :at, :deal, 2, 86400, :pending, :at, :at)"
        ),
        {"deal": deal, "at": AT, "pending": AT if deal == "Held" else None},
    )
    return int(
        connection.execute(text("SELECT id FROM outcomes WHERE deal = :d"), {"d": deal}).scalar()
    )


def _row(connection, key: str, state: str) -> None:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO outbox (team_id, post_key, kind, target_kind, payload, method,"
            " not_before, attempts, state, created_at) VALUES ('T0UP', :key, 'bounce-back',"
            " 'recognition_channel', '{}', 'chat.postMessage', :at, 0, :state, :at)"
        ),
        {"key": key, "at": AT, "state": state},
    )


def test_unasked_bounce_backs_in_the_outbox_are_called_off_and_their_dms_adopted(
    database_url: str,
) -> None:
    upgrade(database_url, "0016_reflection_due_index")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            held = _win(connection, "Held")  # its shout-out waited for a channel, DM behind it
            posted = _win(connection, "Posted")  # up already: left as it is
            _row(connection, f"debrief:{held}:bounce-back", "pending")
            _row(connection, f"debrief:{posted}:bounce-back", "sent")
        upgrade(database_url)
        session_factory = make_session_factory(engine)
        with session_factory() as session:
            called_off = outbox_queries.get(
                session=session, team_id="T0UP", post_key=f"debrief:{held}:bounce-back"
            )
            assert called_off is not None
            assert (called_off.state, called_off.last_error) == ("failed", "not_asked")
            up = outbox_queries.get(
                session=session, team_id="T0UP", post_key=f"debrief:{posted}:bounce-back"
            )
            assert up is not None and up.state == "sent"
            outcome = session.get(Outcome, held)
            assert outcome is not None and outcome.bounce_back_pending_since is None
            assert (
                outcome.shout_out_taken_back_at is None and outcome.bounce_back_offered_at is None
            )
            # The win's DM no longer waits for a shout-out that will never go.
            waiting = dq.outcomes_pending_without_outbox_rows(session=session, limit=10)
            assert [o.id for o in waiting] == [held]
        with UnitOfWork(session_factory, clock=FakeClock(outcome.occurred_at)) as uow:
            debrief_adoption.adopt_unqueued_debrief_messages(uow)
        with session_factory() as session:
            dm = outbox_queries.get(session=session, team_id="T0UP", post_key=f"debrief:{held}:rep")
            assert dm is not None and dm.state == "pending" and dm.target_id == "U0REP"
            assert "bounce-back" in str(dm.payload) and "tipped my hat" not in str(dm.payload)
    finally:
        engine.dispose()
