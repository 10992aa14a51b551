"""Kudos rules and the weekly recognition digest: parsing `/kudos`, who may give, the daily cap,
saving a kudos with the messages it causes (in one unit of work, bot.uow), and gathering the
week's celebrations.

The daily cap counts kudos per giver per *local* day: midnight in the giver's own Slack time
zone, the same way everyone's week and check-in hour are local (bot.domain.week_key and
local_checkin_time; the README's "On a schedule").

What a kudos sends is written to the outbox with it and sent by the dispatcher
(bot.dispatcher): the post in the recognition channel ("kudos:<id>"); once it is up (the
post's on_sent hook, below), each recipient's DM with its link ("kudos:<id>:dm:<user>") and,
when the giver could not be told at once, a DM saying it is up ("kudos:<id>:giver"). A DM that
can never arrive is told to the giver once ("kudos:<id>:giver:unreached"). The dispatcher does
the retrying; the kudos only keeps what Home and the privacy export show (recipients' DM
status, where the post went up). Use cases never import Block Kit: the Slack adapter hands
them the message builders (`KudosMessages`) and the permalink reader (`install_hooks`).

The digest goes out at the workspace's check-in weekday and hour, in the time zone of the
workspace's first manager (by user id) whose Slack profile Rebound has seen, else of a configured
admin, else UTC: managers are the people the digest speaks for. It covers the seven days before
that moment, so no celebration falls between two digests. A week with nothing to celebrate gets a
short encouraging note (it keeps the ritual visible and invites a first kudos).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from bot.domain import (
    OutcomeEvent,
    OutcomeKind,
    detect_bounce_back,
    local_checkin_time,
    shift_week_key,
    week_key,
    zone,
)
from bot.domain.kudos import CATEGORIES, BounceBackLine, DigestFacts, KudosLine
from bot.domain.people import SlackProfile
from bot.domain.text import unsaveable_reason
from bot.outbox_hooks import register_hooks
from bot.slack_text import escape_mrkdwn, unescape_command_text
from bot.uow import UnitOfWork, add_to_outbox, to_recognition_channel, to_user
from storage import kudos_queries, outbox_queries, queries
from storage.models import Kudos, OutboxMessage

MAX_MESSAGE_CHARS = 1000
MAX_RECIPIENTS = 10
DEFAULT_DAILY_CAP = 5
# A digest whose moment passed more than this long ago (the app was down) is skipped, rather
# than surprising the channel days late.
DIGEST_GRACE = timedelta(hours=24)
DIGEST_WINDOW = timedelta(days=7)
UNAVAILABLE_TEXT = (
    "Slack didn't answer just now, so I haven't sent anything. Please try again in a moment."
)

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+)(?:\|([^>]*))?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_HASHTAG = re.compile(r"#([A-Za-z][\w-]*)")
_PLAIN_AT = re.compile(r"@([\w.\-]+)")
_SEPARATORS = re.compile(r"[\s,]*")
_TOKEN_END = re.compile(r"(?=[\s,]|$)")
CATEGORY_LIST = ", ".join(f"#{name}" for name in CATEGORIES)


@dataclass(frozen=True)
class KudosDraft:
    recipients: tuple[str, ...]
    category: str  # one of CATEGORIES, or "" when none was given
    message: str


@dataclass(frozen=True)
class Problem:
    """Why a kudos can't go out; `field` is the modal block the message belongs to."""

    field: str  # "recipients" | "category" | "message"
    text: str


@dataclass(frozen=True)
class SaveResult:
    kudos: Kudos | None
    duplicate: bool = False
    cap_reached: bool = False


# --- parsing and checking ---------------------------------------------------------------------


def _match_token(pattern: re.Pattern[str], text: str, position: int) -> re.Match[str] | None:
    match = pattern.match(text, position)
    if match is None or _TOKEN_END.match(text, match.end()) is None:
        return None
    return match


