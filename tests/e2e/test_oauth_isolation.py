"""Two workspaces on one `rebound serve` (OAuth mode), on SQLite and PostgreSQL: Alpha and Beta,
installed through the OAuth flow, with the same Slack user ids in both. Neither can see or touch
the other's data through exports, forget-me, or a forged button click or modal submission.

How the checks are made (on what can differ, with a control for each absence) is said in
tests/support/isolation.py; each test uses people (user ids) of its own.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.blocks.checkins import OPEN_ACTION_ID, SKIP_ACTION_ID
from bot.blocks.debriefs import CELEBRATE_NO_ACTION_ID, CELEBRATE_YES_ACTION_ID, REFLECT_ACTION_ID
from bot.blocks.goals import CHANGE_GOAL_ACTION_ID
from bot.blocks.privacy import FORGET_ME_CONFIRM_ACTION_ID
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    Outcome,
    Reflection,
)
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import Seeded, count, csv_rows, new_user, seed_kudos, seed_person
from tests.support.isolation import (
    ADMIN,
    add_outcome,
    assert_all_with_token_of,
    checkin_values,
    goal_values,
    london_today,
    text_of,
    two,
)
from tests.support.slack import (
    ALPHA,
    BETA,
    TZ,
    SlackDriver,
    in_dm,
    team_of,
)

__all__ = ["two"]  # the fixtures (tests/support/isolation.py)

PERSONAL_TABLES = (Member, Outcome, Reflection, CheckIn, Goal)


def personal_counts(session: Session, team_id: str, user_id: str) -> dict[str, int]:
    counts = {
        m.__name__: count(session, m, team_id=team_id, user_id=user_id) for m in PERSONAL_TABLES
    }
    checkin_ids = select(CheckIn.id).where(CheckIn.team_id == team_id, CheckIn.user_id == user_id)
    counts["CheckInAnswer"] = int(
        session.exec(
            select(func.count())
            .select_from(CheckInAnswer)
            .where(col(CheckInAnswer.checkin_id).in_(checkin_ids))
        ).one()
    )
    counts["Kudos"] = count(session, Kudos, team_id=team_id, giver_user_id=user_id)
    counts["KudosRecipient"] = count(session, KudosRecipient, team_id=team_id, user_id=user_id)
    return counts


def uploaded_files(two: SlackDriver, upload: RecordedCall) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry, answered in zip(upload.params["files"], upload.response["files"], strict=True):
        content = two.standin.uploaded_file(entry["id"])
        assert content is not None
        files[answered["name"]] = content
    return files


def export(
    two: SlackDriver, team_id: str, user_id: str, text: str = "export"
) -> tuple[dict[str, bytes], list[RecordedCall]]:
    """`/rebound <text>` in `team_id`: the uploaded files by name, and every Slack call made."""
    seen = two.mark()
    two.workspace(team_id).command("/rebound", text, user_id)
    (upload,) = two.wait(seen, "files.completeUploadExternal", channel_id="D" + user_id[1:])
    two.wait(seen, "chat.postEphemeral", user=user_id)
    two.settle()
    return uploaded_files(two, upload), two.since(seen)


def reflection_values(view: dict[str, Any], answer: str) -> dict[str, dict[str, Any]]:
    """Every text question of a reflection modal answered with `answer`."""
    return {
        b["block_id"]: {"value": state_value("plain_text_input", answer)}
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
    }


def seed_both(two: SlackDriver, user_id: str) -> tuple[Seeded, Seeded, str, str]:
    """The same person with a debrief, reflection, check-in and goal in each workspace; every
    text carries the workspace's tag. Returns (alpha rows, beta rows, alpha tag, beta tag)."""
    alpha_tag, beta_tag = f"alphaonly{uuid.uuid4().hex[:6]}", f"betaonly{uuid.uuid4().hex[:6]}"
    for session in two.db():
        alpha = seed_person(session, ALPHA, user_id, alpha_tag, at=two.app.clock())
        beta = seed_person(session, BETA, user_id, beta_tag, at=two.app.clock())
        session.commit()
    return alpha, beta, alpha_tag, beta_tag


