"""Giving kudos and what it sends: the kudos saved with its post in the recognition channel
in one unit of work (bot.uow), how its sending stands for the giver's answer, and the hooks the
dispatcher runs when its rows are sent or given up on (bot.outbox_hooks).

Post keys: the channel post "kudos:<id>"; once it is up (its on_sent hook), each recipient's
DM with its link "kudos:<id>:dm:<user>" and, when the giver could not be told at once, a DM
saying it is up "kudos:<id>:giver"; a DM that can never arrive is told to the giver once
"kudos:<id>:giver:unreached". The dispatcher does the retrying; the kudos only keeps what Home
and the privacy export show (recipients' DM status, where the post went up). The message
builders and the permalink reader come from the Slack adapter (bot.features.kudos).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.outbox_hooks import register_hooks
from bot.uow import UnitOfWork, add_to_outbox, to_recognition_channel, to_user
from bot.usecases.kudos import KudosDraft, SaveResult, save_kudos
from storage import kudos_queries, outbox_queries, queries
from storage.models import Kudos, KudosRecipient, OutboxMessage

# --- giving kudos: saved with its channel post, in one unit of work ---------------------------

# The channel post's kinds: who tells the giver it is up. KUDOS_POST: the request that saved it
# waits for the post and answers the giver itself. KUDOS_POST_LATER: the giver was told it comes
# later (no channel yet, or Slack said no for now), so its on_sent hook queues them a DM.
KUDOS_POST, KUDOS_POST_LATER = "kudos", "kudos-later"
KUDOS_DM, KUDOS_GIVER = "kudos-dm", "kudos-giver"
# (team_id, channel, ts) -> the message's permalink, or None when Slack didn't say.
PermalinkReader = Callable[[str, str, str], str | None]
Message = Mapping[str, Any]


@dataclass(frozen=True)
class KudosMessages:
    """The Block Kit builders kudos' outbox rows are made with (bot.blocks.kudos), handed in by
    the Slack adapter: use cases never import Block Kit. Each takes keyword arguments."""

    post: Callable[..., Message]  # (giver_user_id, recipients, category, message)
    dm: Callable[..., Message]  # (giver_user_id, category, message, permalink)
    posted: Callable[..., Message]  # (channel_id, recipients, permalink)
    unreached: Callable[..., Message]  # (channel_id, unreached, permalink)


def post_key(kudos_id: int) -> str:
    return f"kudos:{kudos_id}"


def dm_key(kudos_id: int, user_id: str) -> str:
    return f"kudos:{kudos_id}:dm:{user_id}"


@dataclass(frozen=True)
class Given:
    result: SaveResult
    # The recognition channel when it was saved; None: the post waits until one is set.
    channel_id: str | None


def give_kudos(
    uow: UnitOfWork,
    *,
    team_id: str,
    giver_user_id: str,
    giver_tz: str,
    draft: KudosDraft,
    submission_key: str,
    messages: KudosMessages,
) -> Given:
    """Save the kudos (unless the cap is reached or this submission was saved before) and queue
    its post in the recognition channel, resolved when it is sent: with no channel yet it
    waits, and goes up once one is set (storage.queries.update_workspace_settings wakes it)."""
    result = save_kudos(
        session=uow.session,
        team_id=team_id,
        giver_user_id=giver_user_id,
        giver_tz=giver_tz,
        draft=draft,
        submission_key=submission_key,
        now=uow.now(),
    )
    workspace = queries.get_or_create_workspace(session=uow.session, team_id=team_id)
    channel = workspace.recognition_channel_id
    kudos = result.kudos
    if kudos is not None and kudos.id is not None and not result.duplicate:
        uow.outbox.add(
            team_id=team_id,
            post_key=post_key(kudos.id),
            kind=KUDOS_POST if channel is not None else KUDOS_POST_LATER,
            to=to_recognition_channel(),
            message=messages.post(
                giver_user_id=giver_user_id,
                recipients=list(dict.fromkeys(draft.recipients)),
                category=kudos.category,
                message=kudos.message,
            ),
        )
    return Given(result=result, channel_id=channel)


def _recipient_dm(messages: KudosMessages, kudos: Kudos, *, permalink: str | None) -> Message:
    """The DM each recipient gets once the kudos is up, with its link when Slack gave one."""
    return messages.dm(
        giver_user_id=kudos.giver_user_id,
        category=kudos.category,
        message=kudos.message,
        permalink=permalink,
    )


# Kudos adopted per run: a first run after the upgrade may find many.
ADOPT_BATCH = 200


def adopt_unqueued_kudos(uow: UnitOfWork, *, messages: KudosMessages) -> int:
    """Queue the kudos saved before the outbox existed and not yet fully sent (a kudos kept
    while there was no recognition channel, one whose post or DMs the old retry job was still
    trying): without a row, nothing would send them. The old posts table says what went out:
    a post it sent is recorded as sent here (its key used, so it never goes twice) and only the
    DMs still pending are queued. Returns how many kudos were adopted (0: nothing left)."""
    session, now = uow.session, uow.now()
    adopted = kudos_queries.pending_kudos_without_outbox_row(session=session, limit=ADOPT_BATCH)
    for kudos in adopted:
        assert kudos.id is not None
        recipients = kudos_queries.recipient_rows(session=session, kudos_id=kudos.id)
        old = queries.get_post(session=session, team_id=kudos.team_id, post_key=post_key(kudos.id))
        if old is None or old.status != "sent" or not old.channel_id or not old.message_ts:
            uow.outbox.add(
                team_id=kudos.team_id,
                post_key=post_key(kudos.id),
                kind=KUDOS_POST,
                to=to_recognition_channel(),
                message=messages.post(
                    giver_user_id=kudos.giver_user_id,
                    recipients=[r.user_id for r in recipients],
                    category=kudos.category,
                    message=kudos.message,
                ),
            )
            continue
        # Up in the channel already: the row only records that its key was used.
        uow.outbox.add(
            team_id=kudos.team_id,
            post_key=post_key(kudos.id),
            kind=KUDOS_POST,
            to=to_recognition_channel(),
            message={},
        )
        row = outbox_queries.get(
            session=session, team_id=kudos.team_id, post_key=post_key(kudos.id)
        )
        assert row is not None
        row.state, row.sent_channel, row.sent_ts, row.sent_at = (
            "sent",
            old.channel_id,
            old.message_ts,
            old.sent_at or now,
        )
        kudos_queries.record_kudos_post(
            session=session, kudos_id=kudos.id, channel_id=old.channel_id, message_ts=old.message_ts
        )
        dm = _recipient_dm(messages, kudos, permalink=None)
        for recipient in recipients:
            if recipient.dm_status not in ("sent", "failed"):  # "pending" or the old "retry"
                uow.outbox.add(
                    team_id=kudos.team_id,
                    post_key=dm_key(kudos.id, recipient.user_id),
                    kind=KUDOS_DM,
                    to=to_user(recipient.user_id),
                    message=dm,
                )
        _posted_once_dms_tried(session, kudos.id, recipients, old.channel_id, old.message_ts)
    return len(adopted)


def _posted_once_dms_tried(
    session: Session,
    kudos_id: int,
    recipients: Sequence[KudosRecipient],
    channel_id: str | None,
    message_ts: str | None,
) -> None:
    """The kudos is "posted" (up, where it is) once every recipient's DM is sent or failed."""
    if all(r.dm_status in ("sent", "failed") for r in recipients):
        kudos_queries.mark_kudos_posted(
            session=session, kudos_id=kudos_id, channel_id=channel_id, message_ts=message_ts
        )


