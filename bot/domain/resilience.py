"""Resilience as a skill (seed 003): when a losing streak brings private support, which practice
and which one-on-one question it brings, who is on a streak now and who recovered fastest.

Seed 003: resilience is "the ability to recover from stumbles, mistakes and failures and then
bounce back", and a manager should "define resilience as a skill" and "coach it". The practices
and questions below are taken from the seed's own words (quoted beside each).

Pure: no Slack, no database, no clock; every time comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import OutcomeEvent, OutcomeKind

# A streak of this many losses in a row brings private support (a workspace setting).
DEFAULT_SUPPORT_STREAK = 3
# A single loss is not a streak; more than this many is a setting nobody needs.
MIN_SUPPORT_STREAK = 2
MAX_SUPPORT_STREAK = 20


@dataclass(frozen=True)
class ResiliencePractice:
    """One concrete thing to do, with the seed 003 line it comes from."""

    seed_line: str
    practice: str


# Seed 003, in its own words; the rep's DM quotes `seed_line` and asks for `practice`.
RESILIENCE_PRACTICES: tuple[ResiliencePractice, ...] = (
    # "They have to get up the next morning and correct the mistake in question..."
    ResiliencePractice(
        seed_line="Get up the next morning and correct the mistake in question.",
        practice="Pick the one thing from these deals you can correct, and make it the first "
        "thing you do tomorrow morning.",
    ),
    # "...and press on to other accounts without missing a beat."
    ResiliencePractice(
        seed_line="Press on to other accounts without missing a beat.",
        practice="Before today ends, book your next conversation with another account, so "
        "tomorrow already starts with a step forward.",
    ),
    # "It involves self-control and willingness to acknowledge one's own role in defeat."
    ResiliencePractice(
        seed_line="Be willing to acknowledge your own role in defeat.",
        practice="Write one sentence about the part of these losses that was yours, and leave "
        "the rest where it belongs: some stumbles are due to circumstances outside your control.",
    ),
    # "resilience draws from strength of character, from a core set of values that motivate
    # efforts to overcome the setback and resume walking the path to success."
    ResiliencePractice(
        seed_line="Resilience draws from a core set of values that motivate you to overcome "
        "the setback.",
        practice="Write down why this work matters to you, in a line or two, and read it "
        "before your next call.",
    ),
)

# One question for the manager's next one-on-one, in the words of seed 003's "Coach it".
ONE_ON_ONE_QUESTIONS: tuple[str, ...] = (
    # "correct the mistake in question and press on"
    "What's the one thing from these deals you'd correct first — and what would help you do "
    "it tomorrow morning?",
    # "Some stumbles are brought about by the salesperson themselves ... Others are due to
    # circumstances outside their control. Regardless it is the salesperson that has to deal
    # with it."
    "Which of these losses were in your control, and which weren't? What will you do about "
    "the first kind?",
    # "a core set of values that motivate efforts to overcome the setback and resume walking
    # the path to success"
    "What keeps you going after a run like this, and how can I help you get back on the path?",
    # "who bounced back quickly after initial stumbles?" / "best practices can be codified
    # and shared"
    "Who on the team bounced back quickly after a stumble, and what did they do that you "
    "could borrow?",
)


@dataclass(frozen=True)
class StreakOutcome:
    """One outcome of a rep's, with its id: a streak is named by the loss that started it."""

    id: int
    kind: OutcomeKind
    at: datetime


@dataclass(frozen=True)
class StreakSupport:
    """A losing streak that has just reached the length that brings support."""

    first_loss_id: int
    losses: int
    started_at: datetime
    practice: ResiliencePractice
    question: str
    # The win that ended the rep's run before this one (None: no win yet, in the history read).
    # It names the streak for "once per streak": removing or correcting a loss of the run
    # changes its first loss, never the win before it, so only a new win starts a new streak.
    after_win_id: int | None = None


def _in_order(history: Sequence[StreakOutcome]) -> list[StreakOutcome]:
    # Two outcomes logged at one instant keep the order they were saved in (their ids).
    return sorted(history, key=lambda outcome: (outcome.at, outcome.id))


