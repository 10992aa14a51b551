"""Debriefs as the domain knows them: the stages and reasons of a loss, the reflection questions
(seeds 000/001, with seed 002's "keep doing" after a perfect miss), what the /lost, /won and
reflection modals submit, and the facts the messages about an outcome are built from.

Shared by the use cases that produce these values and the Block Kit builders that render them,
so neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import Classification

STAGES: dict[str, str] = {
    "prospecting": "Prospecting",
    "discovery": "Discovery",
    "evaluation": "Demo / evaluation",
    "proposal": "Proposal",
    "negotiation": "Negotiation",
    "closing": "Closing / legal",
}
# Why a deal was lost. Seed 000 warns against blaming the client or the price ("Without accepting
# responsibility for the loss you can't get better"), so beside the causes outside the rep's
# control are the ones a rep can own, and an honest "not sure yet".
IN_CONTROL_REASONS: dict[str, str] = {
    "real_need": "Never found the real need",
    "next_steps": "Lost control of next steps",
    "no_decision_maker": "No access to the decision maker",
    "follow_up": "Follow-up slipped",
}
OUTSIDE_REASONS: dict[str, str] = {
    "price": "Price",
    "competitor": "Competitor",
    "no_decision": "No decision",
    "timing": "Timing",
    "product_fit": "Product fit",
    "champion_left": "Champion left",
}
UNSURE_REASONS: dict[str, str] = {
    "not_sure": "Not sure yet",
    "other": "Other",
}
REASONS: dict[str, str] = {**IN_CONTROL_REASONS, **OUTSIDE_REASONS, **UNSURE_REASONS}
NO_REASON_LABEL = "No reason given"


def reason_in_control(reason: str | None) -> bool | None:
    """Whether a loss reason (its key, or its label as people read it) was in the rep's control:
    True, False, or None when nobody can say (not sure yet, other, none given, unknown)."""
    if reason in IN_CONTROL_REASONS or reason in IN_CONTROL_REASONS.values():
        return True
    if reason in OUTSIDE_REASONS or reason in OUTSIDE_REASONS.values():
        return False
    return None


# Seeds 000/001. The last question is the commitment that check-ins and the next debrief
# follow up on (Reflection.is_commitment).
COMMITMENT_KEY = "commitment"
REFLECTION_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("learned", "What did you learn from this opportunity?"),
    ("feedback_lesson", "What lesson is in the feedback you got?"),
    ("in_control", "What was in your control?"),
    (COMMITMENT_KEY, "One thing I will do differently"),
)
# Seed 002: after a perfect miss nothing needs to change ("go out and do exactly what you did
# again"), so the commitment is what to keep; it is followed up on all the same.
KEEP_DOING_QUESTION = "One thing I'll keep doing exactly the same"
# Seed 004: a win is a lesson too ("share what they did well with the rest of the team as a
# learning opportunity"). One question, the answer kept as a lesson the rep may share.
WIN_LESSON_KEY = "worked"
WIN_QUESTION = "What worked that you would do again?"
WIN_QUESTIONS: tuple[tuple[str, str], ...] = ((WIN_LESSON_KEY, WIN_QUESTION),)


# --- what the modals submit --------------------------------------------------------------------


@dataclass(frozen=True)
class LossSubmission:
    deal: str
    amount: float | None
    stage: str
    reason: str
    competitor: str | None
    practices: dict[str, bool]
    buyer_feedback: str | None


@dataclass(frozen=True)
class WinSubmission:
    deal: str
    amount: float | None
    practices: dict[str, bool]
    luck: int


@dataclass(frozen=True)
class ReflectionSubmission:
    answers: dict[str, str]  # question key -> answer; unanswered optional questions left out
    followed_up: bool | None  # the answer to "did you do it?", when it was asked


# --- what messages are built from ----------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeFacts:
    id: int
    user_id: str
    kind: str  # "win" | "loss"
    deal: str
    classification: Classification
    practices: dict[str, bool]
    occurred_at: datetime
    amount: float | None = None
    stage: str | None = None
    reason: str | None = None
    competitor: str | None = None
    buyer_feedback: str | None = None
    luck: int | None = None
    bounce_back_losses: int | None = None
    bounce_back_recovery: timedelta | None = None
    currency: str | None = None  # the workspace's, for the amount
    crm_source: str | None = None  # the CRM the debrief was offered from (CRM_SOURCES)
    crm_link: str | None = None  # the deal's page in that CRM


@dataclass(frozen=True)
class ResilienceLine:
    bounce_backs: int
    median_recovery: timedelta | None


@dataclass(frozen=True)
class Commitment:
    reflection_id: int
    text: str
    deal: str


@dataclass(frozen=True)
class Lesson:
    user_id: str
    deal: str
    kind: str
    reason: str | None
    question: str
    answer: str
    answered_at: datetime
    is_commitment: bool = False
    followed_up: bool | None = None
    shared: bool = False  # a win's lesson the rep shared with their team


@dataclass(frozen=True)
class LessonsResult:
    viewer_id: str
    words: list[str]  # searched for: lower-cased
    lessons: list[Lesson] = field(default_factory=list)
    is_manager: bool = False
    typed_words: list[str] | None = None  # the same words as typed (AT&T), to echo back
    # Lessons teammates chose to share (seed 004's peer learning), newest first; never one
    # already in `lessons`.
    shared: list[Lesson] = field(default_factory=list)


@dataclass(frozen=True)
class LessonShare:
    """A win's lesson after its rep said whether their team may read it."""

    reflection_id: int
    deal: str
    answer: str
    shared: bool


def reflection_questions(*, perfect_miss: bool, win: bool = False) -> tuple[tuple[str, str], ...]:
    """The questions after an outcome: (key, question). A win gets one (what worked); after a
    perfect miss the commitment is the one thing to keep doing, not to change."""
    if win:
        return WIN_QUESTIONS
    if not perfect_miss:
        return REFLECTION_QUESTIONS
    return tuple(
        (key, KEEP_DOING_QUESTION if key == COMMITMENT_KEY else question)
        for key, question in REFLECTION_QUESTIONS
    )


@dataclass(frozen=True)
class NotYours:
    """Someone used another rep's button ("Answer the questions", "Share with my team"):
    nothing was changed; whose it is, to say so."""

    owner_user_id: str
