"""The real app over HTTP: signed Slack requests in, Web API calls out to the stand-in."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from sqlmodel import Session

from bot.features.rebound_command import REBOUND_SUBCOMMANDS
from storage import queries
from storage.db import make_engine
from testkit.live import CONFIGURED_ADMIN, LiveApp
from testkit.simulator import HttpReply, slack_signature, state_value
from testkit.standin import SlackStandIn, StandInUser
from tests.support.standin_waits import first_call_since

ADMIN, OWNER, MANAGER, REP1, REP2 = "U0ADMIN", "U0OWNER", "U0MGR", "U0REP1", "U0REP2"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def _open_settings(live: LiveApp, standin: SlackStandIn, user_id: str) -> dict[str, Any]:
    seen = len(standin.calls)
    reply = live.sender().slash_command("/rebound", "settings", user_id=user_id)
    assert reply.status == 200
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    opened = [c for c in calls[seen:] if c.method == "views.open"]
    assert len(opened) == 1
    return opened[0].params["view"]


def _settings_values(**overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        "recognition_channel": {"value": state_value("channels_select", "C0WINS")},
        "checkin_weekday": {"value": state_value("static_select", "2")},
        "checkin_hour": {"value": state_value("static_select", "9")},
        "kudos_policy": {"value": state_value("radio_buttons", "everyone")},
        "threshold": {"value": state_value("number_input", "0.6")},
        "team_0_manager": {"value": state_value("users_select", MANAGER)},
        "team_0_reps": {"value": state_value("multi_users_select", [REP1, REP2])},
        "team_1_manager": {"value": state_value("users_select", None)},
        "team_1_reps": {"value": state_value("multi_users_select", [])},
    }
    values.update(overrides)
    return values


# -- signatures ----------------------------------------------------------------------------


def test_help_is_an_ephemeral_list_of_every_command(live: LiveApp) -> None:
    reply = live.sender().slash_command("/rebound", "help", user_id=REP1)
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    rendered = _texts(body["blocks"])
    from bot.blocks.help import COMMANDS

    for command in ("/lost", "/won", "/kudos", "/checkin", "/goal"):
        assert command in rendered
    for subcommand in ("lessons", "report", "export", "forget-me", "settings", "help"):
        assert f"/rebound {subcommand}" in rendered
    # Every subcommand the app answers is in the help (and nothing the app doesn't know).
    assert {c.split()[1] for c, _, _ in COMMANDS if c.startswith("/rebound ")} == set(
        REBOUND_SUBCOMMANDS
    )
    assert "e.g." in rendered


def test_empty_rebound_command_shows_help(live: LiveApp) -> None:
    body = live.sender().slash_command("/rebound", "", user_id=REP1).json()
    assert body["response_type"] == "ephemeral"
    assert "/lost" in _texts(body["blocks"])


def test_unknown_subcommand_gets_help_not_silence(live: LiveApp) -> None:
    body = live.sender().slash_command("/rebound", "dance now", user_id=REP1).json()
    rendered = _texts(body["blocks"])
    assert "I don't know `dance` yet" in rendered
    assert "/kudos" in rendered


def test_an_unknown_subcommand_is_echoed_as_typed_and_pings_nobody(live: LiveApp) -> None:
    # /rebound escapes (manifest), so Slack sends @here as <!here> and & as &amp;.
    for typed, shown in (("@here", "`@here`"), ("R&D", "`R&amp;D`")):
        body = live.sender().slash_command("/rebound", typed, user_id=REP1).json()
        rendered = _texts(body["blocks"])
        assert f"I don't know {shown} yet" in rendered
        assert "<!here" not in json.dumps(body) and "&amp;amp;" not in json.dumps(body)


def test_forged_signature_is_refused(live: LiveApp) -> None:
    sender = live.sender()
    fields = sender.slash_command_fields("/rebound", "help", user_id=REP1)
    reply = sender.post_form(fields, signature="v0=" + "0" * 64)
    assert reply.status == 401
    assert "/lost" not in reply.body


def test_signature_with_another_secret_is_refused(live: LiveApp) -> None:
    sender = live.sender()
    body = b"command=%2Frebound&text=help&user_id=U0REP1&team_id=T0REBOUND"
    ts = str(int(time.time()))
    reply = sender.post(
        body,
        "application/x-www-form-urlencoded",
        timestamp=int(ts),
        signature=slack_signature("wrong-secret", ts, body),
    )
    assert reply.status == 401


def test_stale_timestamp_is_refused_even_when_correctly_signed(live: LiveApp) -> None:
    sender = live.sender()
    fields = sender.slash_command_fields("/rebound", "help", user_id=REP1)
    stale = int(time.time()) - 5 * 60 - 30
    assert sender.post_form(fields, timestamp=stale).status == 401
    fresh = int(time.time()) - 60
    assert sender.post_form(fields, timestamp=fresh).status == 200


def test_url_verification_challenge_is_answered(live: LiveApp) -> None:
    body = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"}).encode()
    reply = live.sender().post(body, "application/json")
    assert reply.status == 200
    assert "c-123" in reply.body


# -- settings and roles --------------------------------------------------------------------


def test_non_admin_gets_an_ephemeral_explanation_and_no_modal(
    live: LiveApp, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    reply = live.sender().slash_command("/rebound", "settings", user_id=REP1)
    assert reply.status == 200
    ephemeral = first_call_since(standin, seen, "chat.postEphemeral")
    assert ephemeral.params["user"] == REP1
    assert "Only Rebound admins" in ephemeral.params["text"]
    time.sleep(0.2)
    assert not [c for c in standin.calls[seen:] if c.method == "views.open"]


@pytest.mark.parametrize("user_id", [ADMIN, OWNER, CONFIGURED_ADMIN])
def test_admins_owners_and_rebound_admins_get_the_settings_modal(
    live: LiveApp, standin: SlackStandIn, user_id: str
) -> None:
    view = _open_settings(live, standin, user_id)
    assert view["callback_id"] == "rebound_settings"
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert {
        "recognition_channel",
        "checkin_weekday",
        "checkin_hour",
        "kudos_policy",
        "threshold",
        "team_0_manager",
        "team_0_reps",
    } <= block_ids


def test_settings_field_errors_keep_the_modal_open_and_save_nothing(
    live: LiveApp, standin: SlackStandIn
) -> None:
    view = _open_settings(live, standin, ADMIN)
    sender = live.sender()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"threshold": {"value": state_value("number_input", "1.5")}}, "threshold"),
        ({"threshold": {"value": state_value("number_input", "abc")}}, "threshold"),
        ({"team_0_manager": {"value": state_value("users_select", None)}}, "team_0_manager"),
        (
            {"team_0_reps": {"value": state_value("multi_users_select", [MANAGER, REP1])}},
            "team_0_reps",
        ),
        (
            {
                "team_1_manager": {"value": state_value("users_select", ADMIN)},
                "team_1_reps": {"value": state_value("multi_users_select", [REP1])},
            },
            "team_1_reps",
        ),
    ]
    for overrides, field_with_error in cases:
        reply: HttpReply = sender.view_submission(
            view, user_id=ADMIN, values=_settings_values(**overrides)
        )
        body = reply.json()
        assert body["response_action"] == "errors", overrides
        assert field_with_error in body["errors"], body
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        workspace = queries.get_or_create_workspace(session=session, team_id="T0REBOUND")
        assert workspace.recognition_channel_id is None
        assert workspace.strong_process_threshold == 0.8
    engine.dispose()


def test_a_rep_listed_twice_is_named_by_name_in_the_field_error(
    live: LiveApp, standin: SlackStandIn
) -> None:
    # Modal field errors are plain text: a <@U…> would show as code, not as a person.
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        queries.upsert_member(
            session=session, team_id="T0REBOUND", user_id=REP1, display_name="Leo Park"
        )
        queries.upsert_member(
            session=session, team_id="T0REBOUND", user_id=MANAGER, display_name="Maya Chen"
        )
        session.commit()
    engine.dispose()
    view = _open_settings(live, standin, ADMIN)
    twice = {
        "team_1_manager": {"value": state_value("users_select", ADMIN)},
        "team_1_reps": {"value": state_value("multi_users_select", [REP1])},
    }
    body = live.sender().view_submission(view, user_id=ADMIN, values=_settings_values(**twice))
    error = body.json()["errors"]["team_1_reps"]
    assert error == "Leo Park already reports to Maya Chen. Each rep has one manager."
    assert "<@" not in error


def test_valid_settings_are_saved_confirmed_and_shown_next_time(
    live: LiveApp, standin: SlackStandIn
) -> None:
    view = _open_settings(live, standin, ADMIN)
    seen = len(standin.calls)
    reply = live.sender().view_submission(view, user_id=ADMIN, values=_settings_values())
    assert reply.status == 200
    assert reply.body in ("", "{}") or reply.json().get("response_action") != "errors"
    calls = standin.wait_for(
        lambda calls: any(c.method == "chat.postMessage" for c in calls[seen:]), timeout=10
    )
    confirmation = [c for c in calls[seen:] if c.method == "chat.postMessage"][0]
    assert confirmation.conversation == "D0ADMIN"
    assert "Settings saved" in _texts(confirmation.params["blocks"])

    engine = make_engine(live.database_url)
    with Session(engine) as session:
        workspace = queries.get_or_create_workspace(session=session, team_id="T0REBOUND")
        assert workspace.recognition_channel_id == "C0WINS"
        assert (workspace.checkin_weekday, workspace.checkin_hour) == (2, 9)
        assert workspace.kudos_policy == "everyone"
        assert workspace.strong_process_threshold == pytest.approx(0.6)
        reps = queries.reports_of(session=session, team_id="T0REBOUND", manager_user_id=MANAGER)
        assert sorted(r.user_id for r in reps) == [REP1, REP2]
    engine.dispose()

    reopened = _open_settings(live, standin, ADMIN)
    blocks = {b.get("block_id"): b for b in reopened["blocks"]}
    assert blocks["recognition_channel"]["element"]["initial_channel"] == "C0WINS"
    assert blocks["team_0_manager"]["element"]["initial_user"] == MANAGER
    assert blocks["team_0_reps"]["element"]["initial_users"] == [REP1, REP2]
    assert blocks["threshold"]["element"]["initial_value"] == "0.6"


# -- events ----------------------------------------------------------------------------------


def test_home_tab_is_published_when_opened(live: LiveApp, standin: SlackStandIn) -> None:
    seen = len(standin.calls)
    reply = live.sender().app_home_opened(REP2)
    assert reply.status == 200
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.publish" for c in calls[seen:]), timeout=10
    )
    published = [c for c in calls[seen:] if c.method == "views.publish"][0]
    assert published.params["user_id"] == REP2
    assert published.params["view"]["type"] == "home"
    assert "America/Los_Angeles" in _texts(published.params["view"]["blocks"])


def _next_publish(standin: SlackStandIn, seen: int, user_id: str) -> Any:
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "views.publish" and c.params.get("user_id") == user_id for c in calls[seen:]
        ),
        timeout=10,
    )
    return [c for c in calls[seen:] if c.method == "views.publish"][0]


def test_home_is_republished_with_the_hash_of_the_home_in_the_event(
    live: LiveApp, standin: SlackStandIn
) -> None:
    user = "U0HASHREP"
    standin.add_user(StandInUser(id=user, name="hana", real_name="Hana Hash", tz="Europe/London"))
    seen = len(standin.calls)
    live.sender().app_home_opened(user)  # the first time: no Home published yet, no view
    assert "hash" not in _next_publish(standin, seen, user).params
    shown = standin.published_home(user)
    assert shown is not None

    seen = len(standin.calls)
    live.sender().app_home_opened(user, view=shown)
    published = _next_publish(standin, seen, user)
    assert published.params["hash"] == shown["hash"]
    assert published.ok


def test_a_home_published_again_meanwhile_is_kept_over_a_stale_event(
    live: LiveApp, standin: SlackStandIn
) -> None:
    user = "U0STALEREP"
    standin.add_user(StandInUser(id=user, name="sam", real_name="Sam Stale", tz="Europe/London"))
    seen = len(standin.calls)
    live.sender().app_home_opened(user)
    _next_publish(standin, seen, user)
    stale = standin.published_home(user)
    assert stale is not None
    seen = len(standin.calls)
    live.sender().app_home_opened(user, view=stale)  # Home published again: a new hash
    _next_publish(standin, seen, user)
    newer = standin.published_home(user)
    assert newer is not None and newer["hash"] != stale["hash"]

    # An event still carrying the older Home: Slack refuses its hash, and the app leaves the
    # newer Home showing (no publish without the hash), without a listener error.
    seen = len(standin.calls)
    live.sender().app_home_opened(user, view=stale)
    refused = standin.wait_for(
        lambda calls: any(c.method == "views.publish" for c in calls[seen:]), timeout=10
    )
    time.sleep(0.5)
    publishes = [c for c in standin.calls[seen:] if c.method == "views.publish"]
    assert [(c.ok, c.response.get("error")) for c in publishes] == [(False, "hash_conflict")], (
        refused
    )
    assert standin.published_home(user) == newer
    assert "hash_conflict" not in live.logs()  # handled, not a listener error


def test_redelivered_event_has_no_second_effect(live: LiveApp, standin: SlackStandIn) -> None:
    sender = live.sender()
    envelope = sender.event_envelope(
        {"type": "app_home_opened", "user": REP1, "channel": "D0REP1", "tab": "home"}
    )
    seen = len(standin.calls)
    assert sender.send_event(envelope).status == 200
    standin.wait_for(
        lambda calls: any(c.method == "views.publish" for c in calls[seen:]), timeout=10
    )
    for retry in (1, 2, 3):
        assert sender.send_event(envelope, retry_num=retry).status == 200
    # A new event from the same person still works, and proves the retries were processed.
    assert sender.app_home_opened(REP1).status == 200
    calls = standin.wait_for(
        lambda calls: len([c for c in calls[seen:] if c.method == "views.publish"]) >= 2,
        timeout=10,
    )
    time.sleep(0.3)
    publishes = [c for c in standin.calls[seen:] if c.method == "views.publish"]
    assert len(publishes) == 2, calls


# -- health ----------------------------------------------------------------------------------


def test_healthz_answers_200_when_the_database_answers(live: LiveApp) -> None:
    status, body = _get(f"{live.base_url}/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_unknown_paths_and_get_on_events_are_not_served(live: LiveApp) -> None:
    assert _get(f"{live.base_url}/nope")[0] == 404
    assert _get(f"{live.base_url}/slack/events")[0] == 405


@pytest.mark.parametrize(
    "event",
    [{"type": "app_uninstalled"}, {"type": "tokens_revoked", "tokens": {"bot": ["U0REBOUNDBOT"]}}],
)
def test_lifecycle_events_in_the_manifest_are_acknowledged(
    live: LiveApp, event: dict[str, Any]
) -> None:
    sender = live.sender()
    assert sender.send_event(sender.event_envelope(event)).status == 200


def test_an_event_nobody_subscribed_to_is_not_acknowledged_as_handled(live: LiveApp) -> None:
    sender = live.sender()
    reply = sender.send_event(sender.event_envelope({"type": "reaction_added", "user": REP1}))
    assert reply.status == 404
