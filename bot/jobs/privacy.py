"""Retention: reflections past each workspace's retention are deleted, and old sent outbox rows
(bot.usecases.privacy)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.app import Deps
from bot.scheduler import ScheduledJob
from bot.usecases import privacy as usecases

log = logging.getLogger(__name__)
# Retention is in days; looking every few minutes is plenty and spares the database.
RETENTION_CHECK_EVERY = timedelta(minutes=10)
OUTBOX_BATCHES_PER_RUN = 20


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    last_run: list[datetime] = []

    def delete_expired_reflections(now: datetime) -> None:
        if last_run and now - last_run[-1] < RETENTION_CHECK_EVERY:
            return
        with deps.uow() as uow:
            deleted = usecases.apply_reflection_retention(session=uow.session, now=now)
        for team_id, count in deleted.items():
            log.info("retention: deleted %d old reflections in %s", count, team_id)
        # A batch per transaction: a backlog (the first run after an upgrade) never holds one
        # long lock on the table the dispatcher claims from.
        for _ in range(OUTBOX_BATCHES_PER_RUN):
            with deps.uow() as uow:
                if usecases.apply_outbox_retention(session=uow.session, now=now) == 0:
                    break
        last_run[:] = [now]

    return [("privacy.reflection_retention", delete_expired_reflections)]
