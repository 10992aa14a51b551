"""The debrief job: reflection reminders, queued in the outbox when due.

The debriefs' own messages (the rep's DM, the manager's note, the shout-outs) need no job: they
are outbox rows written with the debrief, and the dispatcher retries whatever Slack refused for
now. Only the reminder to answer the reflection questions waits for a time, and, once per
process, debriefs saved before the outbox existed get rows for their pending messages.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.app import Deps
from bot.scheduler import ScheduledJob
from bot.usecases import debrief_adoption
from bot.usecases import debriefs as usecases

log = logging.getLogger(__name__)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    """Reminders are queued here and sent by the tick's outbox dispatch."""
    # Once per process: debriefs from before the outbox exist only at the upgrade, and queueing
    # a message is idempotent (its post key), so processes starting together can't send twice.
    adopted: list[bool] = []

    def adopt_debriefs_from_before_the_outbox(now: datetime) -> None:
        if adopted:
            return
        after_id = 0
        while True:
            with deps.uow() as uow:
                ids = debrief_adoption.adopt_unqueued_debrief_messages(uow, after_id=after_id)
            if ids:
                log.warning(
                    "adopted the pending messages of %d debriefs from before the outbox", len(ids)
                )
            if len(ids) < debrief_adoption.ADOPT_BATCH:
                break
            after_id = max(ids)  # by id, so every pass moves on
        adopted.append(True)

    def remind_reflections(now: datetime) -> None:
        with deps.uow() as uow:
            usecases.queue_reflection_reminders(uow)

    return [
        ("debrief-adopt-pre-outbox", adopt_debriefs_from_before_the_outbox),
        ("debrief-reflection-reminders", remind_reflections),
    ]
