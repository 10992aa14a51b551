"""A quadrant chart's upload payload for the unit tests of what it plots (`quadrant_payload`):
the reviews and the people's names are the test's, the threshold is the default 0.8 and the
upload's texts are placeholders nothing checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.goals import CycleReview
from bot.usecases.goal_reviews import quadrant_upload


def quadrant_payload(reviews: Sequence[CycleReview], names: dict[str, str]) -> dict[str, Any]:
    return quadrant_upload(
        reviews,
        lambda ids: names,
        0.8,
        title="t",
        whose="w",
        filename="f.png",
        file_title="ft",
        comment="c",
    )
