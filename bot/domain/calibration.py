"""A manager's calibration of one outcome's process score (issue 12, seed 000).

Seed 000: "There's a reason the top performers [...] have coaches. They can't see their own
swing." The rep scores their own deal; the manager either agrees, or says which practices they
saw held and why, in one sentence. The outcome keeps both views; where a calibration exists its
classification is the one reviews, Home and charts count.

Pure: no Slack, no SQL; the time comes in with the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain import (
    DEFAULT_STRONG_PROCESS_THRESHOLD,
    PRACTICES,
    Classification,
    OutcomeKind,
    classify_outcome,
    classify_win,
    process_score,
)

# The manager's "one sentence": short enough to read as one, long enough to say why.
MAX_CALIBRATION_NOTE = 280

# How an outcome's label says the manager's view is the one shown.
CALIBRATED_LABEL = "calibrated by your manager"


@dataclass(frozen=True)
class CalibrationSubmission:
    """What the "I see it differently" modal submits."""

    practices: dict[str, bool]
    note: str
    # A win's share of luck as the manager saw it (LUCK_LEVELS); None for a loss.
    luck: int | None = None


@dataclass(frozen=True)
class Calibration:
    """The manager's view of one outcome, beside the rep's own."""

    manager_user_id: str
    agrees: bool
    practices: dict[str, bool]  # as the manager saw them (the rep's, when agreeing)
    process_score: float
    classification: Classification
    calibrated_at: datetime
    note: str | None = None  # the manager's sentence; None when agreeing
    # A win's share of luck as the manager saw it, when they said (the modal asks it of a win);
    # not stored: only the classification it made is (calibrated_classification).
    luck: int | None = None


def calibrated_classification(
    kind: OutcomeKind | str,
    practices: Mapping[str, bool],
    *,
    luck: int | None,
    threshold: float = DEFAULT_STRONG_PROCESS_THRESHOLD,
) -> tuple[float, Classification]:
    """(process score, classification) of an outcome as the manager saw its practices.

    The same rule as the rep's own score (seed 002's four outcomes): a loss by its process
    score; a win by its process score and `luck`, the manager's view of how much was luck (a
    win of mostly luck is a lucky hit whatever held, so a manager who saw a textbook process
    must be able to say it wasn't luck, or their label would be one they didn't choose)."""
    score = process_score(practices)
    if OutcomeKind(kind) is OutcomeKind.WIN:
        return score, classify_win(score, luck or 0, threshold)
    return score, classify_outcome(OutcomeKind.LOSS, score, threshold)


def make_calibration(
    *,
    kind: OutcomeKind | str,
    luck: int | None,
    manager_user_id: str,
    practices: Mapping[str, bool],
    note: str | None,
    agrees: bool,
    threshold: float,
    now: datetime,
) -> Calibration:
    """The calibration a manager's answer makes, its classification recomputed."""
    held = {practice: bool(practices.get(practice)) for practice in PRACTICES}
    score, classification = calibrated_classification(kind, held, luck=luck, threshold=threshold)
    return Calibration(
        manager_user_id=manager_user_id,
        agrees=agrees,
        practices=held,
        process_score=score,
        classification=classification,
        calibrated_at=now,
        note=note,
        luck=luck if OutcomeKind(kind) is OutcomeKind.WIN else None,
    )


def calibrated_words(count: int, *, for_rep: bool) -> str:
    """What a review, Home or a chart adds when a manager's view counts in it: "" for none;
    "2 outcomes calibrated by your manager" to the rep, "1 calibrated by a manager" to the
    manager (the team view names no one)."""
    if count <= 0:
        return ""
    if for_rep:
        noun = "outcome" if count == 1 else "outcomes"
        return f"{count} {noun} {CALIBRATED_LABEL}"
    return f"{count} calibrated by a manager"


def practices_text(practices: Mapping[str, bool]) -> str:
    """The practices that held as a stored list ("discovery,qualification"; "" for none)."""
    return ",".join(p for p in PRACTICES if practices.get(p))


def practices_from_text(text: str | None) -> dict[str, bool]:
    held = set((text or "").split(","))
    return {practice: practice in held for practice in PRACTICES}
