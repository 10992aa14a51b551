"""The demo's scenes, in story order. Each feature adds a module with `play(ctx)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from testkit.demo import DemoContext


def all_scenes() -> list[Callable[[DemoContext], None]]:
    from testkit.demo_scenes import (
        checkins,
        crm,
        debriefs,
        foundation,
        goals,
        kudos,
        lesson_reminder,
        resilience,
    )

    return [
        foundation.play,
        debriefs.play,
        kudos.play,
        checkins.play,
        goals.play,
        resilience.play,
        resilience.play_corrections,
        crm.play,
        lesson_reminder.play,
    ]
