"""The Home tab: published whenever someone opens it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.blocks.home import HomeFacts, home_view
from bot.features import goals
from bot.slack_users import fetch_profile, is_rebound_admin
from bot.usecases import checkins as checkin_usecases
from bot.usecases.members import remember_profile
from storage import kudos_queries, queries
from storage.models import Member

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab needs nothing from us
        # Once a Home has been published, the event carries it (`view`, with its `hash`);
        # publishing with that hash replaces exactly the Home the person is looking at
        # (https://docs.slack.dev/reference/events/app_home_opened).
        shown = event.get("view")
        shown_hash = shown.get("hash") if isinstance(shown, dict) else None
        publish_home(
            client,
            deps,
            team_id=body["team_id"],
            user_id=event["user"],
            hash=shown_hash if isinstance(shown_hash, str) and shown_hash else None,
        )


def _paused_until(member: Member, now: datetime) -> str | None:
    until = member.checkin_paused_until
    if until is None or until <= now:
        return None
    local = until.astimezone(ZoneInfo(member.tz or "UTC"))
    return f"{local.day} {local:%b %Y}"


def publish_home(
    client: WebClient, deps: Deps, *, team_id: str, user_id: str, hash: str | None = None
) -> None:
    """Render and publish `user_id`'s Home. With `hash` (the Home's hash when it was last seen)
    Slack refuses the publish with hash_conflict if the Home was published again since
    (https://docs.slack.dev/reference/methods/views.publish): that later Home is at least as
    fresh as this one, so it is left showing."""
    profile = fetch_profile(client, user_id)
    with deps.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        if profile is not None:
            member = remember_profile(
                session=session, team_id=team_id, profile=profile, now=deps.clock()
            )
        else:
            member = queries.upsert_member(session=session, team_id=team_id, user_id=user_id)
        reports = queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
        facts = HomeFacts(
            user_id=user_id,
            display_name=member.display_name or "",
            tz=member.tz or "UTC",
            manager_user_id=member.manager_user_id,
            report_user_ids=[r.user_id for r in reports],
            recognition_channel_id=workspace.recognition_channel_id,
            checkin_weekday=workspace.checkin_weekday,
            checkin_hour=workspace.checkin_hour,
            is_admin=is_rebound_admin(profile, user_id, deps.settings.admins),
            kudos_received=kudos_queries.kudos_received_by_category(
                session=session, team_id=team_id, user_id=user_id
            ),
            gets_checkins=checkin_usecases.gets_checkins(
                session=session, team_id=team_id, user_id=user_id
            ),
            checkins_paused_until=_paused_until(member, deps.clock()),
        )
        dashboard = goals.home_dashboard_blocks(
            session,
            team_id=team_id,
            user_id=user_id,
            tz=facts.tz,
            now=deps.clock(),
            workspace=workspace,
            reports=reports,
        )
        session.commit()
    try:
        client.views_publish(user_id=user_id, view=home_view(facts, dashboard), hash=hash)
    except SlackApiError as error:
        if error.response.get("error") != "hash_conflict":
            raise
        log.info("the Home of %s was published again meanwhile; keeping that one", user_id)
