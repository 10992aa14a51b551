"""Two workspaces on one `rebound serve` (OAuth mode), on SQLite and PostgreSQL: Alpha and Beta,
installed through the OAuth flow, with the same Slack user ids in both. Neither can see or touch
the other's goals, check-ins, kudos, reports or settings.

How the checks are made (on what can differ, with a control for each absence) is said in
tests/support/isolation.py; each test uses people (user ids) of its own.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.domain.debriefs import REASONS
from storage import queries
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Workspace,
)
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import count, new_user
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
    team_of,
)

__all__ = ["two"]  # the fixtures (tests/support/isolation.py)


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
