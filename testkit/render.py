"""Block Kit as readable terminal text, for the offline demo and for test failure messages.

Pure functions over the same dicts the app sends to Slack; nothing here imports Slack. The aim
is "what would this person see", not a pixel-exact copy: every block type Rebound uses is drawn
as plain text about 72 columns wide, and anything unknown shows up as ``[<type> block]`` instead
of breaking the demo.

Conventions:
    header            text underlined with ═
    section fields    "label: value", two to a row when they fit
    buttons           [ Label ]; primary style [ *Label* ]; danger style [ !Label! ]
    selects           [ Choose… ▾ ] followed by the options, ✓ marking the initial ones
    inputs            "Label (optional)" then the control, e.g. [Acme renewal________]
    checkboxes        ☐ option / ☑ option;  radio buttons  ○ option / ◉ option
    context           "  · " followed by the elements
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_WIDTH = 72
# Text inputs are drawn this wide so an empty field still reads as a field.
TEXT_FIELD_WIDTH = 40
FIELD_COLUMN_GAP = 4
OPTION_INDENT = "    "
CONTEXT_PREFIX = "  · "

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


def render_message(
    *,
    text: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    names: Names | None = None,
    width: int = DEFAULT_WIDTH,
) -> str:
    """A chat message. With blocks, Slack shows the blocks (``text`` is only the notification)."""
    if blocks:
        return render_blocks(blocks, names=names, width=width)
    if text:
        return _wrap(mrkdwn_to_text(text, names=names), width)
    return ""


def render_view(
    view: dict[str, Any], *, names: Names | None = None, width: int = DEFAULT_WIDTH
) -> str:
    """A modal or Home tab: the title boxed, the blocks, then a modal's Cancel/Submit buttons."""
    view_type = view.get("type", "modal")
    title = _text_of(view.get("title"), names) or ("Home" if view_type == "home" else view_type)
    parts = [_title_box(title, width)]
    body = render_blocks(view.get("blocks", []), names=names, width=width)
    if body:
        parts.append(body)
    if view_type == "modal":
        buttons = [_button_label(_text_of(view.get("close"), names) or "Cancel")]
        submit = _text_of(view.get("submit"), names)
        if submit:
            buttons.append(_button_label(submit))
        footer = "  ".join(buttons)
        parts.append("─" * width + "\n" + footer.rjust(width))
    return "\n\n".join(parts)


def render_blocks(
    blocks: list[dict[str, Any]], *, names: Names | None = None, width: int = DEFAULT_WIDTH
) -> str:
    """Blocks one after another, a blank line between them as Slack spaces them."""
    rendered = [_render_block(block, names, width) for block in blocks]
    return "\n\n".join(part for part in rendered if part)


# --- blocks -------------------------------------------------------------------------------


def _render_block(block: dict[str, Any], names: Names | None, width: int) -> str:
    block_type = block.get("type", "?")
    match block_type:
        case "header":
            title = _wrap(_text_of(block.get("text"), names), width)
            underline_length = max(len(line) for line in title.split("\n"))
            return f"{title}\n{'═' * max(underline_length, 4)}"
        case "section":
            return _render_section(block, names, width)
        case "divider":
            return "─" * width
        case "context":
            pieces = [_context_element(element, names) for element in block.get("elements", [])]
            return _wrap("  ".join(pieces), width, prefix=CONTEXT_PREFIX, hanging="    ")
        case "actions":
            return _render_actions(block.get("elements", []), names, width)
        case "input":
            return _render_input(block, names, width)
        case "image":
            title = _text_of(block.get("title"), names)
            image = f"[image: {block.get('alt_text', '')}]"
            return f"{title}\n{image}" if title else image
        case "rich_text":
            return _render_rich_text(block.get("elements", []), names, width)
        case _:
            return f"[{block_type} block]"


def _render_section(block: dict[str, Any], names: Names | None, width: int) -> str:
    accessory = block.get("accessory")
    accessory_lines = _render_element(accessory, names) if accessory else []
    text = _text_of(block.get("text"), names)
    lines: list[str] = []
    # A short control (a button, a closed select) sits to the right of the text, as in Slack;
    # anything taller or wider goes below it.
    beside = (
        len(accessory_lines) == 1 and len(accessory_lines[0]) <= width // 3 and bool(text.strip())
    )
    if text:
        text_width = width - len(accessory_lines[0]) - 2 if beside else width
        lines = _wrap(text, text_width).split("\n")
        if beside:
            lines[0] = lines[0].ljust(text_width + 2) + accessory_lines[0]
    fields = block.get("fields") or []
    if fields:
        if lines:
            lines.append("")
        lines.extend(_field_rows([_field_text(field, names) for field in fields], width))
    if accessory_lines and not beside:
        lines.extend(accessory_lines)
    return "\n".join(lines)


