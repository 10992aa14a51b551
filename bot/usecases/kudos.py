"""Kudos rules and the weekly recognition digest: parsing `/kudos`, who may give, the daily cap,
saving a kudos with the messages it causes (in one unit of work, bot.uow), and gathering the
week's celebrations.

The daily cap counts kudos per giver per *local* day: midnight in the giver's own Slack time
zone, the same way everyone's week and check-in hour are local (bot.domain.week_key and
local_checkin_time; the README's "On a schedule").

What a kudos sends, and the hooks that record it, are in bot.usecases.kudos_sending.

The digest goes out at the workspace's check-in weekday and hour, in the time zone of the
workspace's first manager (by user id) whose Slack profile Rebound has seen, else of a configured
admin, else UTC: managers are the people the digest speaks for. It covers the seven days before
that moment, so no celebration falls between two digests. A week with nothing to celebrate gets a
short encouraging note (it keeps the ritual visible and invites a first kudos).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
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
from bot.slack_text import escape_mrkdwn, unescape_command_text
from bot.uow import UnitOfWork, to_recognition_channel
from storage import kudos_queries, outbox_queries, queries
from storage.models import Kudos

MAX_MESSAGE_CHARS = 1000
DIGEST = "digest"  # the weekly digest's outbox kind
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
        if win.celebrate_consent is not True or win.shout_out_taken_back_at is not None:
            continue  # public only with the rep's yes, and never once they took it back
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
    """What the week from `start` to `end` has to celebrate. Only perfect misses and
    bounce-backs the rep agreed to share (and didn't take back); never amounts, deal names or
    reflections."""
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


# How far behind the digest job's latest run the clock may be before stored digest times are
# cleared (storage.queries.clock_went_back): more than processes' clocks ever differ.
DIGEST_CLOCK_SKEW = timedelta(minutes=1)


def check_digest_clock(uow: UnitOfWork, *, now: datetime) -> None:
    """A clock that went back (a restored backup, a test) makes every stored digest time
    suspect: they are worked out again from now."""
    if queries.clock_went_back(
        session=uow.session, name="kudos.digest", now=now, tolerance=DIGEST_CLOCK_SKEW
    ):
        kudos_queries.clear_next_digests(session=uow.session)


def workspaces_due_for_digest(
    uow: UnitOfWork, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """Up to `limit` workspaces whose stored digest time has come (or was never worked out)."""
    return kudos_queries.workspaces_due_for_digest(
        session=uow.session, now=now, limit=limit, exclude=exclude
    )


def set_next_digest(uow: UnitOfWork, *, team_id: str, at: datetime) -> None:
    """When to look at this workspace's digest again."""
    kudos_queries.set_next_digests(session=uow.session, next_at={team_id: at})


def queue_digest(
    uow: UnitOfWork,
    *,
    team_id: str,
    admin_user_ids: Collection[str],
    digest_message: Callable[[DigestFacts], Mapping[str, Any]],
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
        # Sent before the outbox existed, by the old claim-then-send sender, which kept its
        # sends in post_log (read only, so that week's digest is not posted twice).
        return later
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
