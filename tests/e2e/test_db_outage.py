"""A database outage while someone submits a modal: a clear error in the modal, nothing lost,
and the same submission works once the database is back (PostgreSQL: a real refused server)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from storage.db import make_engine
from storage.models import CheckInAnswer, Goal, Outcome
from testkit.live import LiveApp, allow_postgres_connections, live_app
from testkit.simulator import state_value
from testkit.standin import SlackStandIn
from tests.support.databases import fresh_database, postgres_admin_url
from tests.support.factories import goal_values, lost_values
from tests.support.standin_waits import first_call_since

REP = "U0REP1"


def _lost(view: dict[str, Any]) -> dict[str, Any]:
    return lost_values("Outage deal")


def _goal(view: dict[str, Any]) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return goal_values(
        start=(today - timedelta(days=5)).isoformat(), end=(today + timedelta(days=30)).isoformat()
    )


def _checkin(view: dict[str, Any]) -> dict[str, Any]:
    first = next(
        b["block_id"]
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
    )
    return {first: {"answer": state_value("plain_text_input", "Asked for the next step")}}


@pytest.mark.parametrize(
    ("command", "text", "values_for", "saved_rows"),
    [
        ("/lost", "Outage deal", _lost, Outcome),
        ("/goal", "", _goal, Goal),
        ("/checkin", "", _checkin, CheckInAnswer),
    ],
)
def test_a_modal_submitted_during_an_outage_stays_open_and_saves_once_the_db_is_back(
    standin: SlackStandIn,
    tmp_path: Path,
    command: str,
    text: str,
    values_for: Callable[[dict[str, Any]], dict[str, Any]],
    saved_rows: type,
) -> None:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured")
    with fresh_database("postgresql", tmp_path) as url, live_app(standin, url, tmp_path) as app:
        database = make_url(url).database
        assert database
        sender = app.sender()
        seen = len(standin.calls)
        assert sender.slash_command(command, text, user_id=REP).status == 200
        view = first_call_since(standin, seen, "views.open").response["view"]
        values = values_for(view)

        allow_postgres_connections(admin_url, database, allowed=False)
        try:
            reply = sender.view_submission(view, user_id=REP, values=values)
        finally:
            allow_postgres_connections(admin_url, database, allowed=True)
        # The modal stays open with a clear, specific message; nothing typed is lost.
        assert reply.status == 200, reply.body
        body = reply.json()
        assert body["response_action"] == "errors", body
        message = " ".join(body["errors"].values()).lower()
        assert "couldn't save just now" in message and "try" in message, body
        assert "traceback" not in reply.body.lower()

        # The database is back: the very same submission now saves, once.
        reply = sender.view_submission(view, user_id=REP, values=values)
        assert reply.status == 200
        assert not reply.body.strip() or reply.json().get("response_action") != "errors"
        engine = make_engine(url)
        with Session(engine) as session:
            rows = session.execute(select(saved_rows)).all()
        engine.dispose()
        assert len(rows) == 1


# --- every slash command during an outage: acked in time, and the person is told ------------

# A slash command must be answered "within 3000 milliseconds", or the person sees an error
# (https://docs.slack.dev/interactivity/implementing-slash-commands, "Responding to commands").
SLACK_ACK_SECONDS = 3.0


@pytest.fixture(scope="module")
def outage_app(
    standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveApp, str, str]]:
    """One app on a PostgreSQL database of its own: (app, admin URL, database name)."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured")
    folder = tmp_path_factory.mktemp("outage")
    with fresh_database("postgresql", folder) as url, live_app(standin, url, folder) as app:
        database = make_url(url).database
        assert database
        yield app, admin_url, database


