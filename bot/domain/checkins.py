"""A weekly check-in as the domain knows it: its questions, and one rep's week as the manager's
digest shows it. Produced by the check-in use cases, rendered by bot.blocks.checkins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The keys of a check-in's answers that say what a question is about: the week's loss lesson,
# the rep's commitment, the goal's progress, and one rating per practice (prefix + practice).
LOSS_KEY = "loss_lesson"
COMMITMENT_KEY = "commitment"
GOAL_KEY = "goal_progress"
RATING_PREFIX = "rating_"


@dataclass(frozen=True)
class Question:
    """One item of a check-in. ``kind`` is "text", "rating" (1–5) or "number" (goal progress);
    ``ref`` names what a contextual question is about (an outcome or reflection id)."""

    key: str
    text: str
    kind: str = "text"
    ref: str = ""

    def as_row(self) -> dict[str, str]:
        row = {"key": self.key, "text": self.text, "kind": self.kind}
        if self.ref:
            row["ref"] = self.ref
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> Question:
        return cls(
            key=row["key"],
            text=row["text"],
            kind=row.get("kind", "text"),
            ref=row.get("ref", ""),
        )


@dataclass(frozen=True)
class RatingDrop:
    practice: str
    before: int
    after: int


@dataclass(frozen=True)
class RepWeek:
    """One rep's week as the digest shows it. ``status`` is the check-in's status, or "paused"
    or "none" (no check-in this week)."""

    user_id: str
    status: str
    answers: Sequence[tuple[str, str]] = ()  # (question, answer) of text and goal questions
    ratings: Mapping[str, int] = field(default_factory=dict)
    drops: Sequence[RatingDrop] = ()
    checkin_id: int | None = None  # the digest's "Reply" button names it
