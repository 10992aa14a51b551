"""Kudos as the domain knows them: the categories, and the facts of a week's recognition digest.
Produced by the kudos use cases, rendered by bot.blocks.kudos."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

CATEGORIES: tuple[str, ...] = ("resilience", "process", "learning", "win", "teamwork")


@dataclass(frozen=True)
class KudosLine:
    giver_user_id: str
    recipients: tuple[str, ...]
    category: str


@dataclass(frozen=True)
class BounceBackLine:
    user_id: str
    losses: int
    recovery: timedelta


@dataclass(frozen=True)
class DigestFacts:
    week: str
    perfect_miss_user_ids: tuple[str, ...]
    bounce_backs: tuple[BounceBackLine, ...]
    kudos: tuple[KudosLine, ...]

    @property
    def is_quiet(self) -> bool:
        return not (self.perfect_miss_user_ids or self.bounce_backs or self.kudos)
