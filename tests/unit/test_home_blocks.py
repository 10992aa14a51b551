"""The Home tab's facts section, as a dict."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.blocks.home import HomeFacts, home_view

REP = HomeFacts(
    user_id="U0REP1",
    display_name="Leo Okafor",
    tz="Europe/London",
    manager_user_id="U0MGR",
    report_user_ids=[],
    recognition_channel_id="C0WINS",
    checkin_weekday=4,
    checkin_hour=14,
    is_admin=False,
)


def _text(facts: HomeFacts) -> str:
    return json.dumps(home_view(facts)["blocks"])


def test_a_rep_sees_their_check_in_time_in_their_zone() -> None:
    text = _text(REP)
    assert "Hi Leo" in text
    assert "Fridays at 14:00 your time (Europe/London)" in text
    assert "You report to <@U0MGR>" in text


def test_a_paused_rep_is_told_until_when() -> None:
    text = _text(replace(REP, checkins_paused_until="7 Dec 2026"))
    assert "paused until 7 Dec 2026" in text
    assert "Fridays at 14:00" not in text


def test_a_manager_without_check_ins_is_not_promised_one() -> None:
    manager = replace(REP, manager_user_id=None, report_user_ids=["U0REP1"], gets_checkins=False)
    text = _text(manager)
    assert "Weekly check-in" not in text
    assert "weekly digest" in text


def test_home_promises_nothing_goes_public_without_a_yes() -> None:
    assert "Nothing about you goes up in a channel unless you say yes." in _text(REP)