def parse_kudos_text(text: str, *, giver_user_id: str) -> KudosDraft | Problem:
    """Read `@person [@person…] [#category] message` as Slack sends it (mentions escaped as
    `<@U123>` or `<@U123|name>`, channels as `<#C123|name>`). Leading mentions and one
    category come first; everything after them is the message."""
    recipients: list[str] = []
    categories: list[str] = []
    position = 0
    while True:
        position = _SEPARATORS.match(text, position).end()  # type: ignore[union-attr]
        if position >= len(text):
            break
        if match := _match_token(_MENTION, text, position):
            recipients.append(match.group(1))
        elif match := _match_token(_CHANNEL, text, position):
            # Slack turns "#learning" into a channel link when such a channel exists.
            categories.append((match.group(2) or "").lower() or "?")
        elif match := _match_token(_HASHTAG, text, position):
            categories.append(match.group(1).lower())
        elif match := _match_token(_SUBTEAM, text, position):
            group = unescape_command_text(match.group(1) or "") or "that one"
            return Problem(
                "recipients",
                f"Kudos go to people, not groups like {escape_mrkdwn(group)}. "
                "Mention each person instead.",
            )
        elif match := _match_token(_PLAIN_AT, text, position):
            return Problem(
                "recipients",
                f"I can't tell who “@{match.group(1)}” is: Slack didn't turn it into a mention. "
                "Type @ and pick the person from the autocomplete list, then send again.",
            )
        else:
            break
        position = match.end()
    if not recipients:
        return Problem(
            "recipients",
            "Who is it for? Start with a mention, e.g. `/kudos @leo #resilience Kept calling "
            "after a tough loss`. Or type `/kudos` on its own to open a form.",
        )
    if len(categories) > 1:
        return Problem("category", f"One category per kudos, please: pick one of {CATEGORY_LIST}.")
    category = categories[0] if categories else ""
    if category and category not in CATEGORIES:
        shown = (
            f"“#{escape_mrkdwn(unescape_command_text(category))}” isn't"
            if category != "?"
            else "That channel isn't"
        )
        return Problem("category", f"{shown} a kudos category. Pick one of {CATEGORY_LIST}.")
    draft = KudosDraft(
        recipients=tuple(dict.fromkeys(recipients)),
        category=category,
        message=unescape_command_text(text[position:]).strip(),
    )
    return check_draft(draft, giver_user_id=giver_user_id)


def clean_message(message: str) -> str:
    """The message as kept: trimmed. (Broadcasts need no defusing: the message is plain text,
    escaped wherever it is shown.)"""
    return message.strip()


def check_draft(draft: KudosDraft, *, giver_user_id: str) -> KudosDraft | Problem:
    """The rules that need no Slack call: who it is for, the category and the message (plain
    text as the giver typed it, from the modal or unescaped from the command, so its length is
    what they typed)."""
    if not draft.recipients:
        return Problem("recipients", "Pick at least one person to recognise.")
    if len(draft.recipients) > MAX_RECIPIENTS:
        return Problem(
            "recipients",
            f"That's {len(draft.recipients)} people; kudos go to {MAX_RECIPIENTS} at most. "
            "Split them up, so each one stays personal.",
        )
    if giver_user_id in draft.recipients:
        return Problem(
            "recipients",
            "Kudos are for someone else. Proud of your own week? Tell your manager in your "
            "check-in.",
        )
    if draft.category and draft.category not in CATEGORIES:
        return Problem("category", f"Pick one of {CATEGORY_LIST}.")
    message = clean_message(draft.message)
    if not message:
        return Problem(
            "message",
            "Add a few words about what they did: that's the part people remember.",
        )
    reason = unsaveable_reason(message, subject="Your message")
    if reason is not None:
        return Problem("message", reason)
    if len(message) > MAX_MESSAGE_CHARS:
        return Problem(
            "message",
            f"Keep it to {MAX_MESSAGE_CHARS:,} characters (yours has {len(message):,}). "
            "Short and specific lands best.",
        )
    return KudosDraft(recipients=draft.recipients, category=draft.category, message=message)


