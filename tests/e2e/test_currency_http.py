"""Amounts in the workspace's currency, over HTTP: the setting's field error and save, and the
manager's note and a revenue goal that show "£60,000"."""

from __future__ import annotations

import json
from typing import Any

from testkit.simulator import state_value
from tests.support.factories import add_current_goal, lost_values
from tests.support.settings_form import settings_form, team_fields
from tests.support.slack import ADMIN, DM, MANAGER, REP1, SlackDriver


def _settings(currency: str) -> dict[str, dict[str, Any]]:
    return settings_form(
        currency={"value": state_value("plain_text_input", currency)},
        **team_fields(0, MANAGER, [REP1]),
    )


def test_the_currency_is_validated_saved_and_amounts_carry_it(slack: SlackDriver) -> None:
    view = slack.open_modal("/rebound", "settings", ADMIN)
    body = slack.submit(view, ADMIN, _settings("XYZ")).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["currency"]
    assert "ISO 4217" in body["errors"]["currency"]
    config = slack.team_config()
    assert config is None or config.currency is None

    slack.submit(view, ADMIN, _settings("gbp"))
    slack.settle()
    config = slack.team_config()
    assert config is not None and config.currency == "GBP"
    reopened = slack.open_modal("/rebound", "settings", ADMIN)
    blocks = {b.get("block_id"): b for b in reopened["blocks"]}
    assert blocks["currency"]["element"]["initial_value"] == "GBP"

    lost = slack.open_modal("/lost", "Initech", REP1)
    seen = slack.mark()
    slack.submit(lost, REP1, lost_values("Initech", amount="60000", practices=["discovery"]))
    note = slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])[0]
    text = json.dumps(note.params.get("blocks"), ensure_ascii=False)
    assert "Amount: £60,000" in text

    assert slack.app is not None
    today = slack.app.clock().date()
    with slack.session_factory() as session:
        add_current_goal(
            session, REP1, today, metric="revenue", target=60000, team_id=slack.team_id
        )
        session.commit()
    home = json.dumps(slack.home(REP1).params["view"]["blocks"], ensure_ascii=False)
    assert "*Revenue:* £0 of £60,000" in home
