"""What the pure domain's tests share (tests/unit/test_domain.py and test_domain_resilience.py):
the outcome kinds and the instant histories start at."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import (
    OutcomeKind,
)

WIN = OutcomeKind.WIN
LOSS = OutcomeKind.LOSS
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