def recipient_problem(user_id: str, profile: SlackProfile | None) -> Problem | None:
    """Whether Slack's `users.info` answer rules this person out as a recipient."""
    if profile is None:
        return Problem(
            "recipients",
            f"I couldn't find <@{user_id}> in this workspace. Type @ and pick the person from "
            "the autocomplete list, then send again.",
        )
    if profile.is_bot:
        return Problem(
            "recipients", f"<@{user_id}> is a bot. Kudos are for the people on your team."
        )
    if profile.deleted:
        return Problem(
            "recipients",
            f"<@{user_id}> is no longer active in this workspace, so I can't send them kudos.",
        )
    return None


def may_give_kudos(policy: str, *, is_manager: bool, is_admin: bool) -> bool:
    """`everyone`: anyone may; otherwise (the default, `managers`) managers and admins only."""
    return policy == "everyone" or is_manager or is_admin


def not_allowed_problem() -> Problem:
    return Problem(
        "recipients",
        "In this workspace, kudos come from managers and admins. Tell your manager what your "
        "teammate did, so they can send it, or ask an admin to open kudos to everyone in "
        "`/rebound settings`.",
    )


def cap_problem(cap: int, tz: str) -> Problem:
    return Problem(
        "message",
        f"You've given {cap} kudos today, this workspace's daily limit, so each one stays "
        f"special. It resets at midnight your time ({tz}).",
    )


def local_day_start(now: datetime, tz: str) -> datetime:
    """Midnight of `now`'s day on the wall clock of `tz` (an aware datetime)."""
    local = now.astimezone(zone(tz))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


def daily_cap(*, session: Session, team_id: str) -> int:
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    return workspace.kudos_daily_cap if workspace.kudos_daily_cap > 0 else DEFAULT_DAILY_CAP


def daily_cap_reached(
    *, session: Session, team_id: str, giver_user_id: str, giver_tz: str, now: datetime
) -> bool:
    given_today = kudos_queries.count_kudos_given_since(
        session=session,
        team_id=team_id,
        giver_user_id=giver_user_id,
        since=local_day_start(now, giver_tz),
    )
    return given_today >= daily_cap(session=session, team_id=team_id)


def known_timezone(*, session: Session, team_id: str, user_id: str) -> str:
    """The member's time zone as last read from Slack, else UTC (no Slack call)."""
    member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
    if member is None or member.tz_refreshed_at is None:
        return "UTC"
    try:
        zone(member.tz)
    except ValueError:
        return "UTC"
    return member.tz


def allowed_by_records(
    *, session: Session, team_id: str, user_id: str, admins: Collection[str]
) -> bool:
    """True when our tables alone show the person may give kudos (policy, manager, configured
    admin); False means "ask Slack whether they are a workspace admin"."""
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
    return may_give_kudos(
        workspace.kudos_policy,
        is_manager=bool(member and member.is_manager and not member.deleted),
        is_admin=user_id in admins,
    )


def cap_problem_known(
    *, session: Session, team_id: str, giver_user_id: str, now: datetime
) -> Problem | None:
    """The daily cap, counted in the giver's last known time zone. Saving checks it again
    (locked, in their current zone), so this only spares a closed modal in the common case."""
    tz = known_timezone(session=session, team_id=team_id, user_id=giver_user_id)
    reached = daily_cap_reached(
        session=session, team_id=team_id, giver_user_id=giver_user_id, giver_tz=tz, now=now
    )
    return cap_problem(daily_cap(session=session, team_id=team_id), tz) if reached else None


