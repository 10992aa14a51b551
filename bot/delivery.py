"""Exactly-once posting: claim a unique key in post_log, send, then mark it sent.

Every message the bot sends on a schedule or in reaction to an event goes through here, so
Slack's retries, double clicks, and several app processes on one PostgreSQL still give one
post. A process that dies between claim and send leaves a claim that expires after `lease`;
the next attempt (another tick, another replica) takes it over.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock
from bot.dispatcher import with_post_key
from bot.metrics import Metrics, count_post
from bot.slack_clients import TeamClients, TokenForTeam
from storage import queries
from storage.db import SessionFactory

log = logging.getLogger(__name__)
DEFAULT_LEASE = timedelta(minutes=5)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Sent:
    channel: str
    ts: str
    response: dict[str, Any]


class Delivery:
    def __init__(
        self,
        session_factory: SessionFactory,
        client: WebClient,
        clock: Clock,
        *,
        worker: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        metrics: Metrics | None = None,
        token_for_team: TokenForTeam | None = None,
    ) -> None:
        """`client` carries the API URL and retry policy. With `token_for_team` (multi-workspace
        installs) each workspace is sent to with its own bot token; without it, `client`'s
        token serves every team (one workspace, or Bolt's per-request client)."""
        self.session_factory = session_factory
        self.client = client
        self.clock = clock
        self.worker = worker or worker_name()
        self.lease = lease
        self.metrics = metrics
        self.token_for_team = token_for_team
        self._clients = TeamClients(client, token_for_team)

    def is_installed(self, team_id: str) -> bool:
        """False only for a workspace whose tokens are gone (uninstalled)."""
        return self._clients.is_installed(team_id)

    def client_for(self, team_id: str) -> WebClient:
        """The client to call Slack with for `team_id`'s workspace."""
        return self._clients.client_for(team_id)

    def already_sent(self, *, team_id: str, post_key: str) -> bool:
        with self.session_factory() as session:
            post = queries.get_post(session=session, team_id=team_id, post_key=post_key)
            return post is not None and post.status == "sent"

    def post(
        self,
        *,
        team_id: str,
        post_key: str,
        kind: str,
        channel: str,
        message: dict[str, Any],
    ) -> Sent | None:
        """Post `message` to `channel` unless `post_key` was already posted (then None).

        A failed send releases the claim, so a later attempt can try again, and re-raises.
        A workspace with no bot token (uninstalled) is sent nothing (None)."""
        if not self.is_installed(team_id):
            return None
        with self.session_factory() as session:
            claim = queries.claim_post(
                session=session,
                team_id=team_id,
                post_key=post_key,
                kind=kind,
                claimed_by=self.worker,
                now=self.clock(),
                lease=self.lease,
            )
            session.commit()
        if claim is None:
            log.debug("post %s already claimed or sent", post_key)
            return None
        try:
            response = self.client_for(team_id).chat_postMessage(
                channel=channel, **with_post_key(message, post_key, team_id)
            )
        except Exception:
            with self.session_factory() as session:
                queries.release_post(session=session, post=claim)
                session.commit()
            raise
        sent = Sent(channel=response["channel"], ts=response["ts"], response=response.data)  # type: ignore[arg-type]
        with self.session_factory() as session:
            queries.mark_post_sent(
                session=session,
                post=claim,
                channel_id=sent.channel,
                message_ts=sent.ts,
                now=self.clock(),
            )
            session.commit()
        count_post(self.metrics, kind)
        return sent

    def dm(
        self,
        *,
        team_id: str,
        post_key: str,
        kind: str,
        user_id: str,
        message: dict[str, Any],
    ) -> Sent | None:
        """Like `post`, to the app's DM with `user_id`."""
        if self.already_sent(team_id=team_id, post_key=post_key) or not self.is_installed(team_id):
            return None
        channel = self.client_for(team_id).conversations_open(users=user_id)["channel"]["id"]
        return self.post(
            team_id=team_id, post_key=post_key, kind=kind, channel=channel, message=message
        )
