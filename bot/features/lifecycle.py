"""App lifecycle events. The manifest subscribes to them, so they must be acknowledged with a
200 (an unhandled event would make Slack retry it and, in time, disable the subscription)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.app import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @app.event("app_uninstalled")
    def app_uninstalled(body: dict[str, Any]) -> None:
        log.warning("Rebound was uninstalled from workspace %s", body.get("team_id"))

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        log.warning("tokens revoked in workspace %s: %s", body.get("team_id"), event.get("tokens"))
