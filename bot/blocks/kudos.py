"""Kudos posts, DMs, the `/kudos` modal and the weekly recognition digest (pure builders)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.kit import (
    context,
    escape_mrkdwn,
    header,
    input_block,
    message,
    modal,
    option,
    plain,
    section,
    state,
)
from bot.domain import format_duration
from bot.domain.kudos import CATEGORIES, DigestFacts
from bot.slack_text import plural, truncate

KUDOS_CALLBACK_ID = "kudos_modal"
CATEGORY_LABELS: dict[str, str] = {
    "resilience": "💪 Resilience",
    "process": "🧭 Process",
    "learning": "📚 Learning",
    "win": "🏆 Win",
    "teamwork": "🤝 Teamwork",
}
# One line per category from the coaching texts (seeds 000, 002, 003, 004).
CATEGORY_NOTES: dict[str, str] = {
    "resilience": "Resilience is a skill: the ability to recover from stumbles and bounce back.",
    "process": "Things were done correctly: process, pitch and attitude above board.",
    "learning": "There's a lesson in every loss, and this one got learned.",
    "win": "A deserved win.",
    "teamwork": "Everyone likes a round of applause after a good performance.",
}
MAX_MODAL_MESSAGE = 1000
MAX_LISTED = 25  # names per digest section, to stay well inside Slack's 3,000 characters
# Seed 002's verdict on a perfect miss, said about the reps to their whole channel (the coaching
# line "You did great…" is for the rep alone, in their debrief).
PERFECT_MISS_CHEER = (
    "Process on point, the result didn't follow: a win masquerading as a loss. "
    "Here's to doing exactly that again."
)


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, "🙌 Kudos")


def _people(user_ids: Sequence[str]) -> str:
    names = [f"<@{user_id}>" for user_id in user_ids]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _quote(message: str) -> str:
    """The giver's words (plain text, as they typed them) as a quote, escaped: nothing in them
    becomes a mention, a broadcast or a link. The only live mentions in a kudos are the ones
    written here from member ids."""
    return "\n".join(
        f"> {escape_mrkdwn(line)}" if line.strip() else ">" for line in message.splitlines()
    )


# --- the post, the DM, replies to the giver ---------------------------------------------------


def kudos_post(
    *, giver_user_id: str, recipients: Sequence[str], category: str, message: str
) -> dict[str, Any]:
    """The recognition-channel post."""
    headline = f"<@{giver_user_id}> gave kudos to {_people(recipients)}"
    if category in CATEGORY_LABELS:
        headline += f" for *{category}*"
    blocks: list[dict[str, Any]] = [
        header(category_label(category)),
        section(f"{headline} 🎉\n\n{_quote(message)}"),
    ]
    note = CATEGORY_NOTES.get(category)
    blocks.append(
        context((f"_{note}_  ·  " if note else "") + "Recognise a teammate with `/kudos`.")
    )
    text = f"{headline}: {escape_mrkdwn(' '.join(message.split()))}"
    return {"text": truncate(text, 3000), "blocks": blocks, "unfurl_links": False}


def kudos_dm(
    *, giver_user_id: str, category: str, message: str, permalink: str | None
) -> dict[str, Any]:
    """What each recipient gets in their DM."""
    about = f" for *{category}*" if category in CATEGORY_LABELS else ""
    text = f"🎉 <@{giver_user_id}> gave you kudos{about}!\n\n{_quote(message)}"
    blocks = [section(text)]
    if permalink:
        blocks.append(context(f"<{permalink}|See the post in the recognition channel>"))
    blocks.append(context("It's on your Home tab too, with all the kudos you've received."))
    return {"text": f"🎉 <@{giver_user_id}> gave you kudos{about}!", "blocks": blocks}


def problem_message(text: str, *, your_words: str | None = None) -> dict[str, Any]:
    """A reason nothing was sent; with `your_words` (from a modal that has closed) the giver's
    message is shown back, so they can paste it into a new `/kudos`."""
    blocks = [section(f"⚠️ {text}")]
    if your_words:
        blocks.append(context("What you wrote, to paste into a new `/kudos`:"))
        blocks.append(section(_quote(your_words)))
    return {"text": text, "blocks": blocks}


def posted_message(
    *,
    channel_id: str,
    recipients: Sequence[str],
    permalink: str | None,
    unreached: Sequence[str] = (),
) -> dict[str, Any]:
    """The kudos is up; who heard about it by DM, and who will get one more try."""
    link = f" (<{permalink}|see it>)" if permalink else ""
    told = [user for user in recipients if user not in unreached]
    text = f"Your kudos is up in <#{channel_id}>{link}."
    if told:
        text += f" I've let {_people(told)} know."
    if unreached:
        text += (
            f" I couldn't reach {_people(unreached)} by DM just now; I'll try once more "
            "in a minute."
        )
    text += " Thank you! 🙌"
    return message(text)


def unreached_message(
    *, channel_id: str, unreached: Sequence[str], permalink: str | None
) -> dict[str, Any]:
    """After the one retry: the post is up, but these people never got their DM."""
    link = f" (<{permalink}|see it>)" if permalink else ""
    text = (
        f"Your kudos is up in <#{channel_id}>{link}, but I still couldn't reach "
        f"{_people(unreached)} by DM. A quick word from you will make sure they see it."
    )
    return message(text)


def pending_message(*, is_admin: bool) -> dict[str, Any]:
    how = (
        "Set one with `/rebound settings` → Recognition channel"
        if is_admin
        else "Ask an admin to set one with `/rebound settings` → Recognition channel"
    )
    text = (
        "There's no recognition channel yet, so I'm keeping your kudos safe: it goes up as "
        f"soon as there is one. {how}, and invite @Rebound to that channel."
    )
    return message(text)


def not_posted_message(*, channel_id: str) -> dict[str, Any]:
    text = (
        f"I couldn't post in <#{channel_id}> just now. Your kudos is saved and I'll keep "
        "trying; I'll tell you when it's up. If @Rebound isn't in that channel yet, invite it."
    )
    return message(text)


def duplicate_message() -> dict[str, Any]:
    text = "That kudos is already on its way. 🙌"
    return message(text)


# --- the modal --------------------------------------------------------------------------------


def kudos_modal(*, channel_id: str | None, response_url: str | None = None) -> dict[str, Any]:
    """The kudos form. `channel_id` and the command's `response_url` travel in
    private_metadata, so the answer after Send can reach the giver where they typed `/kudos`
    (a view submission brings no response_url of its own)."""
    options = [option(CATEGORY_LABELS[name], name) for name in CATEGORIES]
    recipients = {
        "type": "multi_users_select",
        "action_id": "value",
        "placeholder": plain("Pick people"),
        "max_selected_items": 10,
    }
    category = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain("Pick a category"),
        "options": options,
    }
    words = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": MAX_MODAL_MESSAGE,
        "placeholder": plain("Kept calling after losing Acme, and booked three meetings"),
    }
    blocks = [
        section(
            "Recognise a teammate in the recognition channel. Specific beats big: say what "
            "they did."
        ),
        input_block("recipients", "Who", recipients),
        input_block("category", "Category", category, optional=True),
        input_block(
            "message",
            "What did they do?",
            words,
            hint=f"Up to {MAX_MODAL_MESSAGE:,} characters.",
        ),
    ]
    return modal(
        "Give kudos",
        blocks,
        callback_id=KUDOS_CALLBACK_ID,
        private_metadata=json.dumps(
            {"channel_id": channel_id or "", "response_url": response_url or ""}
        ),
        submit="Send kudos",
        close="Cancel",
    )


@dataclass(frozen=True)
class ModalInput:
    recipients: tuple[str, ...]
    category: str
    message: str
    channel_id: str | None
    response_url: str | None = None


def read_kudos_modal(view: Mapping[str, Any]) -> ModalInput:
    values = view.get("state", {}).get("values", {})
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        metadata = {}
    return ModalInput(
        recipients=tuple(state(values, "recipients").get("selected_users") or ()),
        category=(state(values, "category").get("selected_option") or {}).get("value") or "",
        message=state(values, "message").get("value") or "",
        channel_id=(metadata.get("channel_id") or None) if isinstance(metadata, dict) else None,
        response_url=(metadata.get("response_url") or None) if isinstance(metadata, dict) else None,
    )


# --- the weekly digest ------------------------------------------------------------------------


def _more(lines: list[str], total: int) -> list[str]:
    if total > len(lines):
        lines.append(f"…and {total - len(lines)} more")
    return lines


def digest_message(facts: DigestFacts) -> dict[str, Any]:
    """The weekly recognition digest: counted and named; never amounts, deals or reflections."""
    blocks: list[dict[str, Any]] = [header("🌟 This week's recognition")]
    if facts.is_quiet:
        blocks.append(
            section(
                "A quiet week on the board. Seen a teammate handle a tough loss well, or bounce "
                "back after a rough stretch? Give them a tip of the hat with `/kudos`."
            )
        )
        return {"text": "This week's recognition: a quiet week.", "blocks": blocks}

    summary: list[str] = []
    if facts.perfect_miss_user_ids:
        count = len(facts.perfect_miss_user_ids)
        summary.append(plural(count, "perfect miss", "perfect misses"))
        per_rep = Counter(facts.perfect_miss_user_ids)
        names = [
            f"<@{user}>" + (f" ×{n}" if n > 1 else "")
            for user, n in list(per_rep.items())[:MAX_LISTED]
        ]
        blocks.append(
            section(
                f"*🎯 Perfect misses ({count})*\n"
                + ", ".join(_more(names, len(per_rep)))
                + f"\n_{PERFECT_MISS_CHEER}_"
            )
        )
    if facts.bounce_backs:
        count = len(facts.bounce_backs)
        summary.append(plural(count, "bounce-back", "bounce-backs"))
        lines = [
            f"• <@{b.user_id}> won after {plural(b.losses, 'loss', 'losses')} in a row, "
            f"back in {format_duration(b.recovery)}"
            for b in facts.bounce_backs[:MAX_LISTED]
        ]
        blocks.append(section(f"*↩️ Bounce-backs ({count})*\n" + "\n".join(_more(lines, count))))
    if facts.kudos:
        count = len(facts.kudos)
        summary.append(plural(count, "kudos", "kudos"))
        received: dict[str, Counter[str]] = {}
        for line in facts.kudos:
            for user in line.recipients:
                received.setdefault(user, Counter())[line.category] += 1
        lines = []
        for user, categories in list(received.items())[:MAX_LISTED]:
            total = sum(categories.values())
            named = ", ".join(sorted(c for c in categories if c))
            lines.append(f"• <@{user}> ×{total}" + (f" ({named})" if named else ""))
        blocks.append(section(f"*🙌 Kudos ({count})*\n" + "\n".join(_more(lines, len(received)))))
    blocks.append(
        context(
            "Resilience is a skill: reward it and celebrate it. Recognise someone with `/kudos`."
        )
    )
    text = "This week's recognition: " + ", ".join(summary) + "."
    return {"text": text, "blocks": blocks}


# --- the Home tab -----------------------------------------------------------------------------


def kudos_received_text(counts: Mapping[str, int]) -> str:
    """The Home tab's "Kudos received" section."""
    total = sum(counts.values())
    if total == 0:
        return "*Kudos received*\nNone yet. They'll show here, by category."
    parts = [f"{CATEGORY_LABELS[name]} {counts[name]}" for name in CATEGORIES if counts.get(name)]
    other = sum(n for name, n in counts.items() if name not in CATEGORY_LABELS)
    if other:
        parts.append(f"🙌 Other {other}")
    return f"*Kudos received: {total}*\n" + "  ·  ".join(parts)