def save_kudos(
    *,
    session: Session,
    team_id: str,
    giver_user_id: str,
    giver_tz: str,
    draft: KudosDraft,
    submission_key: str,
    now: datetime,
) -> SaveResult:
    """Save a pending kudos, unless this submission was saved before or the giver's daily cap
    is reached."""
    existing = kudos_queries.get_kudos_by_submission(
        session=session, team_id=team_id, submission_key=submission_key
    )
    if existing is not None:
        return SaveResult(kudos=existing, duplicate=True)
    queries.upsert_member(session=session, team_id=team_id, user_id=giver_user_id)
    kudos_queries.lock_member(session=session, team_id=team_id, user_id=giver_user_id)
    if daily_cap_reached(
        session=session, team_id=team_id, giver_user_id=giver_user_id, giver_tz=giver_tz, now=now
    ):
        return SaveResult(kudos=None, cap_reached=True)
    kudos = kudos_queries.add_kudos(
        session=session,
        team_id=team_id,
        giver_user_id=giver_user_id,
        recipient_user_ids=draft.recipients,
        category=draft.category,
        message=draft.message,
        submission_key=submission_key,
        now=now,
    )
    if kudos is None:  # the same submission, saved by a concurrent retry
        existing = kudos_queries.get_kudos_by_submission(
            session=session, team_id=team_id, submission_key=submission_key
        )
        return SaveResult(kudos=existing, duplicate=True)
    return SaveResult(kudos=kudos)


# --- the weekly digest ------------------------------------------------------------------------


def digest_due(now: datetime, tz: str, weekday: int, hour: int) -> tuple[str, datetime] | None:
    """(week key, digest moment) when this week's digest is due at `now`, else None."""
    week = week_key(now, tz)
    due_at = local_checkin_time(week, tz, weekday, hour)
    if due_at <= now < due_at + DIGEST_GRACE:
        return week, due_at
    return None


def next_digest_after(now: datetime, tz: str, weekday: int, hour: int) -> datetime:
    """The first digest moment strictly after ``now`` (this week's or next week's, local to
    ``tz``): when the scheduler must look at the workspace's digest next."""
    week = week_key(now, tz)
    # In UTC: aware datetimes sharing one tzinfo compare by wall time, ignoring DST's fold.
    candidates = [
        local_checkin_time(w, tz, weekday, hour).astimezone(UTC)
        for w in (week, shift_week_key(week, 1))
    ]
    return min(at for at in candidates if at > now)


def digest_timezone(*, session: Session, team_id: str, admin_user_ids: Collection[str]) -> str:
    for tz in kudos_queries.leader_timezones(
        session=session, team_id=team_id, admin_user_ids=admin_user_ids
    ):
        try:
            zone(tz)
        except ValueError:
            continue
        return tz
    return "UTC"


def _bounce_backs(
    session: Session, team_id: str, start: datetime, end: datetime
) -> list[BounceBackLine]:
    lines: list[BounceBackLine] = []
    histories: dict[str, list[OutcomeEvent]] = {}
    for win in kudos_queries.wins_between(session=session, team_id=team_id, start=start, end=end):
        if win.user_id not in histories:
            histories[win.user_id] = [
                OutcomeEvent(kind=OutcomeKind(outcome.kind), at=outcome.occurred_at)
                for outcome in kudos_queries.outcomes_of_before(
                    session=session, team_id=team_id, user_id=win.user_id, before=end
                )
            ]
        bounce = detect_bounce_back(histories[win.user_id], win.occurred_at)
        if bounce is not None:
            lines.append(
                BounceBackLine(user_id=win.user_id, losses=bounce.losses, recovery=bounce.recovery)
            )
    return lines


def collect_digest(
    *, session: Session, team_id: str, week: str, start: datetime, end: datetime
) -> DigestFacts:
    """What the week from `start` to `end` has to celebrate. Only perfect misses the rep agreed
    to share; never amounts, deal names or reflections."""
    perfect_misses = [
        outcome.user_id
        for outcome in kudos_queries.consented_perfect_misses_between(
            session=session, team_id=team_id, start=start, end=end
        )
    ]
    kudos = [
        KudosLine(giver_user_id=k.giver_user_id, recipients=tuple(recipients), category=k.category)
        for k, recipients in kudos_queries.kudos_between(
            session=session, team_id=team_id, start=start, end=end
        )
    ]
    return DigestFacts(
        week=week,
        perfect_miss_user_ids=tuple(perfect_misses),
        bounce_backs=tuple(_bounce_backs(session, team_id, start, end)),
        kudos=tuple(kudos),
    )


