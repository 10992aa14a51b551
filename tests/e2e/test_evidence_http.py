"""Enough evidence before a label, over HTTP: the setting's field error and saved value, and a
manager's Home that says "not enough to call yet" below the workspace's minimum."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.support.factories import add_current_goal, add_outcome
from tests.support.settings_form import number_field, settings_form
from tests.support.slack import ADMIN, MANAGER, REP1, REP2, SlackDriver


def _settings(min_evidence: str) -> dict[str, dict[str, object]]:
    return settings_form(min_evidence=number_field(min_evidence))


def test_the_evidence_setting_is_validated_saved_and_shown_again(slack: SlackDriver) -> None:
    view = slack.open_modal("/rebound", "settings", ADMIN)
    assert slack.team_config() is None or slack.team_config().min_evidence == 3
    for raw in ("0", "21", "2.5"):
        body = slack.submit(view, ADMIN, _settings(raw)).json()
        assert body["response_action"] == "errors", raw
        assert list(body["errors"]) == ["min_evidence"]
        assert "whole number from 1 to 20" in body["errors"]["min_evidence"]
    config = slack.team_config()
    assert config is None or config.min_evidence == 3

    reply = slack.submit(view, ADMIN, _settings("5"))
    assert "errors" not in (reply.body or "")
    slack.settle()
    config = slack.team_config()
    assert config is not None and config.min_evidence == 5
    reopened = slack.open_modal("/rebound", "settings", ADMIN)
    blocks = {b.get("block_id"): b for b in reopened["blocks"]}
    assert blocks["min_evidence"]["element"]["initial_value"] == "5"


def test_a_managers_home_says_not_enough_to_call_yet_below_the_minimum(
    slack: SlackDriver,
) -> None:
    slack.setup()
    assert slack.app is not None
    now = slack.app.clock()
    with slack.session_factory() as session:
        for rep in (REP1, REP2):
            add_current_goal(
                session, rep, now.date(), metric="deals_won", target=3, team_id=slack.team_id
            )
        for rep, losses in ((REP1, 2), (REP2, 3)):
            for index in range(losses):
                at = now - timedelta(hours=index + 1)
                add_outcome(session, rep, "loss", at, score=0.2, team_id=slack.team_id)
        session.commit()
    text = json.dumps(slack.home(MANAGER).params["view"]["blocks"], ensure_ascii=False)
    assert f"<@{REP1}> · not enough to call yet (2 scored outcomes so far, 0% of goal)" in text
    assert f"<@{REP1}> · 🔧" not in text
    assert f"<@{REP2}> · 🔧 System miss so far (0% of goal)" in text
    assert f"<@{REP1}>: system miss so far" not in text

    # A workspace that asks for two calls it.
    slack.configure(min_evidence=2)
    text = json.dumps(slack.home(MANAGER).params["view"]["blocks"], ensure_ascii=False)
    assert f"<@{REP1}> · 🔧 System miss so far (0% of goal)" in text
    assert "not enough to call yet" not in text


def test_a_managers_home_reads_a_pattern_from_five_losses_not_from_four(
    slack: SlackDriver,
) -> None:
    slack.setup()
    assert slack.app is not None
    now = slack.app.clock()
    reasons = ["price", "price", "price", "timing"]
    with slack.session_factory() as session:
        for index, reason in enumerate(reasons):
            add_outcome(
                session,
                REP1,
                "loss",
                now - timedelta(hours=index + 1),
                reason=reason,
                team_id=slack.team_id,
            )
        session.commit()
    text = json.dumps(slack.home(MANAGER).params["view"]["blocks"], ensure_ascii=False)
    assert "Too early for a pattern: 4 losses so far, and a pattern needs at least 5." in text
    assert "few reasons behind most losses" not in text and "cumulative" not in text

    slack.add_outcome(REP2, "loss", now - timedelta(minutes=5), reason="price")
    text = json.dumps(slack.home(MANAGER).params["view"]["blocks"], ensure_ascii=False)
    assert "Too early for a pattern" not in text
    assert "Price — 4 (80% cumulative)" in text
    assert "The few reasons behind most losses: *Price*." in text
