"""Two workspaces on one `rebound serve` (OAuth mode), on SQLite and PostgreSQL: Alpha and Beta,
installed through the OAuth flow, with the same Slack user ids in both. Neither can see or touch
the other's data through exports, forget-me, goals, check-ins, kudos, reports, settings or a
forged button click or modal submission.

Every check is made on what can differ: the database rows of each workspace, and the calls the
stand-in received, including which workspace's token each call used. Where a check looks for
the absence of something, a control shows the same request does find it in its own workspace.
The tests share the module's two workspaces, so each uses people (user ids) of its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.blocks.checkins import OPEN_ACTION_ID, SKIP_ACTION_ID
from bot.blocks.debriefs import CELEBRATE_NO_ACTION_ID, CELEBRATE_YES_ACTION_ID, REFLECT_ACTION_ID
from bot.blocks.goals import CHANGE_GOAL_ACTION_ID
from bot.blocks.privacy import FORGET_ME_CONFIRM_ACTION_ID
from bot.domain.debriefs import REASONS
from bot.usecases.goals import local_today
from storage import queries
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
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.databases import BACKENDS
from tests.support.factories import Seeded, count, csv_rows, new_user, seed_kudos, seed_person
from tests.support.slack import (
    ALPHA,
    BETA,
    TZ,
    SlackDriver,
    in_dm,
    oauth_driver,
    team_of,
)

ADMIN = "U0ADMIN"  # a Slack workspace admin; the stand-in's people are in both workspaces
PERSONAL_TABLES = (Member, Outcome, Reflection, CheckIn, Goal)


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


# --- /goal -----------------------------------------------------------------------------------


def _goal_shown(two: SlackDriver, team_id: str, user_id: str) -> str:
    seen = two.mark()
    two.workspace(team_id).command("/goal", "", user_id)
    (shown,) = two.wait(seen, "chat.postEphemeral", user=user_id)
    two.settle()
    assert_all_with_token_of(team_id, two.since(seen))
    assert two.since(seen, "views.open") == []
    return text_of(shown)


def test_goal_in_beta_ignores_the_same_persons_alpha_goal_and_wins(two: SlackDriver) -> None:
    rep = new_user(two.standin, TZ, tag="rep")
    today = london_today()
    view = two.workspace(ALPHA).open_modal("/goal", "", rep)
    seen = two.mark()
    two.workspace(ALPHA).submit(view, rep, goal_values(metric="deals_won", target="2", today=today))
    two.wait(seen, "chat.postMessage", channel="D" + rep[1:])
    for session in two.db():
        add_outcome(session, ALPHA, rep, "win", deal="Alpha win")
        session.commit()
    assert "1 of 2" in _goal_shown(two, ALPHA, rep)

    # Beta: no goal yet, so /goal opens the modal (Alpha's goal would have been shown instead).
    seen = two.mark()
    view = two.workspace(BETA).open_modal("/goal", "", rep)
    assert two.since(seen, "chat.postEphemeral") == []
    seen = two.mark()
    two.workspace(BETA).submit(view, rep, goal_values(metric="deals_won", target="4", today=today))
    (saved,) = two.wait(seen, "chat.postMessage", channel="D" + rep[1:])
    assert team_of(saved) == BETA
    assert "0 of 4" in text_of(saved)  # Alpha's win does not count in Beta
    for session in two.db():
        for _ in range(3):
            add_outcome(session, BETA, rep, "win", deal="Beta win")
        session.commit()

    beta_shown = _goal_shown(two, BETA, rep)
    assert "3 of 4" in beta_shown and "of 2" not in beta_shown
    alpha_shown = _goal_shown(two, ALPHA, rep)
    assert "1 of 2" in alpha_shown and "of 4" not in alpha_shown
    for session in two.db():
        goals = session.exec(select(Goal).where(Goal.user_id == rep).order_by(Goal.id)).all()  # type: ignore[arg-type]
        assert [(g.team_id, g.target) for g in goals] == [(ALPHA, 2.0), (BETA, 4.0)]


# --- /checkin --------------------------------------------------------------------------------


def test_checkin_in_beta_opens_beta_week_and_answers_land_in_beta(two: SlackDriver) -> None:
    rep = new_user(two.standin, TZ, tag="rep")
    alpha_answer = f"Alpha answer {uuid.uuid4().hex[:6]}"
    alpha_view = two.workspace(ALPHA).open_modal("/checkin", "", rep)
    alpha_id = int(alpha_view["private_metadata"])
    seen = two.mark()
    two.workspace(ALPHA).submit(alpha_view, rep, checkin_values(alpha_view, alpha_answer))
    two.wait(seen, "chat.postMessage", channel="D" + rep[1:])
    two.settle()

    seen = two.mark()
    beta_view = two.workspace(BETA).open_modal("/checkin", "", rep)
    two.settle()
    assert_all_with_token_of(BETA, two.since(seen))
    beta_id = int(beta_view["private_metadata"])
    assert beta_id != alpha_id
    assert alpha_answer not in json.dumps(beta_view)  # not prefilled with Alpha's answer

    beta_answer = f"Beta answer {uuid.uuid4().hex[:6]}"
    seen = two.mark()
    two.workspace(BETA).submit(beta_view, rep, checkin_values(beta_view, beta_answer))
    (thanks,) = two.wait(seen, "chat.postMessage", channel="D" + rep[1:])
    two.settle()
    assert_all_with_token_of(BETA, two.since(seen))
    assert thanks.conversation == "D" + rep[1:]  # the outbox posts in the rep's DM

    for session in two.db():
        beta_checkin = session.get(CheckIn, beta_id)
        alpha_checkin = session.get(CheckIn, alpha_id)
        assert beta_checkin is not None and alpha_checkin is not None
        assert (beta_checkin.team_id, beta_checkin.user_id) == (BETA, rep)
        assert beta_checkin.status == "answered"
        answers = session.exec(select(CheckInAnswer).where(CheckInAnswer.checkin_id == beta_id))
        assert [(a.team_id, a.answer) for a in answers] == [(BETA, beta_answer)]
        answers = session.exec(select(CheckInAnswer).where(CheckInAnswer.checkin_id == alpha_id))
        assert [(a.team_id, a.answer) for a in answers] == [(ALPHA, alpha_answer)]

    # Reopening in Alpha shows Alpha's own answer, not Beta's.
    reopened = two.workspace(ALPHA).open_modal("/checkin", "", rep)
    assert int(reopened["private_metadata"]) == alpha_id
    assert alpha_answer in json.dumps(reopened) and beta_answer not in json.dumps(reopened)


# --- /kudos ----------------------------------------------------------------------------------


def test_kudos_in_beta_post_with_betas_token_and_count_on_betas_home_only(
    two: SlackDriver,
) -> None:
    rep = new_user(two.standin, TZ, tag="rep")
    for session in two.db():
        queries.update_workspace_settings(
            session=session, team_id=ALPHA, recognition_channel_id="C0WINS"
        )
        queries.update_workspace_settings(
            session=session, team_id=BETA, recognition_channel_id="C0GENERAL"
        )
        session.commit()
    alpha_home = text_of(two.workspace(ALPHA).home(rep))
    assert "Kudos received" in alpha_home and "Kudos received: 1" not in alpha_home

    message = f"Came back strong {uuid.uuid4().hex[:6]}"
    seen = two.mark()
    two.workspace(BETA).command("/kudos", f"@rep-{rep.lower()} #resilience {message}", ADMIN)
    (confirmation,) = two.wait(seen, "chat.postEphemeral", user=ADMIN)
    two.settle()
    calls = two.since(seen)
    assert_all_with_token_of(BETA, calls)
    assert "Your kudos is up" in text_of(confirmation)
    posts = [c for c in calls if c.method == "chat.postMessage" and message in text_of(c)]
    channels = sorted(str(c.conversation) for c in posts)
    assert "C0GENERAL" in channels and "C0WINS" not in channels  # Beta's channel, not Alpha's

    for session in two.db():
        rows = session.exec(select(Kudos).where(Kudos.message == message)).all()
        assert [(k.team_id, k.channel_id, k.status) for k in rows] == [
            (BETA, "C0GENERAL", "posted")
        ]
        assert count(session, KudosRecipient, team_id=BETA, user_id=rep) == 1
        assert count(session, KudosRecipient, team_id=ALPHA, user_id=rep) == 0

    beta_home = two.workspace(BETA).home(rep)
    assert team_of(beta_home) == BETA
    assert "Kudos received: 1" in text_of(beta_home)
    alpha_home_call = two.workspace(ALPHA).home(rep)
    assert team_of(alpha_home_call) == ALPHA
    assert "Kudos received: 1" not in text_of(alpha_home_call)


# --- /rebound report -------------------------------------------------------------------------


def _report(two: SlackDriver, team_id: str, user_id: str, uploads: int) -> list[RecordedCall]:
    seen = two.mark()
    two.workspace(team_id).command("/rebound", "report", user_id)
    done = two.wait(seen, "files.completeUploadExternal", count=uploads)
    two.wait(seen, "chat.postEphemeral", user=user_id)
    two.settle()
    assert_all_with_token_of(team_id, two.since(seen))
    assert len(two.since(seen, "files.completeUploadExternal")) == uploads
    return done


def test_report_in_beta_charts_only_betas_team(two: SlackDriver) -> None:
    manager, rep = new_user(two.standin, TZ, tag="manager"), new_user(two.standin, TZ, tag="rep")
    now = datetime.now(UTC)
    for session in two.db():
        for team_id in (ALPHA, BETA):
            queries.set_reports(
                session=session, team_id=team_id, manager_user_id=manager, report_user_ids=[rep]
            )
        for days in (1, 2, 3):
            add_outcome(
                session,
                ALPHA,
                rep,
                "loss",
                deal="Alpha loss",
                reason="champion_left",
                at=now - timedelta(days=days),
            )
        add_outcome(
            session,
            BETA,
            rep,
            "loss",
            deal="Beta loss",
            reason="timing",
            at=now - timedelta(days=1),
        )
        session.add(
            Goal(
                team_id=ALPHA,
                user_id=rep,
                metric="deals_won",
                target=7,
                cycle_start=now.date() - timedelta(days=10),
                cycle_end=now.date() + timedelta(days=20),
                why="Alpha's goal",
                submission_key=uuid.uuid4().hex,
            )
        )
        session.commit()

    beta = " ".join(c.params["initial_comment"] for c in _report(two, BETA, manager, 2))
    assert REASONS["timing"] in beta and REASONS["champion_left"] not in beta
    assert "Nobody on your team has a goal set yet." in beta  # Alpha's goal for the rep is not

    alpha = " ".join(c.params["initial_comment"] for c in _report(two, ALPHA, manager, 2))
    assert REASONS["champion_left"] in alpha and REASONS["timing"] not in alpha
    assert f"<@{rep}>" in alpha

    # The rep's own bounce-back timeline counts the workspace's outcomes only.
    (timeline,) = _report(two, BETA, rep, 1)
    assert f"<@{rep}>'s last outcome." in timeline.params["initial_comment"]
    (timeline,) = _report(two, ALPHA, rep, 1)
    assert f"<@{rep}>'s last 3 outcomes" in timeline.params["initial_comment"]


# --- settings --------------------------------------------------------------------------------


def _settings_values(
    *, channel: str, weekday: str, hour: str, policy: str, threshold: str, manager: str, rep: str
) -> dict[str, dict[str, Any]]:
    return {
        "recognition_channel": {"value": state_value("channels_select", channel)},
        "checkin_weekday": {"value": state_value("static_select", weekday)},
        "checkin_hour": {"value": state_value("static_select", hour)},
        "kudos_policy": {"value": state_value("radio_buttons", policy)},
        "threshold": {"value": state_value("number_input", threshold)},
        "team_0_manager": {"value": state_value("users_select", manager)},
        "team_0_reps": {"value": state_value("multi_users_select", [rep])},
    }


def _save_settings(two: SlackDriver, team_id: str, values: dict[str, Any]) -> None:
    view = two.workspace(team_id).open_modal("/rebound", "settings", ADMIN)
    seen = two.mark()
    reply = two.workspace(team_id).submit(view, ADMIN, values)
    assert reply.body in ("", "{}"), reply.body
    (confirmation,) = two.wait(seen, "chat.postMessage", channel="D" + ADMIN[1:])
    assert team_of(confirmation) == team_id
    two.settle()


def _workspace_row(session: Session, team_id: str) -> dict[str, Any]:
    workspace = session.get(Workspace, team_id)
    assert workspace is not None
    return workspace.model_dump()


def _blocks(view: dict[str, Any]) -> dict[str, Any]:
    return {b.get("block_id"): b for b in view["blocks"]}


def test_changing_alphas_settings_leaves_betas_row_and_modal_alone(two: SlackDriver) -> None:
    alpha_manager, alpha_rep = (
        new_user(two.standin, TZ, tag="manager"),
        new_user(two.standin, TZ, tag="rep"),
    )
    beta_manager, beta_rep = (
        new_user(two.standin, TZ, tag="manager"),
        new_user(two.standin, TZ, tag="rep"),
    )
    beta_values = dict(
        channel="C0GENERAL", weekday="1", hour="8", policy="managers", threshold="0.7"
    )
    _save_settings(two, BETA, _settings_values(**beta_values, manager=beta_manager, rep=beta_rep))
    for session in two.db():
        beta_before = _workspace_row(session, BETA)
        beta_members_before = [
            (m.user_id, m.is_manager, m.manager_user_id)
            for m in queries.list_members(session=session, team_id=BETA)
        ]
    assert beta_before["recognition_channel_id"] == "C0GENERAL"
    assert (beta_before["checkin_weekday"], beta_before["checkin_hour"]) == (1, 8)

    _save_settings(
        two,
        ALPHA,
        _settings_values(
            channel="C0WINS",
            weekday="3",
            hour="16",
            policy="everyone",
            threshold="0.55",
            manager=alpha_manager,
            rep=alpha_rep,
        ),
    )
    for session in two.db():
        alpha_after = _workspace_row(session, ALPHA)
        assert alpha_after["recognition_channel_id"] == "C0WINS"
        assert (alpha_after["checkin_weekday"], alpha_after["checkin_hour"]) == (3, 16)
        assert alpha_after["kudos_policy"] == "everyone"
        assert alpha_after["strong_process_threshold"] == pytest.approx(0.55)
        assert _workspace_row(session, BETA) == beta_before
        assert [
            (m.user_id, m.is_manager, m.manager_user_id)
            for m in queries.list_members(session=session, team_id=BETA)
        ] == beta_members_before
        assert queries.get_member(session=session, team_id=BETA, user_id=alpha_rep) is None
        reps = queries.reports_of(session=session, team_id=ALPHA, manager_user_id=alpha_manager)
        assert [r.user_id for r in reps] == [alpha_rep]

    beta_view = two.workspace(BETA).open_modal("/rebound", "settings", ADMIN)
    blocks = _blocks(beta_view)
    assert blocks["recognition_channel"]["element"]["initial_channel"] == "C0GENERAL"
    assert blocks["checkin_weekday"]["element"]["initial_option"]["value"] == "1"
    assert blocks["checkin_hour"]["element"]["initial_option"]["value"] == "8"
    assert blocks["kudos_policy"]["element"]["initial_option"]["value"] == "managers"
    assert blocks["threshold"]["element"]["initial_value"] == "0.7"
    assert blocks["team_0_manager"]["element"]["initial_user"] == beta_manager
    assert blocks["team_0_reps"]["element"]["initial_users"] == [beta_rep]
    assert alpha_manager not in json.dumps(beta_view) and alpha_rep not in json.dumps(beta_view)
    # And Alpha's modal shows Alpha's new values (so the checks above can fail).
    alpha_blocks = _blocks(two.workspace(ALPHA).open_modal("/rebound", "settings", ADMIN))
    assert alpha_blocks["recognition_channel"]["element"]["initial_channel"] == "C0WINS"
    assert alpha_blocks["team_0_manager"]["element"]["initial_user"] == alpha_manager


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