@dataclass(frozen=True)
class KudosNews:
    """How a kudos' sending stands, for the answer to its giver.

    `state`: "up" (in the channel), "trouble" (Slack refused it for now, or never will),
    "waiting" (not tried yet, or on its way). Once up: who has their DM (`told`), who could not
    be reached on the first try (`unreached`), and whether every DM has had its first try."""

    state: str
    channel_id: str | None = None
    ts: str | None = None
    recipients: tuple[str, ...] = ()
    told: tuple[str, ...] = ()
    unreached: tuple[str, ...] = ()
    dms_tried: bool = False


def kudos_news(*, session: Session, team_id: str, kudos_id: int) -> KudosNews:
    row = outbox_queries.get(session=session, team_id=team_id, post_key=post_key(kudos_id))
    if row is None:
        return KudosNews("waiting")
    if row.state == "failed" or (row.state == "pending" and row.last_error is not None):
        return KudosNews("trouble")
    if row.state != "sent":
        return KudosNews("waiting")
    recipients = tuple(kudos_queries.recipients_of(session=session, kudos_id=kudos_id))
    told: list[str] = []
    unreached: list[str] = []
    tried = True
    for user_id in recipients:
        dm = outbox_queries.get(
            session=session, team_id=team_id, post_key=dm_key(kudos_id, user_id)
        )
        if dm is not None and dm.state == "sent":
            told.append(user_id)
        elif dm is not None and (dm.state == "failed" or dm.last_error is not None):
            unreached.append(user_id)
        else:
            tried = False
    return KudosNews(
        "up",
        channel_id=row.sent_channel,
        ts=row.sent_ts,
        recipients=recipients,
        told=tuple(told),
        unreached=tuple(unreached),
        dms_tried=tried,
    )


def tell_giver_when_up(uow: UnitOfWork, *, team_id: str, kudos_id: int) -> bool:
    """The giver is told the kudos comes later: make its post the kind whose on_sent hook DMs
    them. Only while no dispatcher holds the row (False otherwise: it may be going up now)."""
    return kudos_queries.change_waiting_post_kind(
        session=uow.session,
        team_id=team_id,
        post_key=post_key(kudos_id),
        from_kind=KUDOS_POST,
        to_kind=KUDOS_POST_LATER,
    )


