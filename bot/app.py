"""The app factory: one Bolt `App` wired to its dependencies; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.metrics import Metrics, SlackErrorObserver
from bot.payloads import Malformed, check_payload
from bot.scheduler import ScheduledJob, Ticker
from bot.uow import UnitOfWork
from storage import queries
from storage.db import SessionFactory

if TYPE_CHECKING:
    from bot.oauth import OAuthParts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What listeners need besides the Slack payload. Sessions come from a factory because Bolt
    runs listeners on a thread pool after `ack()`, and a session must never cross threads."""

    settings: Settings
    session_factory: SessionFactory
    clock: Clock = utc_now
    metrics: Metrics | None = None
    # Multi-workspace installs (OAuth mode); None when one bot token serves one workspace.
    oauth: OAuthParts | None = None
    # The process's outbox dispatcher (bot.dispatcher); None in scripts that send nothing.
    dispatcher: Dispatcher | None = None

    def uow(self) -> UnitOfWork:
        """A unit of work for one action; its commit wakes the dispatcher (bot.uow)."""
        wake = self.dispatcher.wake if self.dispatcher is not None else None
        return UnitOfWork(self.session_factory, clock=self.clock, on_commit=wake)


# Web API methods that may be sent again after an answer that was lost (a 5xx, a dropped
# connection): reads, and writes whose repeat changes nothing (conversations.open returns the
# same DM; views.publish and chat.update put the same content again; an upload URL nobody uses
# expires). Everything else — chat.postMessage above all — is never re-sent automatically: Slack
# may have acted on a request whose answer we lost, and a re-send would post it twice. The
# outbox dispatcher (bot.dispatcher) reconciles such sends instead.
IDEMPOTENT_METHODS = frozenset(
    {
        "auth.test",
        "users.info",
        "users.lookupByEmail",
        "users.list",
        "users.profile.get",
        "team.info",
        "usergroups.list",
        "conversations.info",
        "conversations.list",
        "conversations.members",
        "conversations.history",
        "conversations.replies",
        "conversations.open",
        "chat.getPermalink",
        "chat.update",
        "views.publish",
        "files.getUploadURLExternal",
        "files.info",
        "apps.connections.open",
    }
)


def _method_of(request: HttpRequest) -> str:
    return request.url.rsplit("/", 1)[-1].split("?", 1)[0]


class _OnlyIdempotentMethods(RetryHandler):
    """Put before one of slack-sdk's retry handlers: it retries only what that handler would
    and only for IDEMPOTENT_METHODS (a call Slack may already have acted on is never re-sent)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return _method_of(request) in IDEMPOTENT_METHODS and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


class IdempotentServerErrorRetryHandler(_OnlyIdempotentMethods, ServerErrorRetryHandler):
    """slack-sdk's ServerErrorRetryHandler re-sends any request answered 500 or 503
    (slack_sdk/http_retry/builtin_handlers.py: `response.status_code in [500, 503]`, whatever
    the method); this one only re-sends IDEMPOTENT_METHODS."""


class IdempotentConnectionErrorRetryHandler(_OnlyIdempotentMethods, ConnectionErrorRetryHandler):
    """slack-sdk's ConnectionErrorRetryHandler re-sends after URLError, ConnectionResetError
    and RemoteDisconnected (its default `error_types`), which also happen after the request
    reached Slack; this one only re-sends IDEMPOTENT_METHODS."""


def make_web_client(
    settings: Settings, token: str | None = None, *, metrics: Metrics | None = None
) -> WebClient:
    """A Web API client that honours 429 Retry-After (a 429 means Slack did nothing, so the
    same request may go again) and retries 5xx and dropped connections for idempotent methods
    only (Bolt copies these handlers into the client each listener gets)."""
    observers: list[RetryHandler] = [SlackErrorObserver(metrics)] if metrics else []
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            *observers,
            IdempotentConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            IdempotentServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def make_dispatch_client(settings: Settings, *, metrics: Metrics | None = None) -> WebClient:
    """The dispatcher's client: no retry handler re-sends anything (it handles 429, 5xx and
    lost answers itself, per row: bot.dispatcher)."""
    observers: list[RetryHandler] = [SlackErrorObserver(metrics)] if metrics else []
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=observers,
    )


def make_dispatcher(deps: Deps) -> Dispatcher:
    """The process's dispatcher for `deps` (one per process; see Runtime)."""
    return Dispatcher(
        deps.session_factory,
        make_dispatch_client(deps.settings, metrics=deps.metrics),
        deps.clock,
        token_for_team=deps.oauth.bot_token_for if deps.oauth is not None else None,
        metrics=deps.metrics,
        post_per_workspace_second=deps.settings.send_rate_per_second,
    )