# --- /rebound export ------------------------------------------------------------------------


def test_a_beta_export_has_none_of_the_same_persons_alpha_rows(two: SlackDriver) -> None:
    rep, colleague = (
        new_user(two.standin, TZ, tag="rep"),
        new_user(two.standin, TZ, tag="colleague"),
    )
    alpha, beta, alpha_tag, beta_tag = seed_both(two, rep)
    for session in two.db():
        alpha_kudos = seed_kudos(session, ALPHA, colleague, [rep], f"Kudos {alpha_tag}")
        beta_kudos = seed_kudos(session, BETA, colleague, [rep], f"Kudos {beta_tag}")
        session.commit()

    files, calls = export(two, BETA, rep)
    assert_all_with_token_of(BETA, calls)
    everything = b"".join(files.values()).decode("utf-8")
    assert alpha_tag not in everything
    assert beta_tag in everything
    document = json.loads(files["rebound-export.json"])
    assert (document["team_id"], document["user_id"]) == (BETA, rep)
    assert [o["id"] for o in document["outcomes"]] == [beta.outcome_id]
    assert [r["id"] for r in document["reflections"]] == [beta.reflection_id]
    assert [c["id"] for c in document["checkins"]] == [beta.checkin_id]
    assert [g["id"] for g in document["goals"]] == [beta.goal_id]
    assert [k["id"] for k in document["kudos_received"]] == [beta_kudos]
    for name, content in files.items():
        if name.endswith(".csv"):
            assert {row["team_id"] for row in csv_rows(content)} == {BETA}, name

    # The same command in Alpha exports Alpha's rows (so the checks above can fail).
    files, calls = export(two, ALPHA, rep)
    assert_all_with_token_of(ALPHA, calls)
    document = json.loads(files["rebound-export.json"])
    assert [o["id"] for o in document["outcomes"]] == [alpha.outcome_id]
    assert [k["id"] for k in document["kudos_received"]] == [alpha_kudos]
    assert beta_tag not in b"".join(files.values()).decode("utf-8")


def test_a_beta_admins_workspace_export_is_beta_only(two: SlackDriver) -> None:
    rep = new_user(two.standin, TZ, tag="rep")
    alpha, beta, alpha_tag, beta_tag = seed_both(two, rep)
    for session in two.db():
        seed_person(session, ALPHA, ADMIN, f"{alpha_tag}admin", at=two.app.clock())
        session.commit()

    files, calls = export(two, BETA, ADMIN, "export workspace")
    assert_all_with_token_of(BETA, calls)
    document = json.loads(files["rebound-export.json"])
    assert document["kind"] == "workspace" and document["team_id"] == BETA
    assert document["workspace"]["team_id"] == BETA
    assert document["workspace"]["name"] == "Beta Sales"
    everything = b"".join(files.values()).decode("utf-8")
    assert alpha_tag not in everything
    assert f"Deal {beta_tag}" in everything
    tables = ("members", "outcomes", "kudos", "checkins", "goals")
    for table in tables:
        assert {row["team_id"] for row in document[table]} == {BETA}, table
    assert beta.outcome_id in {o["id"] for o in document["outcomes"]}
    assert alpha.outcome_id not in {o["id"] for o in document["outcomes"]}
    assert alpha.checkin_id not in {c["id"] for c in document["checkins"]}
    for name, content in files.items():
        if name.endswith(".csv"):
            assert {row["team_id"] for row in csv_rows(content)} == {BETA}, name


# --- /rebound forget-me ----------------------------------------------------------------------


