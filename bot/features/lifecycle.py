"""App lifecycle events. The manifest subscribes to them, so they must be acknowledged with a
200 (an unhandled event would make Slack retry it and, in time, disable the subscription).

Uninstalling removes the workspace's tokens at once (OAuth mode) and starts a grace period
(`Workspace.data_grace_days`, 30 by default); a scheduled job then deletes every row of that
workspace. Reinstalling within the grace period keeps everything.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from bot.app import Deps
from bot.jobs import lifecycle as jobs
from bot.usecases import lifecycle as usecases

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """The lifecycle events (the listeners read `deps` from Bolt's context)."""
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


scheduled_jobs = jobs.scheduled_jobs


def _revocation(deps: Deps) -> TokenRevocationListeners | None:
    return (
        TokenRevocationListeners(deps.oauth.installation_store) if deps.oauth is not None else None
    )


def app_uninstalled(body: dict[str, Any], context: BoltContext) -> None:
    deps: Deps = context["deps"]
    team_id = body.get("team_id") or context.team_id
    log.warning("Rebound was uninstalled from workspace %s", team_id)
    revocation = _revocation(deps)
    if revocation is not None:
        revocation.handle_app_uninstalled_events(context)
    if team_id:
        with deps.uow() as uow:
            usecases.mark_uninstalled(uow, team_id=team_id)


def tokens_revoked(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    deps: Deps = context["deps"]
    # `tokens` lists the user ids whose tokens went: `oauth` for user tokens, `bot` for bot
    # tokens, both when both kinds were revoked
    # (https://docs.slack.dev/reference/events/tokens_revoked).
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    log.warning("tokens revoked in workspace %s: %s", body.get("team_id"), tokens)
    revocation = _revocation(deps)
    if revocation is None or deps.oauth is None:
        return
    revocation.handle_tokens_revoked_events(event, context)
    if tokens.get("bot"):
        # Bolt deletes the bot rows, and the installation rows of the `oauth` users only;
        # every other installation row keeps a copy of the revoked bot token, which would
        # still be found and used. Rebound works only with its bot token: without it the
        # installation is gone, until someone installs again.
        deps.oauth.installation_store.delete_all(
            enterprise_id=context.enterprise_id, team_id=context.team_id
        )
