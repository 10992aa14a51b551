"""Multi-workspace installs over HTTP, on SQLite and PostgreSQL: `rebound serve` in OAuth mode,
two workspaces installed through `/slack/install` and `/slack/oauth_redirect` against the
stand-in, tokens encrypted at rest, each workspace answered with its own token and unable to
see or touch the other's data; uninstalling drops the tokens and, after the grace period, the
workspace's data.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from bot.app import build_ticker, make_dispatcher
from bot.blocks.debriefs import CELEBRATE_YES_ACTION_ID
from bot.clock import FakeClock
from bot.uow import to_channel
from storage.models import Outcome, Workspace
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.databases import BACKENDS
from tests.support.factories import _lose, _reflect, reflection_values
from tests.support.oauth_live import CLIENT_ID, http_get
from tests.support.slack import (
    ALL_PRACTICES,
    ALPHA,
    BETA,
    REP1,
    WINS,
    SlackDriver,
    oauth_driver,
)


@pytest.fixture(scope="module", params=BACKENDS)
def oauth_live(
    request: pytest.FixtureRequest, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SlackDriver]:
    folder = tmp_path_factory.mktemp(f"oauth-{request.param}")
    with oauth_driver(standin, request.param, folder) as driver:
        yield driver


def _text(call: RecordedCall) -> str:
    return json.dumps(call.params, ensure_ascii=False)


def _new_team(standin: SlackStandIn) -> str:
    team_id = f"T0{uuid.uuid4().hex[:8].upper()}"
    standin.add_team(team_id, f"Team {team_id}")
    return team_id


def test_install_sends_the_browser_to_slack_with_the_manifest_scopes(
    oauth_live: SlackDriver,
) -> None:
    status, headers, _ = http_get(oauth_live.app, "/slack/install")
    assert status == 302
    location = headers["location"]
    assert location.startswith("https://slack.com/oauth/v2/authorize?")
    assert f"client_id={CLIENT_ID}" in location
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert f"scope={','.join(scopes)}&" in location
    assert "slack-app-oauth-state=" in headers["set-cookie"]


def test_redirect_without_a_valid_state_installs_nothing(oauth_live: SlackDriver) -> None:
    team_id = _new_team(oauth_live.standin)
    status, _, _ = http_get(
        oauth_live.app,
        f"/slack/oauth_redirect?code=code-for-{team_id}&state=forged",
        headers={"Cookie": "slack-app-oauth-state=forged"},
    )
    assert status == 401
    assert oauth_live.rows("SELECT 1 FROM slack_bots WHERE team_id = :t", t=team_id) == []


def test_installs_keep_tokens_encrypted_at_rest(oauth_live: SlackDriver) -> None:
    rows = oauth_live.rows("SELECT team_id, bot_token FROM slack_installations ORDER BY team_id")
    bots = oauth_live.rows("SELECT team_id, bot_token FROM slack_bots ORDER BY team_id")
    cipher = Fernet(oauth_live.oauth_key.encode())
    for team_id, stored in [*rows, *bots]:
        assert team_id in (ALPHA, BETA) or team_id.startswith("T0")
        assert "xoxb-" not in stored  # never in the clear
        assert cipher.decrypt(stored.encode()).decode().startswith(f"xoxb-{team_id}-")
    assert {r[0] for r in rows} >= {ALPHA, BETA}
    names = dict(oauth_live.rows("SELECT team_id, name FROM workspaces"))
    assert (names[ALPHA], names[BETA]) == ("Alpha Sales", "Beta Sales")


def test_each_workspace_is_answered_with_its_own_token(oauth_live: SlackDriver) -> None:
    for team_id in (ALPHA, BETA):
        slack = oauth_live.workspace(team_id)
        seen = slack.mark()
        assert slack.sender.app_home_opened(REP1).status == 200
        published = slack.wait(seen, "views.publish", user_id=REP1)
        assert published[0].token is not None
        assert published[0].token.startswith(f"xoxb-{team_id}-")


def test_a_workspace_that_never_installed_is_refused(oauth_live: SlackDriver) -> None:
    slack = oauth_live.workspace("T0NEVERINSTALLED")
    seen = slack.mark()
    reply = slack.sender.app_home_opened(REP1)
    time.sleep(0.5)
    assert reply.status == 200
    assert "reinstall" in reply.body
    assert slack.since(seen, "views.publish") == []


def test_workspaces_cannot_see_or_touch_each_others_data(oauth_live: SlackDriver) -> None:
    alpha, beta = oauth_live.workspace(ALPHA), oauth_live.workspace(BETA)
    alpha.setup(channel=WINS)
    beta.setup(channel=WINS)
    deal = f"Alpha secret {uuid.uuid4().hex[:6]}"
    lesson = f"Qualify budget early {uuid.uuid4().hex[:6]}"
    _, outcome = _lose(alpha, REP1, deal, practices=ALL_PRACTICES)
    assert outcome.classification == "perfect-miss"
    _reflect(alpha, REP1, outcome, reflection_values(lesson, learned=lesson))

    # Commands: Alpha's journal has the lesson; the same person id in Beta sees none of it.
    seen = alpha.mark()
    assert alpha.sender.slash_command("/rebound", "lessons", user_id=REP1).status == 200
    assert lesson in _text(alpha.wait(seen, "chat.postEphemeral")[0])
    seen = beta.mark()
    assert beta.sender.slash_command("/rebound", "lessons", user_id=REP1).status == 200
    reply = beta.wait(seen, "chat.postEphemeral")[0]
    assert reply.token is not None and reply.token.startswith(f"xoxb-{BETA}-")
    assert lesson not in _text(reply) and deal not in _text(reply)

    # Buttons: Beta clicking "celebrate" with Alpha's outcome id changes nothing, posts nothing.
    seen = beta.mark()
    beta.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id))
    time.sleep(0.5)
    for session in alpha.db():
        stored = session.get(Outcome, outcome.id)
        assert stored is not None and stored.celebrate_consent is None
    assert beta.since(seen, "chat.postMessage") == []
    assert beta.outcomes() == []

    # Home: Beta's Home tab shows nothing of Alpha's; Alpha's shows the debrief.
    seen = beta.mark()
    beta.sender.app_home_opened(REP1)
    beta_home = beta.wait(seen, "views.publish", user_id=REP1)[0]
    assert beta_home.token is not None and beta_home.token.startswith(f"xoxb-{BETA}-")
    assert lesson not in _text(beta_home) and "Perfect miss 0" in _text(beta_home)

    # Settings, exports, forget-me, goals, check-ins, kudos, reports and forged modals:
    # tests/e2e/test_oauth_isolation.py.

    # Alpha's own Home does show it (so the check above can fail).
    seen = alpha.mark()
    alpha.sender.app_home_opened(REP1)
    alpha_home = _text(alpha.wait(seen, "views.publish", user_id=REP1)[0])
    assert lesson in alpha_home and "Perfect miss 1" in alpha_home


def test_uninstall_drops_tokens_now_and_data_after_the_grace_period(
    oauth_live: SlackDriver,
) -> None:
    team_id = _new_team(oauth_live.standin)
    oauth_live.install(team_id)
    slack = oauth_live.workspace(team_id)
    slack.setup(channel=WINS)
    _lose(slack, REP1, "Doomed deal")
    assert len(slack.outcomes()) == 1

    assert (
        slack.sender.send_event(slack.sender.event_envelope({"type": "app_uninstalled"})).status
        == 200
    )
    assert (
        slack.sender.send_event(
            {"type": "tokens_revoked", "tokens": {"bot": ["U0REBOUNDBOT"]}}
        ).status
        == 200
    )
    deadline = time.monotonic() + 5
    while oauth_live.rows("SELECT 1 FROM slack_bots WHERE team_id = :t", t=team_id):
        assert time.monotonic() < deadline, "the bot token was not deleted"
        time.sleep(0.05)
    # Bolt deletes the bot rows, then the installation rows, each in a transaction of its own.
    while oauth_live.rows("SELECT 1 FROM slack_installations WHERE team_id = :t", t=team_id):
        assert time.monotonic() < deadline, "the installation was not deleted"
        time.sleep(0.05)
    assert oauth_live.rows("SELECT 1 FROM slack_installations WHERE team_id = :t", t=team_id) == []
    # The two events are handled after their acks, in either order: wait for app_uninstalled's.
    uninstalled_at = None
    while uninstalled_at is None:
        for session in slack.db():
            workspace = session.get(Workspace, team_id)
            assert workspace is not None
            uninstalled_at = workspace.uninstalled_at
        assert uninstalled_at is not None or time.monotonic() < deadline + 5, "not uninstalled"
        time.sleep(0.05)

    # The workspace can no longer use the app.
    seen = slack.mark()
    slack.sender.app_home_opened(REP1)
    time.sleep(0.5)
    assert slack.since(seen, "views.publish") == []

    clock = FakeClock(uninstalled_at + timedelta(days=29))
    deps = oauth_live.deps(clock)
    build_ticker(deps).tick()
    assert len(slack.outcomes()) == 1  # still inside the 30-day grace period
    clock.advance(days=1, minutes=1)
    ticker = build_ticker(deps)
    ticker.tick()
    assert ticker.failures == []
    assert slack.outcomes() == []
    for session in slack.db():
        assert session.get(Workspace, team_id) is None
    assert oauth_live.rows("SELECT 1 FROM members WHERE team_id = :t", t=team_id) == []
    # The other workspaces keep everything.
    assert oauth_live.rows("SELECT 1 FROM workspaces WHERE team_id = :t", t=ALPHA)


def test_reinstalling_within_the_grace_period_keeps_the_data(oauth_live: SlackDriver) -> None:
    team_id = _new_team(oauth_live.standin)
    oauth_live.install(team_id)
    slack = oauth_live.workspace(team_id)
    slack.setup(channel=WINS)
    _lose(slack, REP1, "Comeback deal")
    slack.sender.send_event(slack.sender.event_envelope({"type": "app_uninstalled"}))
    deadline = time.monotonic() + 5
    while oauth_live.rows("SELECT 1 FROM slack_bots WHERE team_id = :t", t=team_id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # (Bolt deletes the installation rows after the bot rows: a reinstall must come after.)
    while oauth_live.rows("SELECT 1 FROM slack_installations WHERE team_id = :t", t=team_id):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    oauth_live.install(team_id)
    for session in slack.db():
        workspace = session.get(Workspace, team_id)
        assert workspace is not None and workspace.uninstalled_at is None

    deps = oauth_live.deps(FakeClock(oauth_live.live.clock() + timedelta(days=400)))
    build_ticker(deps).tick()
    assert len(slack.outcomes()) == 1
    seen = slack.mark()
    slack.sender.app_home_opened(REP1)
    assert slack.wait(seen, "views.publish", user_id=REP1)[0].token.startswith(f"xoxb-{team_id}-")  # type: ignore[union-attr]


def test_scheduled_sends_use_each_workspaces_token(oauth_live: SlackDriver) -> None:
    # What the jobs queue goes out through the dispatcher build_ticker runs on every tick
    # (bot.app.make_dispatcher), each workspace's rows with that workspace's bot token.
    deps = oauth_live.deps(FakeClock(oauth_live.live.clock()))
    run = uuid.uuid4().hex
    with deps.uow() as uow:
        for team_id in (ALPHA, BETA):
            uow.outbox.add(
                team_id=team_id,
                post_key=f"oauth-test:{run}:{team_id}",
                kind="test",
                to=to_channel(WINS),
                message={"text": f"hello {team_id} {run}"},
            )
    make_dispatcher(deps).run_once(deps.clock())
    posts = [
        c
        for c in oauth_live.standin.calls_to("chat.postMessage", ok_only=False)
        if str(c.params.get("text", "")).endswith(run)
    ]
    assert [c.params["text"] for c in posts] == [f"hello {ALPHA} {run}", f"hello {BETA} {run}"]
    assert (posts[0].token or "").startswith(f"xoxb-{ALPHA}-")
    assert (posts[1].token or "").startswith(f"xoxb-{BETA}-")
