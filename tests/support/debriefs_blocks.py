"""What the debrief Block Kit tests share (tests/unit/test_debriefs_blocks.py and
test_debriefs_modals.py): the check that a view is valid Block Kit."""

from __future__ import annotations

from typing import Any

from testkit.standin import BlockKitChecker


def _valid_view(view: dict[str, Any]) -> None:
    checker = BlockKitChecker()
    checker.check_view(view)
    assert checker.problems == []
