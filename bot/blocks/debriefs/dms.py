"""The rep's DMs about an outcome: the debrief, the reminder, the saved lessons, the choice to
celebrate a perfect miss, and the logged win."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from bot.blocks.debriefs._words import _bounce_phrase, _slipped, _verdict

# The reflect button's id is defined beside the win question's buttons; re-exported from here.
from bot.blocks.debriefs.lesson_reminder import REFLECT_ACTION_ID as REFLECT_ACTION_ID
from bot.blocks.debriefs.lesson_reminder import win_question_actions
from bot.blocks.kit import (
    actions,
    button,
    confirm,
    context,
    divider,
    escape_mrkdwn,
    message,
    section,
)
from bot.domain import (
    COACHING_MESSAGES,
    PERFECT_MISS_ODDS,
    Classification,
    format_duration,
)
from bot.domain.debriefs import (
    WIN_QUESTION,
    LessonShare,
    OutcomeFacts,
    ResilienceLine,
    reflection_questions,
)

SHARE_LESSON_ACTION_ID = "lesson_share"
UNSHARE_LESSON_ACTION_ID = "lesson_unshare"
SHARE_LESSON_BLOCK_ID = "lesson_share"
CELEBRATE_YES_ACTION_ID = "debrief_celebrate_yes"
CELEBRATE_NO_ACTION_ID = "debrief_celebrate_no"
CELEBRATE_BLOCK_ID = "debrief_celebrate"
# The question above the consent buttons ("Celebrate the perfect miss?"), so an update that
# withdraws the question (a manager's calibration, bot.blocks.debriefs.calibration_shout_outs)
# can find it.
CELEBRATE_ASK_BLOCK_ID = "debrief_celebrate_ask"
TAKE_BACK_ACTION_ID = "debrief_take_back"
TAKE_BACK_BLOCK_ID = "debrief_take_back"
TAKE_BACK_HINT_BLOCK_ID = "debrief_take_back_hint"


class ShoutOut(Enum):
    """Where a consented shout-out stands after trying to post it."""

    POSTED = "posted"
    NO_CHANNEL = "no-channel"  # no recognition channel set yet
    CHANNEL_FAILED = "channel-failed"  # the bot can't post in the channel that is set
    LATER = "later"  # Slack failed for now; the scheduler tries again


def _questions_list(classification: Classification) -> str:
    questions = reflection_questions(perfect_miss=classification is Classification.PERFECT_MISS)
    return "\n".join(f"• {question}" for _, question in questions)


def _reflect_button(outcome_id: int, text: str = "Answer the questions") -> dict[str, Any]:
    return actions(
        button(text, REFLECT_ACTION_ID, style="primary", value=str(outcome_id)),
        block_id="debrief_reflect",
    )


def _acknowledgement(facts: OutcomeFacts) -> str:
    """Seed 000's words on losing, first, before any label: "When you lose an opportunity, it
    hurts." Then why it is still worth a look ("the fast track to improving your performance")."""
    deal = escape_mrkdwn(facts.deal)
    if facts.classification is Classification.PERFECT_MISS:
        return (
            f"When you lose an opportunity, it hurts, even one like *{deal}* where you did "
            "everything right."
        )
    return (
        f"When you lose an opportunity, it hurts, and losing *{deal}* is no different. No one "
        "likes negative feedback. But there's a lesson in there for you somewhere, and learning "
        "it is the fast track to getting better."
    )


def celebrate_ask_blocks(
    outcome_id: int, *, where: str, question: str | None = None
) -> list[dict[str, Any]]:
    """ "Celebrate the perfect miss?" and its two buttons (the rep's consent, seed 002's
    "Celebrate the perfect miss" asked, never assumed). `where` is mrkdwn (a channel link);
    `question` replaces the words (they must say where and that the amount stays private)."""
    ask = section(
        question
        or f"Celebrate the perfect miss? I'd post a shout-out in {where} naming what you did "
        "right. The amount is never shared. Your call."
    )
    ask["block_id"] = CELEBRATE_ASK_BLOCK_ID
    return [
        ask,
        actions(
            button(
                "Yes, celebrate it",
                CELEBRATE_YES_ACTION_ID,
                style="primary",
                value=str(outcome_id),
            ),
            button("Keep it private", CELEBRATE_NO_ACTION_ID, value=str(outcome_id)),
            block_id=CELEBRATE_BLOCK_ID,
        ),
    ]


