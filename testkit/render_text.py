"""Text in Block Kit as the reader sees it: mrkdwn (mentions by name, links as `label (url)`),
text objects, rich text, and wrapping to the terminal's width (testkit.render)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from typing import Any

Names = Mapping[str, str]

# <@U123>, <@U123|bob>, <#C123|wins>, <!here>, <!subteam^S1|@sales>, <https://x|label>
_ANGLE_TOKEN = re.compile(r"<([^<>\n]+)>")
_BULLET = re.compile(r"^(\s*(?:[•◦▪\-*]|\d+[.)])\s+)")


def mrkdwn_to_text(s: str, *, names: Names | None = None) -> str:
    """Slack mrkdwn as the reader sees it: mentions by name, links as ``label (url)``.

    ``*bold*``, ``_italic_`` and emoji codes are kept as typed; ``&amp; &lt; &gt;`` are
    unescaped last, so an escaped ``&lt;`` never turns into a token.
    """
    names = names or {}

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (names.get(user_id) or label or user_id)
        if target.startswith("#"):
            channel_id = target[1:]
            return "#" + (names.get(channel_id) or label or channel_id)
        if target.startswith("!"):
            return _special_mention(target[1:], label)
        return f"{label} ({target})" if label and label != target else target

    replaced = _ANGLE_TOKEN.sub(replace, s)
    return replaced.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _special_mention(command: str, label: str) -> str:
    if command in {"here", "channel", "everyone"}:
        return "@" + command
    if command.startswith("subteam^"):
        group = label or command.removeprefix("subteam^")
        return group if group.startswith("@") else "@" + group
    # <!date^1392734382^{date_short}|Feb 18, 2014> carries its own readable fallback.
    return label or command


def _user_name(user_id: str, names: Names | None) -> str:
    return "@" + (names or {}).get(user_id, user_id)


# --- rich text -----------------------------------------------------------------------------


def _render_rich_text(elements: list[dict[str, Any]], names: Names | None, width: int) -> str:
    parts: list[str] = []
    for element in elements:
        element_type = element.get("type")
        if element_type == "rich_text_section":
            parts.append(_wrap(_rich_inline(element.get("elements", []), names), width))
        elif element_type == "rich_text_list":
            indent = "  " * int(element.get("indent", 0))
            ordered = element.get("style") == "ordered"
            items: list[str] = []
            for number, item in enumerate(element.get("elements", []), start=1):
                bullet = f"{number}. " if ordered else "• "
                text = _rich_inline(item.get("elements", []), names)
                items.append(_wrap(indent + bullet + text, width))
            parts.append("\n".join(items))
        elif element_type == "rich_text_quote":
            text = _rich_inline(element.get("elements", []), names)
            parts.append(_wrap(text, width, prefix="│ ", hanging="│ "))
        elif element_type == "rich_text_preformatted":
            text = _rich_inline(element.get("elements", []), names)
            parts.append("\n".join("    " + line for line in text.split("\n")))
        else:
            parts.append(f"[{element_type}]")
    return "\n".join(parts)


def _rich_inline(elements: list[dict[str, Any]], names: Names | None) -> str:
    pieces: list[str] = []
    for element in elements:
        match element.get("type"):
            case "text":
                piece = _styled(element.get("text", ""), element.get("style") or {})
            case "link":
                url = element.get("url", "")
                label = element.get("text")
                piece = f"{label} ({url})" if label and label != url else url
            case "user":
                piece = _user_name(element.get("user_id", ""), names)
            case "channel":
                channel_id = element.get("channel_id", "")
                piece = "#" + (names or {}).get(channel_id, channel_id)
            case "usergroup":
                group_id = element.get("usergroup_id", "")
                piece = "@" + (names or {}).get(group_id, group_id)
            case "broadcast":
                piece = "@" + element.get("range", "here")
            case "emoji":
                piece = element.get("unicode_char") or f":{element.get('name', '')}:"
                if "unicode" in element and "unicode_char" not in element:
                    piece = _emoji_from_codepoints(element["unicode"]) or piece
            case "date":
                piece = element.get("fallback") or str(element.get("timestamp", ""))
            case other:
                piece = f"[{other}]"
        pieces.append(piece)
    return "".join(pieces)


def _styled(text: str, style: Mapping[str, bool]) -> str:
    if not text.strip():
        return text
    if style.get("code"):
        text = f"`{text}`"
    if style.get("bold"):
        text = f"*{text}*"
    if style.get("italic"):
        text = f"_{text}_"
    if style.get("strike"):
        text = f"~{text}~"
    return text


def _emoji_from_codepoints(codepoints: str) -> str:
    try:
        return "".join(chr(int(point, 16)) for point in codepoints.split("-"))
    except ValueError:
        return ""


# --- text helpers ----------------------------------------------------------------------------


def _text_of(text_object: dict[str, Any] | str | None, names: Names | None) -> str:
    """The reader's text of a text object: mrkdwn is converted, plain_text is shown as is."""
    if text_object is None:
        return ""
    if isinstance(text_object, str):
        return text_object
    text = str(text_object.get("text", ""))
    if text_object.get("type") == "mrkdwn":
        return mrkdwn_to_text(text, names=names)
    return text


def _title_box(title: str, width: int) -> str:
    inner = width - 2
    shown = title if len(title) <= inner - 2 else title[: inner - 3] + "…"
    return "\n".join(
        [
            "┌" + "─" * inner + "┐",
            "│ " + shown.ljust(inner - 1) + "│",
            "└" + "─" * inner + "┘",
        ]
    )


def _wrap(text: str, width: int, *, prefix: str = "", hanging: str | None = None) -> str:
    """Wrap each line on its own, keeping blank lines and hanging bullets under their text."""
    hanging = prefix if hanging is None else hanging
    wrapped: list[str] = []
    for index, line in enumerate(text.split("\n")):
        first_prefix = prefix if index == 0 else hanging
        if not line.strip():
            wrapped.append(first_prefix.rstrip())
            continue
        bullet = _BULLET.match(line)
        continuation = hanging + (" " * len(bullet.group(1)) if bullet else "")
        wrapped.extend(
            textwrap.wrap(
                line,
                width=max(width, len(first_prefix) + 10),
                initial_indent=first_prefix,
                subsequent_indent=continuation,
                break_long_words=False,
                break_on_hyphens=False,
                drop_whitespace=True,
            )
        )
    return "\n".join(wrapped)
