"""Channel shout-outs for a perfect miss and a bounce-back (never amounts, never reflections)."""

from __future__ import annotations

from typing import Any

from bot.blocks.debriefs._words import _bounce_phrase, _held
from bot.blocks.kit import escape_mrkdwn, section
from bot.domain.debriefs import OutcomeFacts


def perfect_miss_shout_out(facts: OutcomeFacts) -> dict[str, Any]:
    held = "\n".join(f"• {label}" for label in _held(facts))
    text = (
        f":dart: *Celebrating a perfect miss.* <@{facts.user_id}> lost "
        f"*{escape_mrkdwn(facts.deal)}* — "
        f"and did it right:\n{held}\n"
        "A win, masquerading as a loss. Being unlucky happens; go out and do exactly what "
        "you did again."
    )
    return {
        "text": f"Celebrating a perfect miss by <@{facts.user_id}>",
        "blocks": [section(text)],
    }


def bounce_back_shout_out(facts: OutcomeFacts) -> dict[str, Any]:
    assert facts.bounce_back_losses and facts.bounce_back_recovery is not None
    phrase = _bounce_phrase(facts.bounce_back_losses, facts.bounce_back_recovery)
    text = (
        f":arrows_counterclockwise: *Bounce-back!* <@{facts.user_id}> won "
        f"*{escape_mrkdwn(facts.deal)}* and {phrase}. "
        "Resilience is a skill — a tip of the hat. :tophat:"
    )
    return {"text": f"Bounce-back: <@{facts.user_id}> {phrase}", "blocks": [section(text)]}
