"""The Home tab: published whenever someone opens it.

That publish stays a direct views.publish, not an outbox row: it IS the answer to the
app_home_opened event (the person is looking at the tab now), and views.publish replaces the
whole Home, so a repeat changes nothing. A Home republished after a change someone
else made (an agenda item marked done, bot.usecases.agenda_done) is a `views.publish` outbox row.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.slack_users import fetch_profile, is_rebound_admin
from bot.usecases.home import home_data, home_view_of

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    app.event("app_home_opened")(home_opened)


def home_opened(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab needs nothing from us
    # Once a Home has been published, the event carries it (`view`, with its `hash`);
    # publishing with that hash replaces exactly the Home the person is looking at
    # (https://docs.slack.dev/reference/events/app_home_opened).
    shown = event.get("view")
    shown_hash = shown.get("hash") if isinstance(shown, dict) else None
    publish_home(
        client,
        context["deps"],
        team_id=body["team_id"],
        user_id=event["user"],
        hash=shown_hash if isinstance(shown_hash, str) and shown_hash else None,
    )


def publish_home(
    client: WebClient, deps: Deps, *, team_id: str, user_id: str, hash: str | None = None
) -> None:
    """Render and publish `user_id`'s Home. With `hash` (the Home's hash when it was last seen)
    Slack refuses the publish with hash_conflict if the Home was published again since
    (https://docs.slack.dev/reference/methods/views.publish): that later Home is at least as
    fresh as this one, so it is left showing."""
    profile = fetch_profile(client, user_id)
    is_admin = is_rebound_admin(profile, user_id, deps.settings.admins)
    with deps.uow() as uow:
        data = home_data(uow, team_id=team_id, user_id=user_id, profile=profile, is_admin=is_admin)
        now = uow.now()
    view = home_view_of(data, now)
    try:
        client.views_publish(user_id=user_id, view=view, hash=hash)
    except SlackApiError as error:
        if error.response.get("error") != "hash_conflict":
            raise
        log.info("the Home of %s was published again meanwhile; keeping that one", user_id)
