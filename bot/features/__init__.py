"""Feature modules. Each has `register(app, deps)`; one with scheduled work also has
`scheduled_jobs(deps) -> list[(name, job)]`, where a job is `(now) -> None`."""

from __future__ import annotations

from types import ModuleType


def feature_modules() -> list[ModuleType]:
    # Imported here so that importing the package builds nothing and loads no feature code.
    from bot.features import (
        checkins,
        corrections,
        crm,
        crm_settings,
        debriefs,
        goals,
        home,
        kudos,
        lesson_reminders,
        lifecycle,
        one_on_ones,
        privacy,
        rebound_command,
        resilience,
    )

    return [
        rebound_command,
        home,
        lifecycle,
        debriefs,
        lesson_reminders,
        resilience,
        corrections,
        kudos,
        checkins,
        one_on_ones,
        goals,
        privacy,
        crm,
        crm_settings,
    ]