def loss_debrief_dm(facts: OutcomeFacts, *, recognition_channel_id: str | None) -> dict[str, Any]:
    """The rep's DM after /lost: first that losing hurts (seed 000), then the lesson (the
    verdict and coaching; for a perfect miss the question whether to celebrate it), then the
    reflection questions."""
    perfect = facts.classification is Classification.PERFECT_MISS
    blocks: list[dict[str, Any]] = [
        section(_acknowledgement(facts)),
        section(f"{_verdict(facts.classification)}\n{COACHING_MESSAGES[facts.classification]}"),
    ]
    if perfect:
        blocks.append(context(PERFECT_MISS_ODDS))
        where = f"<#{recognition_channel_id}>" if recognition_channel_id else "the team channel"
        blocks.extend(celebrate_ask_blocks(facts.id, where=where))
    elif facts.classification is Classification.SYSTEM_MISS and _slipped(facts):
        blocks.append(context("Didn't hold this time: " + ", ".join(_slipped(facts)).lower() + "."))
    blocks.append(divider())
    intro = (
        "What went right is worth keeping. Two minutes now, while it's fresh:"
        if perfect
        else "Two minutes now, while it's fresh:"
    )
    blocks.append(section(f"{intro}\n" + _questions_list(facts.classification)))
    blocks.append(_reflect_button(facts.id))
    blocks.append(context("Debrief saved."))
    return {
        "text": (
            f"When you lose an opportunity, it hurts. Your debrief of {escape_mrkdwn(facts.deal)} "
            "is saved, with a few questions."
        ),
        "blocks": blocks,
    }


def reflection_reminder_dm(facts: OutcomeFacts) -> dict[str, Any]:
    if facts.classification is Classification.PERFECT_MISS:
        # Seed 002: nothing to fix after a perfect miss, so no "what do you need to change?".
        nudge = "You did it right — what's the one thing you'll keep doing exactly the same?"
    else:
        nudge = "Now you know what doesn't work — what do you need to change?"
    text = (
        f"A gentle nudge: your lessons from *{escape_mrkdwn(facts.deal)}* are still waiting. "
        f"{nudge} Two minutes is enough."
    )
    return {
        "text": f"Your lessons from {escape_mrkdwn(facts.deal)} are still waiting.",
        "blocks": [section(text), _reflect_button(facts.id, "Answer now")],
    }


def reflection_saved_dm(
    deal: str, commitment: str | None, followed_up: bool | None, *, perfect_miss: bool = False
) -> dict[str, Any]:
    lines = [
        f"Kept as your lessons from *{escape_mrkdwn(deal)}*. "
        "Find them any time: `/rebound lessons`."
    ]
    if followed_up is True:
        lines.append(
            "And you did what you committed to last time. That's the feedback loop, closed."
        )
    elif followed_up is False:
        lines.append(
            "Last time's commitment isn't done yet — no judgement, it's still worth doing."
        )
    if commitment:
        one_thing = "to keep doing exactly the same" if perfect_miss else "to do differently"
        lines.append(
            f"Your one thing {one_thing}: _{escape_mrkdwn(commitment)}_. "
            "Your next check-in will ask how it went."
        )
    return {
        "text": f"Lessons kept: {escape_mrkdwn(deal)}",
        "blocks": [section("\n".join(lines))],
    }


def take_back_button(outcome_id: int) -> dict[str, Any]:
    """The rep's way to take back a shout-out they agreed to, behind an "are you sure?"."""
    return actions(
        button(
            "Take it back",
            TAKE_BACK_ACTION_ID,
            value=str(outcome_id),
            confirm=confirm(
                "Take it back?",
                "I'll take the shout-out down from the channel. Your debrief and your record "
                "stay as they are.",
                ok="Take it back",
                deny="Leave it up",
            ),
        ),
        block_id=TAKE_BACK_BLOCK_ID,
    )


def celebration_choice_dm(
    *,
    consent: bool,
    channel_id: str | None,
    shout_out: ShoutOut,
    bounce_back: bool = False,
    outcome_id: int | None = None,
) -> dict[str, Any]:
    """The rep's confirmation of their answer; a yes carries "Take it back" (`outcome_id`)."""
    if not consent:
        text = (
            "Kept private. It still counts: resilience is a skill, and you just used it."
            if bounce_back
            else "Kept private. You did great anyway — go out and do exactly what you did again."
        )
        return message(text)
    if shout_out is ShoutOut.POSTED and channel_id:
        text = (
            f"Done — your bounce-back is up in <#{channel_id}>. A tip of the hat. :tophat:"
            if bounce_back
            else f"Done — your perfect miss is celebrated in <#{channel_id}>. :tada:"
        )
    elif shout_out is ShoutOut.CHANNEL_FAILED and channel_id:
        text = (
            f"Thank you! I couldn't post in <#{channel_id}>: an admin needs to invite @Rebound "
            "there or pick another channel in `/rebound settings`. I'll post your shout-out "
            "as soon as they do."
        )
    elif shout_out is ShoutOut.LATER and channel_id:
        text = f"Thank you! I'll post your shout-out in <#{channel_id}> in a few minutes."
    else:
        text = (
            "Thank you! There's no recognition channel set yet, so I'll post your shout-out as "
            "soon as an admin picks one in `/rebound settings`."
        )
    blocks = [section(text)]
    if outcome_id is not None:
        blocks.append(take_back_button(outcome_id))
        hint = context("Changed your mind? You can take it back any time.")
        hint["block_id"] = TAKE_BACK_HINT_BLOCK_ID
        blocks.append(hint)
    return {"text": text, "blocks": blocks}


