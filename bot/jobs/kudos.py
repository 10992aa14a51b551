"""The kudos jobs: the weekly recognition digest, queued in the outbox when due.

Kudos themselves need no job: their posts and DMs are outbox rows, retried by the dispatcher,
and a kudos kept while there was no recognition channel goes up once one is set (saving the
channel wakes its row: storage.queries.update_workspace_settings).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.app import Deps
from bot.scheduler import ScheduledJob
from bot.usecases import kudos as usecases

log = logging.getLogger(__name__)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    def queue_weekly_digests(now: datetime) -> None:
        with deps.uow() as uow:
            team_ids = usecases.digest_team_ids(session=uow.session)
        for team_id in team_ids:
            # One unit of work per workspace: one workspace's trouble (its data, say) must not
            # keep the digest from every workspace after it.
            try:
                with deps.uow() as uow:
                    usecases.queue_digest(uow, team_id=team_id, admin_user_ids=deps.settings.admins)
            except Exception:
                log.exception("queueing the weekly digest for %s failed", team_id)

    return [("kudos-digest", queue_weekly_digests)]
