"""Seed 004's Pareto of loss reasons: the reasons most frequent first, and the vital few that
account for most losses. Pure arithmetic, shared by the manager's dashboard (bot.usecases) and
the Pareto chart (bot.charts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.debriefs import reason_in_control
from bot.domain.text import plural

# The Pareto chart draws at most this many bars; the rest fold into "Other".
MAX_PARETO_BARS = 8
# Fewer losses than this are counted, never read as a pattern ("the few reasons behind most
# losses" of three losses is three reasons).
MIN_PARETO_LOSSES = 5


def loss_total(counts: Sequence[tuple[str, int]]) -> int:
    return sum(count for _, count in counts if count > 0)


def too_early_for_pattern(counts: Sequence[tuple[str, int]]) -> bool:
    """Some losses, but fewer than a pattern needs (no losses at all is said otherwise)."""
    return 0 < loss_total(counts) < MIN_PARETO_LOSSES


def too_early_text(total: int) -> str:
    """ "Too early for a pattern: 3 losses so far, and a pattern needs at least 5." """
    return (
        f"Too early for a pattern: {plural(total, 'loss', 'losses')} so far, and a pattern "
        f"needs at least {MIN_PARETO_LOSSES}."
    )


def pareto_bars(
    counts: Sequence[tuple[str, int]], max_bars: int = MAX_PARETO_BARS
) -> list[tuple[str, int]]:
    """Reasons most frequent first; beyond `max_bars - 1` reasons the rest fold into "Other"."""
    ordered = sorted(
        ((r or "No reason given", c) for r, c in counts if c > 0), key=lambda rc: -rc[1]
    )
    if len(ordered) <= max_bars:
        return ordered
    head, tail = ordered[: max_bars - 1], ordered[max_bars - 1 :]
    return [*head, ("Other", sum(count for _, count in tail))]


def vital_few(counts: Sequence[tuple[str, int]], share: float = 0.8) -> list[str]:
    """The few reasons that together account for `share` of the losses (seed 004's Pareto)."""
    bars = pareto_bars(counts, max_bars=len(counts) + 1)
    total = sum(count for _, count in bars)
    chosen: list[str] = []
    running = 0
    for reason, count in bars:
        if total and running / total >= share:
            break
        chosen.append(reason)
        running += count
    return chosen


@dataclass(frozen=True)
class ControlSplit:
    """How many losses had a reason in the reps' control, outside it, or one nobody can say."""

    in_control: int
    outside: int
    unsure: int

    @property
    def total(self) -> int:
        return self.in_control + self.outside + self.unsure


def control_split(counts: Sequence[tuple[str, int]]) -> ControlSplit:
    """Split loss-reason counts (keys or labels) into in the reps' control, outside it, unsure."""
    tally = {True: 0, False: 0, None: 0}
    for reason, count in counts:
        if count > 0:
            tally[reason_in_control(reason)] += count
    return ControlSplit(in_control=tally[True], outside=tally[False], unsure=tally[None])


def control_tag(reason: str) -> str:
    """A loss reason's place, as a manager reads it: in the team's control or outside it."""
    return {True: "in our control", False: "outside our control", None: "can't say yet"}[
        reason_in_control(reason)
    ]


def control_summary(split: ControlSplit) -> str:
    """One line on what was in the team's control apart from what wasn't (plain text)."""
    total = split.total
    if not total:
        return "No losses to split yet."
    share = f" ({split.in_control / total:.0%})"
    text = (
        f"In our control: {split.in_control} of {total}{share}. "
        f"Outside our control: {split.outside}."
    )
    if split.unsure:
        text += f" Can't say yet: {split.unsure}."
    return text
