"""Slack's text formats: turning a slash command's text back into what the person typed.

Slack escapes `&`, `<` and `>` in all text as `&amp;`, `&lt;` and `&gt;`, so a `<` in text from
Slack always opens a control sequence: a mention, a channel, a special mention or a link
(https://docs.slack.dev/messaging/formatting-message-text#escaping-text). A slash command's
`text` arrives that way; with "Escape channels, users, and links" on (`should_escape: true`),
mentions, channels and links come as `<@U…|name>`, `<#C…|name>` and `<https://…>`
(https://docs.slack.dev/interactivity/implementing-slash-commands).
"""

from __future__ import annotations

import re

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
    if target.startswith("!"):  # <!here>, <!subteam^S123|@sales>, <!date^…|fallback>
        if label:
            return label
        special, _, subject = target[1:].partition("^")
        return f"@{subject if special == 'subteam' and subject else special}"
    # A link: Slack puts the text as typed after the pipe (example.com for
    # <http://example.com|example.com>), else the link is what was typed.
    return label if label else target


def unescape_command_text(text: str) -> str:
    """A slash command's `text` as the person typed it, for use as plain text (a modal's
    prefilled input, search words): mentions, channels and links shown as their names,
    then `&lt;`, `&gt;` and `&amp;` turned back into `<`, `>` and `&`.

    Never put the result in mrkdwn unescaped: it may now hold a literal `<!channel>`."""
    readable = _CONTROL.sub(_readable, text)
    return _ENTITY.sub(lambda match: _CHARACTERS[match.group(1)], readable)
