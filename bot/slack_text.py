"""Text as Slack renders it: escaping user text for mrkdwn, truncating safely, and plurals.

Slack treats `&`, `<` and `>` as control characters in mrkdwn (and in a message's top-level
`text`, which is mrkdwn too): `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^S…|@sales>`,
`<@U…>`, `<#C…>` and `<https://…|label>` are live only because of the `<` and `>`. "If you want
to use one of these characters in a text string, you should replace the character with its
corresponding HTML entity" (`&amp;`, `&lt;`, `&gt;`), and only those three: "You shouldn't
HTML entity-encode the entire text".
https://docs.slack.dev/messaging/formatting-message-text#escaping
(formerly https://api.slack.com/reference/surfaces/formatting#escaping)

So every piece of user text that meets mrkdwn goes through `escape_mrkdwn`, and nothing a
person typed can become a mention, a broadcast or a disguised link. Live sequences in our
messages are only the ones the builders write themselves (`<@{user_id}>` of a member id).

The other way, `unescape_command_text` turns a slash command's text back into what the person
typed. Slack escapes `&`, `<` and `>` in all text, so a `<` in text from Slack always opens a
control sequence: a mention, a channel, a special mention or a link. A slash command's `text`
arrives that way; with "Escape channels, users, and links" on (`should_escape: true`),
mentions, channels and links come as `<@U…|name>`, `<#C…|name>` and `<https://…>`
(https://docs.slack.dev/interactivity/implementing-slash-commands).
"""

from __future__ import annotations

import re

# Plurals are plain words, not Slack formatting: they live in the domain (which imports
# nothing of ours) and are re-exported here for the builders that format with them.
from bot.domain.text import plural as plural

ELLIPSIS = "…"

# What `truncate` never cuts through: the entities `escape_mrkdwn` writes, and Slack's
# `<…>` sequences (mentions, channels, broadcasts, dates, links) that builders insert.
_ATOMIC = re.compile(r"&(?:amp|lt|gt);|<(?:[@#!]|[A-Za-z][A-Za-z0-9+.\-]*:)[^<>]*>")


def escape_mrkdwn(text: str) -> str:
    """User text made literal in mrkdwn: `&`, `<` and `>` as Slack's three entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" when it was cut.

    Safe on plain text and on finished mrkdwn alike: it never cuts inside an entity
    (`&amp;`, `&lt;`, `&gt;`) or a `<…>` sequence (`<@U0REP03>`, `<#C1|wins>`,
    `<!date^…|…>`), so no half `&amp` and no `…<@U0REP03` can reach Slack. Truncating plain text
    before escaping it is just as safe; escape afterwards."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    budget = max(0, limit - len(ELLIPSIS))
    cut = budget
    for match in _ATOMIC.finditer(text, 0, len(text)):
        if match.start() >= budget:
            break
        if match.end() > budget:
            cut = match.start()
            break
    return text[:cut].rstrip() + ELLIPSIS


# One control sequence: `<` what it points at, optionally `|` a readable label, `>`.
_CONTROL = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_CHARACTERS = {"amp": "&", "lt": "<", "gt": ">"}


def _readable(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):  # a person: <@U123|leo> -> @leo
        return f"@{label}" if label else target
    if target.startswith("#"):  # a channel: <#C123|wins> -> #wins
        return f"#{label}" if label else target
    if target.startswith("!"):  # <!here>, <!here|here>, <!subteam^S123|@sales>, <!date^…|x>
        special, _, subject = target[1:].partition("^")
        special = special.strip().lower()
        if special == "subteam":
            return label or f"@{subject}"
        if special == "date":
            return label
        return f"@{special}"  # a broadcast, by its name whatever its label
    # A link: Slack puts the text as typed after the pipe (example.com for
    # <http://example.com|example.com>), else the link is what was typed. A label that names
    # somewhere else is shown with the real address, so it can't disguise where it goes.
    if not label or label == target:
        return target
    if target.split("://", 1)[-1] in (label, label + "/"):
        return label
    return f"{label} ({target})"


def unescape_command_text(text: str) -> str:
    """A slash command's `text` as the person typed it, for use as plain text (a modal's
    prefilled input, search words): mentions, channels and links shown as their names,
    then `&lt;`, `&gt;` and `&amp;` turned back into `<`, `>` and `&`.

    Never put the result in mrkdwn unescaped: it may now hold a literal `<!channel>`."""
    readable = _CONTROL.sub(_readable, text)
    return _ENTITY.sub(lambda match: _CHARACTERS[match.group(1)], readable)
