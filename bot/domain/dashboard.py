"""The Home tab's dashboards as the domain knows them: a rep's cycle so far, and a manager's team.
Produced by bot.usecases.dashboard, rendered by bot.blocks.dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain import Classification, Resilience
from bot.domain.goals import GoalProgress
from bot.domain.resilience import OngoingStreak, Recovery
from bot.domain.text import plural


@dataclass(frozen=True)
class Streak:
    kind: str | None  # "win", "loss", or None without outcomes
    length: int

    def describe(self) -> str:
        if self.kind is None or self.length == 0:
            return "no outcomes yet"
        counted = (
            plural(self.length, "win", "wins")
            if self.kind == "win"
            else plural(self.length, "loss", "losses")
        )
        return counted + ("" if self.length == 1 else " in a row")


@dataclass(frozen=True)
class Lesson:
    question: str
    answer: str
    at: datetime


@dataclass(frozen=True)
class RepDashboard:
    user_id: str
    progress: GoalProgress | None
    cycle_start: date
    cycle_end: date
    record: dict[str, int]  # classification -> count in the cycle
    resilience: Resilience
    streak: Streak
    outcomes_considered: int
    lessons: list[Lesson]
    # Of this cycle's record, how many outcomes a manager calibrated (their view is counted).
    calibrated: int = 0


@dataclass(frozen=True)
class TeamRow:
    user_id: str
    quadrant: Classification | None  # so far this cycle; None without a goal or evidence
    attainment_ratio: float | None
    checkins_answered: int
    checkins_sent: int
    last_debrief_at: datetime | None
    streak: Streak
    losing_streak: int
    # With a goal but too little evidence to call the quadrant: what there is, in words
    # ("2 scored outcomes so far"); the quadrant is then None.
    too_early: str | None = None
    # Of the outcomes behind the quadrant, how many a manager calibrated.
    calibrated: int = 0


@dataclass(frozen=True)
class ManagerDashboard:
    rows: list[TeamRow]
    more_reps: int
    loss_reasons: list[tuple[str, int]]
    vital_few: list[str]
    pareto_days: int
    coaching: list[tuple[str, str]]  # (user id, why they may need a conversation)
    # Reps on a losing streak now, longest first (seed 003: track who recovers and how fast).
    on_streak: list[tuple[str, OngoingStreak]] = field(default_factory=list)
    # Each rep's quickest recovery this cycle, quickest first.
    fastest: list[tuple[str, Recovery]] = field(default_factory=list)
