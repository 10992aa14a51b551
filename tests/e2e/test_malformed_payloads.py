"""Signed payloads Slack would never send: each is a 400 and one log line, never a traceback.

Every case starts from a well-formed request of the kind (which the app answers 200) and breaks
one field, so a case that passes shows the app noticed that field.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks.checkins import CHECKIN_CALLBACK_ID, OPEN_ACTION_ID, SKIP_ACTION_ID
from bot.blocks.debriefs import (
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
    REFLECT_CALLBACK_ID,
    lost_modal,
)
from bot.blocks.goals import CHANGE_GOAL_ACTION_ID, GOAL_CALLBACK_ID
from bot.blocks.privacy import FORGET_ME_CANCEL_ACTION_ID
from bot.domain import NONE_HELD
from testkit.live import LiveApp
from testkit.simulator import SlackSender, state_value

REP = "U0REP1"
DELETE = object()  # remove the field instead of replacing it
FORM = "application/x-www-form-urlencoded"
Path = tuple[str | int, ...]


def _event(sender: SlackSender) -> dict[str, Any]:
    return sender.event_envelope(
        {"type": "app_home_opened", "user": REP, "channel": "D0REP1", "tab": "home"}
    )


def _lost_values() -> dict[str, dict[str, Any]]:
    return {
        "deal": {"value": state_value("plain_text_input", "Acme renewal")},
        "amount": {"value": state_value("number_input", "1200")},
        "stage": {"value": state_value("static_select", "negotiation")},
        "reason": {"value": state_value("static_select", "price")},
        "competitor": {"value": state_value("plain_text_input", None)},
        "practices": {"value": state_value("checkboxes", [NONE_HELD])},
        "buyer_feedback": {"value": state_value("plain_text_input", None)},
    }


def _view_submission(sender: SlackSender) -> dict[str, Any]:
    return sender.view_submission_payload(lost_modal(), user_id=REP, values=_lost_values())


def _block_actions(sender: SlackSender) -> dict[str, Any]:
    message = {"ts": f"{time.time():.6f}", "text": "Forget me?", "channel": "D0REP1"}
    return sender.block_actions_payload(
        user_id=REP,
        actions=[{"action_id": FORGET_ME_CANCEL_ACTION_ID, "value": "cancel"}],
        message=message,
    )


def _command(sender: SlackSender) -> dict[str, Any]:
    return sender.slash_command_fields("/rebound", "help", user_id=REP)


BASES: dict[str, Callable[[SlackSender], dict[str, Any]]] = {
    "event": _event,
    "view_submission": _view_submission,
    "block_actions": _block_actions,
    "command": _command,
}


def _encode(kind: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    if kind == "event":
        return json.dumps(payload).encode(), "application/json"
    if kind == "command":
        return urlencode(payload).encode(), FORM
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def _mutated(payload: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(payload)
    target: Any = broken
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return broken


def _send(live: LiveApp, body: bytes, content_type: str) -> tuple[int, list[str]]:
    """Post `body` signed; the status and the log lines the app wrote while handling it."""
    seen = len(live.output)
    reply = live.sender().post(body, content_type)
    time.sleep(0.15)  # anything a listener logs after the ack shows up by now
    return reply.status, [line for line in live.output[seen:] if line.strip()]


@pytest.mark.parametrize("kind", sorted(BASES))
def test_each_well_formed_base_is_accepted(live: LiveApp, kind: str) -> None:
    status, lines = _send(live, *_encode(kind, BASES[kind](live.sender())))
    assert status == 200, lines
    assert not any("Traceback" in line for line in lines)


FIELD_CASES: list[tuple[str, Path, Any]] = [
    # Events API envelope
    ("event", ("event_id",), {"id": "Ev1"}),
    ("event", ("event_id",), ["Ev1"]),
    ("event", ("event_id",), 5),
    ("event", ("event_id",), "Ev\x00NUL"),
    ("event", ("event_id",), DELETE),
    ("event", ("team_id",), {"id": "T0REBOUND"}),
    ("event", ("team_id",), 5),
    ("event", ("team_id",), DELETE),
    ("event", ("type",), {"a": 1}),
    ("event", ("type",), 5),
    ("event", ("type",), DELETE),
    ("event", ("event",), 5),
    ("event", ("event",), "app_home_opened"),
    ("event", ("event",), DELETE),
    ("event", ("event", "type"), 5),
    ("event", ("event", "type"), DELETE),
    ("event", ("event", "user"), 5),
    ("event", ("event", "user"), {"id": REP}),
    ("event", ("event", "user"), "U\ud800"),
    ("event", ("event", "user"), DELETE),
    ("event", ("event", "tab"), {"a": 1}),
    ("event", ("authorizations",), 5),
    ("event", ("authorizations",), [5]),
    ("event", ("authorizations", 0, "team_id"), 5),
    ("event", ("is_enterprise_install",), [True]),
    # view_submission
    ("view_submission", ("type",), 5),
    ("view_submission", ("user",), 5),
    ("view_submission", ("user",), REP),
    ("view_submission", ("user",), DELETE),
    ("view_submission", ("user", "id"), {"a": 1}),
    ("view_submission", ("user", "id"), 5),
    ("view_submission", ("user", "id"), "U" * 300),
    ("view_submission", ("team",), 5),
    ("view_submission", ("team", "id"), {"a": 1}),
    ("view_submission", ("enterprise",), 5),
    ("view_submission", ("view",), 5),
    ("view_submission", ("view",), DELETE),
    ("view_submission", ("view", "callback_id"), {"a": 1}),
    ("view_submission", ("view", "private_metadata"), 5),
    ("view_submission", ("view", "blocks"), 5),
    ("view_submission", ("view", "blocks"), [5]),
    ("view_submission", ("view", "state"), [1]),
    ("view_submission", ("view", "state"), DELETE),
    ("view_submission", ("view", "state", "values"), [1]),
    ("view_submission", ("view", "state", "values"), DELETE),
    ("view_submission", ("view", "state", "values", "deal"), "Acme"),
    ("view_submission", ("view", "state", "values", "deal", "value"), "Acme"),
    ("view_submission", ("view", "state", "values", "deal", "value", "type"), DELETE),
    ("view_submission", ("view", "state", "values", "deal", "value", "value"), 5),
    ("view_submission", ("view", "state", "values", "deal", "value", "value"), ["Acme"]),
    ("view_submission", ("view", "state", "values", "stage", "value", "selected_option"), "x"),
    ("view_submission", ("view", "state", "values", "stage", "value", "selected_option"), [1]),
    (
        "view_submission",
        ("view", "state", "values", "stage", "value", "selected_option", "value"),
        {"a": 1},
    ),
    ("view_submission", ("view", "state", "values", "practices", "value", "selected_options"), 5),
    (
        "view_submission",
        ("view", "state", "values", "practices", "value", "selected_options"),
        ["x"],
    ),
    ("view_submission", ("response_urls",), 5),
    # block_actions
    ("block_actions", ("actions",), 5),
    ("block_actions", ("actions",), [5]),
    ("block_actions", ("actions",), []),
    ("block_actions", ("actions",), DELETE),
    ("block_actions", ("actions", 0, "action_id"), 5),
    ("block_actions", ("actions", 0, "action_id"), DELETE),
    ("block_actions", ("actions", 0, "value"), {"a": 1}),
    ("block_actions", ("actions", 0, "selected_user"), ["U0REP1"]),
    ("block_actions", ("container",), 5),
    ("block_actions", ("container", "channel_id"), {"id": "D0REP1"}),
    ("block_actions", ("message",), 5),
    ("block_actions", ("message", "ts"), 1.5),
    ("block_actions", ("channel",), 5),
    ("block_actions", ("channel", "id"), 5),
    ("block_actions", ("user", "id"), None),
    ("block_actions", ("trigger_id",), 5),
    # slash commands (form fields are always strings; what can be wrong is absence or junk)
    ("command", ("user_id",), DELETE),
    ("command", ("team_id",), DELETE),
    ("command", ("channel_id",), DELETE),
    ("command", ("user_id",), "U0REP1\x00"),
    ("command", ("team_id",), "T" * 300),
    ("command", ("channel_id",), "C0 GENERAL"),
]


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    FIELD_CASES,
    ids=[
        f"{k}-{'.'.join(map(str, p))}={v if v is not DELETE else 'DELETE'!r}"[:90]
        for k, p, v in FIELD_CASES
    ],
)
def test_a_signed_payload_with_a_broken_field_is_a_400_with_one_log_line(
    live: LiveApp, kind: str, path: Path, value: Any
) -> None:
    payload = _mutated(BASES[kind](live.sender()), path, value)
    status, lines = _send(live, *_encode(kind, payload))
    assert status == 400, lines
    assert len(lines) == 1, lines
    assert "malformed" in lines[0]
    assert not any("Traceback" in line for line in lines)


RAW_CASES: list[tuple[bytes, str]] = [
    (b"[1, 2]", "application/json"),
    (b'"event_callback"', "application/json"),
    (b"null", "application/json"),
    (b"{not json", "application/json"),
    (b'{"type": "event_callback", "event": ', "application/json"),
    (b"\xff\xfe{}", "application/json"),
    (b"payload=%7Bnot+json", FORM),
    (b"payload=%5B1%5D", FORM),
    (b"payload=%22view_submission%22", FORM),
    (b"payload=null", FORM),
    (b"payload=%7B%7D", FORM),
    (b"payload=%7B%22type%22%3A+%22view_submission%22%7D", FORM),
    (b"payload=\xff\xfe", FORM),
    (b"token=x&text=hello", FORM),
    (b"", FORM),
]


@pytest.mark.parametrize(
    ("body", "content_type"), RAW_CASES, ids=[b[:40].decode("latin-1") for b, _ in RAW_CASES]
)
def test_a_signed_body_that_is_not_a_slack_payload_is_a_400_with_one_log_line(
    live: LiveApp, body: bytes, content_type: str
) -> None:
    status, lines = _send(live, body, content_type)
    assert status == 400, lines
    assert len(lines) == 1, lines
    assert not any("Traceback" in line for line in lines)


def test_slacks_ssl_check_is_not_mistaken_for_a_malformed_payload(live: LiveApp) -> None:
    status, lines = _send(live, b"ssl_check=1&token=deprecated-verification-token", FORM)
    assert status == 200, lines
    assert lines == []


# -- fuzz: any wrong-typed value anywhere is handled without a 5xx or a traceback ----------------

WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["id", "value", "type"]), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    found: list[Path] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(inner, (*prefix, index)))
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_field_of_any_kind_given_any_value_never_answers_500_or_logs_a_trace(
    live: LiveApp, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(BASES)))
    payload = BASES[kind](live.sender())
    path = data.draw(st.sampled_from(_paths(payload)))
    value = data.draw(WRONG_VALUES | st.just(DELETE))
    if kind == "command" and value is not DELETE:
        value = str(value)  # a form can only carry strings
    status, lines = _send(live, *_encode(kind, _mutated(payload, path, value)))
    assert status < 500, (path, value, lines)
    assert not any("Traceback" in line for line in lines), (path, value, lines)


# -- row ids in button values and private_metadata: a forged number is an unknown row ----------

HUGE = str(10**30)
FORGED_IDS = [HUGE, "-" + HUGE, "1" * 5000, "0", "²"]


@pytest.mark.parametrize("value", FORGED_IDS, ids=["huge", "negative", "5000 digits", "0", "²"])
@pytest.mark.parametrize(
    "action_id",
    [
        REFLECT_ACTION_ID,
        CELEBRATE_YES_ACTION_ID,
        OPEN_ACTION_ID,
        SKIP_ACTION_ID,
        CHANGE_GOAL_ACTION_ID,
    ],
)
def test_a_button_carrying_a_forged_row_id_is_treated_as_unknown(
    live: LiveApp, action_id: str, value: str
) -> None:
    message = {"ts": f"{time.time():.6f}", "text": "x", "channel": "D0REP1"}
    payload = live.sender().block_actions_payload(
        user_id=REP, actions=[{"action_id": action_id, "value": value}], message=message
    )
    status, lines = _send(live, *_encode("block_actions", payload))
    time.sleep(0.3)  # the listener runs after the ack
    assert status == 200
    assert "Traceback" not in live.logs(), lines


@pytest.mark.parametrize(
    ("callback_id", "metadata"),
    [
        (CHECKIN_CALLBACK_ID, HUGE),
        (CHECKIN_CALLBACK_ID, "-3"),
        (REFLECT_CALLBACK_ID, json.dumps({"outcome_id": 10**30})),
        (REFLECT_CALLBACK_ID, json.dumps({"outcome_id": 1, "commitment_id": -(10**30)})),
        (GOAL_CALLBACK_ID, json.dumps({"goal_id": 10**30})),
    ],
)
def test_a_modal_whose_metadata_carries_a_forged_row_id_is_treated_as_unknown(
    live: LiveApp, callback_id: str, metadata: str
) -> None:
    view = {"callback_id": callback_id, "private_metadata": metadata, "blocks": []}
    payload = live.sender().view_submission_payload(view, user_id=REP, values={})
    status, lines = _send(live, *_encode("view_submission", payload))
    time.sleep(0.3)
    assert status == 200
    assert "Traceback" not in live.logs(), lines