def _field_text(field: dict[str, Any], names: Names | None) -> str:
    """Fields are usually "*Label*\\nvalue"; show them as "Label: value"."""
    text = _text_of(field, names)
    label, newline, value = text.partition("\n")
    if not newline:
        return text
    label = label.strip()
    if len(label) > 2 and label[0] == label[-1] == "*":
        label = label[1:-1]
    return f"{label.rstrip(':')}: {' '.join(value.split())}"


def _field_rows(field_texts: list[str], width: int) -> list[str]:
    column_width = (width - FIELD_COLUMN_GAP) // 2
    rows: list[str] = []
    for start in range(0, len(field_texts), 2):
        pair = field_texts[start : start + 2]
        if len(pair) == 2 and all(len(text) <= column_width for text in pair):
            rows.append(pair[0].ljust(column_width + FIELD_COLUMN_GAP) + pair[1])
        else:
            for text in pair:
                rows.extend(_wrap(text, width, hanging="  ").split("\n"))
    return rows


def _render_actions(elements: list[dict[str, Any]], names: Names | None, width: int) -> str:
    rows: list[str] = []
    current = ""
    for element in elements:
        drawn = _render_element(element, names)
        # Buttons and closed selects flow along one line; options lists get lines of their own.
        if len(drawn) == 1:
            piece = drawn[0]
            if current and len(current) + 2 + len(piece) > width:
                rows.append(current)
                current = ""
            current = f"{current}  {piece}" if current else piece
        else:
            if current:
                rows.append(current)
                current = ""
            rows.extend(drawn)
    if current:
        rows.append(current)
    return "\n".join(rows)


def _render_input(block: dict[str, Any], names: Names | None, width: int) -> str:
    label = _text_of(block.get("label"), names)
    if block.get("optional"):
        label += " (optional)"
    lines = [label]
    element = block.get("element")
    if element:
        lines.extend("  " + line for line in _render_element(element, names, for_input=True))
    hint = _text_of(block.get("hint"), names)
    if hint:
        lines.append(_wrap(hint, width, prefix=CONTEXT_PREFIX, hanging="    "))
    return "\n".join(lines)


# --- elements ------------------------------------------------------------------------------


def _render_element(
    element: dict[str, Any], names: Names | None, *, for_input: bool = False
) -> list[str]:
    """One interactive element as one or more lines (selects inside forms list their options)."""
    element_type = element.get("type", "?")
    placeholder = _text_of(element.get("placeholder"), names)
    match element_type:
        case "button":
            label = _text_of(element.get("text"), names)
            return [_button_label(label, element.get("style"))]
        case "overflow":
            return ["[ ⋯ ]"]
        case "image":
            return [f"[image: {element.get('alt_text', '')}]"]
        case "plain_text_input" | "email_text_input" | "url_text_input" | "rich_text_input":
            return _text_field(element, placeholder, names)
        case "number_input":
            return [_number_field(element, placeholder)]
        case "static_select" | "multi_static_select" | "external_select" | "multi_external_select":
            return _select(element, placeholder, names, list_options=for_input)
        case "checkboxes":
            chosen = _option_values(element.get("initial_options"))
            return _option_lines(element.get("options", []), chosen, "☑", "☐", names)
        case "radio_buttons":
            initial = element.get("initial_option")
            chosen = _option_values([initial] if initial else None)
            return _option_lines(element.get("options", []), chosen, "◉", "○", names)
        case "users_select":
            user = element.get("initial_user")
            return [f"[ {_user_name(user, names) if user else '@person…'} ▾ ]"]
        case "multi_users_select":
            users = element.get("initial_users") or []
            shown = ", ".join(_user_name(user, names) for user in users) or "@people…"
            return [f"[ {shown} ]"]
        case "channels_select" | "multi_channels_select":
            return [_picker(element, names, ("initial_channel", "initial_channels"), "#channel…")]
        case "conversations_select" | "multi_conversations_select":
            keys = ("initial_conversation", "initial_conversations")
            return [_picker(element, names, keys, "#conversation…")]
        case "datepicker":
            return [f"[ {element.get('initial_date') or placeholder or 'yyyy-mm-dd'} ▾ ]"]
        case "timepicker":
            return [f"[ {element.get('initial_time') or placeholder or 'hh:mm'} ▾ ]"]
        case "datetimepicker":
            return [f"[ {element.get('initial_date_time') or placeholder or 'date & time'} ▾ ]"]
        case "file_input":
            return ["[ Upload file… ]"]
        case _:
            return [f"[{element_type}]"]


