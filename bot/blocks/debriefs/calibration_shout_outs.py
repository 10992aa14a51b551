"""What a manager's calibration changes about a perfect-miss shout-out, as the rep reads it
(issue 12): the question "Celebrate the perfect miss?" withdrawn from their debrief when their
manager sees the loss differently, and the lines the calibration DM adds — a shout-out held back
before it went up, one that is up and stays theirs to take back, or the question asked for a
loss the manager calibrated up into a perfect miss.

The tone is seed 000's: "an open heart and an open mind will give you the opportunity to look at
what you're doing through someone else's eyes", never a verdict that the rep was wrong to ask.
The deal's name is the rep's own text: escaped wherever it meets mrkdwn.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from bot.blocks.debriefs.dms import (
    CELEBRATE_BLOCK_ID,
    PERFECT_MISS_ASK_OPENING,
    _is_consent_ask,
    celebrate_ask_blocks,
    loss_debrief_dm,
    take_back_button,
)
from bot.blocks.kit import context, escape_mrkdwn, section
from bot.domain.debriefs import OutcomeFacts

# The question's old wording, for a debrief sent before its section had a block id: only the
# perfect-miss question is withdrawn here.
_ASK_OPENINGS = (PERFECT_MISS_ASK_OPENING,)


class ShoutOutChange(Enum):
    """What a calibration did to the outcome's perfect-miss shout-out."""

    NONE = "none"  # nothing to say: no shout-out was asked for, or it stays as it was
    WITHDRAWN = "withdrawn"  # the question was still open: it is taken off the debrief
    HELD_BACK = "held-back"  # agreed to, not posted yet: it won't be
    STAYS_UP = "stays-up"  # in the channel already: the rep's to keep or take back
    OFFERED = "offered"  # calibrated up into a perfect miss: the rep is asked


def withdrawn_line(manager_user_id: str) -> str:
    return (
        f"<@{manager_user_id}> saw this one differently, so there's no shout-out to decide on: "
        "nothing was posted, and nothing will be. Their view is in a note just for you. Looking "
        "at what you did through someone else's eyes takes an open mind, and it's how you get "
        "better fastest."
    )


def ask_withdrawn_blocks(
    message_blocks: Sequence[dict[str, Any]], *, manager_user_id: str
) -> list[dict[str, Any]]:
    """The debrief's blocks with the question and its consent buttons replaced by the warm
    line saying the manager saw it differently: nothing left to click that could post."""
    blocks: list[dict[str, Any]] = []
    for block in message_blocks:
        if _is_consent_ask(block, openings=_ASK_OPENINGS):
            continue
        if block.get("block_id") == CELEBRATE_BLOCK_ID:
            blocks.append(section(withdrawn_line(manager_user_id)))
            continue
        blocks.append(dict(block))
    return blocks


def ask_withdrawn_dm(facts: OutcomeFacts, *, manager_user_id: str) -> dict[str, Any]:
    """The rep's debrief DM as chat.update rewrites it once the question is withdrawn (its
    text and blocks; the outbox adds the channel and ts it was sent with)."""
    debrief = loss_debrief_dm(facts, recognition_channel_id=None)
    return {
        "text": debrief["text"],
        "blocks": ask_withdrawn_blocks(debrief["blocks"], manager_user_id=manager_user_id),
    }


def calibration_shout_out_blocks(
    change: ShoutOutChange,
    facts: OutcomeFacts,
    *,
    channel_id: str | None,
) -> list[dict[str, Any]]:
    """What the rep's calibration DM says about the shout-out, after the manager's view."""
    deal = escape_mrkdwn(facts.deal)
    where = f"<#{channel_id}>" if channel_id else "the team channel"
    if change is ShoutOutChange.WITHDRAWN:
        return [
            context(
                "So there's no perfect-miss shout-out to decide on any more: I've taken the "
                "question off your debrief. Nothing was posted."
            )
        ]
    if change is ShoutOutChange.HELD_BACK:
        return [
            section(
                f"About the shout-out you agreed to: it would have celebrated *{deal}* as a "
                "perfect miss, and your manager sees it differently, so I've held it back. "
                "Nothing was posted. Thank you for being willing to share."
            )
        ]
    if change is ShoutOutChange.STAYS_UP:
        return [
            section(
                f"Your shout-out about *{deal}* is still up in {where}. You agreed to it, so it "
                "stays unless you say otherwise; it no longer counts as a perfect miss in the "
                "weekly digest. If you'd rather it came down now that your manager sees it "
                "differently, you can take it back."
            ),
            take_back_button(facts.id),
        ]
    if change is ShoutOutChange.OFFERED:
        return celebrate_ask_blocks(
            facts.id,
            where=where,
            question=(
                "Now that it reads as a perfect miss, shall we celebrate it? I'd post a "
                f"shout-out in {where} naming what your manager saw you do right. The amount "
                "is never shared. Your call."
            ),
        )
    return []
