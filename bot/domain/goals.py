"""Goals as the domain knows them: the metrics, what the /goal modal submits, a goal's progress
and the end-of-cycle review. Produced by bot.usecases.goals, rendered by bot.blocks.goals and
bot.blocks.dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.domain import Classification

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

    @property
    def ratio(self) -> float:
        return self.attainment / self.goal.target if self.goal.target > 0 else 0.0


@dataclass(frozen=True)
class CycleReview:
    user_id: str
    progress: GoalProgress
    process_score: float | None  # mean of the cycle's scores; None without any evidence
    quadrant: Classification
