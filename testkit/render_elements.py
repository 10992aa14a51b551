"""Block Kit elements as text: buttons, selects and their options, text and number inputs,
pickers, checkboxes and radio buttons, context elements (testkit.render)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from testkit.render_text import Names, _render_rich_text, _text_of, _user_name, _wrap

# Text inputs are drawn this wide so an empty field still reads as a field.
TEXT_FIELD_WIDTH = 40
OPTION_INDENT = "    "


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


def _context_element(element: dict[str, Any], names: Names | None) -> str:
    if element.get("type") == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return _text_of(element, names)