def _losing_runs(ordered: Sequence[StreakOutcome]) -> list[list[StreakOutcome]]:
    runs: list[list[StreakOutcome]] = []
    current: list[StreakOutcome] = []
    for outcome in ordered:
        if OutcomeKind(outcome.kind) is OutcomeKind.LOSS:
            current.append(outcome)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def support_reached(history: Sequence[StreakOutcome], *, streak: int) -> StreakSupport | None:
    """The support of the rep's current run of losses when it is at least `streak` long: what a
    run that grew past the setting brings when an admin lowers the setting to its length or
    below (the run is named by the win before it, like `support_due`'s, so a run that brought
    support before is the same streak: its post keys keep it to one DM). None when the rep's
    newest outcome is a win or the run is shorter."""
    if streak < 1:
        raise ValueError(f"streak must be at least 1, got {streak}")
    ordered = _in_order(history)
    if not ordered or OutcomeKind(ordered[-1].kind) is not OutcomeKind.LOSS:
        return None
    runs = _losing_runs(ordered)
    current = runs[-1]
    if len(current) < streak:
        return None
    earlier = sum(1 for run in runs[:-1] if len(run) >= streak)
    before = ordered[: len(ordered) - len(current)]
    return StreakSupport(
        after_win_id=before[-1].id if before else None,
        first_loss_id=current[0].id,
        losses=len(current),
        started_at=current[0].at,
        practice=RESILIENCE_PRACTICES[earlier % len(RESILIENCE_PRACTICES)],
        question=ONE_ON_ONE_QUESTIONS[earlier % len(ONE_ON_ONE_QUESTIONS)],
    )


def support_due(history: Sequence[StreakOutcome], *, streak: int) -> StreakSupport | None:
    """The support a rep's newest outcome brings: when it is the loss that makes their current
    run of losses exactly `streak` long (once per streak: the 4th loss of a streak of three
    brings nothing more, and a win starts the count again). The practice and the question
    rotate with the number of the rep's earlier streaks that reached `streak`."""
    support = support_reached(history, streak=streak)
    return support if support is not None and support.losses == streak else None


@dataclass(frozen=True)
class OngoingStreak:
    """A rep's current run of losses: how many, and how long since the first."""

    losses: int
    since: datetime
    duration: timedelta


def ongoing_losing_streak(
    history: Sequence[OutcomeEvent], now: datetime, *, at_least: int = 2
) -> OngoingStreak | None:
    """The run of losses that ends with the rep's newest outcome, when it is `at_least` long
    (a single loss is not a streak)."""
    ordered = sorted(history, key=lambda event: event.at)
    run: list[OutcomeEvent] = []
    for event in reversed(ordered):
        if event.kind is not OutcomeKind.LOSS:
            break
        run.append(event)
    if len(run) < max(at_least, 1):
        return None
    since = run[-1].at
    return OngoingStreak(losses=len(run), since=since, duration=max(now - since, timedelta(0)))


@dataclass(frozen=True)
class Recovery:
    """A win after one or more losses: `time` runs from the streak's last loss to the win."""

    losses: int
    last_loss_at: datetime
    win_at: datetime

    @property
    def time(self) -> timedelta:
        return self.win_at - self.last_loss_at


def recoveries(history: Sequence[OutcomeEvent]) -> list[Recovery]:
    """Every win that ended a losing streak, oldest first."""
    found: list[Recovery] = []
    losses = 0
    last_loss_at: datetime | None = None
    for event in sorted(history, key=lambda event: event.at):
        if event.kind is OutcomeKind.LOSS:
            losses += 1
            last_loss_at = event.at
            continue
        if losses and last_loss_at is not None:
            found.append(Recovery(losses=losses, last_loss_at=last_loss_at, win_at=event.at))
        losses, last_loss_at = 0, None
    return found


def fastest_recovery(
    history: Sequence[OutcomeEvent], start: datetime, end: datetime
) -> Recovery | None:
    """The rep's quickest recovery whose win falls in [start, end) (this cycle)."""
    within = [r for r in recoveries(history) if start <= r.win_at < end]
    return min(within, key=lambda r: (r.time, r.win_at)) if within else None