# --- what is recorded when the outbox sends them (bot.outbox_hooks) ----------------------------


def parse_kudos_key(key: str) -> tuple[int, str | None] | None:
    """(kudos id, the recipient of a DM) from a kudos post key."""
    parts = key.split(":")
    if len(parts) < 2 or parts[0] != "kudos" or not parts[1].isdigit():
        return None
    user_id = parts[3] if len(parts) == 4 and parts[2] == "dm" else None
    return int(parts[1]), user_id


def _kudos_of(session: Session, row: OutboxMessage) -> Kudos | None:
    parsed = parse_kudos_key(row.post_key)
    if parsed is None:
        return None
    kudos = kudos_queries.get_kudos(session=session, kudos_id=parsed[0])
    return kudos if kudos is not None and kudos.team_id == row.team_id else None


def _settle_dm(session: Session, row: OutboxMessage, status: str) -> Kudos | None:
    """Record one recipient's DM as sent or failed; the kudos is "posted" once all are."""
    parsed = parse_kudos_key(row.post_key)
    kudos = _kudos_of(session, row)
    if parsed is None or parsed[1] is None or kudos is None or kudos.id is None:
        return None
    kudos_queries.set_recipient_dm_status(
        session=session, kudos_id=kudos.id, user_id=parsed[1], status=status
    )
    rows = kudos_queries.recipient_rows(session=session, kudos_id=kudos.id)
    _posted_once_dms_tried(session, kudos.id, rows, kudos.channel_id, kudos.message_ts)
    return kudos


def _queue_giver_dm(
    session: Session, now: datetime, kudos: Kudos, post_key: str, message: Message
) -> None:
    """Tell the kudos' giver how it went (once: `post_key`)."""
    add_to_outbox(
        session,
        now=now,
        team_id=kudos.team_id,
        post_key=post_key,
        kind=KUDOS_GIVER,
        to=to_user(kudos.giver_user_id),
        message=message,
    )


def install_hooks(messages: KudosMessages, permalink_reader: PermalinkReader) -> None:
    """Register what the dispatcher records when kudos rows are sent or given up on, with the
    builders and the permalink reader (chat.getPermalink, a read) of the Slack adapter
    (bot.features.kudos, for every process that sends: the app and the scheduler's ticks)."""

    def permalink(team_id: str, channel: str | None, ts: str | None) -> str | None:
        if channel is None or ts is None:
            return None
        try:
            return permalink_reader(team_id, channel, ts)
        except Exception:  # a hook must not fail its row's mark over a link
            return None

    def post_sent(
        session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
    ) -> None:
        """The kudos is up: where, then each recipient's DM with its link, and the giver's DM
        when they were told it comes later. (The link is read from Slack here, inside the
        dispatcher's transaction: a short read, and a failed one only leaves the link out.)"""
        kudos = _kudos_of(session, row)
        if kudos is None or kudos.id is None or channel is None or ts is None:
            return
        kudos_queries.record_kudos_post(
            session=session, kudos_id=kudos.id, channel_id=channel, message_ts=ts
        )
        recipients = kudos_queries.recipients_of(session=session, kudos_id=kudos.id)
        link = permalink(row.team_id, channel, ts)
        dm = _recipient_dm(messages, kudos, permalink=link)
        for user_id in recipients:
            add_to_outbox(
                session,
                now=now,
                team_id=row.team_id,
                post_key=dm_key(kudos.id, user_id),
                kind=KUDOS_DM,
                to=to_user(user_id),
                message=dm,
            )
        if row.kind == KUDOS_POST_LATER:
            _queue_giver_dm(
                session,
                now,
                kudos,
                f"kudos:{kudos.id}:giver",
                messages.posted(channel_id=channel, recipients=recipients, permalink=link),
            )

    def dm_sent(
        session: Session, row: OutboxMessage, channel: str | None, ts: str | None, now: datetime
    ) -> None:
        _settle_dm(session, row, "sent")

    def dm_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
        """A recipient who can never get their DM (gone, DMs off, or Slack kept refusing): the
        giver hears it once, so a word from them can make sure the person sees the kudos."""
        kudos = _settle_dm(session, row, "failed")
        if kudos is None or kudos.id is None or kudos.channel_id is None:
            return
        unreached: Sequence[str] = [
            r.user_id
            for r in kudos_queries.recipient_rows(session=session, kudos_id=kudos.id)
            if r.dm_status == "failed"
        ]
        _queue_giver_dm(
            session,
            now,
            kudos,
            f"kudos:{kudos.id}:giver:unreached",
            messages.unreached(
                channel_id=kudos.channel_id,
                unreached=unreached,
                permalink=permalink(row.team_id, kudos.channel_id, kudos.message_ts),
            ),
        )

    register_hooks(KUDOS_POST, on_sent=post_sent)
    register_hooks(KUDOS_POST_LATER, on_sent=post_sent)
    register_hooks(KUDOS_DM, on_sent=dm_sent, on_failed=dm_failed)
