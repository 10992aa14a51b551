"""What the Block Kit unit tests share about a message: the check that it is valid Block Kit
within a message's block limit and has the fallback text notifications show
(`valid_message`), and its buttons in order (`action_buttons`)."""

from __future__ import annotations

from typing import Any

from testkit.standin import MAX_MESSAGE_BLOCKS, BlockKitChecker


def valid_message(message: dict[str, Any]) -> None:
    checker = BlockKitChecker()
    checker.check_blocks(message["blocks"], "/blocks", MAX_MESSAGE_BLOCKS)
    assert checker.problems == []
    assert message["text"]


def action_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every element of the actions blocks, in order."""
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
