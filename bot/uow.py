"""The unit of work: one transaction per action, and the messages it causes written in it.

    uow = UnitOfWork(deps.session_factory, clock=deps.clock, on_commit=dispatcher.wake)
    with uow:
        saved = usecases.save_loss(session=uow.session, ...)
        uow.outbox.add(team_id=..., post_key=f"debrief:{saved.id}:rep", kind="debrief-rep",
                       to=to_user(rep_id), message={"text": ..., "blocks": [...]})
    # committed here: the loss and its DM together, or neither; then on_commit() wakes the
    # dispatcher, which sends the DM (bot.dispatcher).

Leaving the block normally commits; an exception rolls back and propagates. Listeners, jobs
and the dispatcher never call ``commit()`` themselves. A UnitOfWork may be entered again
(each ``with`` is a new session and transaction) but not from two threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlmodel import Session

from bot.clock import Clock, utc_now
from storage import outbox_queries
from storage.db import SessionFactory


@dataclass(frozen=True)
class Target:
    """Who an outbox row goes to; see `to_channel`, `to_user`, `to_recognition_channel`."""

    kind: str  # storage.models.OUTBOX_TARGETS
    id: str | None = None


def to_channel(channel_id: str) -> Target:
    """A channel (or a DM's D… id) as it is."""
    return Target("channel", channel_id)


def to_user(user_id: str) -> Target:
    """The app's DM with a person: opened with conversations.open when it is sent."""
    return Target("user", user_id)


def to_recognition_channel() -> Target:
    """The workspace's recognition channel as the settings say when the row is sent; while
    none is set the row waits (pending), so nothing needs a special case for it."""
    return Target("recognition_channel", None)


def to_sent_post(post_key: str) -> Target:
    """The message another row (`post_key`) was sent as: a chat.delete row goes to the channel
    and ts recorded when that row was sent (bot.dispatcher); one not sent yet is called off."""
    return Target("sent_post", post_key)


def add_to_outbox(
    session: Session,
    *,
    now: datetime,
    team_id: str,
    post_key: str,
    kind: str,
    to: Target,
    message: Mapping[str, Any],
    method: str = "chat.postMessage",
    not_before: datetime | None = None,
) -> bool:
    """`Outbox.add` for code that holds a session, not a unit of work: outbox hooks
    (bot.outbox_hooks), which run inside the dispatcher's transaction. A unit of work whose
    session this is wakes the dispatcher after its commit (the session remembers it)."""
    added = outbox_queries.enqueue(
        session=session,
        team_id=team_id,
        post_key=post_key,
        kind=kind,
        target_kind=to.kind,
        target_id=to.id,
        payload=message,
        method=method,
        now=now,
        not_before=not_before,
    )
    if added:
        session.info[_QUEUED] = session.info.get(_QUEUED, 0) + 1
    return added


_QUEUED = "rebound_outbox_rows_queued"


class Outbox:
    """`uow.outbox`: rows written in the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def add(
        self,
        *,
        team_id: str,
        post_key: str,
        kind: str,
        to: Target,
        message: Mapping[str, Any],
        method: str = "chat.postMessage",
        not_before: datetime | None = None,
    ) -> bool:
        """Queue `message` (chat.postMessage's arguments but the channel; for another method,
        that method's arguments) under `post_key`, unique per workspace: adding a key again
        keeps the first row (False). `kind` picks the hooks run when it is sent, refused or
        given up on (bot.outbox_hooks.register_hooks) and names the post in metrics."""
        added = add_to_outbox(
            self._uow.session,
            now=self._uow.now(),
            team_id=team_id,
            post_key=post_key,
            kind=kind,
            to=to,
            message=message,
            method=method,
            not_before=not_before,
        )
        return added


class UnitOfWork:
    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        clock: Clock = utc_now,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        """`on_commit` runs after a successful commit that queued at least one outbox row
        (the dispatcher's `wake`); it must not block."""
        self._session_factory = session_factory
        self._clock = clock
        self._on_commit = on_commit
        self._session: Session | None = None
        self.enqueued = 0
        self.outbox = Outbox(self)

    def now(self) -> datetime:
        return self._clock()

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        self._session = self._session_factory()
        self.enqueued = 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        assert session is not None
        committed = False
        try:
            if exc_type is None:
                self.enqueued = int(session.info.pop(_QUEUED, 0))
                session.commit()
                committed = True
            else:
                session.rollback()
        finally:
            session.close()
        if committed and self.enqueued and self._on_commit is not None:
            self._on_commit()
