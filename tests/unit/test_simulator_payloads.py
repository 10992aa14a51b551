"""The payloads testkit.simulator sends, checked against the shapes Slack documents (each assertion
names its source). Nothing is sent: the transport is replaced by one that keeps the body."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from testkit.simulator import HttpReply, SlackSender, state_value


class KeepingSender(SlackSender):
    """A SlackSender whose requests are kept instead of sent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("http://unused.invalid/slack/events", "secret", **kwargs)
        self.bodies: list[tuple[str, bytes]] = []

    def post(self, body: bytes, content_type: str, **kwargs: Any) -> HttpReply:
        self.bodies.append((content_type, body))
        return HttpReply(200, {}, "")

    def last_form(self) -> dict[str, str]:
        content_type, body = self.bodies[-1]
        assert content_type == "application/x-www-form-urlencoded"
        return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}

    def last_payload(self) -> dict[str, Any]:
        return json.loads(self.last_form()["payload"])

    def last_json(self) -> dict[str, Any]:
        content_type, body = self.bodies[-1]
        assert content_type == "application/json"
        return json.loads(body)


def grid_sender() -> KeepingSender:
    return KeepingSender(team_id="T0GRID", enterprise_id="E0ORG", enterprise_name="Org")


# --- Enterprise Grid -------------------------------------------------------------------------


def test_grid_slash_commands_name_the_enterprise() -> None:
    # https://docs.slack.dev/interactivity/implementing-slash-commands: enterprise_id and
    # enterprise_name beside team_id; is_enterprise_install is a form string.
    sender = grid_sender()
    sender.slash_command("/lost", "Acme", user_id="U1")
    fields = sender.last_form()
    assert (fields["team_id"], fields["enterprise_id"], fields["enterprise_name"]) == (
        "T0GRID",
        "E0ORG",
        "Org",
    )
    assert fields["is_enterprise_install"] == "false"
    plain = KeepingSender()
    plain.slash_command("/lost", "Acme", user_id="U1")
    assert "enterprise_id" not in plain.last_form()


def test_grid_interactivity_payloads_carry_enterprise_and_team() -> None:
    # bolt-python tests/slack_bolt/request/test_internals.py and
    # tests/scenario_tests/test_block_actions.py.
    sender = grid_sender()
    sender.block_actions(user_id="U1", actions=[{"action_id": "a", "value": "1"}])
    clicked = sender.last_payload()
    sender.view_submission({"id": "V1", "callback_id": "c"}, user_id="U1", values={})
    submitted = sender.last_payload()
    for payload in (clicked, submitted):
        assert payload["enterprise"] == {"id": "E0ORG", "name": "Org"}
        assert payload["is_enterprise_install"] is False
        assert payload["team"]["id"] == "T0GRID"
        assert payload["team"]["enterprise_id"] == "E0ORG"
    plain = KeepingSender()
    plain.block_actions(user_id="U1", actions=[{"action_id": "a", "value": "1"}])
    assert plain.last_payload()["enterprise"] is None


def test_grid_event_envelopes_name_the_enterprise_in_authorizations() -> None:
    # https://api.slack.com/enterprise/apps/reference "Sample event payload"; bolt-python
    # tests/scenario_tests/test_events_org_apps.py.
    envelope = grid_sender().event_envelope({"type": "app_home_opened", "user": "U1"})
    assert (envelope["team_id"], envelope["enterprise_id"]) == ("T0GRID", "E0ORG")
    (authorization,) = envelope["authorizations"]
    assert authorization["enterprise_id"] == "E0ORG"
    assert authorization["team_id"] == "T0GRID"
    assert authorization["is_enterprise_install"] is False
    plain = KeepingSender().event_envelope({"type": "app_home_opened", "user": "U1"})
    assert "enterprise_id" not in plain and plain["authorizations"][0]["enterprise_id"] is None


# --- block_actions state, app_home_opened view, tokens_revoked -----------------------------


def test_block_actions_carry_the_state_of_the_surface() -> None:
    # https://api.slack.com/changelog/2020-09-full-state-on-view-submisson-and-block-actions:
    # "We will also include the state field in all block_actions payloads."
    sender = KeepingSender()
    values = {"reason": {"value": state_value("static_select", "price")}}
    view = {"id": "V1", "type": "modal", "hash": "1.2", "state": {"values": {}}}
    sender.block_actions(user_id="U1", actions=[{"action_id": "a"}], view=view, state=values)
    payload = sender.last_payload()
    assert payload["state"] == {"values": values}
    assert payload["view"]["state"] == {"values": values}
    assert payload["view"]["hash"] == "1.2"
    sender.block_actions(
        user_id="U1", actions=[{"action_id": "a"}], message={"ts": "1.1", "channel": "D1"}
    )
    assert sender.last_payload()["state"] == {"values": {}}


def test_app_home_opened_carries_the_published_home_once_there_is_one() -> None:
    # https://docs.slack.dev/reference/events/app_home_opened: "If they opened a Home tab and
    # that tab has had a view published at least once before, a view field will also be
    # included."
    sender = KeepingSender()
    sender.app_home_opened("U1")
    assert "view" not in sender.last_json()["event"]
    home = {"id": "V9", "type": "home", "hash": "1700000000.abc", "blocks": []}
    sender.app_home_opened("U1", view=home)
    event = sender.last_json()["event"]
    assert event["view"]["hash"] == "1700000000.abc" and event["tab"] == "home"


def test_tokens_revoked_lists_user_and_bot_token_owners() -> None:
    # https://docs.slack.dev/reference/events/tokens_revoked: "tokens": {"oauth": [...],
    # "bot": [...]}, user ids, inside an event_callback envelope.
    sender = KeepingSender()
    sender.tokens_revoked(oauth=["U0ADMIN"], bot=["U0REBOUNDBOT"])
    envelope = sender.last_json()
    assert envelope["type"] == "event_callback"
    assert envelope["event"]["type"] == "tokens_revoked"
    assert envelope["event"]["tokens"] == {"oauth": ["U0ADMIN"], "bot": ["U0REBOUNDBOT"]}
