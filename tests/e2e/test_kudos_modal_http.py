"""/kudos with no text over HTTP, against the Slack stand-in, on both backends: the modal, its
validation, who gets one, and the daily cap with the modal kept open.

Each test works in a workspace and recognition channel of its own (tests/support/kudos.py).
"""

from __future__ import annotations

import time

from testkit.standin import SlackStandIn
from tests.support.kudos import (
    BOT,
    MANAGER,
    REP1,
    REP2,
    _dms_to,
    _ephemerals_after,
    _modal_values,
    _open_modal,
    team,
)
from tests.support.slack import SlackDriver, _text_of

__all__ = ["team"]  # the fixtures (tests/support/kudos.py)


def test_kudos_with_no_text_opens_a_modal_that_validates_and_posts_once(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    view = _open_modal(team, standin, MANAGER)
    assert view["callback_id"] == "kudos_modal"
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert elements["recipients"]["type"] == "multi_users_select"
    assert elements["category"]["type"] == "static_select"
    assert [o["value"] for o in elements["category"]["options"]] == [
        "resilience",
        "process",
        "learning",
        "win",
        "teamwork",
    ]
    assert elements["message"]["type"] == "plain_text_input"
    assert elements["message"]["multiline"] is True

    sender = team.sender
    # What needs no Slack call is answered in the modal itself.
    cases = [
        (_modal_values([], "win", "Great"), "recipients"),
        (_modal_values([MANAGER], "win", "Great"), "recipients"),
        (_modal_values([REP1], "win", "   \n  "), "message"),
        (_modal_values([REP1], "win", "y" * 1001), "message"),
    ]
    for values, block_id in cases:
        body = sender.view_submission(view, user_id=MANAGER, values=values).json()
        assert body["response_action"] == "errors", values
        assert block_id in body["errors"]
    # Who is a bot only Slack knows, and Slack may be slow: the modal closes, the answer comes
    # as an ephemeral message with the giver's own words to paste back.
    seen = len(standin.calls)
    words = f"Great pairing {team.run}"
    reply = sender.view_submission(
        view, user_id=MANAGER, values=_modal_values([REP1, BOT], "win", words)
    )
    assert reply.status == 200 and reply.body in ("", "{}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "is a bot" in answer and words in answer
    assert team.kudos_rows() == []

    values = _modal_values([REP1, REP2], "teamwork", f"Ran the joint demo {team.run}")
    seen = len(standin.calls)
    first = sender.view_submission(view, user_id=MANAGER, values=values)
    assert first.status == 200 and first.body in ("", "{}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert len(team.channel_posts()) == 1
    for recipient in (REP1, REP2):
        standin.wait_for(
            lambda calls, user=recipient: len(_dms_to(standin, user, team.run)) >= 1, timeout=10
        )
    # Slack retries the same view (same view id): nothing new is saved or posted.
    seen = len(standin.calls)
    again = sender.view_submission(view, user_id=MANAGER, values=values)
    assert again.status == 200 and again.body in ("", "{}")
    # The retry's work is done once it has asked Slack about the giver and both recipients.
    standin.wait_for(
        lambda calls: len([c for c in calls[seen:] if c.method == "users.info"]) >= 3, timeout=10
    )
    time.sleep(0.3)  # room for a wrong extra post or DM to show up
    assert len(team.channel_posts()) == 1
    assert len(team.kudos_rows()) == 1
    assert "teamwork" in _text_of(team.channel_posts()[0])
    for recipient in (REP1, REP2):
        assert len(_dms_to(standin, recipient, team.run)) == 1


def test_someone_not_allowed_gets_no_modal(team: SlackDriver, standin: SlackStandIn) -> None:
    team.make_team()
    seen = len(standin.calls)
    team.kudos(REP2, "")
    (answer,) = _ephemerals_after(standin, seen, REP2)
    assert "managers and admins" in _text_of(answer)
    assert not [c for c in standin.calls[seen:] if c.method == "views.open"]


def test_the_modal_reaching_the_daily_cap_keeps_the_modal_open(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel, kudos_daily_cap=1)
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #win First {team.run}")
    _ephemerals_after(standin, seen, MANAGER)
    view = _open_modal(team, standin, MANAGER)
    body = team.sender.view_submission(
        view, user_id=MANAGER, values=_modal_values([REP2], None, "Second")
    ).json()
    assert body["response_action"] == "errors"
    assert "daily limit" in body["errors"]["message"]
    assert len(team.kudos_rows()) == 1