def _button_label(label: str, style: str | None = None) -> str:
    if style == "primary":
        return f"[ *{label}* ]"
    if style == "danger":
        return f"[ !{label}! ]"
    return f"[ {label} ]"


def _text_field(element: dict[str, Any], placeholder: str, names: Names | None) -> list[str]:
    initial = element.get("initial_value")
    if element.get("type") == "rich_text_input" and isinstance(initial, dict):
        initial = _render_rich_text(initial.get("elements", []), names, TEXT_FIELD_WIDTH)
    value = str(initial or "")
    multiline = bool(element.get("multiline")) or element.get("type") == "rich_text_input"
    if multiline:
        # Two rows at least, so a multi-line field looks taller than a one-line one.
        value_lines = _wrap(value, TEXT_FIELD_WIDTH).split("\n") if value else [""]
        value_lines += [""] * (2 - len(value_lines))
        box = [f"[{line.ljust(TEXT_FIELD_WIDTH, '_')}]" for line in value_lines]
    else:
        box = [f"[{value.ljust(TEXT_FIELD_WIDTH, '_')}]"]
    if not value and placeholder:
        box[0] += f"  {placeholder}"
    return box


def _number_field(element: dict[str, Any], placeholder: str) -> str:
    value = str(element.get("initial_value") or "")
    box = f"[ {value.ljust(8, '_')} ]"
    low, high = element.get("min_value"), element.get("max_value")
    kind = "decimal" if element.get("is_decimal_allowed") else "whole number"
    if low is not None and high is not None:
        kind += f", {low}–{high}"
    elif low is not None:
        kind += f", at least {low}"
    elif high is not None:
        kind += f", at most {high}"
    hint = f"{placeholder} ({kind})" if placeholder and not value else f"({kind})"
    return f"{box}  {hint}"


def _select(
    element: dict[str, Any], placeholder: str, names: Names | None, *, list_options: bool
) -> list[str]:
    if element["type"].startswith("multi_"):
        initial_options = element.get("initial_options") or []
    else:
        initial_options = [element["initial_option"]] if element.get("initial_option") else []
    chosen_texts = [_text_of(option.get("text"), names) for option in initial_options]
    shown = ", ".join(chosen_texts) or placeholder or "Choose…"
    lines = [f"[ {shown} ▾ ]"]
    if not list_options:
        return lines
    chosen = _option_values(initial_options)
    for group in element.get("option_groups") or []:
        lines.append(f"{OPTION_INDENT}{_text_of(group.get('label'), names)}")
        group_lines = _option_lines(group.get("options", []), chosen, "✓", "·", names)
        lines.extend(OPTION_INDENT + "  " + line for line in group_lines)
    option_lines = _option_lines(element.get("options") or [], chosen, "✓", "·", names)
    lines.extend(OPTION_INDENT + line for line in option_lines)
    return lines


def _option_values(options: Iterable[dict[str, Any]] | None) -> set[str]:
    return {str(option.get("value")) for option in options or []}


def _option_lines(
    options: list[dict[str, Any]],
    chosen: set[str],
    chosen_mark: str,
    mark: str,
    names: Names | None,
) -> list[str]:
    lines: list[str] = []
    for option in options:
        selected = str(option.get("value")) in chosen
        lines.append(f"{chosen_mark if selected else mark} {_text_of(option.get('text'), names)}")
        description = _text_of(option.get("description"), names)
        if description:
            lines.append(f"  {description}")
    return lines


def _picker(element: dict[str, Any], names: Names | None, keys: tuple[str, str], empty: str) -> str:
    single_key, multi_key = keys
    ids = element.get(multi_key) or ([element[single_key]] if element.get(single_key) else [])
    shown = ", ".join("#" + (names or {}).get(item, item) for item in ids) or empty
    return f"[ {shown} ▾ ]"


def _user_name(user_id: str, names: Names | None) -> str:
    return "@" + (names or {}).get(user_id, user_id)


def _context_element(element: dict[str, Any], names: Names | None) -> str:
    if element.get("type") == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return _text_of(element, names)


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