def test_forget_me_in_beta_leaves_the_same_persons_alpha_rows(two: SlackDriver) -> None:
    rep, colleague = (
        new_user(two.standin, TZ, tag="rep"),
        new_user(two.standin, TZ, tag="colleague"),
    )
    alpha, _, alpha_tag, _ = seed_both(two, rep)
    for session in two.db():
        seed_kudos(session, ALPHA, rep, [colleague], f"Given {alpha_tag}")
        seed_kudos(session, ALPHA, colleague, [rep], f"Received {alpha_tag}")
        seed_kudos(session, BETA, rep, [colleague], "Given in Beta")
        session.commit()
        alpha_before = personal_counts(session, ALPHA, rep)
    assert set(alpha_before.values()) == {1}

    seen = two.mark()
    two.workspace(BETA).command("/rebound", "forget-me", rep)
    (confirmation,) = two.wait(seen, "chat.postEphemeral", user=rep)
    assert team_of(confirmation) == BETA
    button = confirmation.params["blocks"][1]["elements"][0]
    assert button["action_id"] == FORGET_ME_CONFIRM_ACTION_ID and button["value"] == rep

    seen = two.mark()
    done = two.workspace(BETA).click_answer(rep, FORGET_ME_CONFIRM_ACTION_ID, rep, in_dm(rep))
    two.settle()
    # The answer went through Beta's click's response_url; any Web API call used Beta's token.
    assert {team_of(c) for c in two.since(seen)} <= {BETA}
    # Beta's one row of each kind went, not Alpha's too (that would say 2).
    for line in ("outcomes: 1", "reflections: 1", "check-ins: 1", "goals: 1", "kudos given: 1"):
        assert line in done, done

    for session in two.db():
        assert set(personal_counts(session, BETA, rep).values()) == {0}
        assert personal_counts(session, ALPHA, rep) == alpha_before
        assert session.get(Outcome, alpha.outcome_id) is not None
        assert session.get(Reflection, alpha.reflection_id) is not None


# --- forged buttons and modals ---------------------------------------------------------------


