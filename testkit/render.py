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

Here the views, messages and blocks; elements in testkit.render_elements; text (mrkdwn, rich
text, wrapping) in testkit.render_text.
"""

from __future__ import annotations

from typing import Any

from testkit.render_elements import _button_label, _context_element, _render_element
from testkit.render_text import (
    Names,
    _render_rich_text,
    _text_of,
    _title_box,
    _wrap,
    mrkdwn_to_text,
)

DEFAULT_WIDTH = 72
FIELD_COLUMN_GAP = 4
CONTEXT_PREFIX = "  · "


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