def digest_window(due_at: datetime) -> tuple[datetime, datetime]:
    return due_at - DIGEST_WINDOW, due_at


def queue_digest(
    uow: UnitOfWork,
    *,
    team_id: str,
    admin_user_ids: Collection[str],
    digest_message: Callable[[DigestFacts], Message],
) -> datetime:
    """Queue this week's digest for the workspace if it is due and not queued yet (the post
    key "digest:<week>" keeps it one, whatever ticks in how many processes); it goes to the
    recognition channel as it is when sent. Returns when to look at this workspace again."""
    session, now = uow.session, uow.now()
    workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
    tz = digest_timezone(session=session, team_id=team_id, admin_user_ids=admin_user_ids)
    later = next_digest_after(now, tz, workspace.checkin_weekday, workspace.checkin_hour)
    if not workspace.digest_enabled or workspace.recognition_channel_id is None:
        return later  # switching it on (or picking a channel) clears the stored time
    due = digest_due(now, tz, workspace.checkin_weekday, workspace.checkin_hour)
    if due is None:
        return later
    week, due_at = due
    key = f"digest:{week}"
    if outbox_queries.get(session=session, team_id=team_id, post_key=key) is not None:
        return later  # queued by an earlier tick (and sent, or on its way)
    old = queries.get_post(session=session, team_id=team_id, post_key=key)
    if old is not None and old.status == "sent":
        return later  # sent before the outbox existed (the posts table of bot.delivery)
    start, end = digest_window(due_at)
    facts = collect_digest(session=session, team_id=team_id, week=week, start=start, end=end)
    uow.outbox.add(
        team_id=team_id,
        post_key=key,
        kind=DIGEST,
        to=to_recognition_channel(),
        message=digest_message(facts),
    )
    return later


# --- giving kudos: saved with its channel post, in one unit of work ---------------------------

# The channel post's kinds: who tells the giver it is up. KUDOS_POST: the request that saved it
# waits for the post and answers the giver itself. KUDOS_POST_LATER: the giver was told it comes
# later (no channel yet, or Slack said no for now), so its on_sent hook queues them a DM.
KUDOS_POST, KUDOS_POST_LATER = "kudos", "kudos-later"
KUDOS_DM, KUDOS_GIVER, DIGEST = "kudos-dm", "kudos-giver", "digest"
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
    if all(r.dm_status in ("sent", "failed") for r in rows):
        kudos_queries.mark_kudos_posted(
            session=session,
            kudos_id=kudos.id,
            channel_id=kudos.channel_id,
            message_ts=kudos.message_ts,
        )
    return kudos


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
        dm = messages.dm(
            giver_user_id=kudos.giver_user_id,
            category=kudos.category,
            message=kudos.message,
            permalink=link,
        )
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
            add_to_outbox(
                session,
                now=now,
                team_id=row.team_id,
                post_key=f"kudos:{kudos.id}:giver",
                kind=KUDOS_GIVER,
                to=to_user(kudos.giver_user_id),
                message=messages.posted(channel_id=channel, recipients=recipients, permalink=link),
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
        add_to_outbox(
            session,
            now=now,
            team_id=row.team_id,
            post_key=f"kudos:{kudos.id}:giver:unreached",
            kind=KUDOS_GIVER,
            to=to_user(kudos.giver_user_id),
            message=messages.unreached(
                channel_id=kudos.channel_id,
                unreached=unreached,
                permalink=permalink(row.team_id, kudos.channel_id, kudos.message_ts),
            ),
        )

    register_hooks(KUDOS_POST, on_sent=post_sent)
    register_hooks(KUDOS_POST_LATER, on_sent=post_sent)
    register_hooks(KUDOS_DM, on_sent=dm_sent, on_failed=dm_failed)
