"""Resilience support after a losing streak (seed 003), as pure Block Kit builders: the rep's
private DM with one practice and an offer to talk, the manager's one-on-one prompt, the note
that the rep would like to talk, the answers to the rep's click, and the manager's Home lines.

All of it is private: DMs to the rep or their manager, never a channel. The words come from the
seeds: seed 000's "When you lose an opportunity, it hurts" first; then seed 003's definition of
resilience ("the ability to recover from stumbles, mistakes and failures and then bounce back"),
"consider resilience as a skill", and the practice and question (bot.domain.resilience).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks.kit import actions, button, context, escape_mrkdwn, message, section
from bot.domain import format_duration
from bot.domain.resilience import OngoingStreak, Recovery, StreakSupport
from bot.slack_text import plural

TALK_ACTION_ID = "resilience_talk_to_manager"
TALK_BLOCK_ID = "resilience_talk"
MAX_HOME_LINES = 10
PRIVATE_NOTE = "Only you can see this. Nothing about it is posted in a channel."


def _losses(count: int) -> str:
    return plural(count, "loss", "losses")


def streak_support_dm(
    support: StreakSupport, *, latest_deal: str, manager_user_id: str | None
) -> dict[str, Any]:
    """The rep's private DM when a losing streak reaches the workspace's length: that it hurts
    (seed 000), that resilience is a skill (seed 003), one practice, and — with a manager — that
    the manager has a private note too, with a button to ask for a talk."""
    deal = escape_mrkdwn(latest_deal)
    blocks: list[dict[str, Any]] = [
        section(
            f"When you lose an opportunity, it hurts, and *{deal}* makes it "
            f"{_losses(support.losses)} in a row. That's a lot to carry, so this note is just "
            "for you."
        ),
        section(
            "The difference between winners and losers is how they handle losing, and the key "
            "is resilience: “the ability to recover from stumbles, mistakes and failures and "
            "then bounce back.” It isn't something you either have or don't. It's a skill, and "
            "skills can be practised. Here's one thing to try:"
        ),
        section(f"*{support.practice.seed_line}*\n{support.practice.practice}"),
    ]
    if manager_user_id is not None:
        blocks.append(
            section(
                f"<@{manager_user_id}> has a private note about this streak too, with one "
                "question for your next one-on-one. If you'd like to talk sooner, say so and "
                "I'll let them know."
            )
        )
        blocks.append(
            actions(
                button(
                    "I'd like to talk",
                    TALK_ACTION_ID,
                    value=str(support.first_loss_id),
                    style="primary",
                ),
                block_id=TALK_BLOCK_ID,
            )
        )
    blocks.append(context(PRIVATE_NOTE))
    return {
        "text": "When you lose an opportunity, it hurts. Here's one thing that helps after "
        f"{_losses(support.losses)} in a row.",
        "blocks": blocks,
    }


def streak_manager_prompt(
    support: StreakSupport, *, rep_user_id: str, latest_deal: str
) -> dict[str, Any]:
    """The manager's private prompt: who is on a streak, and one question to ask in the next
    one-on-one (seed 003: "Coach it")."""
    deal = escape_mrkdwn(latest_deal)
    blocks = [
        section(
            f"*<@{rep_user_id}> has lost {plural(support.losses, 'deal', 'deals')} in a row* — "
            f"just for you. The latest is *{deal}*."
        ),
        section(
            "Losing hurts, and a streak hurts more, so start with how they are. Then coach "
            "resilience like any other sales skill: it can be learned."
        ),
        section(f"*One question for your next one-on-one:* {support.question}"),
        context(
            f"I've sent them one practice to try (“{support.practice.seed_line}”) and "
            "offered to let you know if they'd like to talk. " + PRIVATE_NOTE
        ),
    ]
    return {
        "text": f"<@{rep_user_id}> has lost {plural(support.losses, 'deal', 'deals')} in a row: "
        "a question for your next one-on-one",
        "blocks": blocks,
    }


def talk_request_note(*, rep_user_id: str, losses: int) -> dict[str, Any]:
    """The manager's private note that the rep clicked "I'd like to talk"."""
    text = (
        f"*<@{rep_user_id}> would like to talk.* They asked from the note I sent them after "
        f"{_losses(losses)} in a row. Find a moment soon; it doesn't have to wait for your "
        "next one-on-one."
    )
    return {
        "text": f"<@{rep_user_id}> would like to talk",
        "blocks": [section(text), context(PRIVATE_NOTE)],
    }


def talk_requested_reply(manager_user_id: str, *, first_time: bool) -> dict[str, Any]:
    """The rep's private answer to their click."""
    if first_time:
        return message(
            f"I've let <@{manager_user_id}> know you'd like to talk. Only they were told."
        )
    return message(f"<@{manager_user_id}> already knows you'd like to talk.")


def no_manager_reply() -> dict[str, Any]:
    return message(
        "You don't have a manager in Rebound right now, so there's nobody I can tell. An admin "
        "sets who manages whom in `/rebound settings`."
    )


def streak_gone_reply() -> dict[str, Any]:
    return message(
        "That losing streak isn't in your record any more, so I didn't tell anyone anything."
    )


# --- the manager's Home --------------------------------------------------------------------------


def losing_streaks_text(on_streak: Sequence[tuple[str, OngoingStreak]]) -> str:
    """Who on the team is on a losing streak now, longest first: losses and how long."""
    if not on_streak:
        return "*On a losing streak*\nNobody on your team is on a losing streak right now."
    lines = [
        f"• <@{user_id}>: {_losses(streak.losses)} in a row, for {format_duration(streak.duration)}"
        for user_id, streak in on_streak[:MAX_HOME_LINES]
    ]
    more = len(on_streak) - MAX_HOME_LINES
    if more > 0:
        lines.append(f"…and {more} more.")
    return "*On a losing streak*\n" + "\n".join(lines)


def fastest_recoveries_text(fastest: Sequence[tuple[str, Recovery]]) -> str:
    """Who bounced back fastest this cycle: from a streak's last loss to the win after it."""
    if not fastest:
        return "*Fastest recoveries this cycle*\nNo bounce-backs yet this cycle."
    lines = [
        f"• <@{user_id}>: won {format_duration(recovery.time)} after their last loss "
        f"(a streak of {_losses(recovery.losses)})"
        for user_id, recovery in fastest[:MAX_HOME_LINES]
    ]
    return "*Fastest recoveries this cycle*\n" + "\n".join(lines)
