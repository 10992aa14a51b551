"""The words and buttons of consent to a public bounce-back and of taking a shout-out back
(issue 12, section 4), as dicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks.debriefs import (
    CELEBRATE_ASK_BLOCK_ID,
    CELEBRATE_BLOCK_ID,
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    LESSON_NOT_NOW_ACTION_ID,
    REFLECT_ACTION_ID,
    TAKE_BACK_ACTION_ID,
    TAKE_BACK_BLOCK_ID,
    ShoutOut,
    already_taken_back,
    celebration_choice_dm,
    consent_recorded_blocks,
    nothing_to_take_back,
    take_back_button,
    take_back_failed_dm,
    take_back_lost_track,
    taken_back_blocks,
    win_logged_dm,
)
from bot.blocks.settings import settings_modal, settings_saved_message
from bot.blocks.settings.parse import parse_settings_submission
from bot.domain import PRACTICES, Classification
from bot.domain.debriefs import OutcomeFacts, ResilienceLine
from bot.domain.settings import CurrentSettings
from tests.support.block_kit import action_buttons, valid_message
from tests.support.settings_form import current_settings

WHEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _win(**overrides: Any) -> OutcomeFacts:
    values: dict[str, Any] = {
        "id": 41,
        "user_id": "U0PRIYA",
        "kind": "win",
        "deal": "Globex <renewal>",
        "classification": Classification.SYSTEM_HIT,
        "practices": dict.fromkeys(PRACTICES, True),
        "occurred_at": WHEN,
        "amount": 75000.0,
        "bounce_back_losses": 2,
        "bounce_back_recovery": timedelta(days=6),
    }
    values.update(overrides)
    return OutcomeFacts(**values)


def test_a_bounce_back_long_enough_asks_the_rep_before_anything_is_shared() -> None:
    message = win_logged_dm(
        _win(), ResilienceLine(1, None), shout_out_channel=None, share_offer=True,
        recognition_channel_id="C0WINS",
    )  # fmt: skip
    valid_message(message)
    rendered = json.dumps(message)
    assert "Share it with the team?" in rendered and "<#C0WINS>" in rendered
    # The rep sees what would be said: the deal (escaped), the streak; never the amount.
    assert "Globex &lt;renewal&gt;" in rendered and "bounced back after 2 losses" in rendered
    assert "75" not in rendered
    # The ask's two buttons, then (issue 12 §6) the win's lesson question's own.
    buttons = action_buttons(message["blocks"])
    assert [b["action_id"] for b in buttons] == [
        CELEBRATE_YES_ACTION_ID,
        CELEBRATE_NO_ACTION_ID,
        REFLECT_ACTION_ID,
        LESSON_NOT_NOW_ACTION_ID,
    ]
    assert {b["value"] for b in buttons[:2]} == {"41"}
    assert [b["text"]["text"] for b in buttons[:2]] == ["Yes, share it", "Keep it private"]


def test_a_short_streak_is_told_privately_with_no_ask() -> None:
    message = win_logged_dm(
        _win(bounce_back_losses=1), None, shout_out_channel=None, share_offer=False
    )
    rendered = json.dumps(message)
    assert "bounced back after 1 loss" in rendered and "Resilience is a skill" in rendered
    # No ask: the only buttons are the win's lesson question's (issue 12 §6).
    assert [b["action_id"] for b in action_buttons(message["blocks"])] == [
        REFLECT_ACTION_ID,
        LESSON_NOT_NOW_ACTION_ID,
    ]
    assert "Share it" not in rendered


def test_the_ask_without_a_channel_names_the_team_channel() -> None:
    message = win_logged_dm(_win(), None, shout_out_channel=None, share_offer=True)
    assert "the team channel" in json.dumps(message)


def test_yes_replaces_the_ask_with_the_choice_and_a_take_back_button() -> None:
    dm = win_logged_dm(
        _win(), None, shout_out_channel=None, share_offer=True, recognition_channel_id="C0WINS"
    )
    updated = consent_recorded_blocks(dm["blocks"], consent=True, bounce_back=True, outcome_id=41)
    assert not [b for b in updated if b.get("block_id") == CELEBRATE_BLOCK_ID]
    assert "You chose to share it." in json.dumps(updated)
    # The lesson question's buttons stay (issue 12 §6): the rep may still answer it.
    (button, question, not_now) = action_buttons(updated)
    assert (button["action_id"], button["value"]) == (TAKE_BACK_ACTION_ID, "41")
    assert question["action_id"] == REFLECT_ACTION_ID
    assert not_now["action_id"] == LESSON_NOT_NOW_ACTION_ID
    # No: nothing to take back.
    kept = consent_recorded_blocks(dm["blocks"], consent=False, bounce_back=True, outcome_id=41)
    assert [b["action_id"] for b in action_buttons(kept)] == [
        REFLECT_ACTION_ID,
        LESSON_NOT_NOW_ACTION_ID,
    ]
    assert "You chose to keep it private." in json.dumps(kept)


def test_the_answered_share_offer_no_longer_asks() -> None:
    dm = win_logged_dm(_win(), None, shout_out_channel=None, share_offer=True)
    assert "Share it with the team?" in json.dumps(dm)
    for consent in (True, False):
        updated = consent_recorded_blocks(dm["blocks"], consent=consent, bounce_back=True)
        assert "Share it with the team?" not in json.dumps(updated), consent
        assert "bounce-back" in json.dumps(updated)  # what it was about stays
    # A DM sent before the question had its block id (still in Slack): dropped by its words.
    old = [
        {k: v for k, v in b.items() if k != "block_id" or v != CELEBRATE_ASK_BLOCK_ID}
        for b in dm["blocks"]
    ]
    updated = consent_recorded_blocks(old, consent=True, bounce_back=True, outcome_id=41)
    assert "Share it with the team?" not in json.dumps(updated)
    assert "You chose to share it." in json.dumps(updated)


def test_take_it_back_asks_are_you_sure_first() -> None:
    block = take_back_button(9)
    assert block["block_id"] == TAKE_BACK_BLOCK_ID
    (button,) = block["elements"]
    assert button["text"]["text"] == "Take it back" and button["value"] == "9"
    dialog = button["confirm"]
    assert dialog["title"]["text"] == "Take it back?"
    assert "take the shout-out down" in dialog["text"]["text"]
    assert (dialog["confirm"]["text"], dialog["deny"]["text"]) == ("Take it back", "Leave it up")


def test_the_confirmation_of_a_yes_carries_take_it_back_and_a_no_does_not() -> None:
    posted = celebration_choice_dm(
        consent=True, channel_id="C0WINS", shout_out=ShoutOut.POSTED, bounce_back=True,
        outcome_id=41,
    )  # fmt: skip
    valid_message(posted)
    assert (
        "your bounce-back is up in <#C0WINS>" in posted["text"]
        and "tip of the hat" in posted["text"]
    )
    assert [b["action_id"] for b in action_buttons(posted["blocks"])] == [TAKE_BACK_ACTION_ID]
    perfect = celebration_choice_dm(
        consent=True, channel_id="C0WINS", shout_out=ShoutOut.POSTED, outcome_id=7
    )
    assert "perfect miss is celebrated" in perfect["text"]
    assert [b["value"] for b in action_buttons(perfect["blocks"])] == ["7"]
    waiting = celebration_choice_dm(
        consent=True, channel_id=None, shout_out=ShoutOut.NO_CHANNEL, bounce_back=True,
        outcome_id=41,
    )  # fmt: skip
    assert "no recognition channel" in waiting["text"] and action_buttons(waiting["blocks"])
    declined = celebration_choice_dm(
        consent=False, channel_id="C0WINS", shout_out=ShoutOut.NO_CHANNEL, bounce_back=True
    )
    assert "Kept private" in declined["text"] and "resilience is a skill" in declined["text"]
    assert action_buttons(declined["blocks"]) == []


def test_taken_back_replaces_the_button_with_what_happened() -> None:
    blocks = celebration_choice_dm(
        consent=True, channel_id="C0WINS", shout_out=ShoutOut.POSTED, outcome_id=7
    )["blocks"]
    down = taken_back_blocks(blocks, never_posted=False)
    assert action_buttons(down) == [] and "Taken back. The shout-out is coming down" in json.dumps(
        down
    )
    never = taken_back_blocks(blocks, never_posted=True)
    assert "before it went up. Nothing was posted." in json.dumps(never)
    # The "you can take it back" hint goes with the button.
    assert "Changed your mind?" in json.dumps(blocks) and "Changed your mind?" not in json.dumps(
        down
    )
    assert len(down) == len(blocks) - 1


def test_the_short_answers_to_take_it_back() -> None:
    assert "Already taken back" in already_taken_back()["text"]
    assert "Nothing was shared" in nothing_to_take_back()["text"]
    assert "a workspace admin can delete it" in take_back_lost_track()["text"]
    failed = take_back_failed_dm("C0WINS")
    valid_message(failed)
    assert "couldn't take your shout-out down from <#C0WINS>" in failed["text"]
    assert "cant_delete_message" not in failed["text"]


def _current(**overrides: Any) -> CurrentSettings:
    return current_settings(recognition_channel_id="C0WINS", **overrides)


def test_settings_show_and_save_the_losses_before_a_public_bounce_back() -> None:
    view = settings_modal(_current(bounce_back_min_losses=3))
    block = next(b for b in view["blocks"] if b.get("block_id") == "bounce_back_min_losses")
    assert block["label"]["text"] == "Losses before a public bounce-back"
    assert block["element"]["initial_value"] == "3"
    assert "only if they say yes" in block["hint"]["text"]
    values = _settings_values(view, bounce_back_min_losses="4")
    submission, errors = parse_settings_submission(values)
    assert errors == {} and submission is not None
    assert submission.more["bounce_back_min_losses"] == 4
    saved = json.dumps(settings_saved_message(submission))
    assert "after 4 losses in a row" in saved
    _, errors = parse_settings_submission(_settings_values(view, bounce_back_min_losses="0"))
    assert "bounce_back_min_losses" in errors


def _settings_values(view: dict[str, Any], **numbers: str) -> dict[str, Any]:
    """The modal's state as Slack would send it: every field at its initial value."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind == "number_input":
            value: dict[str, Any] = {
                "type": kind,
                "value": numbers.get(block["block_id"], element.get("initial_value")),
            }
        elif kind in ("static_select", "radio_buttons"):
            value = {"type": kind, "selected_option": element.get("initial_option")}
        elif kind == "checkboxes":
            value = {"type": kind, "selected_options": element.get("initial_options", [])}
        elif kind == "channels_select":
            value = {"type": kind, "selected_channel": element.get("initial_channel")}
        elif kind == "users_select":
            value = {"type": kind, "selected_user": element.get("initial_user")}
        elif kind == "multi_users_select":
            value = {"type": kind, "selected_users": element.get("initial_users", [])}
        else:
            value = {"type": kind, "value": element.get("initial_value")}
        values[block["block_id"]] = {"value": value}
    return values
