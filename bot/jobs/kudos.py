"""The kudos jobs: the weekly recognition digest, queued in the outbox when due.

Kudos themselves need no job: their posts and DMs are outbox rows, retried by the dispatcher,
and a kudos kept while there was no recognition channel goes up once one is set (saving the
channel wakes its row: storage.queries.update_workspace_settings).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.app import Deps
from bot.blocks.kudos import digest_message
from bot.scheduler import ScheduledJob
from bot.usecases import kudos as usecases
from bot.usecases import kudos_sending
from bot.usecases.kudos_sending import KudosMessages

log = logging.getLogger(__name__)

# Workspaces read per query by the kudos digest job.
DIGEST_BATCH = 500


def scheduled_jobs(deps: Deps, messages: KudosMessages) -> list[tuple[str, ScheduledJob]]:
    # Once per process: kudos from before the outbox exist only at the upgrade, and queueing
    # one is idempotent (its post key), so processes starting together can't send it twice.
    adopted: list[bool] = []

    def adopt_kudos_from_before_the_outbox(now: datetime) -> None:
        if adopted:
            return
        while True:
            with deps.uow() as uow:
                count = kudos_sending.adopt_unqueued_kudos(uow, messages=messages)
            if count:
                log.warning("queued %d kudos saved before the outbox existed", count)
            if count < kudos_sending.ADOPT_BATCH:
                break
        adopted.append(True)

    def queue_weekly_digests(now: datetime) -> None:
        """Only workspaces whose stored digest time has come are read; each is queued its
        digest (when due) and gets its next time stored, in one unit of work."""
        with deps.uow() as uow:
            usecases.check_digest_clock(uow, now=now)
        looked_at: set[str] = set()
        while True:
            with deps.uow() as uow:
                due = usecases.workspaces_due_for_digest(
                    uow, now=now, limit=DIGEST_BATCH, exclude=looked_at
                )
            if not due:
                return
            for team_id in due:
                # One unit of work per workspace: one workspace's trouble must not keep the
                # digest from every workspace after it. Its due mark is written with its row.
                try:
                    with deps.uow() as uow:
                        later = usecases.queue_digest(
                            uow,
                            team_id=team_id,
                            admin_user_ids=deps.settings.admins,
                            digest_message=digest_message,
                        )
                        usecases.set_next_digest(uow, team_id=team_id, at=later)
                except Exception:
                    log.exception("queueing the weekly digest for %s failed", team_id)
            # A workspace whose queueing failed stays due (tried on the next tick), not again in
            # this one.
            looked_at.update(due)
            if len(due) < DIGEST_BATCH:
                return

    return [
        ("kudos-adopt-from-before-the-outbox", adopt_kudos_from_before_the_outbox),
        ("kudos-digest", queue_weekly_digests),
    ]
