"""The settings modal as a dict: within Slack's limits when full, and its parsing."""

from __future__ import annotations

from bot.blocks.settings import parse_settings_submission, settings_modal
from bot.domain.settings import CurrentSettings
from bot.usecases.settings import MAX_TEAMS_IN_MODAL
from testkit.simulator import state_value
from testkit.standin import BlockKitChecker
from tests.support.settings_form import current_settings, settings_form


def _current(teams: int) -> CurrentSettings:
    return current_settings(
        recognition_channel_id="C0WINS",
        teams={f"U0M{i:03d}": [f"U0R{i:03d}"] for i in range(teams)},
        cycle="quarterly",
        checkin_reminder_hours=8,
        kudos_daily_cap=3,
    )


def test_a_full_modal_stays_within_slacks_100_blocks() -> None:
    view = settings_modal(_current(MAX_TEAMS_IN_MODAL))
    assert len(view["blocks"]) <= 100
    checker = BlockKitChecker()
    checker.check_view(view)
    assert checker.problems == []


def test_the_modal_shows_the_current_cycle_reminders_and_cap() -> None:
    blocks = {b.get("block_id"): b for b in settings_modal(_current(1))["blocks"]}
    assert blocks["cycle"]["element"]["initial_option"]["value"] == "quarterly"
    assert blocks["checkin_reminder_hours"]["element"]["initial_option"]["value"] == "8"
    assert blocks["kudos_daily_cap"]["element"]["initial_value"] == "3"


def test_more_settings_are_read_only_when_present() -> None:
    saved, errors = parse_settings_submission(settings_form())
    assert errors == {} and saved is not None and saved.more == {}
    saved, errors = parse_settings_submission(
        settings_form(
            cycle={"value": state_value("radio_buttons", "quarterly")},
            checkin_reminder_hours={"value": state_value("static_select", "48")},
            reflection_reminder_hours={"value": state_value("static_select", "4")},
            kudos_daily_cap={"value": state_value("number_input", "12")},
            data_grace_days={"value": state_value("number_input", "7")},
        )
    )
    assert errors == {}
    assert saved is not None
    assert saved.more == {
        "cycle": "quarterly",
        "checkin_reminder_hours": 48,
        "reflection_reminder_hours": 4,
        "kudos_daily_cap": 12,
        "data_grace_days": 7,
    }


def test_bad_more_settings_are_field_errors() -> None:
    saved, errors = parse_settings_submission(
        settings_form(
            cycle={"value": state_value("radio_buttons", "weekly")},
            kudos_daily_cap={"value": state_value("number_input", "0")},
        )
    )
    assert saved is None
    assert set(errors) == {"cycle", "kudos_daily_cap"}


def test_a_rep_on_two_teams_is_named_in_plain_words() -> None:
    values = settings_form(
        team_0_manager={"value": state_value("users_select", "U0MGR")},
        team_0_reps={"value": state_value("multi_users_select", ["U0REP1"])},
        team_1_manager={"value": state_value("users_select", "U0MGR2")},
        team_1_reps={"value": state_value("multi_users_select", ["U0REP1"])},
    )
    names = {"U0REP1": "Leo Park", "U0MGR": "Maya Chen"}
    _, errors = parse_settings_submission(values, name_of=names.get)
    assert errors["team_1_reps"] == (
        "Leo Park already reports to Maya Chen. Each rep has one manager."
    )
    _, errors = parse_settings_submission(values)  # nobody's name known
    assert errors["team_1_reps"] == (
        "One of these reps already reports to a manager listed above. Each rep has one manager."
    )
    assert "<@" not in errors["team_1_reps"]
