"""Data rights over HTTP: `/rebound export` (own data, or the workspace for admins), and what
each kind of export holds of every text a rep can type. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from storage.models import (
    Outcome,
)
from testkit.live import CONFIGURED_ADMIN, LiveApp
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.factories import csv_rows, seed_kudos, seed_person
from tests.support.privacy import ADMIN, _ephemerals_to, db, new_team, new_user

__all__ = ["db"]  # the fixtures (tests/support/privacy.py)


def _uploads_to(calls: list[RecordedCall], user_id: str) -> list[RecordedCall]:
    return [
        c
        for c in calls
        if c.method == "files.completeUploadExternal"
        and c.params.get("channel_id") == "D" + user_id[1:]
    ]


def export(
    live: LiveApp, standin: SlackStandIn, team: str, user_id: str, text: str = "export"
) -> dict[str, bytes]:
    """Run `/rebound <text>` and return the uploaded files by filename."""
    seen = len(standin.calls)
    assert live.sender(team).slash_command("/rebound", text, user_id=user_id).status == 200
    calls = standin.wait_for(
        lambda calls: (
            bool(_uploads_to(calls[seen:], user_id)) and bool(_ephemerals_to(calls[seen:], user_id))
        ),
        timeout=20,
    )
    uploads = _uploads_to(calls[seen:], user_id)
    assert len(uploads) == 1  # every file in one upload, with one comment
    assert "Rebound" in uploads[0].params["initial_comment"]
    files: dict[str, bytes] = {}
    for entry, answered in zip(
        uploads[0].params["files"], uploads[0].response["files"], strict=True
    ):
        content = standin.uploaded_file(entry["id"])
        assert content is not None
        files[answered["name"]] = content
    return files


# --- /rebound export -----------------------------------------------------------------------------


def test_export_sends_only_the_askers_own_data(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    team, other_team = new_team(), new_team()
    rep, teammate, third = new_user(standin), new_user(standin), new_user(standin)
    mine = seed_person(db, team, rep, "mine", at=live.clock())
    seed_person(db, team, teammate, "teammate-secret", at=live.clock())
    seed_person(db, other_team, rep, "other-workspace", at=live.clock())
    given = seed_kudos(db, team, rep, [teammate, third], "Kudos I gave")
    received = seed_kudos(db, team, teammate, [rep, third], "Kudos I got")
    seed_kudos(db, team, teammate, [third], "Kudos not about me")
    db.commit()

    files = export(live, standin, team, rep)

    expected = {
        "rebound-export.json",
        "members.csv",
        "outcomes.csv",
        "reflections.csv",
        "kudos.csv",
        "kudos_recipients.csv",
        "checkins.csv",
        "checkin_answers.csv",
        "goals.csv",
    }
    assert set(files) == expected
    everything = b"".join(files.values()).decode("utf-8")
    # Another rep's debrief, and the same person's data in another workspace, never leak.
    for foreign in ("teammate-secret", "other-workspace", "Kudos not about me"):
        assert foreign not in everything

    document = json.loads(files["rebound-export.json"])
    assert document["kind"] == "personal" and document["user_id"] == rep
    assert document["profile"]["display_name"] == "Name mine"
    assert [o["id"] for o in document["outcomes"]] == [mine.outcome_id]
    assert document["outcomes"][0]["amount"] == 1234.5
    assert [r["answer"] for r in document["reflections"]] == ["Lesson mine"]
    assert [(k["id"], sorted(k["recipients"])) for k in document["kudos_given"]] == [
        (given, sorted([teammate, third]))
    ]
    # A received kudos names only the person exporting, not who else was recognised.
    assert [(k["id"], k["recipients"]) for k in document["kudos_received"]] == [(received, [rep])]
    assert [a["answer"] for a in document["checkins"][0]["answers"]] == ["Answer mine"]
    assert [g["custom_metric"] for g in document["goals"]] == ["Metric mine"]

    outcomes = csv_rows(files["outcomes.csv"])
    assert [(row["id"], row["user_id"], row["deal"]) for row in outcomes] == [
        (str(mine.outcome_id), rep, "Deal mine")
    ]
    recipients = {(r["kudos_id"], r["user_id"]) for r in csv_rows(files["kudos_recipients.csv"])}
    assert recipients == {(str(given), teammate), (str(given), third), (str(received), rep)}
    assert {
        row["team_id"]
        for name in expected - {"rebound-export.json"}
        for row in csv_rows(files[name])
    } == {team}


def test_a_person_with_nothing_stored_gets_just_the_json(
    live: LiveApp, standin: SlackStandIn
) -> None:
    team, newcomer = new_team(), new_user(standin)
    files = export(live, standin, team, newcomer)
    assert set(files) == {"rebound-export.json"}
    document = json.loads(files["rebound-export.json"])
    assert document["profile"] is None and document["outcomes"] == []


def test_workspace_export_is_for_admins_only_and_keeps_reflections_private(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    team, other_team = new_team(), new_team()
    rep, teammate = new_user(standin), new_user(standin)
    seed_person(db, team, rep, "alpha", at=live.clock())
    seed_person(db, team, teammate, "beta", at=live.clock())
    seed_person(db, other_team, rep, "gamma", at=live.clock())
    db.commit()

    seen = len(standin.calls)
    live.sender(team).slash_command("/rebound", "export workspace", user_id=rep)
    calls = standin.wait_for(lambda calls: bool(_ephemerals_to(calls[seen:], rep)), timeout=10)
    refusal = _ephemerals_to(calls[seen:], rep)[0]
    assert "Only Rebound admins" in refusal.params["text"]
    assert not any(c.method.startswith("files.") for c in standin.calls[seen:])

    for admin in (ADMIN, CONFIGURED_ADMIN):
        files = export(live, standin, team, admin, "export workspace")
        document = json.loads(files["rebound-export.json"])
        assert document["kind"] == "workspace" and document["team_id"] == team
        assert sorted(m["user_id"] for m in document["members"]) == sorted([rep, teammate])
        assert sorted(o["deal"] for o in document["outcomes"]) == ["Deal alpha", "Deal beta"]
        assert "reflections" not in document and "reflections.csv" not in files
        everything = b"".join(files.values()).decode("utf-8")
        assert "Lesson alpha" not in everything and "Lesson beta" not in everything
        assert "gamma" not in everything
        assert "checkin_answers.csv" not in files
        for word in ("Answer alpha", "Why beta", "Metric alpha", "Your win this week?"):
            assert word not in everything
        counts = {row["user_id"]: row for row in csv_rows(files["counts.csv"])}
        assert counts[rep]["reflections_answered"] == "1"
        assert counts[teammate]["checkin_answers"] == "1"


# --- what each kind of export holds: a marker in every text a rep can type ----------------------

# Where each text a rep types is stored (the file of each table that holds it). A check-in
# quotes the week's loss (its deal), the last commitment and the goal's own metric in its
# questions, and an answer row keeps the question it answers.
TYPED_TEXTS = (
    "deal",
    "competitor",
    "feedback",
    "learned",
    "fblesson",
    "incontrol",
    "commitment",
    "checkin",
    "why",
    "metric",
    "kudos",
)
PERSONAL_FILES: dict[str, set[str]] = {
    "rebound-export.json": set(TYPED_TEXTS),
    "members.csv": set(),
    "outcomes.csv": {"deal", "competitor", "feedback"},
    "reflections.csv": {"learned", "fblesson", "incontrol", "commitment"},
    "kudos.csv": {"kudos"},
    "kudos_recipients.csv": set(),
    "checkins.csv": {"deal", "commitment", "metric"},
    "checkin_answers.csv": {"checkin", "deal", "commitment", "metric"},
    "goals.csv": {"why", "metric"},
}
# The README's data-rights policy: an admin's workspace export holds the facts of each deal and
# the kudos (posted in a channel anyway); none of what a rep wrote about themselves.
WORKSPACE_FILES: dict[str, set[str]] = {
    "rebound-export.json": {"deal", "competitor", "kudos"},
    "members.csv": set(),
    "outcomes.csv": {"deal", "competitor"},
    "kudos.csv": {"kudos"},
    "kudos_recipients.csv": set(),
    "checkins.csv": set(),
    "goals.csv": set(),
    "counts.csv": set(),
}
# The kudos' recipient gets the kudos in their own export; the rep's manager gets only their
# own data (they read their reps' reflections in Slack, they don't export them).
RECIPIENT_FILES: dict[str, set[str]] = {
    "rebound-export.json": {"kudos"},
    "members.csv": set(),
    "kudos.csv": {"kudos"},
    "kudos_recipients.csv": set(),
}
MANAGER_FILES: dict[str, set[str]] = {"rebound-export.json": set(), "members.csv": set()}


def _markers_in(files: dict[str, bytes], markers: dict[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, content in files.items():
        text = content.decode("utf-8")
        found[name] = {what for what, marker in markers.items() if marker in text}
    return found


def _wait_for_call(
    standin: SlackStandIn, seen: int, method: str, **params: str
) -> list[RecordedCall]:
    def matching(calls: list[RecordedCall]) -> list[RecordedCall]:
        return [
            c
            for c in calls[seen:]
            if c.method == method
            and all(
                (c.conversation if k == "channel" else c.params.get(k)) == v
                for k, v in params.items()
            )
        ]

    standin.wait_for(lambda calls: bool(matching(calls)), timeout=15)
    return matching(standin.calls)


def _open_view(
    live: LiveApp, standin: SlackStandIn, team: str, user_id: str, command: str, text: str = ""
) -> dict[str, Any]:
    seen = len(standin.calls)
    assert live.sender(team).slash_command(command, text, user_id=user_id).status == 200
    return _wait_for_call(standin, seen, "views.open")[0].response["view"]


def _submitted(live: LiveApp, team: str, view: dict[str, Any], user_id: str, values: Any) -> None:
    reply = live.sender(team).view_submission(view, user_id=user_id, values=values)
    assert reply.status == 200
    assert not reply.body or reply.json().get("response_action") != "errors", reply.body


def test_each_export_holds_exactly_the_texts_the_policy_says(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    """A rep types a marker into every text Rebound takes, through the real app; then each
    kind of export is searched for every marker, file by file (JSON and CSV)."""
    from bot.blocks.checkins import ANSWER_ACTION_ID
    from bot.blocks.debriefs import REFLECT_ACTION_ID
    from storage import queries
    from tests.support.factories import lost_values, reflection_values

    team = new_team()
    rep, teammate, manager = "U0REP1", "U0REP2", "U0MGR"
    run = uuid.uuid4().hex[:8]
    markers = {what: f"zq{what}x{run}" for what in TYPED_TEXTS}
    queries.get_or_create_workspace(session=db, team_id=team)
    queries.update_workspace_settings(
        session=db, team_id=team, recognition_channel_id="C0WINS", kudos_policy="everyone"
    )
    queries.set_reports(
        session=db, team_id=team, manager_user_id=manager, report_user_ids=[rep, teammate]
    )
    db.commit()
    sender = live.sender(team)

    # /lost: the deal, the competitor, the buyer's feedback.
    view = _open_view(live, standin, team, rep, "/lost", markers["deal"])
    seen = len(standin.calls)
    values = lost_values(
        markers["deal"], competitor=markers["competitor"], feedback=markers["feedback"]
    )
    _submitted(live, team, view, rep, values)
    _wait_for_call(standin, seen, "chat.postMessage", channel="D" + rep[1:])
    db.expire_all()
    (outcome,) = db.exec(select(Outcome).where(Outcome.team_id == team)).all()

    # The reflection questions: three lessons and a commitment.
    seen = len(standin.calls)
    sender.block_actions(
        user_id=rep, actions=[{"action_id": REFLECT_ACTION_ID, "value": str(outcome.id)}]
    )
    view = _wait_for_call(standin, seen, "views.open")[0].response["view"]
    seen = len(standin.calls)
    values = reflection_values(
        markers["commitment"],
        learned=markers["learned"],
        feedback_lesson=markers["fblesson"],
        in_control=markers["incontrol"],
    )
    _submitted(live, team, view, rep, values)
    _wait_for_call(standin, seen, "chat.postMessage", channel="D" + rep[1:])

    # /goal: a metric of their own and why it matters.
    view = _open_view(live, standin, team, rep, "/goal")
    today = datetime.now(UTC).date()
    seen = len(standin.calls)
    goal = {
        "metric": {"value": state_value("static_select", "custom")},
        "custom_metric": {"value": state_value("plain_text_input", markers["metric"])},
        "target": {"value": state_value("number_input", "10")},
        "cycle_start": {"value": state_value("datepicker", (today - timedelta(5)).isoformat())},
        "cycle_end": {"value": state_value("datepicker", (today + timedelta(25)).isoformat())},
        "why": {"value": state_value("plain_text_input", markers["why"])},
    }
    _submitted(live, team, view, rep, goal)
    _wait_for_call(standin, seen, "chat.postMessage", channel="D" + rep[1:])

    # /checkin: every text question answered (one quotes the commitment, one the deal).
    view = _open_view(live, standin, team, rep, "/checkin")
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    answers = {
        b["block_id"]: {ANSWER_ACTION_ID: state_value("plain_text_input", markers["checkin"])}
        for b in inputs
        if b["element"]["type"] == "plain_text_input"
    }
    answers.update(
        {
            b["block_id"]: {ANSWER_ACTION_ID: state_value("number_input", "3")}
            for b in inputs
            if b["element"]["type"] == "number_input"
        }
    )
    questions = json.dumps(view["blocks"])
    assert markers["commitment"] in questions and markers["metric"] in questions
    seen = len(standin.calls)
    _submitted(live, team, view, rep, answers)
    # The thanks goes through the outbox, to the rep's DM (opened with conversations.open).
    _wait_for_call(standin, seen, "chat.postMessage", channel="D" + rep[1:])

    # /kudos for a teammate.
    seen = len(standin.calls)
    assert (
        sender.slash_command(
            "/kudos",
            f"@priya #teamwork {markers['kudos']}",
            user_id=rep,  # typed: priya is U0REP2
        ).status
        == 200
    )
    _wait_for_call(standin, seen, "chat.postMessage", channel="C0WINS")

    exports = {
        "rep": (export(live, standin, team, rep), PERSONAL_FILES),
        "kudos recipient": (export(live, standin, team, teammate), RECIPIENT_FILES),
        "manager": (export(live, standin, team, manager), MANAGER_FILES),
        "admin": (export(live, standin, team, ADMIN, "export workspace"), WORKSPACE_FILES),
    }
    for who, (files, expected) in exports.items():
        assert _markers_in(files, markers) == expected, who
    admin_files = exports["admin"][0]
    counts = csv_rows(admin_files["counts.csv"])
    mine = next(row for row in counts if row["user_id"] == rep)
    assert (mine["reflections_answered"], mine["commitments"], mine["checkins_answered"]) == (
        "4",
        "1",
        "1",
    )
