"""The check-in jobs of one process, run on the scheduler's thread on every tick, in this
order: read time zones, plan, queue due check-ins, queue reminders, queue digests.

Nothing here posts: each DM is an outbox row written in the same unit of work as its fact (the
check-in claimed, the reminder marked), and the tick's last job, the outbox dispatch, sends it
(bot.dispatcher paces, honours Retry-After and settles unknown outcomes). Time zones are read
from Slack here (users.info, a read) because planning needs them first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.app import Deps, make_web_client
from bot.blocks.checkins import checkin_message, digest_message, reminder_message
from bot.dispatcher import worker_name
from bot.scheduler import ScheduledJob
from bot.slack_clients import TeamClients
from bot.slack_errors import UNREACHABLE_PERSON
from bot.slack_users import profile_from_user
from bot.usecases import checkins as uc
from bot.usecases.members import refresh_profile

log = logging.getLogger(__name__)

# Check-ins claimed (and their DMs queued) per transaction, and reminders looked at per one.
QUEUE_BATCH = 100
TZ_REFRESH_BATCH = 100
REMINDER_BATCH = 500
# Members read per query by the digest job (see CheckinJobs.digests).
DIGEST_BATCH = 500
# A time zone read that failed waits this long in this process before it is tried again, so
# members whose reads keep failing do not take every batch and starve the others. Slack saying
# the person is gone (a permanent error) waits a day.
TZ_RETRY_AFTER = timedelta(minutes=10)
TZ_RETRY_AFTER_PERMANENT = timedelta(days=1)


def scheduled_jobs(deps: Deps) -> list[tuple[str, ScheduledJob]]:
    """The jobs queue; the tick's outbox dispatch (bot.app.build_ticker) sends. Time zones
    are read with a client of the app's own settings (for each workspace's token)."""
    token_for_team = deps.oauth.bot_token_for if deps.oauth is not None else None
    clients = TeamClients(make_web_client(deps.settings, metrics=deps.metrics), token_for_team)
    worker = deps.dispatcher.worker if deps.dispatcher is not None else worker_name()
    jobs = CheckinJobs(deps, clients, worker=worker)
    # In this order on every tick: time zones before planning, planning before queueing.
    return [
        ("checkins.refresh_timezones", jobs.refresh_timezones),
        ("checkins.plan", jobs.plan),
        ("checkins.send", jobs.queue_due),
        ("checkins.remind", jobs.remind),
        ("checkins.digest", jobs.digests),
    ]


class CheckinJobs:
    def __init__(self, deps: Deps, clients: TeamClients, *, worker: str) -> None:
        self.deps = deps
        self.clients = clients
        self.worker = worker
        self.reminder_batch = REMINDER_BATCH
        # member id -> when this process may try reading their time zone again.
        self._tz_retry_at: dict[int, datetime] = {}

    def refresh_timezones(self, now: datetime) -> None:
        """Read Slack time zones weekly (and for people never read), one process per person.

        ``tz_refreshed_at`` is set only by a successful read, so a member whose zone was never
        read is never planned with a guessed one. A failed read (any error: Slack's, or the
        network's) puts the previous read time back and waits TZ_RETRY_AFTER in this process.
        """
        self._tz_retry_at = {k: at for k, at in self._tz_retry_at.items() if at > now}
        with self.deps.uow() as uow:
            stale = uc.members_needing_tz_refresh(
                uow, now=now, limit=TZ_REFRESH_BATCH, exclude_ids=self._tz_retry_at
            )
        for member in stale:
            assert member.id is not None
            previous = member.tz_refreshed_at
            if previous is not None:
                with self.deps.uow() as uow:
                    won = uc.take_tz_refresh(uow, member_id=member.id, previous=previous, now=now)
                if not won:
                    continue
            try:
                user = self.clients.client_for(member.team_id).users_info(user=member.user_id)
            except Exception as error:
                # The person is gone (bot.slack_errors' one list): reading again can't help.
                permanent = (
                    isinstance(error, SlackApiError)
                    and error.response.get("error") in UNREACHABLE_PERSON
                )
                log.warning("time zone of %s not read: %r", member.user_id, error)
                wait = TZ_RETRY_AFTER_PERMANENT if permanent else TZ_RETRY_AFTER
                self._tz_retry_at[member.id] = now + wait
                if previous is not None and not permanent:  # permanent: again in a week
                    with self.deps.uow() as uow:
                        uc.release_tz_refresh(
                            uow, member_id=member.id, taken_at=now, previous=previous
                        )
                continue
            with self.deps.uow() as uow:
                refresh_profile(
                    session=uow.session,
                    team_id=member.team_id,
                    profile=profile_from_user(user["user"]),
                    now=now,
                )

    def plan(self, now: datetime) -> None:
        with self.deps.uow() as uow:
            created = uc.plan(uow)
        if created:
            log.info("planned %d check-ins", created)

    def queue_due(self, now: datetime) -> None:
        """Claim due check-ins batch by batch, each batch's DMs queued with its claim."""
        while True:
            with self.deps.uow() as uow:
                claimed = uc.queue_due_checkins(
                    uow, worker=self.worker, limit=QUEUE_BATCH, message=checkin_message
                )
            if not claimed:
                return

    def remind(self, now: datetime) -> None:
        """Queue one reminder per unanswered check-in, batch after batch until none are due."""
        seen: set[int] = set()
        while True:
            with self.deps.uow() as uow:
                looked_at = uc.queue_reminders(
                    uow, limit=self.reminder_batch, exclude_ids=seen, message=reminder_message
                )
            if not looked_at:
                return

    def digests(self, now: datetime) -> None:
        """Each manager's digest, at its time. Only members whose stored digest time has come
        are read; each gets its next time stored with its digest queued, in one transaction."""
        with self.deps.uow() as uow:
            uc.check_digest_clock(uow)
        looked_at: set[int] = set()
        while True:
            with self.deps.uow() as uow:
                read = uc.queue_digests(
                    uow, limit=DIGEST_BATCH, exclude_ids=looked_at, message=digest_message
                )
            if read < DIGEST_BATCH:
                return
