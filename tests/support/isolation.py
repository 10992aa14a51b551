"""What the two-workspace isolation tests share (tests/e2e/test_oauth_isolation*.py): Alpha and
Beta on one app in OAuth mode (the `two` fixture, one app per test module), the checks on
whose token a call used, and seeding and reading each workspace's rows.

Every check is made on what can differ: the database rows of each workspace, and the calls the
stand-in received, including which workspace's token each call used. Where a check looks for
the absence of something, a control shows the same request does find it in its own workspace.
The tests share the module's two workspaces, so each uses people (user ids) of its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from bot.usecases.goals import local_today
from storage.models import (
    Outcome,
)
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.databases import BACKENDS
from tests.support.slack import (
    TZ,
    SlackDriver,
    oauth_driver,
    team_of,
)

ADMIN = "U0ADMIN"  # a Slack workspace admin; the stand-in's people are in both workspaces


# --- the two workspaces ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def two(
    request: pytest.FixtureRequest, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SlackDriver]:
    folder: Path = tmp_path_factory.mktemp(f"isolation-{request.param}")
    with oauth_driver(standin, request.param, folder, wait_timeout=15) as driver:
        yield driver


# --- small helpers ---------------------------------------------------------------------------


def assert_all_with_token_of(team_id: str, calls: list[RecordedCall]) -> None:
    assert calls, "no Slack calls were made"
    assert {(c.method, team_of(c)) for c in calls} == {(c.method, team_id) for c in calls}


def text_of(call: RecordedCall) -> str:
    return json.dumps(call.params, ensure_ascii=False)


def add_outcome(
    session: Session,
    team_id: str,
    user_id: str,
    kind: str,
    *,
    deal: str,
    reason: str | None = None,
    classification: str | None = None,
    at: datetime | None = None,
) -> int:
    outcome = Outcome(
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        deal=deal,
        amount=1000.0,
        reason=reason,
        process_score=1.0 if classification == "perfect-miss" else 0.4,
        classification=classification or ("system-hit" if kind == "win" else "system-miss"),
        occurred_at=at or datetime.now(UTC) - timedelta(minutes=5),
        submission_key=uuid.uuid4().hex,
        reflection_requested_at=datetime.now(UTC) if kind == "loss" else None,
    )
    session.add(outcome)
    session.flush()
    assert outcome.id is not None
    return outcome.id


def goal_values(*, metric: str, target: str, today: datetime) -> dict[str, dict[str, Any]]:
    start, end = today.date() - timedelta(days=30), today.date() + timedelta(days=30)
    return {
        "metric": {"value": state_value("static_select", metric)},
        "custom_metric": {"value": state_value("plain_text_input", None)},
        "target": {"value": state_value("number_input", target)},
        "cycle_start": {"value": state_value("datepicker", start.isoformat())},
        "cycle_end": {"value": state_value("datepicker", end.isoformat())},
        "why": {"value": state_value("plain_text_input", "Take the team out")},
    }


def london_today() -> datetime:
    today = local_today(datetime.now(UTC), TZ)
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def first_text_question(view: dict[str, Any]) -> str:
    return next(
        b["block_id"]
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
    )


def checkin_values(view: dict[str, Any], answer: str) -> dict[str, dict[str, Any]]:
    return {first_text_question(view): {"answer": state_value("plain_text_input", answer)}}
