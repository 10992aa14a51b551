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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock
from bot.metrics import Metrics, count_post
from storage import queries
from storage.db import SessionFactory

log = logging.getLogger(__name__)
DEFAULT_LEASE = timedelta(minutes=5)
# How long a workspace's client (with its bot token) is reused before the token is read again;
# short, so an uninstall or a token rotation by another replica is picked up quickly.
TEAM_CLIENT_TTL_SECONDS = 60.0
# team_id -> that workspace's bot token, or None when it has none (not installed).
TokenForTeam = Callable[[str], str | None]


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
        self._team_clients: dict[str, tuple[float, WebClient]] = {}
        self._team_clients_lock = threading.Lock()

    def is_installed(self, team_id: str) -> bool:
        """False only for a workspace whose tokens are gone (uninstalled; its data waits for
        deletion): sending there would fail, and would stop a job's other workspaces too."""
        return self.token_for_team is None or self.client_for(team_id).token is not None

    def client_for(self, team_id: str) -> WebClient:
        """The client to call Slack with for `team_id`'s workspace."""
        if self.token_for_team is None:
            return self.client
        now = time.monotonic()
        with self._team_clients_lock:
            cached = self._team_clients.get(team_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = self.token_for_team(team_id)
        if token is None:
            # Not installed (or uninstalled): Slack answers not_authed, which callers already
            # treat like any other Slack error for that one workspace.
            log.warning("no bot token for workspace %s; is Rebound installed there?", team_id)
        client = WebClient(
            token=token,
            base_url=self.client.base_url,
            timeout=self.client.timeout,
            retry_handlers=list(self.client.retry_handlers),
        )
        with self._team_clients_lock:
            self._team_clients[team_id] = (now + TEAM_CLIENT_TTL_SECONDS, client)
        return client

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
            response = self.client_for(team_id).chat_postMessage(channel=channel, **message)
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