def taken_back_blocks(
    message_blocks: Sequence[dict[str, Any]], *, never_posted: bool
) -> list[dict[str, Any]]:
    """The confirmation's blocks with "Take it back" replaced by what happened, so it can't be
    clicked again."""
    done = (
        "Taken back before it went up. Nothing was posted."
        if never_posted
        else "Taken back. The shout-out is coming down from the channel."
    )
    return [
        context(done) if block.get("block_id") == TAKE_BACK_BLOCK_ID else dict(block)
        for block in message_blocks
        if block.get("block_id") != TAKE_BACK_HINT_BLOCK_ID
    ]


def take_back_failed_dm(channel_id: str | None) -> dict[str, Any]:
    """Slack wouldn't let the bot delete the shout-out: the rep must not think it is gone."""
    where = f"<#{channel_id}>" if channel_id else "the channel"
    return message(
        f"I couldn't take your shout-out down from {where}: Slack wouldn't let me. A workspace "
        "admin can delete it there. Sorry about that."
    )


def take_back_lost_track() -> dict[str, Any]:
    """Ephemeral answer when the shout-out is too old for the bot to find it again."""
    return message(
        "Taken back, so it won't be in any digest. That post is too old for me to find, "
        "though: if it's still up, a workspace admin can delete it."
    )


def already_taken_back() -> dict[str, Any]:
    """Ephemeral answer to a second "Take it back"."""
    return message("Already taken back. Nothing more to do.")


def nothing_to_take_back() -> dict[str, Any]:
    """Ephemeral answer to "Take it back" where nothing was agreed to be shared."""
    return message("There's no shout-out of yours to take back here. Nothing was shared.")


def not_your_questions(owner_user_id: str) -> dict[str, Any]:
    """Ephemeral answer to someone clicking another rep's "Answer the questions"."""
    text = f"These questions are for <@{owner_user_id}>."
    return message(text)


# How the consent questions open: DMs sent before the questions carried CELEBRATE_ASK_BLOCK_ID
# are still in Slack, and their replacement (built from the message clicked) must drop them too.
PERFECT_MISS_ASK_OPENING = "Celebrate the perfect miss?"
_CONSENT_ASK_OPENINGS = ("Share it with the team?", PERFECT_MISS_ASK_OPENING)


def _is_consent_ask(
    block: dict[str, Any], *, openings: tuple[str, ...] = _CONSENT_ASK_OPENINGS
) -> bool:
    """Whether `block` is a consent question: by its block id, or (a DM sent before the
    questions had one) a section opening with one of `openings`."""
    if block.get("block_id") == CELEBRATE_ASK_BLOCK_ID:
        return True
    text = block.get("text")
    return (
        block.get("type") == "section"
        and isinstance(text, dict)
        and str(text.get("text", "")).startswith(openings)
    )


def consent_recorded_blocks(
    message_blocks: Sequence[dict[str, Any]],
    *,
    consent: bool,
    bounce_back: bool = False,
    outcome_id: int | None = None,
) -> list[dict[str, Any]]:
    """The DM's blocks with the consent question and its buttons replaced by the choice, so
    nothing still asks and nothing can be clicked again; a yes gets "Take it back"
    (`outcome_id`) in their place too."""
    if consent:
        choice = (
            "You chose to share it. :tophat:"
            if bounce_back
            else "You chose to celebrate it. :tada:"
        )
    else:
        choice = "You chose to keep it private."
    blocks: list[dict[str, Any]] = []
    for block in message_blocks:
        if _is_consent_ask(block):
            continue  # answered: the message should no longer ask "Share it with the team?"
        if block.get("block_id") != CELEBRATE_BLOCK_ID:
            blocks.append(dict(block))
            continue
        blocks.append(context(choice))
        if consent and outcome_id is not None:
            blocks.append(take_back_button(outcome_id))
    return blocks


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


