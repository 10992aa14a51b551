"""Data rights over HTTP: `/rebound export` (own data, or the workspace for admins),
`/rebound forget-me` (confirm, click, exactly the clicker's rows go), reflection retention
(settings modal, then the scheduled job on a FakeClock). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.app import Deps, build_ticker
from bot.blocks.privacy import FORGET_ME_CONFIRM_ACTION_ID
from bot.clock import FakeClock
from bot.config import Settings
from storage.db import make_engine, make_session_factory
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    Outcome,
    Reflection,
    Workspace,
)
from testkit.live import CONFIGURED_ADMIN, LiveApp
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.factories import count, csv_rows, seed_kudos, seed_person

ADMIN = "U0ADMIN"


# --- seeding -----------------------------------------------------------------------------------


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def db(live: LiveApp) -> Iterator[Session]:
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def new_team() -> str:
    return "T" + uuid.uuid4().hex[:9].upper()


def new_user(standin: SlackStandIn) -> str:
    user_id = "U" + uuid.uuid4().hex[:9].upper()
    standin.add_user(StandInUser(id=user_id, name=user_id.lower(), real_name=f"Rep {user_id}"))
    return user_id


def _uploads_to(calls: list[RecordedCall], user_id: str) -> list[RecordedCall]:
    return [
        c
        for c in calls
        if c.method == "files.completeUploadExternal"
        and c.params.get("channel_id") == "D" + user_id[1:]
    ]


def _ephemerals_to(calls: list[RecordedCall], user_id: str) -> list[RecordedCall]:
    return [c for c in calls if c.method == "chat.postEphemeral" and c.params["user"] == user_id]


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


# --- /rebound forget-me -------------------------------------------------------------------------


def ask_to_forget(live: LiveApp, standin: SlackStandIn, team: str, user_id: str) -> RecordedCall:
    seen = len(standin.calls)
    assert live.sender(team).slash_command("/rebound", "forget-me", user_id=user_id).status == 200
    calls = standin.wait_for(lambda calls: bool(_ephemerals_to(calls[seen:], user_id)), timeout=10)
    return _ephemerals_to(calls[seen:], user_id)[0]


def click_delete(
    live: LiveApp, team: str, user_id: str, value: str, *, confirmation_ts: str = "1700000000.1"
) -> str:
    """Click "Delete my data" on the ephemeral confirmation; the click's response_url."""
    sender = live.sender(team)
    response_url = sender.new_response_url("actions")
    reply = sender.block_actions(
        user_id=user_id,
        actions=[{"action_id": FORGET_ME_CONFIRM_ACTION_ID, "value": value}],
        ephemeral_ts=confirmation_ts,
        channel_id="C0GENERAL",
        response_url=response_url,
    )
    assert reply.status == 200
    return response_url


def answer_to(standin: SlackStandIn, response_url: str) -> dict[str, Any]:
    """The one answer the app sent to a click's response_url."""
    answers = standin.wait_for_responses(response_url, timeout=10)
    assert len(answers) == 1, answers
    return answers[0]