def create_app(
    deps: Deps,
    *,
    client: WebClient | None = None,
    token_verification_enabled: bool = True,
) -> App:
    """Build the Bolt app with every feature registered."""
    settings = deps.settings
    oauth_options: dict[str, Any] = {}
    if deps.oauth is not None:
        # Each request is authorized with its workspace's token from the installation store;
        # the client (no token of its own) carries SLACK_API_URL for the OAuth flow's calls.
        oauth_options = {"oauth_settings": deps.oauth.settings, "authorize": deps.oauth.authorize}
    app = App(
        # The token travels in the client (Bolt reads it from there).
        # Socket Mode has no signing secret; Bolt skips verification for socket requests.
        signing_secret=settings.slack_signing_secret or "",
        client=client or make_web_client(settings, metrics=deps.metrics),
        token_verification_enabled=token_verification_enabled,
        # Ack goes back to Slack as soon as a listener calls ack(); slow work runs after it.
        process_before_response=False,
        name="rebound",
        **oauth_options,
    )
    app.middleware(_RejectMalformedPayloads())
    app.middleware(_ProvideDeps(deps))
    app.middleware(_SkipRedeliveredEvents(deps))
    app.error(_report_error)

    from bot.features import feature_modules

    for feature in feature_modules():
        feature.register(app, deps)
    return app


def build_ticker(deps: Deps) -> Ticker:
    """Every feature's scheduled jobs, run together on each tick, then the outbox dispatch."""
    from bot.features import feature_modules

    dispatcher = deps.dispatcher or make_dispatcher(deps)
    if deps.dispatcher is None:
        deps = replace(deps, dispatcher=dispatcher)
    jobs: list[tuple[str, ScheduledJob]] = []
    for feature in feature_modules():
        contribute = getattr(feature, "scheduled_jobs", None)
        if contribute is not None:
            jobs.extend(contribute(deps))
    # Last: what the jobs above queued goes out in the same tick (and anything due before).
    jobs.append(("outbox-dispatch", dispatcher.run_once))
    return Ticker(jobs=jobs, clock=deps.clock)


# Both middlewares are Middleware classes, not plain functions: Bolt calls a class's process()
# directly, while for a function it first builds every argument a listener could ask for
# (say, respond, client, context objects...) on each request, a cost the ack paid twice.


class _RejectMalformedPayloads(Middleware):
    """A signed but malformed payload gets a 400 here, before any listener or Bolt's own
    bookkeeping trips over it (a 500 would make Slack retry a request that can never work).
    HTTP requests were already checked in bot.server, before Bolt parsed them, so they pass
    straight on (checking twice only lengthens the ack); this catches the same in Socket Mode."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if req.mode != "http":
            try:
                check_payload(req.body)
            except Malformed as problem:
                log.warning("refused a malformed Slack payload: %s", problem)
                return BoltResponse(status=400, body="malformed payload")
        return next()

    @property
    def name(self) -> str:
        return "reject_malformed_payloads"


class _ProvideDeps(Middleware):
    """Listeners are module-level functions; they find the app's dependencies in Bolt's
    context (`context["deps"]`), which Bolt hands any listener that names `context`."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        req.context["deps"] = self.deps
        return next()

    @property
    def name(self) -> str:
        return "provide_deps"


class _SkipRedeliveredEvents(Middleware):
    """Slack re-delivers an event up to 3 times when it sees no quick 200; the event_id is the
    same each time. The first delivery wins a row in processed_events; the rest are acked and
    dropped, in HTTP and Socket Mode alike (both go through this middleware)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            team_id = body.get("team_id") or ""
            # Its own unit of work, committed before the listener runs: a retry arriving
            # meanwhile must already find the row.
            with self.deps.uow() as uow:
                first_time = queries.record_event_once(
                    session=uow.session, team_id=team_id, event_id=event_id, now=uow.now()
                )
            if not first_time:
                log.info("event %s already handled; ignoring redelivery", event_id)
                return BoltResponse(status=200, body="")
        return next()

    @property
    def name(self) -> str:
        return "skip_redelivered_events"


def _report_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    """Log with context. Listeners choose their own friendly fallbacks (commands through
    bot.messaging.tells_user_on_failure); what still escapes one, a click on a message,
    gets a short apology through the click's response_url, never a trace."""
    logger.exception("listener failed for %s: %s", body.get("type") or body.get("command"), error)
    response_url = body.get("response_url")
    if body.get("type") == "block_actions" and isinstance(response_url, str) and response_url:
        from bot.messaging import command_failed_message, post_to_response_url

        post_to_response_url(response_url, command_failed_message(None))