WIN_COACHING: dict[Classification, str] = {
    Classification.SYSTEM_HIT: "A deserved win: the system worked. Keep running it.",
    Classification.LUCKY_HIT: (
        "Enjoy it — then look at the pipeline and the fundamentals. One big deal, or an inbound "
        "that didn't need selling, carries a number once; the process is what repeats."
    ),
}


def win_logged_dm(
    facts: OutcomeFacts,
    resilience: ResilienceLine | None,
    *,
    shout_out_channel: str | None,
    share_offer: bool = False,
    recognition_channel_id: str | None = None,
) -> dict[str, Any]:
    """The rep's DM after /won. A bounce-back is told privately; with `share_offer` (a streak
    long enough for a public tip of the hat) the rep is asked first whether to share it."""
    lines = [
        f"*Win logged: {escape_mrkdwn(facts.deal)}* :trophy:",
        _verdict(facts.classification),
        WIN_COACHING.get(facts.classification, COACHING_MESSAGES[facts.classification]),
    ]
    blocks = [section("\n".join(lines))]
    if facts.bounce_back_losses and facts.bounce_back_recovery is not None:
        phrase = _bounce_phrase(facts.bounce_back_losses, facts.bounce_back_recovery)
        bounce = (
            f"And it's a bounce-back: you {phrase}. Resilience is a skill, and you just used it."
        )
        if resilience is not None and resilience.bounce_backs:
            bounce += f"\nYour {_ordinal(resilience.bounce_backs)} bounce-back"
            if resilience.median_recovery is not None:
                bounce += f"; median recovery {format_duration(resilience.median_recovery)}"
            bounce += "."
        if shout_out_channel:
            bounce += f"\nI tipped my hat in <#{shout_out_channel}>."
        blocks.append(section(bounce))
        if share_offer and not shout_out_channel:
            where = f"<#{recognition_channel_id}>" if recognition_channel_id else "the team channel"
            ask = section(
                f"Share it with the team? I'd post a tip of the hat in {where}: that you won "
                f"*{escape_mrkdwn(facts.deal)}* and {phrase}. The amount is never shared. "
                "Your call."
            )
            ask["block_id"] = CELEBRATE_ASK_BLOCK_ID  # dropped once answered
            blocks.append(ask)
            blocks.append(
                actions(
                    button(
                        "Yes, share it",
                        CELEBRATE_YES_ACTION_ID,
                        style="primary",
                        value=str(facts.id),
                    ),
                    button("Keep it private", CELEBRATE_NO_ACTION_ID, value=str(facts.id)),
                    block_id=CELEBRATE_BLOCK_ID,
                )
            )
    # Seed 004: "share what they did well with the rest of the team as a learning opportunity".
    # One question, so a win's lesson is kept like a loss's.
    blocks.append(divider())
    blocks.append(section(f"One question, while it's fresh: *{WIN_QUESTION}*"))
    blocks.append(win_question_actions(facts.id))
    blocks.append(context("Private to you and your manager, unless you choose to share it."))
    return {"text": f"Win logged: {escape_mrkdwn(facts.deal)}", "blocks": blocks}


def _share_button(lesson: LessonShare) -> dict[str, Any]:
    if lesson.shared:
        return button(
            "Make it private again", UNSHARE_LESSON_ACTION_ID, value=str(lesson.reflection_id)
        )
    return button(
        "Share with my team",
        SHARE_LESSON_ACTION_ID,
        style="primary",
        value=str(lesson.reflection_id),
    )


def _lesson_share_blocks(lesson: LessonShare) -> list[dict[str, Any]]:
    if lesson.shared:
        where = (
            "Shared with your team. Thank you — the best tips often come from someone who's "
            "been there, done that. Teammates find it with `/rebound lessons`."
        )
    else:
        where = (
            "Private: only you and your manager can read it. What worked for you might help a "
            "teammate too."
        )
    return [
        section(where),
        actions(_share_button(lesson), block_id=SHARE_LESSON_BLOCK_ID),
        context(
            "Once shared, your teammates see your name, the deal's name and this answer — "
            "never the amount."
        ),
    ]


def win_lesson_saved_dm(lesson: LessonShare) -> dict[str, Any]:
    """The thanks after a win's lesson is kept (an outbox DM), with the choice to share it with
    the team (seed 004's peer learning); private until the rep shares it. After a click it
    replaces the message clicked, so its button always says what the next click does."""
    kept = (
        f"Kept as your lesson from *{escape_mrkdwn(lesson.deal)}*:\n"
        f"> {escape_mrkdwn(' '.join(lesson.answer.split()))}"
    )
    return {
        "text": f"Lesson kept: {escape_mrkdwn(lesson.deal)}",
        "blocks": [section(kept), *_lesson_share_blocks(lesson)],
    }