def test_forged_buttons_and_modals_in_beta_get_and_change_nothing_of_alphas(
    two: SlackDriver,
) -> None:
    rep = new_user(two.standin, TZ, tag="rep")
    deal = f"Alpha deal {uuid.uuid4().hex[:6]}"
    today = london_today()
    for session in two.db():
        outcome_id = add_outcome(
            session, ALPHA, rep, "loss", deal=deal, reason="price", classification="perfect-miss"
        )
        session.commit()
    # Alpha's own modals, as Slack stored them: their ids are what a forger would reuse.
    seen = two.mark()
    two.workspace(ALPHA).click(rep, REFLECT_ACTION_ID, str(outcome_id), in_dm(rep))
    (opened,) = two.wait(seen, "views.open")
    assert team_of(opened) == ALPHA and deal in text_of(opened)
    reflect_view = opened.response["view"]
    goal_view = two.workspace(ALPHA).open_modal("/goal", "", rep)
    seen = two.mark()
    two.workspace(ALPHA).submit(
        goal_view, rep, goal_values(metric="deals_won", target="2", today=today)
    )
    two.wait(seen, "chat.postMessage", channel="D" + rep[1:])
    checkin_view = two.workspace(ALPHA).open_modal("/checkin", "", rep)
    checkin_id = int(checkin_view["private_metadata"])
    alpha_answer = f"Alpha answer {uuid.uuid4().hex[:6]}"
    seen = two.mark()
    two.workspace(ALPHA).submit(checkin_view, rep, checkin_values(checkin_view, alpha_answer))
    two.wait(seen, "chat.postMessage", channel="D" + rep[1:])
    two.settle()
    for session in two.db():
        (goal,) = session.exec(select(Goal).where(Goal.team_id == ALPHA, Goal.user_id == rep))
        goal_id = goal.id
        assert goal_id is not None
        goal_before = goal.model_dump()
        checkin_before = session.get(CheckIn, checkin_id)
        assert checkin_before is not None and checkin_before.status == "answered"
        # An earlier week still waiting for an answer: the one a forged "Skip" could skip.
        waiting = CheckIn(
            team_id=ALPHA,
            user_id=rep,
            week_key="2020-W01",
            due_at=datetime.now(UTC) - timedelta(hours=1),
            status="sent",
        )
        session.add(waiting)
        session.commit()
        waiting_id = waiting.id
        assert waiting_id is not None

    # The same person, in Beta, with Alpha's ids in the buttons.
    seen = two.mark()
    for action_id, value in (
        (REFLECT_ACTION_ID, outcome_id),
        (CELEBRATE_YES_ACTION_ID, outcome_id),
        (CELEBRATE_NO_ACTION_ID, outcome_id),
        (CHANGE_GOAL_ACTION_ID, goal_id),
        (OPEN_ACTION_ID, checkin_id),
        (SKIP_ACTION_ID, checkin_id),
        (SKIP_ACTION_ID, waiting_id),
    ):
        two.workspace(BETA).click(rep, action_id, str(value), in_dm(rep))
    # ... and Alpha's modals submitted from Beta.
    # Each is valid input, so it reaches the code that saves (not a field error). The debrief
    # and the check-in are not this person's in Beta, so the form says so; the goal's id finds
    # nothing in Beta, so it saves a goal of their own there.
    forged_goal_view = goal_view | {"private_metadata": json.dumps({"goal_id": goal_id})}
    for view, values, refused in (
        (reflect_view, reflection_values(reflect_view, "Forged from Beta"), True),
        (forged_goal_view, goal_values(metric="revenue", target="999", today=today), False),
        (checkin_view, checkin_values(checkin_view, "Forged from Beta"), True),
    ):
        body = two.workspace(BETA).submit(view, rep, values).body
        if refused:
            assert "someone else's, so nothing was saved" in json.loads(body)["errors"].popitem()[1]
        else:
            assert body in ("", "{}")
    two.settle()

    calls = two.since(seen)
    assert {team_of(c) for c in calls} <= {BETA}
    assert [c.method for c in calls if c.method in ("views.open", "chat.update")] == []
    for call in calls:
        assert deal not in text_of(call) and alpha_answer not in text_of(call)
        # Nor is an outcome that was never Beta's said to have been removed there.
        assert "isn't in the record" not in text_of(call)
    for session in two.db():
        outcome = session.get(Outcome, outcome_id)
        assert outcome is not None
        assert outcome.celebrate_consent is None and outcome.reflection_answered_at is None
        assert count(session, Reflection, outcome_id=outcome_id) == 0
        stored_goal = session.get(Goal, goal_id)
        assert stored_goal is not None and stored_goal.model_dump() == goal_before
        assert count(session, Goal, team_id=ALPHA, user_id=rep) == 1
        checkin = session.get(CheckIn, checkin_id)
        assert checkin is not None and checkin.status == "answered"
        answers_now = session.exec(
            select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin_id)
        ).all()
        assert [(a.team_id, a.answer) for a in answers_now] == [(ALPHA, alpha_answer)]
        still_waiting = session.get(CheckIn, waiting_id)
        assert still_waiting is not None and still_waiting.status == "sent"
        assert count(session, Outcome, team_id=BETA, user_id=rep) == 0

    # The very same clicks in Alpha do work (so the checks above can fail).
    seen = two.mark()
    two.workspace(ALPHA).click(rep, CHANGE_GOAL_ACTION_ID, str(goal_id), in_dm(rep))
    two.workspace(ALPHA).click(rep, OPEN_ACTION_ID, str(checkin_id), in_dm(rep))
    opened_in_alpha = two.wait(seen, "views.open", count=2)
    assert {team_of(c) for c in opened_in_alpha} == {ALPHA}
    assert alpha_answer in json.dumps([c.params for c in opened_in_alpha])
    two.settle()
    reply = two.workspace(ALPHA).submit(
        reflect_view, rep, reflection_values(reflect_view, "From Alpha")
    )
    assert reply.body in ("", "{}")
    two.workspace(ALPHA).click(rep, SKIP_ACTION_ID, str(waiting_id), in_dm(rep))
    two.settle()
    for session in two.db():
        assert count(session, Reflection, outcome_id=outcome_id) > 0
        skipped = session.get(CheckIn, waiting_id)
        assert skipped is not None and skipped.status == "skipped"
