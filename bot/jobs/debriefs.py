"""The debrief job: reflection reminders, queued in the outbox when due.

The debriefs' own messages (the rep's DM, the manager's note, the shout-outs) need no job: they
are outbox rows written with the debrief, and the dispatcher retries whatever Slack refused for
now. Only the reminder to answer the reflection questions waits for a time.
"""

from __future__ import annotations

from datetime import datetime

from bot.app import Deps
from bot.scheduler import ScheduledJob
from bot.usecases import debriefs as usecases


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    """Reminders are queued here and sent by the tick's outbox dispatch."""

    def remind_reflections(now: datetime) -> None:
        with deps.uow() as uow:
            usecases.queue_reflection_reminders(uow)

    return [("debrief-reflection-reminders", remind_reflections)]
