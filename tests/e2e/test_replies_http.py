"""Replies reach the person where they typed, over HTTP: through the command's response_url
when chat.postEphemeral can't (a DM with someone else, a private channel without the bot),
never a detour through the app's DM; and a confirmation, once clicked, is replaced through
the click's response_url so it can't be clicked again. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks.privacy import FORGET_ME_CONFIRM_ACTION_ID
from storage import queries
from storage.db import make_engine, make_session_factory
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.standin_waits import first_call_since

REP, MANAGER = "U0REP1", "U0MGR"
PEOPLE_DM = "D0LEOPRIYA"  # Leo's DM with Priya: the app is not in it
MANAGER_DM = "D0MAYALEO"  # Maya's DM with Leo
SECRET = "C0SECRETDEALS"  # a private channel Leo is in, the app is not


@pytest.fixture(scope="module", autouse=True)
def _channels(standin: SlackStandIn) -> None:
    standin.add_dm_between(PEOPLE_DM, REP, "U0REP2")
    standin.add_dm_between(MANAGER_DM, MANAGER, REP)
    standin.add_channel(SECRET, "secret-deals", private=True, members={REP}, bot_is_member=False)


def _type(
    live: LiveApp,
    text: str,
    channel_id: str,
    channel_name: str,
    command: str = "/checkin",
    user_id: str = REP,
) -> str:
    """Type `command text` in a channel; the command's response_url."""
    sender = live.sender()
    fields = sender.slash_command_fields(
        command, text, user_id=user_id, channel_id=channel_id, channel_name=channel_name
    )
    reply = sender.post_form(fields)
    assert reply.status == 200, reply.body
    return fields["response_url"]


def _dm_posts(calls: list[RecordedCall], user_id: str = REP) -> list[RecordedCall]:
    dm = "D" + user_id[1:]
    return [c for c in calls if c.method == "chat.postMessage" and c.conversation == dm]


@pytest.mark.parametrize(
    ("channel_id", "channel_name", "refused_with"),
    [
        (PEOPLE_DM, "directmessage", "channel_not_found"),
        (SECRET, "privategroup", "channel_not_found"),
    ],
)
def test_a_reply_where_the_bot_cannot_post_comes_through_the_response_url(
    live: LiveApp, standin: SlackStandIn, channel_id: str, channel_name: str, refused_with: str
) -> None:
    seen = len(standin.calls)
    response_url = _type(live, "resume", channel_id, channel_name)

    answer = standin.wait_for_responses(response_url, timeout=10)
    assert len(answer) == 1
    assert answer[0]["response_type"] == "ephemeral"
    assert answer[0]["replace_original"] is False
    assert "check-in" in answer[0]["text"].lower()
    calls = standin.calls[seen:]
    tried = [c for c in calls if c.method == "chat.postEphemeral"]
    assert [(c.params["channel"], c.error) for c in tried] == [(channel_id, refused_with)]
    # Not sent to the app's DM instead: it showed where they typed.
    assert _dm_posts(calls) == []


def test_where_the_bot_can_post_the_reply_is_a_plain_ephemeral(
    live: LiveApp, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    response_url = _type(live, "resume", "C0GENERAL", "general")
    shown = first_call_since(standin, seen, "chat.postEphemeral")
    assert shown.ok and shown.conversation == "C0GENERAL"
    # The response_url, good for 5 answers only, is kept for when it's needed.
    assert standin.responses_to(response_url, ok_only=False) == []


def test_forget_me_typed_in_a_dm_with_someone_confirms_there_and_the_click_replaces_it(
    live: LiveApp, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    response_url = _type(live, "forget-me", PEOPLE_DM, "directmessage", command="/rebound")
    confirmation = standin.wait_for_responses(response_url, timeout=10)[0]
    assert confirmation["response_type"] == "ephemeral"
    buttons: list[dict[str, Any]] = [
        element
        for block in confirmation["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    confirm = next(b for b in buttons if b["action_id"] == FORGET_ME_CONFIRM_ACTION_ID)
    assert _dm_posts(standin.calls[seen:]) == []

    # The click on that ephemeral message: is_ephemeral, and a response_url of its own.
    sender = live.sender()
    click_url = sender.new_response_url("actions")
    reply = sender.block_actions(
        user_id=REP,
        actions=[{"action_id": confirm["action_id"], "value": confirm["value"]}],
        ephemeral_ts="1700000000.000200",
        channel_id=PEOPLE_DM,
        response_url=click_url,
    )
    assert reply.status == 200
    outcome = standin.wait_for_responses(click_url, timeout=10)
    assert len(outcome) == 1 and outcome[0]["replace_original"] is True
    assert not any(b["type"] == "actions" for b in outcome[0].get("blocks", []))
    assert _dm_posts(standin.calls[seen:]) == []


def test_kudos_given_through_the_modal_from_a_dm_is_answered_there(
    live: LiveApp, standin: SlackStandIn
) -> None:
    """The modal carries the command's response_url; the answer after Send uses it, since a
    view submission has none and chat.postEphemeral can't reach Maya in her DM with Leo."""
    engine = make_engine(live.database_url)
    with make_session_factory(engine)() as session:
        queries.set_reports(
            session=session, team_id="T0REBOUND", manager_user_id=MANAGER, report_user_ids=[REP]
        )
        queries.update_workspace_settings(
            session=session, team_id="T0REBOUND", recognition_channel_id="C0WINS"
        )
        session.commit()
    engine.dispose()
    seen = len(standin.calls)
    response_url = _type(live, "", MANAGER_DM, "directmessage", command="/kudos", user_id=MANAGER)
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" and c.ok for c in calls[seen:]), timeout=10
    )
    view = next(c for c in calls[seen:] if c.method == "views.open").response["view"]
    values = {
        "recipients": {"value": state_value("multi_users_select", [REP])},
        "category": {"value": state_value("static_select", "teamwork")},
        "message": {"value": state_value("plain_text_input", "Covered my demo, thank you")},
    }
    reply = live.sender().view_submission(view, user_id=MANAGER, values=values)
    assert reply.status == 200 and reply.body in ("", "{}"), reply.body
    answers = standin.wait_for_responses(response_url, timeout=10)
    assert len(answers) == 1 and answers[0]["response_type"] == "ephemeral"
    assert "Your kudos is up" in answers[0]["text"]
    assert _dm_posts(standin.calls[seen:], MANAGER) == []
