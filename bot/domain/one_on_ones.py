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
from enum import Enum


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
    # Its row id: what the Home's "Done" button carries.
    item_id: int = 0


@dataclass(frozen=True)
class Agenda:
    """What one person's Home shows of their one-on-ones: the open items they are in (as
    manager or as rep), newest first, each rep's open commitments, how many more open items
    there are than are shown, and how many were marked done lately."""

    viewer_id: str
    items: Sequence[AgendaItem] = ()
    open_commitments: Mapping[str, Sequence[str]] = field(default_factory=dict)
    more_open: int = 0
    done_lately: int = 0


class AgendaRefusal(Enum):
    """Why an agenda item was not marked done."""

    NOT_THEIRS = "not-theirs"  # neither the rep, their manager nor an admin
    ALREADY_DONE = "already-done"  # a double click, or the other person closed it first
