"""Goals as the domain knows them: the metrics, what the /goal modal submits, a goal's progress
and the end-of-cycle review. Produced by bot.usecases.goals, rendered by bot.blocks.goals and
bot.blocks.dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.domain import DEFAULT_MIN_EVIDENCE, Classification
from bot.domain.text import plural

METRIC_LABELS: dict[str, str] = {
    "revenue": "Revenue",
    "deals_won": "Deals won",
    "meetings": "Meetings booked",
    "custom": "Custom",
}
MAX_CYCLE_DAYS = 366


class GoalRecord(Protocol):
    """What the domain reads of a saved goal (storage's Goal row has these fields): the domain
    names the shape, so it never imports storage."""

    id: int | None
    user_id: str
    metric: str
    custom_metric: str | None
    target: float
    cycle_start: date
    cycle_end: date
    why: str | None


@dataclass(frozen=True)
class GoalSubmission:
    metric: str
    custom_metric: str | None
    target: float
    cycle_start: date
    cycle_end: date
    why: str


@dataclass(frozen=True)
class GoalProgress:
    goal: GoalRecord
    attainment: float
    metric_label: str
    currency: str | None = None  # the workspace's, for a revenue goal's amounts

    @property
    def ratio(self) -> float:
        return self.attainment / self.goal.target if self.goal.target > 0 else 0.0


@dataclass(frozen=True)
class CycleReview:
    user_id: str
    progress: GoalProgress
    process_score: float | None  # mean of the cycle's scores; None without any evidence
    quadrant: Classification
    # The evidence behind the process score: scored outcomes and scored check-ins.
    scored_outcomes: int = 0
    scored_checkins: int = 0
    # Fewer items than this and the quadrant is not called (the workspace's setting).
    min_evidence: int = DEFAULT_MIN_EVIDENCE
    # Of the scored outcomes, how many a manager calibrated: their view is the one counted.
    calibrated_outcomes: int = 0

    @property
    def evidence(self) -> int:
        return self.scored_outcomes + self.scored_checkins

    @property
    def enough_evidence(self) -> bool:
        return self.evidence >= self.min_evidence

    def evidence_so_far(self, *, ended: bool = False) -> str:
        return evidence_so_far(self.scored_outcomes, self.scored_checkins, ended=ended)


NOT_ENOUGH_TO_CALL = "not enough to call yet"


def evidence_so_far(scored_outcomes: int, scored_checkins: int, *, ended: bool = False) -> str:
    """What a label stands on, in words: "2 scored outcomes so far", "1 scored outcome and
    1 check-in so far", "no scored outcomes or check-ins yet"; for a cycle that has `ended`,
    "… this cycle"."""
    parts = []
    if scored_outcomes:
        parts.append(plural(scored_outcomes, "scored outcome", "scored outcomes"))
    if scored_checkins:
        parts.append(plural(scored_checkins, "check-in", "check-ins"))
    if not parts:
        return "no scored outcomes or check-ins " + ("this cycle" if ended else "yet")
    return " and ".join(parts) + (" this cycle" if ended else " so far")