@pytest.mark.parametrize(
    ("command", "text", "user_id"),
    [
        ("/kudos", "", "U0MGR"),
        ("/kudos", "@priya #teamwork Covered my demo", "U0MGR"),  # typed as people type
        ("/checkin", "", REP),
        ("/checkin", "pause 2w", REP),
        ("/checkin", "resume", REP),
        ("/goal", "", REP),
        ("/rebound", "lessons", REP),
        ("/rebound", "report", "U0MGR"),
        ("/rebound", "export", REP),
        ("/rebound", "settings", "U0ADMIN"),
    ],
)
def test_a_command_during_an_outage_is_acked_in_time_and_the_person_is_told(
    outage_app: tuple[LiveApp, str, str],
    standin: SlackStandIn,
    command: str,
    text: str,
    user_id: str,
) -> None:
    app, admin_url, database = outage_app
    sender = app.sender()
    fields = sender.slash_command_fields(command, text, user_id=user_id)
    allow_postgres_connections(admin_url, database, allowed=False)
    try:
        started = time.monotonic()
        reply = sender.post_form(fields)
        took = time.monotonic() - started
        # Slack has its 200 in time (not a 404 "unhandled request" after 3 seconds)...
        assert reply.status == 200, (reply.status, reply.body, app.logs())
        assert took < SLACK_ACK_SECONDS, took
        # ...and the person is told, privately, where they typed.
        answers = standin.wait_for_responses(fields["response_url"], timeout=15)
    finally:
        allow_postgres_connections(admin_url, database, allowed=True)
    assert len(answers) == 1, answers
    assert answers[0]["response_type"] == "ephemeral"
    words = answers[0]["text"]
    assert f"couldn't finish `{command}` just now" in words and "try again in a minute" in words
    assert "traceback" not in words.lower() and "operationalerror" not in words.lower()


@pytest.mark.parametrize(
    ("command", "text"),
    [("/lost", "Globex"), ("/won", "Initech"), ("/rebound", "help"), ("/rebound", "forget-me")],
)
def test_commands_that_need_no_database_still_answer_during_an_outage(
    outage_app: tuple[LiveApp, str, str], standin: SlackStandIn, command: str, text: str
) -> None:
    app, admin_url, database = outage_app
    sender = app.sender()
    fields = sender.slash_command_fields(command, text, user_id=REP)
    seen = len(standin.calls)
    allow_postgres_connections(admin_url, database, allowed=False)
    try:
        started = time.monotonic()
        reply = sender.post_form(fields)
        assert reply.status == 200 and time.monotonic() - started < SLACK_ACK_SECONDS
        if reply.body.strip():  # answered in the ack itself (help)
            assert reply.json()["text"]
        else:  # a modal, or an ephemeral confirmation
            standin.wait_for(
                lambda calls: any(
                    c.ok and c.method in ("views.open", "chat.postEphemeral") for c in calls[seen:]
                ),
                timeout=10,
            )
    finally:
        allow_postgres_connections(admin_url, database, allowed=True)
    assert standin.responses_to(fields["response_url"], ok_only=False) == []


def test_a_button_click_during_an_outage_gets_an_apology_through_its_response_url(
    outage_app: tuple[LiveApp, str, str], standin: SlackStandIn
) -> None:
    from bot.blocks.checkins import SKIP_ACTION_ID

    app, admin_url, database = outage_app
    sender = app.sender()
    click_url = sender.new_response_url("actions")
    allow_postgres_connections(admin_url, database, allowed=False)
    try:
        sender.block_actions(
            user_id=REP,
            actions=[{"action_id": SKIP_ACTION_ID, "value": "1"}],
            message={"ts": "1700000000.000300", "text": "Your weekly check-in"},
            channel_id="D0REP1",
            response_url=click_url,
        )
        answers = standin.wait_for_responses(click_url, timeout=15)
    finally:
        allow_postgres_connections(admin_url, database, allowed=True)
    assert len(answers) == 1 and answers[0]["response_type"] == "ephemeral"
    assert answers[0]["replace_original"] is False  # the check-in DM itself stays as it was
    assert "couldn't finish that just now" in answers[0]["text"]
    assert "try again in a minute" in answers[0]["text"]


def test_agreeing_with_a_reps_score_during_an_outage_says_nothing_was_saved(
    outage_app: tuple[LiveApp, str, str], standin: SlackStandIn
) -> None:
    from bot.blocks.debriefs import CALIBRATE_AGREE_ACTION_ID

    app, admin_url, database = outage_app
    sender = app.sender()
    seen = len(standin.calls)
    allow_postgres_connections(admin_url, database, allowed=False)
    try:
        sender.block_actions(
            user_id="U0MGR",
            actions=[{"action_id": CALIBRATE_AGREE_ACTION_ID, "value": "1"}],
            message={"ts": "1700000000.000400", "text": "Leo lost a deal"},
            channel_id="D0MGR",
            response_url=sender.new_response_url("actions"),
        )
        calls = standin.wait_for(
            lambda calls: any(
                c.method == "chat.postEphemeral" and c.params.get("user") == "U0MGR"
                for c in calls[seen:]
            ),
            timeout=15,
        )
    finally:
        allow_postgres_connections(admin_url, database, allowed=True)
    reply = [c for c in calls[seen:] if c.method == "chat.postEphemeral"][0]
    assert reply.conversation == "D0MGR"
    assert "Couldn't save your agreement just now" in reply.params["text"]
