"""One Web API client per workspace, with that workspace's bot token (multi-workspace installs).

Used by the outbox dispatcher (bot.dispatcher), which sends everything, and by the jobs that
read from Slack first (bot.jobs: time zones, people's names).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

log = logging.getLogger(__name__)

# How long a workspace's client (with its bot token) is reused before the token is read again;
# short, so an uninstall or a token rotation by another replica is picked up quickly.
TEAM_CLIENT_TTL_SECONDS = 60.0
# team_id -> that workspace's bot token, or None when it has none (not installed).
TokenForTeam = Callable[[str], str | None]


class TeamClients:
    def __init__(self, client: WebClient, token_for_team: TokenForTeam | None = None) -> None:
        """`client` carries the API URL, timeout and retry policy. With `token_for_team` each
        workspace is called with its own bot token; without it, `client`'s token serves every
        team (one workspace, or Bolt's per-request client)."""
        self.client = client
        self.token_for_team = token_for_team
        self._clients: dict[str, tuple[float, WebClient]] = {}
        self._lock = threading.Lock()

    def is_installed(self, team_id: str) -> bool:
        """False only for a workspace whose tokens are gone (uninstalled; its data waits for
        deletion): sending there would fail, and would stop a job's other workspaces too."""
        return self.token_for_team is None or self.client_for(team_id).token is not None

    def client_for(self, team_id: str) -> WebClient:
        """The client to call Slack with for `team_id`'s workspace."""
        if self.token_for_team is None:
            return self.client
        now = time.monotonic()
        with self._lock:
            cached = self._clients.get(team_id)
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
        with self._lock:
            self._clients[team_id] = (now + TEAM_CLIENT_TTL_SECONDS, client)
        return client
