"""Data rights without HTTP: the pure builders, the retention field of the settings modal,
CSV safety, and the use cases against both databases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.blocks.privacy import (
    FORGET_ME_CONFIRM_ACTION_ID,
    export_comment,
    forget_me_confirmation,
    forgotten_message,
)
from bot.blocks.settings import parse_settings_submission, settings_modal, settings_saved_message
from bot.usecases import privacy
from storage import outbox_queries
from storage.db import make_session_factory
from storage.models import OutboxMessage, Outcome, Reflection, Workspace
from testkit.simulator import state_value
from tests.support.factories import seed_kudos, seed_person
from tests.support.migrated_engine import engine
from tests.support.settings_form import current_settings, settings_form

__all__ = ["engine"]  # the fixture (tests/support/migrated_engine.py)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)

# --- builders ----------------------------------------------------------------------------------


def test_the_confirmation_has_a_danger_button_naming_only_who_it_was_shown_to() -> None:
    message = forget_me_confirmation("U123")
    actions = message["blocks"][1]
    delete, keep = actions["elements"]
    assert delete["action_id"] == FORGET_ME_CONFIRM_ACTION_ID
    assert delete["style"] == "danger" and delete["value"] == "U123"
    assert delete["confirm"]["style"] == "danger"
    assert keep["text"]["text"] == "Keep my data" and "style" not in keep


def test_the_deleted_message_lists_what_went_and_says_when_nothing_did() -> None:
    text = forgotten_message({"profile": 1, "outcomes": 3, "goals": 0})["text"]
    assert "outcomes: 3" in text and "profile: 1" in text and "goals" not in text
    assert "nothing of yours" in forgotten_message({"profile": 0, "outcomes": 0})["text"]


def test_the_export_comment_says_whose_data_it_is() -> None:
    mine = export_comment(workspace=False, filenames=["rebound-export.json", "goals.csv"])
    assert "goals.csv" in mine and "forget-me" in mine
    assert "not in it" in export_comment(workspace=True, filenames=["rebound-export.json"])


def _values(retention: Any = None, *, with_block: bool = True) -> dict[str, Any]:
    if not with_block:
        return settings_form()
    return settings_form(reflection_retention={"value": state_value("number_input", retention)})


@pytest.mark.parametrize(
    ("raw", "expected"), [("30", 30), (" 7 ", 7), ("3650", 3650), (None, None), ("", None)]
)
def test_retention_days_parse(raw: str | None, expected: int | None) -> None:
    submission, errors = parse_settings_submission(_values(raw))
    assert errors == {} and submission is not None
    assert submission.retention_submitted is True
    assert submission.reflection_retention_days == expected


@pytest.mark.parametrize("raw", ["0", "-3", "2.5", "abc", "   ", "3651"])
def test_bad_retention_is_a_field_error(raw: str) -> None:
    submission, errors = parse_settings_submission(_values(raw))
    assert submission is None and "whole number of days" in errors["reflection_retention"]


def test_a_submission_without_the_retention_field_leaves_it_unchanged() -> None:
    submission, _ = parse_settings_submission(_values(with_block=False))
    assert submission is not None and submission.retention_submitted is False


def test_the_modal_shows_the_current_retention() -> None:
    current = current_settings(reflection_retention_days=90)
    blocks = {b.get("block_id"): b for b in settings_modal(current)["blocks"]}
    element = blocks["reflection_retention"]["element"]
    assert element["initial_value"] == "90" and element["is_decimal_allowed"] is False


def test_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    outcome = Outcome(
        team_id="T",
        user_id="U",
        kind="loss",
        deal='=HYPERLINK("http://x")',
        amount=-5.0,
        process_score=0.2,
        classification="system-miss",
        occurred_at=NOW,
        submission_key="k",
    )
    rows = list(csv.DictReader(io.StringIO(privacy.csv_bytes([outcome]).decode())))
    assert rows[0]["deal"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["amount"] == "-5.0"  # numbers stay numbers
    assert rows[0]["occurred_at"] == NOW.isoformat()


# --- use cases on both databases -----------------------------------------------------------------


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as session:
        yield session


def test_forget_member_takes_only_that_persons_rows(session: Session) -> None:
    seed_person(session, "T1", "UA", "a", at=NOW)
    seed_person(session, "T1", "UB", "b", at=NOW)
    seed_person(session, "T2", "UA", "a2", at=NOW)
    shared = seed_kudos(session, "T1", "UB", ["UA", "UC"], "for two")
    seed_kudos(session, "T1", "UA", ["UB", "UC"], "from A")
    session.commit()

    counts = privacy.forget_member(session=session, team_id="T1", user_id="UA")
    session.commit()
    assert counts == {
        "profile": 1,
        "reflections": 1,
        "outcomes": 1,
        "one-on-one agenda items": 0,
        "check-in answers": 1,
        "check-ins": 1,
        "goals": 1,
        "kudos given": 1,
        "kudos received": 1,
    }
    export_b = privacy.personal_export(session=session, team_id="T1", user_id="UB", now=NOW)
    document_b = json.loads(export_b[0].content)
    assert len(document_b["outcomes"]) == 1 and document_b["kudos_given"][0]["id"] == shared
    assert document_b["kudos_given"][0]["recipients"] == ["UC"]
    assert (
        json.loads(
            privacy.personal_export(session=session, team_id="T2", user_id="UA", now=NOW)[0].content
        )["profile"]["user_id"]
        == "UA"
    )
    again = privacy.forget_member(session=session, team_id="T1", user_id="UA")
    assert not any(again.values())


def test_retention_applies_per_workspace(session: Session) -> None:
    session.add(Workspace(team_id="T1", reflection_retention_days=10))
    session.add(Workspace(team_id="T2"))
    old = seed_person(session, "T1", "UA", "old", at=NOW - timedelta(days=11))
    fresh = seed_person(session, "T1", "UB", "fresh", at=NOW - timedelta(days=9))
    other = seed_person(session, "T2", "UA", "other", at=NOW - timedelta(days=300))
    session.commit()

    assert privacy.apply_reflection_retention(session=session, now=NOW) == {"T1": 1}
    session.commit()
    assert session.get(Reflection, old.reflection_id) is None
    assert session.get(Reflection, fresh.reflection_id) is not None
    assert session.get(Reflection, other.reflection_id) is not None
    assert session.get(Outcome, old.outcome_id) is not None


def _queue(
    session: Session, key: str, *, to: str | None = None, text: str = "", team: str = "T1"
) -> None:
    outbox_queries.enqueue(
        session=session,
        team_id=team,
        post_key=key,
        kind="test",
        target_kind="user" if to else "channel",
        target_id=to or "C0TEAM",
        payload={"text": text},
        now=NOW,
    )


def _outbox(session: Session) -> dict[str, tuple[str, dict[str, Any]]]:
    session.expire_all()
    rows = session.exec(select(OutboxMessage)).all()
    return {f"{r.team_id}/{r.post_key}": (r.state, r.payload) for r in rows}


def test_forget_member_leaves_nothing_of_theirs_waiting_in_the_outbox(session: Session) -> None:
    seed_person(session, "T1", "UA", "a", at=NOW)
    _queue(session, "dm-to-a", to="UA", text="Your debrief of Deal a")
    _queue(session, "note-about-a", to="UM", text="<@UA> lost Deal a")
    _queue(session, "shout-out", text="A perfect miss by <@UA|ann>")
    _queue(session, "sent-note", to="UM", text="<@UA> lost Deal b")
    _queue(session, "about-someone-else", to="UM", text="<@UAB> lost Deal c")  # not UA
    _queue(session, "other-workspace", to="UA", text="Deal elsewhere", team="T2")
    sent = session.exec(select(OutboxMessage).where(OutboxMessage.post_key == "sent-note")).one()
    sent.state = "sent"
    session.commit()

    privacy.forget_member(session=session, team_id="T1", user_id="UA")
    session.commit()
    # Unsent rows about them are gone (nothing about them goes out after they asked); the sent
    # row stays for its post key, emptied; everyone else's rows are as they were.
    assert _outbox(session) == {
        "T1/sent-note": ("sent", {}),
        "T1/about-someone-else": ("pending", {"text": "<@UAB> lost Deal c"}),
        "T2/other-workspace": ("pending", {"text": "Deal elsewhere"}),
    }


def test_old_sent_outbox_rows_are_deleted_and_recent_or_unsent_ones_kept(
    session: Session,
) -> None:
    for key in ("old-sent", "old-failed", "old-pending", "recent-sent"):
        _queue(session, key, to="UA", text=key)
    rows = {r.post_key: r for r in session.exec(select(OutboxMessage)).all()}
    long_ago = NOW - privacy.OUTBOX_KEEP - timedelta(days=1)
    for key, state, at in (
        ("old-sent", "sent", long_ago),
        ("old-failed", "failed", long_ago),
        ("old-pending", "pending", long_ago),
        ("recent-sent", "sent", NOW - privacy.OUTBOX_KEEP + timedelta(days=1)),
    ):
        rows[key].state, rows[key].not_before = state, at
    session.commit()

    assert privacy.apply_outbox_retention(session=session, now=NOW) == 2
    session.commit()
    assert sorted(_outbox(session)) == ["T1/old-pending", "T1/recent-sent"]
    assert privacy.apply_outbox_retention(session=session, now=NOW) == 0


def test_the_saved_message_mentions_retention_only_when_it_was_in_the_form() -> None:
    submission, _ = parse_settings_submission(_values("45"))
    assert submission is not None
    assert (
        "deleted after 45 days" in settings_saved_message(submission)["blocks"][0]["text"]["text"]
    )
    submission, _ = parse_settings_submission(_values(with_block=False))
    assert submission is not None
    assert "Reflections" not in settings_saved_message(submission)["blocks"][0]["text"]["text"]


def test_every_column_is_either_in_the_workspace_export_or_withheld_on_purpose() -> None:
    """A column added later must be put in one list or the other: nothing new reaches an
    admin's export by default, and nothing listed is a column that doesn't exist."""
    from sqlmodel import SQLModel

    tables = SQLModel.metadata.tables
    for name in ("members", "outcomes", "reflections", "kudos", "kudos_recipients"):
        assert name in tables
    for name in ("checkins", "checkin_answers", "goals"):
        assert name in tables
    for name in set(privacy.WORKSPACE_EXPORT_COLUMNS) | set(privacy.WORKSPACE_EXPORT_WITHHELD):
        shown = set(privacy.WORKSPACE_EXPORT_COLUMNS.get(name, ()))
        withheld = set(privacy.WORKSPACE_EXPORT_WITHHELD.get(name, ()))
        columns = set(tables[name].columns.keys())
        assert not shown & withheld, name
        if name in privacy.WORKSPACE_EXPORT_COLUMNS:
            assert shown | withheld == columns, name
        else:  # a table left out entirely: its free text is named, and exists
            assert withheld <= columns, name
    assert "buyer_feedback" not in privacy.WORKSPACE_EXPORT_COLUMNS["outcomes"]
    assert "questions" not in privacy.WORKSPACE_EXPORT_COLUMNS["checkins"]
    assert {"why", "custom_metric"}.isdisjoint(privacy.WORKSPACE_EXPORT_COLUMNS["goals"])
    assert "reflections" not in privacy.WORKSPACE_EXPORT_COLUMNS
    assert "checkin_answers" not in privacy.WORKSPACE_EXPORT_COLUMNS
