"""How the messages about one outcome name it: the practices that held or slipped, the verdict,
a bounce-back. Shared by the rep's DMs, the channel shout-outs and the manager's note."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import (
    CLASSIFICATION_LABELS,
    CLASSIFICATION_SUMMARIES,
    PRACTICE_LABELS,
    PRACTICES,
    Classification,
    format_duration,
)
from bot.domain.debriefs import OutcomeFacts
from bot.slack_text import plural


def _held(facts: OutcomeFacts) -> list[str]:
    return [PRACTICE_LABELS[p] for p in PRACTICES if facts.practices.get(p)]


def _slipped(facts: OutcomeFacts) -> list[str]:
    return [PRACTICE_LABELS[p] for p in PRACTICES if not facts.practices.get(p)]


def _verdict(classification: Classification) -> str:
    return f"*{CLASSIFICATION_LABELS[classification]}* — {CLASSIFICATION_SUMMARIES[classification]}"


def _bounce_phrase(losses: int, recovery: timedelta) -> str:
    return f"bounced back after {plural(losses, 'loss', 'losses')} in {format_duration(recovery)}"
