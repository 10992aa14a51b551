"""The one Block Kit kit: text objects, blocks, elements and view-state reading, shared by every
builder in bot.blocks so each dict shape is written once.

The kit takes finished text. Escaping user text is the builder's job (`escape_mrkdwn`, exported
here too), because only the builder knows which parts are the person's words and which are
mrkdwn it writes itself (`*bold*`, `<@U…>`). What the kit does add is Slack's length limits:
a section's or a context's text past them makes Slack refuse the whole message, so it is cut
(never inside an entity or a `<…>` sequence, see bot.slack_text.truncate).

Shapes and limits, from Slack's Block Kit reference (https://docs.slack.dev/reference/block-kit):
- text object: https://docs.slack.dev/reference/block-kit/composition-objects/text-object
  (`emoji` applies to plain_text only);
- section: https://docs.slack.dev/reference/block-kit/blocks/section-block (text max 3,000);
- header: https://docs.slack.dev/reference/block-kit/blocks/header-block (plain_text, max 150);
- context: https://docs.slack.dev/reference/block-kit/blocks/context-block;
- actions, divider, input: https://docs.slack.dev/reference/block-kit/blocks;
- button: https://docs.slack.dev/reference/block-kit/block-elements/button-element;
- confirm: https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object;
- option: https://docs.slack.dev/reference/block-kit/composition-objects/option-object;
- date formatting (`<!date^…^{date_short}|fallback>`):
  https://docs.slack.dev/messaging/formatting-message-text
- view state (`view.state.values[block_id][action_id]`):
  https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.slack_text import escape_mrkdwn as escape_mrkdwn
from bot.slack_text import truncate

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150


# --- text objects --------------------------------------------------------------------------------


def plain(text: str, *, emoji: bool | None = None) -> dict[str, Any]:
    """A plain_text object; `emoji` only when given (Slack's default is true)."""
    obj: dict[str, Any] = {"type": "plain_text", "text": text}
    if emoji is not None:
        obj["emoji"] = emoji
    return obj


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def slack_date(moment: datetime) -> str:
    """A date every reader sees in their own time zone (Slack's date formatting), with a
    fallback for clients that can't."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%b %d, %Y}>"


# --- blocks --------------------------------------------------------------------------------------


def section(text: str, *, limit: int = SECTION_TEXT_LIMIT, **extra: Any) -> dict[str, Any]:
    """A mrkdwn section cut to `limit`; `extra` adds keys such as block_id or accessory."""
    return {"type": "section", "text": mrkdwn(truncate(text, limit)), **extra}


def context(text: str, *, limit: int = CONTEXT_TEXT_LIMIT) -> dict[str, Any]:
    """A context block of one mrkdwn element."""
    return {"type": "context", "elements": [mrkdwn(truncate(text, limit))]}


def header(
    text: str, *, limit: int = HEADER_TEXT_LIMIT, emoji: bool | None = None
) -> dict[str, Any]:
    return {"type": "header", "text": plain(truncate(text, limit), emoji=emoji)}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions"}
    if block_id is not None:
        block["block_id"] = block_id
    block["elements"] = list(elements)
    return block


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool | None = None,
    hint: str | None = None,
    emoji: bool | None = None,
) -> dict[str, Any]:
    """An input block; `optional` and `hint` only when given."""
    block: dict[str, Any] = {"type": "input", "block_id": block_id}
    if optional is not None:
        block["optional"] = optional
    block["label"] = plain(label, emoji=emoji)
    if hint is not None:
        block["hint"] = plain(hint, emoji=emoji)
    block["element"] = element
    return block


# --- elements and composition objects ------------------------------------------------------------


def button(
    text: str,
    action_id: str,
    *,
    value: str | None = None,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
    emoji: bool | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(text, emoji=emoji),
    }
    if style is not None:
        element["style"] = style
    if value is not None:
        element["value"] = value
    if confirm is not None:
        element["confirm"] = confirm
    return element


def confirm(
    title: str, text: str, *, ok: str, deny: str, style: str | None = None
) -> dict[str, Any]:
    """The "are you sure?" dialog a button opens before its action is sent."""
    dialog: dict[str, Any] = {
        "title": plain(title),
        "text": mrkdwn(text),
        "confirm": plain(ok),
        "deny": plain(deny),
    }
    if style is not None:
        dialog["style"] = style
    return dialog


def option(text: str, value: str, *, emoji: bool | None = None) -> dict[str, Any]:
    return {"text": plain(text, emoji=emoji), "value": value}


# --- messages and views --------------------------------------------------------------------------


def message(text: str) -> dict[str, Any]:
    """A message that is one section: `text` is both the notification text and the block."""
    return {"text": text, "blocks": [section(text)]}


def ephemeral(text: str) -> dict[str, Any]:
    """A slash command's reply only the person who typed it sees: text, no blocks."""
    return {"response_type": "ephemeral", "text": text}


def modal(
    title: str,
    blocks: list[dict[str, Any]],
    *,
    callback_id: str | None = None,
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str | None = None,
    emoji: bool | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal"}
    if callback_id is not None:
        view["callback_id"] = callback_id
    if private_metadata is not None:
        view["private_metadata"] = private_metadata
    view["title"] = plain(title, emoji=emoji)
    if submit is not None:
        view["submit"] = plain(submit, emoji=emoji)
    if close is not None:
        view["close"] = plain(close, emoji=emoji)
    view["blocks"] = blocks
    return view


def state(values: Mapping[str, Any], block_id: str, action_id: str = "value") -> dict[str, Any]:
    """One input's state in a view submission (`{}` when the block or the input is absent)."""
    return (values.get(block_id) or {}).get(action_id) or {}
