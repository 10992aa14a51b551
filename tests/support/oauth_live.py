"""Run `rebound serve` in OAuth mode (many workspaces), and install workspaces into it the way a
browser does: `/slack/install` → Slack's consent page (skipped) → `/slack/oauth_redirect`."""

from __future__ import annotations

import http.client
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from testkit.live import LiveApp, app_env, serve_process
from testkit.standin import SlackStandIn

CLIENT_ID = "1234.5678"
CLIENT_SECRET = "standin-client-secret"


def oauth_env(
    standin: SlackStandIn, database_url: str, signing_secret: str, encryption_key: str
) -> dict[str, str]:
    env = app_env(standin, database_url, signing_secret)
    del env["SLACK_BOT_TOKEN"]
    env.update(
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        REBOUND_ENCRYPTION_KEY=encryption_key,
    )
    return env


@contextmanager
def oauth_app(
    standin: SlackStandIn, database_url: str, workdir: Path, encryption_key: str
) -> Iterator[LiveApp]:
    secret = secrets.token_hex(16)
    with serve_process(
        oauth_env(standin, database_url, secret, encryption_key), workdir, secret
    ) as app:
        app.directory = standin
        yield app


def http_get(
    app: LiveApp, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def install(app: LiveApp, team_id: str) -> str:
    """Install the app in `team_id` through the OAuth flow; returns the success page."""
    status, headers, _ = http_get(app, "/slack/install")
    assert status == 302, status
    state = parse_qs(urlsplit(headers["location"]).query)["state"][0]
    cookie = headers["set-cookie"].split(";")[0]
    status, _, page = http_get(
        app,
        f"/slack/oauth_redirect?code=code-for-{team_id}&state={state}",
        headers={"Cookie": cookie},
    )
    assert status == 200, page
    return page
