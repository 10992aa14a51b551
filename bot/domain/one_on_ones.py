"""The one-on-one agenda as the domain knows it: a check-in answer a manager replied to from
the digest, and what both of them see on their Home (seed 004: "Use one-on-one meetings to
discuss progress, celebrate wins, and address challenges"; feedback that is continuous, not
saved for the annual review).

Shared by the use cases that produce these values and the Block Kit builders that render them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CheckInAnswerShown:
    key: str
    question: str
    answer: str


@dataclass(frozen=True)
class ReplyTarget:
    """A rep's answered check-in, as the manager's reply modal shows it."""

    checkin_id: int
    rep_user_id: str
    answers: Sequence[CheckInAnswerShown]


@dataclass(frozen=True)
class ReplySubmission:
    answer_key: str
    reply: str
    add_to_agenda: bool


@dataclass(frozen=True)
class AgendaItem:
    manager_user_id: str
    rep_user_id: str
    question: str
    answer: str
    reply: str
    added_at: datetime


@dataclass(frozen=True)
class Agenda:
    """What one person's Home shows of their one-on-ones: the items they are in (as manager or
    as rep), newest first, and each rep's open commitments."""

    viewer_id: str
    items: Sequence[AgendaItem] = ()
    open_commitments: Mapping[str, Sequence[str]] = field(default_factory=dict)
