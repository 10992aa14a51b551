"""The debrief Block Kit messages (the rep's DMs, the shout-outs, the manager's note, lessons),
as plain dicts (no Slack, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.debriefs import (
    CELEBRATE_BLOCK_ID,
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
    SHARE_LESSON_ACTION_ID,
    SHARE_LESSON_BLOCK_ID,
    UNSHARE_LESSON_ACTION_ID,
    ReflectionIds,
    ShoutOut,
    bounce_back_shout_out,
    celebration_choice_dm,
    consent_recorded_blocks,
    lessons_message,
    loss_debrief_dm,
    manager_note,
    not_your_questions,
    parse_reflection_submission,
    perfect_miss_shout_out,
    read_reflection_metadata,
    reflection_modal,
    reflection_reminder_dm,
    reflection_saved_dm,
    win_lesson_saved_dm,
    win_logged_dm,
)
from bot.blocks.help import help_message
from bot.domain import (
    CLASSIFICATION_SUMMARIES,
    COACHING_MESSAGES,
    PRACTICES,
    Classification,
)
from bot.domain.debriefs import (
    KEEP_DOING_QUESTION,
    REFLECTION_QUESTIONS,
    WIN_QUESTION,
    Lesson,
    LessonShare,
    LessonsResult,
    OutcomeFacts,
    ResilienceLine,
    reflection_questions,
)
from testkit.simulator import state_value
from tests.support.block_kit import valid_message
from tests.support.debriefs_blocks import _valid_view

WHEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
ALL_HELD = dict.fromkeys(PRACTICES, True)


def _facts(classification: Classification, **overrides: Any) -> OutcomeFacts:
    values: dict[str, Any] = {
        "id": 7,
        "user_id": "U0LEO",
        "kind": "loss" if classification.value.endswith("miss") else "win",
        "deal": "Acme <renewal>",
        "classification": classification,
        "practices": ALL_HELD,
        "occurred_at": WHEN,
        "amount": 64000.0,
        "stage": "negotiation",
        "reason": "competitor",
        "competitor": "Hooli",
        "buyer_feedback": "Hooli bundled it",
    }
    values.update(overrides)
    return OutcomeFacts(**values)


# -- messages ---------------------------------------------------------------------------------


def test_perfect_miss_dm_asks_for_consent_and_lists_the_questions() -> None:
    message = loss_debrief_dm(_facts(Classification.PERFECT_MISS), recognition_channel_id="C0WINS")
    valid_message(message)
    rendered = json.dumps(message["blocks"])
    for needed in (CELEBRATE_YES_ACTION_ID, CELEBRATE_NO_ACTION_ID, REFLECT_ACTION_ID, "<#C0WINS>"):
        assert needed in rendered
    assert "do exactly what you did again" in rendered
    assert "What was in your control?" in rendered


def test_system_miss_dm_names_what_slipped_and_asks_no_consent() -> None:
    practices = {**ALL_HELD, "qualification": False}
    message = loss_debrief_dm(
        _facts(Classification.SYSTEM_MISS, practices=practices), recognition_channel_id=None
    )
    rendered = json.dumps(message["blocks"])
    assert CELEBRATE_YES_ACTION_ID not in rendered
    assert "qualified properly" in rendered


def test_public_shout_outs_never_carry_amounts_or_feedback() -> None:
    perfect = perfect_miss_shout_out(_facts(Classification.PERFECT_MISS))
    bounce = bounce_back_shout_out(
        _facts(
            Classification.SYSTEM_HIT,
            bounce_back_losses=3,
            bounce_back_recovery=timedelta(days=12, hours=5),
        )
    )
    for message in (perfect, bounce):
        valid_message(message)
        rendered = json.dumps(message)
        assert "64" not in rendered and "Hooli" not in rendered
        assert "Acme &lt;renewal&gt;" in rendered  # user text is escaped
    assert "Handled objections well" in json.dumps(perfect)
    assert "bounced back after 3 losses in 12 days" in json.dumps(bounce)


def test_manager_advice_differs_for_perfect_and_system_misses() -> None:
    perfect = json.dumps(manager_note(_facts(Classification.PERFECT_MISS)))
    system = json.dumps(
        manager_note(_facts(Classification.SYSTEM_MISS, practices=dict.fromkeys(PRACTICES, False)))
    )
    assert "Don't invent fixes" in perfect and "Don't invent fixes" not in system
    assert "slipped first" in system and "slipped first" not in perfect
    assert "64,000" in perfect and "Competitor (Hooli)" in perfect
    lucky = json.dumps(manager_note(_facts(Classification.LUCKY_HIT, luck=90)))
    assert "masquerading as a win" in lucky and "90%" in lucky


def test_win_dm_tells_the_bounce_back_and_resilience() -> None:
    facts = _facts(
        Classification.SYSTEM_HIT, bounce_back_losses=1, bounce_back_recovery=timedelta(hours=5)
    )
    message = win_logged_dm(
        facts,
        ResilienceLine(bounce_backs=2, median_recovery=timedelta(days=3)),
        shout_out_channel="C0WINS",
    )
    valid_message(message)
    rendered = json.dumps(message)
    assert "bounced back after 1 loss in 5 hours" in rendered
    assert "2nd bounce-back" in rendered and "median recovery 3 days" in rendered
    plain = win_logged_dm(_facts(Classification.LUCKY_HIT), None, shout_out_channel=None)
    assert "bounce-back" not in json.dumps(plain) and "Lucky hit" in json.dumps(plain)


def test_reminder_and_consent_update_are_valid() -> None:
    valid_message(reflection_reminder_dm(_facts(Classification.SYSTEM_MISS)))
    dm = loss_debrief_dm(_facts(Classification.PERFECT_MISS), recognition_channel_id="C0WINS")
    updated = consent_recorded_blocks(dm["blocks"], consent=True)
    # The question and its buttons become the one line of the choice: nothing still asks.
    assert len(updated) == len(dm["blocks"]) - 1
    assert "Celebrate the perfect miss?" not in json.dumps(updated)
    assert "You chose to celebrate it." in json.dumps(updated)
    assert CELEBRATE_YES_ACTION_ID not in json.dumps(updated)
    assert REFLECT_ACTION_ID in json.dumps(updated)  # the questions stay answerable
    assert not [b for b in updated if b.get("block_id") == CELEBRATE_BLOCK_ID]


def test_lessons_message_lists_who_and_when_and_is_kind_when_empty() -> None:
    lesson = Lesson(
        user_id="U0PRIYA",
        deal="Globex",
        kind="loss",
        reason="price",
        question="One thing I will do differently",
        answer="Confirm budget " * 40,
        answered_at=WHEN,
        is_commitment=True,
        followed_up=True,
    )
    message = lessons_message(
        LessonsResult(viewer_id="U0MAYA", words=["budget"], lessons=[lesson], is_manager=True)
    )
    valid_message(message)
    rendered = json.dumps(message, ensure_ascii=False)
    assert "<@U0PRIYA>" in rendered and "Globex" in rendered and "Price" in rendered
    assert "done" in rendered and "…" in rendered
    assert "<!date^" in rendered
    empty = lessons_message(LessonsResult(viewer_id="U0LEO", words=["<b>"]))
    assert "No lessons match" in json.dumps(empty) and "&lt;b&gt;" in json.dumps(empty)
    assert "No lessons yet" in json.dumps(lessons_message(LessonsResult("U0LEO", [])))


# -- review fixes: wording after a perfect miss, error texts, shout-out outcomes ----------------


def test_a_perfect_miss_asks_what_to_keep_doing_and_a_system_miss_what_to_change() -> None:
    keep = dict(reflection_questions(perfect_miss=True))
    change = dict(reflection_questions(perfect_miss=False))
    assert keep["commitment"] == KEEP_DOING_QUESTION
    assert change["commitment"] == "One thing I will do differently"
    assert {k: v for k, v in keep.items() if k != "commitment"} == {
        k: v for k, v in REFLECTION_QUESTIONS if k != "commitment"
    }

    perfect = json.dumps(
        loss_debrief_dm(_facts(Classification.PERFECT_MISS), recognition_channel_id=None)
    )
    system = json.dumps(
        loss_debrief_dm(_facts(Classification.SYSTEM_MISS), recognition_channel_id=None)
    )
    assert KEEP_DOING_QUESTION in perfect and "do differently" not in perfect
    assert "One thing I will do differently" in system and KEEP_DOING_QUESTION not in system

    view = reflection_modal("Acme", 4, None, perfect_miss=True)
    _valid_view(view)
    assert KEEP_DOING_QUESTION in json.dumps(view["blocks"])
    assert read_reflection_metadata(view["private_metadata"]) == ReflectionIds(4, None, True)

    state = {"commitment": {"value": state_value("plain_text_input", "  ")}}
    _, errors = parse_reflection_submission(state, asks_follow_up=False, perfect_miss=True)
    assert "keep doing" in errors["commitment"]

    saved = json.dumps(reflection_saved_dm("Acme", "Multi-thread", None, perfect_miss=True))
    assert "to keep doing exactly the same" in saved and "differently" not in saved


def test_the_reminder_after_a_perfect_miss_does_not_ask_what_to_change() -> None:
    perfect = reflection_reminder_dm(_facts(Classification.PERFECT_MISS))
    valid_message(perfect)
    assert "what do you need to change" not in json.dumps(perfect)
    assert "keep doing exactly the same" in json.dumps(perfect)
    system = json.dumps(reflection_reminder_dm(_facts(Classification.SYSTEM_MISS)))
    assert (
        "Now you know what doesn't work — what do you need to change?"
        in json.loads(system)["blocks"][0]["text"]["text"]
    )


@pytest.mark.parametrize(
    ("shout_out", "channel", "expected"),
    [
        (ShoutOut.POSTED, "C0WINS", "celebrated in <#C0WINS>"),
        (ShoutOut.NO_CHANNEL, None, "There's no recognition channel set yet"),
        (ShoutOut.CHANNEL_FAILED, "C0SECRET", "I couldn't post in <#C0SECRET>"),
        (ShoutOut.LATER, "C0WINS", "I'll post your shout-out in <#C0WINS>"),
    ],
)
def test_the_consent_reply_says_what_happened_to_the_shout_out(
    shout_out: ShoutOut, channel: str | None, expected: str
) -> None:
    message = celebration_choice_dm(consent=True, channel_id=channel, shout_out=shout_out)
    valid_message(message)
    assert expected in message["text"]
    if shout_out is ShoutOut.CHANNEL_FAILED:
        assert "invite @Rebound" in message["text"] and "/rebound settings" in message["text"]
        assert "no recognition channel" not in message["text"]
    for code in ("channel_not_found", "not_in_channel", "is_archived"):
        assert code not in message["text"]


def test_someone_elses_questions_get_a_short_note() -> None:
    note = not_your_questions("U0LEO")
    valid_message(note)
    assert note["text"] == "These questions are for <@U0LEO>."


# -- seed 002's lightning belongs to the perfect miss (issue 12) ---------------------------------


def test_the_lightning_reassurance_is_for_the_perfect_miss_only() -> None:
    perfect = json.dumps(
        loss_debrief_dm(_facts(Classification.PERFECT_MISS), recognition_channel_id=None)
    )
    assert "sales lightning can and will strike, but rarely 2, 3, or 4 times in a row" in perfect
    lucky_win = json.dumps(
        win_logged_dm(_facts(Classification.LUCKY_HIT), None, shout_out_channel=None)
    )
    lucky_note = json.dumps(manager_note(_facts(Classification.LUCKY_HIT, luck=90)))
    system_miss = json.dumps(
        loss_debrief_dm(_facts(Classification.SYSTEM_MISS), recognition_channel_id=None)
    )
    for words in (lucky_win, lucky_note, system_miss, COACHING_MESSAGES[Classification.LUCKY_HIT]):
        assert "lightning" not in words.lower()
    # The lucky hit keeps seed 002's words for it: one big deal, inbounds that need no selling.
    assert "One big deal, or an inbound that didn't need selling" in lucky_win
    assert (
        "one big deal, or inbounds that didn't need selling"
        in (COACHING_MESSAGES[Classification.LUCKY_HIT])
    )


# -- words for someone who just lost (issue 12) --------------------------------------------------


def _block_texts(message: dict[str, Any]) -> list[str]:
    texts = []
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text", "")
            texts.append(text if isinstance(text, str) else text.get("text", ""))
    return texts


@pytest.mark.parametrize(
    "classification", [Classification.SYSTEM_MISS, Classification.PERFECT_MISS]
)
def test_a_loss_dm_opens_with_losing_hurts_then_the_lesson_then_the_questions(
    classification: Classification,
) -> None:
    facts = _facts(classification, practices=dict.fromkeys(PRACTICES, False))
    message = loss_debrief_dm(facts, recognition_channel_id=None)
    valid_message(message)
    texts = _block_texts(message)
    # Seed 000: "When you lose an opportunity, it hurts." First, in the notification too.
    assert texts[0].startswith("When you lose an opportunity, it hurts")
    assert "Acme &lt;renewal&gt;" in texts[0]  # the deal, escaped
    assert message["text"].startswith("When you lose an opportunity, it hurts.")
    assert CLASSIFICATION_SUMMARIES[classification] not in message["text"]
    label = next(i for i, t in enumerate(texts) if CLASSIFICATION_SUMMARIES[classification] in t)
    questions = next(i for i, t in enumerate(texts) if "What was in your control?" in t)
    assert 0 < label < questions
    rendered = json.dumps(message)
    assert "Slipped this time" not in rendered
    assert message["blocks"][0]["type"] == "section"  # no cold header before the human part


def test_a_system_miss_dm_is_about_what_to_change_not_a_list_of_failings() -> None:
    facts = _facts(Classification.SYSTEM_MISS, practices=dict.fromkeys(PRACTICES, False))
    rendered = json.dumps(loss_debrief_dm(facts, recognition_channel_id=None))
    assert "No one likes negative feedback." in rendered
    assert "there's a lesson in there for you somewhere" in rendered
    assert "the process is the part you control, so it's the part you can change" in rendered
    assert "Didn't hold this time: kept the pipeline full" in rendered
    note = json.dumps(manager_note(facts))
    assert "Losing an opportunity hurts, so start with how they are." in note


# -- a win's lesson, shared or not (issue 12 §6, seed 004) ---------------------------------------


def test_the_win_dm_asks_one_question_with_a_button_to_answer_it() -> None:
    message = win_logged_dm(_facts(Classification.SYSTEM_HIT), None, shout_out_channel=None)
    valid_message(message)
    texts = [json.dumps(block) for block in message["blocks"]]
    asking = [i for i, text in enumerate(texts) if WIN_QUESTION in text]
    assert len(asking) == 1
    button = message["blocks"][asking[0] + 1]["elements"][0]
    assert (button["action_id"], button["value"]) == (REFLECT_ACTION_ID, "7")
    assert "unless you choose to share it" in texts[asking[0] + 2]


def test_the_kept_lesson_dm_offers_to_share_and_then_to_make_it_private_again() -> None:
    private = win_lesson_saved_dm(
        LessonShare(3, "Acme <renewal>", "Asked *early*\n\nabout <b>", False)
    )
    valid_message(private)
    rendered = json.dumps(private, ensure_ascii=False)
    assert "Kept as your lesson from *Acme &lt;renewal&gt;*" in rendered
    assert "> Asked *early* about &lt;b&gt;" in rendered  # one quoted line, escaped
    assert "Private: only you and your manager can read it." in rendered
    assert "never the amount" in rendered
    buttons = [b for b in private["blocks"] if b.get("block_id") == SHARE_LESSON_BLOCK_ID]
    share = buttons[0]["elements"][0]
    assert (share["action_id"], share["value"], share["text"]["text"]) == (
        SHARE_LESSON_ACTION_ID,
        "3",
        "Share with my team",
    )

    shared = win_lesson_saved_dm(LessonShare(3, "Acme", "Asked early", True))
    valid_message(shared)
    assert "Shared with your team." in json.dumps(shared)
    buttons = [b for b in shared["blocks"] if b.get("block_id") == SHARE_LESSON_BLOCK_ID]
    again = buttons[0]["elements"][0]
    assert (again["action_id"], again["text"]["text"]) == (
        UNSHARE_LESSON_ACTION_ID,
        "Make it private again",
    )


def _win_lesson(user_id: str, answer: str, *, shared: bool = True) -> Lesson:
    return Lesson(
        user_id=user_id,
        deal="Globex",
        kind="win",
        reason=None,
        question=WIN_QUESTION,
        answer=answer,
        answered_at=WHEN,
        shared=shared,
    )


def test_lessons_message_lists_the_teams_shared_lessons_after_the_reps_own() -> None:
    message = lessons_message(
        LessonsResult(
            viewer_id="U0LEO",
            words=["budget"],
            lessons=[_win_lesson("U0LEO", "My own budget lesson")],
            shared=[_win_lesson("U0PRIYA", "Priya's budget tip")],
        )
    )
    valid_message(message)
    rendered = json.dumps(message, ensure_ascii=False)
    assert rendered.index("My own budget lesson") < rendered.index("*Shared by your team*")
    assert rendered.index("*Shared by your team*") < rendered.index("Priya's budget tip")
    assert "<@U0PRIYA>" in rendered and "<@U0LEO>" not in rendered
    assert "shared with your team" in rendered  # the rep's own lesson says it is shared

    only_shared = lessons_message(
        LessonsResult(viewer_id="U0LEO", words=[], shared=[_win_lesson("U0PRIYA", "A tip")])
    )
    valid_message(only_shared)
    rendered = json.dumps(only_shared, ensure_ascii=False)
    assert "None of your own yet" in rendered and "A tip" in rendered
    searched = lessons_message(
        LessonsResult(viewer_id="U0LEO", words=["tip"], shared=[_win_lesson("U0PRIYA", "A tip")])
    )
    assert "None of your own match" in json.dumps(searched, ensure_ascii=False)
    nothing = json.dumps(lessons_message(LessonsResult("U0LEO", [])), ensure_ascii=False)
    assert "After your next `/lost` or `/won`" in nothing


def test_help_lists_the_lessons_teammates_share() -> None:
    shown = json.dumps(help_message(), ensure_ascii=False)
    assert "*/rebound lessons* — Search your lessons and the ones your teammates shared" in shown