def test_forget_me_deletes_exactly_the_clickers_rows_once(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    team, other_team = new_team(), new_team()
    rep, teammate, third = new_user(standin), new_user(standin), new_user(standin)
    seed_person(db, team, rep, "mine", at=live.clock())
    theirs = seed_person(db, team, teammate, "theirs", at=live.clock())
    seed_person(db, other_team, rep, "elsewhere", at=live.clock())
    given = seed_kudos(db, team, rep, [teammate], "Kudos I gave")
    shared = seed_kudos(db, team, teammate, [rep, third], "Kudos for two")
    db.commit()

    confirmation = ask_to_forget(live, standin, team, rep)
    button = confirmation.params["blocks"][1]["elements"][0]
    assert button["style"] == "danger" and button["text"]["text"] == "Delete my data"
    assert button["value"] == rep

    # Someone else clicking this button (value = rep) deletes nothing at all; the
    # confirmation stays as it was (a new private note, not a replacement).
    refusal = answer_to(standin, click_delete(live, team, teammate, rep))
    assert "for someone else" in refusal["text"]
    assert refusal["replace_original"] is False and refusal["response_type"] == "ephemeral"
    db.expire_all()
    assert count(db, Outcome, team_id=team, user_id=rep) == 1
    assert count(db, Member, team_id=team, user_id=teammate) == 1

    # Done: the answer replaces the ephemeral confirmation, so its button can't be clicked
    # again (an ephemeral message changes only through response_url).
    answer = answer_to(
        standin,
        click_delete(live, team, rep, rep, confirmation_ts=confirmation.response["message_ts"]),
    )
    assert answer["replace_original"] is True
    assert "blocks" not in answer or not any(b["type"] == "actions" for b in answer["blocks"])
    done = answer["text"]
    assert "your data is deleted" in done
    for line in (
        "reflections: 1",
        "outcomes: 1",
        "check-ins: 1",
        "check-in answers: 1",
        "goals: 1",
        "kudos given: 1",
        "kudos received: 1",
        "profile: 1",
    ):
        assert line in done

    db.expire_all()
    for model in (Member, Outcome, Reflection, CheckIn, Goal):
        assert count(db, model, team_id=team, user_id=rep) == 0, model
    assert count(db, CheckInAnswer, team_id=team) == 1  # the teammate's
    assert count(db, Kudos, team_id=team, giver_user_id=rep) == 0
    assert count(db, KudosRecipient, kudos_id=given) == 0
    assert count(db, KudosRecipient, team_id=team, user_id=rep) == 0
    # The teammate's kudos to two people stays, minus only this person's place on it.
    assert db.get(Kudos, shared) is not None
    assert count(db, KudosRecipient, kudos_id=shared, user_id=third) == 1
    # Everyone else's rows, and the same person in another workspace, are untouched.
    for model in (Member, Outcome, Reflection, CheckIn, Goal):
        assert count(db, model, team_id=team, user_id=teammate) == 1, model
        assert count(db, model, team_id=other_team, user_id=rep) == 1, model
    assert db.get(Reflection, theirs.reflection_id) is not None

    # A second click (a stale copy of the button) finds nothing and says so.
    assert "nothing of yours left" in answer_to(standin, click_delete(live, team, rep, rep))["text"]


def test_a_double_click_deletes_once(live: LiveApp, standin: SlackStandIn, db: Session) -> None:
    team, rep = new_team(), new_user(standin)
    seed_person(db, team, rep, "double", at=live.clock())
    db.commit()

    urls: list[str] = []
    clicks = [
        threading.Thread(target=lambda: urls.append(click_delete(live, team, rep, rep)))
        for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    replies = [answer_to(standin, url)["text"] for url in urls]
    assert sorted("your data is deleted" in text for text in replies) == [False, True]
    assert any("nothing of yours left" in text for text in replies)
    done = next(text for text in replies if "deleted" in text)
    assert "outcomes: 1" in done and "reflections: 1" in done
    db.expire_all()
    assert count(db, Outcome, team_id=team) == 0


# --- retention ----------------------------------------------------------------------------------


def _settings_values(retention: str | None) -> dict[str, dict[str, Any]]:
    return {
        "recognition_channel": {"value": state_value("channels_select", None)},
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        "reflection_retention": {"value": state_value("number_input", retention)},
    }


def _open_settings(live: LiveApp, standin: SlackStandIn, team: str) -> dict[str, Any]:
    seen = len(standin.calls)
    live.sender(team).slash_command("/rebound", "settings", user_id=ADMIN)
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    return [c for c in calls[seen:] if c.method == "views.open"][0].params["view"]


def test_retention_is_set_in_the_settings_modal(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    team = new_team()
    view = _open_settings(live, standin, team)
    block = {b.get("block_id"): b for b in view["blocks"]}["reflection_retention"]
    assert block["optional"] is True and "initial_value" not in block["element"]

    for bad in ("0", "abc", "99999"):
        reply = live.sender(team).view_submission(view, user_id=ADMIN, values=_settings_values(bad))
        assert reply.json()["response_action"] == "errors"
        assert "reflection_retention" in reply.json()["errors"]

    reply = live.sender(team).view_submission(view, user_id=ADMIN, values=_settings_values("30"))
    assert reply.status == 200 and "errors" not in (reply.body or "")
    db.expire_all()
    workspace = db.get(Workspace, team)
    assert workspace is not None and workspace.reflection_retention_days == 30
    reopened = _open_settings(live, standin, team)
    block = {b.get("block_id"): b for b in reopened["blocks"]}["reflection_retention"]
    assert block["element"]["initial_value"] == "30"

    # Emptied: keep reflections forever again.
    live.sender(team).view_submission(reopened, user_id=ADMIN, values=_settings_values(None))
    db.expire_all()
    workspace = db.get(Workspace, team)
    assert workspace is not None and workspace.reflection_retention_days is None


def test_retention_job_deletes_only_old_reflections_of_that_workspace(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    now = datetime.now(UTC)
    limited, unlimited = new_team(), new_team()
    rep = new_user(standin)
    db.add(Workspace(team_id=limited, reflection_retention_days=30))
    db.add(Workspace(team_id=unlimited))
    old = seed_person(db, limited, rep, "old", at=now - timedelta(days=40))
    recent = seed_person(db, limited, new_user(standin), "recent", at=now - timedelta(days=5))
    kept = seed_person(db, unlimited, rep, "kept", at=now - timedelta(days=400))
    db.commit()

    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_api_url=standin.url,
        database_url=live.database_url,
    )
    engine = make_engine(live.database_url)
    clock = FakeClock(now)
    deps = Deps(settings=settings, session_factory=make_session_factory(engine), clock=clock)
    ticker = build_ticker(deps)
    try:
        ticker.tick()
        db.expire_all()
        assert db.get(Reflection, old.reflection_id) is None
        assert db.get(Reflection, recent.reflection_id) is not None
        assert db.get(Reflection, kept.reflection_id) is not None
        # Only reflections go: the debrief itself and everything else stay.
        assert db.get(Outcome, old.outcome_id) is not None
        assert db.get(CheckIn, old.checkin_id) is not None

        clock.advance(days=26)
        ticker.tick()
        db.expire_all()
        assert db.get(Reflection, recent.reflection_id) is None
        assert db.get(Reflection, kept.reflection_id) is not None
        assert not [name for name, _ in ticker.failures if name.startswith("privacy")]
    finally:
        engine.dispose()


def test_an_admin_deletes_the_workspace_data_on_request_and_others_cannot(
    live: LiveApp, standin: SlackStandIn
) -> None:
    from sqlmodel import Session

    from bot.blocks.privacy import DELETE_WORKSPACE_CONFIRM_ACTION_ID
    from storage import queries
    from storage.db import make_engine

    team_id = "T0DELETEME"
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        queries.get_or_create_workspace(session=session, team_id=team_id)
        queries.set_reports(
            session=session, team_id=team_id, manager_user_id="U0MGR", report_user_ids=["U0REP1"]
        )
        session.commit()
    sender = live.sender(team_id=team_id)

    def members() -> int:
        with Session(engine) as session:
            return len(queries.list_members(session=session, team_id=team_id))

    # A rep asks: refused, nothing deleted.
    seen = len(standin.calls)
    sender.slash_command("/rebound", "delete-workspace-data", user_id="U0REP1")
    calls = standin.wait_for(
        lambda calls: any(c.method == "chat.postEphemeral" for c in calls[seen:]), timeout=10
    )
    refusal = [c for c in calls[seen:] if c.method == "chat.postEphemeral"][0]
    assert "Only Rebound admins" in refusal.params["text"]
    # A rep clicking a forwarded button is refused too; the button stays where it was.
    refused_url = sender.new_response_url("actions")
    sender.block_actions(
        user_id="U0REP1",
        actions=[{"action_id": DELETE_WORKSPACE_CONFIRM_ACTION_ID, "value": "workspace"}],
        ephemeral_ts="1.0",
        channel_id="C0GENERAL",
        response_url=refused_url,
    )
    assert standin.wait_for_responses(refused_url, timeout=10)[0]["replace_original"] is False
    assert members() == 2

    # The admin asks, confirms, and the data is gone; another workspace keeps its own.
    seen = len(standin.calls)
    sender.slash_command("/rebound", "delete-workspace-data", user_id="U0ADMIN")
    calls = standin.wait_for(
        lambda calls: any(c.method == "chat.postEphemeral" for c in calls[seen:]), timeout=10
    )
    confirmation = [c for c in calls[seen:] if c.method == "chat.postEphemeral"][0]
    assert "Delete all of this workspace's Rebound data now?" in confirmation.params["text"]
    done_url = sender.new_response_url("actions")
    sender.block_actions(
        user_id="U0ADMIN",
        actions=[{"action_id": DELETE_WORKSPACE_CONFIRM_ACTION_ID, "value": "workspace"}],
        ephemeral_ts=confirmation.response["message_ts"],
        channel_id="C0GENERAL",
        response_url=done_url,
    )
    done = standin.wait_for_responses(done_url, timeout=10)
    assert len(done) == 1 and "data is deleted" in done[0]["text"]
    # The confirmation is replaced by the outcome: its button is gone.
    assert done[0]["replace_original"] is True
    assert members() == 0
    with Session(engine) as session:
        assert queries.get_workspace(session=session, team_id=team_id) is None
        assert queries.get_workspace(session=session, team_id="T0REBOUND") is not None
    engine.dispose()


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
