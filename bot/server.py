"""HTTP mode: a WSGI app with `/slack/events` and `/healthz`, served by waitress."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alembic.runtime.migration import MigrationContext
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.crm import hubspot as hubspot_hooks
from bot.crm import salesforce as salesforce_messages
from bot.crm.salesforce_api import SessionSeal
from bot.metrics import Metrics, observe_request, request_kind
from bot.payloads import Malformed, check_payload, parse_request
from bot.uow import UnitOfWork
from bot.usecases.crm import store_stage_changes
from bot.usecases.crm_connections import OrgRoute, PortalRoute
from bot.usecases.salesforce import store_outbound_notifications
from storage.db import head_revision, ping

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)
MAX_REQUEST_AGE_SECONDS = 5 * 60
# The largest request body we read. What Slack sends us is far smaller: a modal has at most 100
# blocks (https://docs.slack.dev/reference/views/modal-views) and each text input at most 3,000
# characters (https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element);
# Rebound's own modals hold a few thousand characters of input: tens of kilobytes even
# JSON-escaped and form-encoded, echoed blocks included. Anything larger is refused with a 413
# before a byte of it is buffered, so an unsigned flood can't grow the process (the signature
# can only be checked on the whole body).
MAX_BODY_BYTES = 1024 * 1024
WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]


@dataclass(frozen=True)
class HubSpotEndpoint:
    """`POST /crm/hubspot`: HubSpot's webhooks, for the one workspace of this bot token
    (`team_id`), or, with many workspaces (OAuth mode, `team_id` None), for the workspace that
    connected each event's `portalId` (`routes`, bot.usecases.crm_connections)."""

    client_secret: str  # HUBSPOT_CLIENT_SECRET ("" when unset, many workspaces)
    public_url: str  # REBOUND_PUBLIC_URL: HubSpot signs the URI it called, scheme and host too
    team_id: str | None
    uow: Callable[[], UnitOfWork]
    routes: Callable[[UnitOfWork, set[str]], Mapping[str, PortalRoute]] | None = None


@dataclass(frozen=True)
class SalesforceEndpoint:
    """`POST /crm/salesforce/<token>`: Salesforce's Outbound Messages, for the one workspace of
    this bot token (`team_id`, `token`), or, with many workspaces (OAuth mode, `team_id` None),
    for the workspace whose own endpoint token is in the path (`route`), when the message's
    OrganizationId is that workspace's org too."""

    token: str  # SALESFORCE_OUTBOUND_TOKEN ("" with many workspaces)
    org_id: str | None  # SALESFORCE_ORG_ID: messages of any other org are refused
    owner_email_field: str  # SALESFORCE_OWNER_EMAIL_FIELD; many workspaces: each route's own
    api_url: str | None  # SALESFORCE_API_URL, or None: the message's PartnerUrl host
    team_id: str | None
    uow: Callable[[], UnitOfWork]
    route: Callable[[UnitOfWork, str], OrgRoute | None] | None = None
    # What the message's session is sealed with (bot.crm.salesforce_api.SessionSeal): the
    # token (one workspace) or REBOUND_ENCRYPTION_KEY (many; the job has no workspace's token).
    seal_secret: str | None = None


def make_wsgi_app(
    app: App,
    engine: Engine,
    signing_secret: str,
    metrics: Metrics | None = None,
    hubspot: HubSpotEndpoint | None = None,
    salesforce: SalesforceEndpoint | None = None,
) -> WsgiApp:
    slack_handler = SlackRequestHandler(app, path="/slack/events")
    oauth_paths = (
        {app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path}
        if app.oauth_flow is not None
        else set()
    )

    def rebound_wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            healthy = ping(engine)
            return _json(
                start_response,
                200 if healthy else 503,
                {"status": "ok" if healthy else "database unavailable"},
            )
        if path == "/readyz" and method in ("GET", "HEAD"):
            ready, detail = readiness(engine)
            return _json(start_response, 200 if ready else 503, {"status": detail})
        if path == "/metrics" and method == "GET" and metrics is not None:
            data, content_type = metrics.render()
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data)))]
            )
            return [data]
        if path == "/slack/events":
            if method != "POST":
                return _json(start_response, 405, {"error": "POST Slack requests here"})
            body = _read_body(environ)
            if body is None:
                log.warning("refused a request body over %d bytes", MAX_BODY_BYTES)
                return _json(start_response, 413, {"error": "request body too large"})
            # Checked on the raw bytes before Bolt parses anything, so a forged or corrupted
            # request (even one that is not valid UTF-8) is a 401, never a parsing error.
            if not is_slack_signature_valid(
                signing_secret,
                body,
                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                now=time.time(),
            ):
                return _json(start_response, 401, {"error": "invalid signature"})
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))  # Bolt reads exactly this many bytes
            kind = request_kind(environ.get("CONTENT_TYPE", ""), body)
            started = time.perf_counter()
            try:
                # Signed is not the same as well-formed: a payload Slack would never send is
                # one 400 and one log line, before Bolt or a listener can trip over it.
                check_payload(parse_request(environ.get("CONTENT_TYPE", ""), body))
            except Malformed as problem:
                log.warning("refused a malformed Slack request: %s", problem)
                observe_request(metrics, kind, 400, time.perf_counter() - started)
                return _json(start_response, 400, {"error": "malformed payload"})
            status_box: list[int] = []

            def recording_start_response(status: str, headers: Any, *rest: Any) -> Any:
                status_box.append(int(status.split(" ", 1)[0]))
                return start_response(status, headers, *rest)

            try:
                result = slack_handler(environ, recording_start_response)
            except Exception:  # a malformed payload must never answer with a trace
                log.exception("could not handle a Slack request")
                result = _json(recording_start_response, 400, {"error": "bad request"})
            observe_request(
                metrics, kind, status_box[0] if status_box else 500, time.perf_counter() - started
            )
            return result
        if path == HUBSPOT_PATH and hubspot is not None:
            return hubspot_webhook(hubspot, environ, start_response)
        if path.startswith(SALESFORCE_PREFIX) and salesforce is not None:
            return salesforce_outbound(salesforce, environ, start_response)
        if app.oauth_flow is not None and method == "GET" and path in oauth_paths:
            # Multi-workspace installs: Bolt starts (install) and finishes (redirect) the flow.
            return slack_handler(environ, start_response)
        return _json(start_response, 404, {"error": "not found"})

    return rebound_wsgi


HUBSPOT_PATH = "/crm/hubspot"


def hubspot_webhook(
    endpoint: HubSpotEndpoint, environ: WSGIEnvironment, start_response: StartResponse
) -> list[bytes]:
    """Verify on the raw bytes, then parse, then store the notifications, then answer: the deals
    themselves are read from HubSpot by a job (bot.jobs.crm), so the answer costs one insert.

    HubSpot counts a slow answer as a failed delivery and sends it again (its webhooks overview,
    https://developers.hubspot.com/docs/methods/webhooks/webhooks-overview, "Retries", gave one
    second; later guides allow more), and retries 5xx answers, but not 400, 401, 403, 404 or
    405: a forged or malformed request is refused for good, a database that is down is a 503,
    delivered again later."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method != "POST":
        return _json(start_response, 405, {"error": "HubSpot POSTs its webhooks here"})
    body = _read_body(environ)
    if body is None:
        return _json(start_response, 413, {"error": "request body too large"})
    query = environ.get("QUERY_STRING", "")
    uri = endpoint.public_url + HUBSPOT_PATH + (f"?{query}" if query else "")
    timestamp = environ.get("HTTP_X_HUBSPOT_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_HUBSPOT_SIGNATURE_V3", "")
    now_ms = int(time.time() * 1000)

    def signed_with(secret: str | None) -> bool:
        return bool(secret) and hubspot_hooks.is_signature_valid(
            secret or "",
            method=method,
            uri=uri,
            body=body,
            timestamp=timestamp,
            signature=signature,
            now_ms=now_ms,
        )

    teams: dict[str, str] | None = None
    if endpoint.team_id is not None:
        if not signed_with(endpoint.client_secret):
            return _json(start_response, 401, {"error": "invalid signature"})
    else:
        portals = hubspot_hooks.portals_in(body)
        routed = _hubspot_routes(endpoint, portals)
        if routed is None:
            return _json(start_response, 503, {"error": "database unavailable"})
        if not routed:
            # No event names a connected portal: nobody's secret could have signed it.
            return _json(start_response, 401, {"error": "invalid signature"})
        # One portal's request is signed with its own private app's client secret (or the
        # deployment's app's, HUBSPOT_CLIENT_SECRET); a batch naming several portals can only
        # be the deployment's app's.
        own = routed[next(iter(portals))].client_secret if len(portals) == 1 else None
        if not (signed_with(own) or signed_with(endpoint.client_secret)):
            return _json(start_response, 401, {"error": "invalid signature"})
        teams = {portal: route.team_id for portal, route in routed.items()}
    try:
        batch = hubspot_hooks.parse_batch(body, team_id=endpoint.team_id, teams=teams)
    except hubspot_hooks.BadBatch as problem:
        log.warning("refused a HubSpot webhook: %s", problem)
        return _json(start_response, 400, {"error": "malformed payload"})
    try:
        with endpoint.uow() as uow:
            stored = store_stage_changes(uow, batch.changes)
    except SQLAlchemyError:
        # Not acknowledged, so HubSpot delivers it again (for up to a day): nothing is lost.
        log.exception("could not store a HubSpot webhook")
        return _json(start_response, 503, {"error": "database unavailable"})
    return _json(
        start_response,
        200,
        {"events": batch.events, "stored": stored.new, "replayed": stored.replayed},
    )


def _hubspot_routes(
    endpoint: HubSpotEndpoint, portals: set[str]
) -> Mapping[str, PortalRoute] | None:
    """The connected ones of the portals a (not yet verified) body names, each with its
    workspace and secret; {} when none is; None when the database can't say (a 503: HubSpot
    retries)."""
    if not portals or endpoint.routes is None:
        return {}
    try:
        with endpoint.uow() as uow:
            return endpoint.routes(uow, portals)
    except SQLAlchemyError:
        log.exception("could not look up a HubSpot webhook's portal")
        return None


SALESFORCE_PREFIX = "/crm/salesforce/"


def salesforce_outbound(
    endpoint: SalesforceEndpoint, environ: WSGIEnvironment, start_response: StartResponse
) -> list[bytes]:
    """The path's token first (wrong: 404, the body never read), then the body parsed with
    defusedxml, the org checked, the notifications stored, and only then the acknowledgement:
    Salesforce re-sends an unacknowledged message for 24 hours, so a message not stored (the
    database down) is answered with a fault and arrives again. The owner's email, when the
    message lacks it, is read back by the job (bot.jobs.salesforce), not here."""
    token = environ.get("PATH_INFO", "")[len(SALESFORCE_PREFIX) :]
    team_id, org_id = endpoint.team_id, endpoint.org_id
    owner_email_field = endpoint.owner_email_field
    if team_id is not None:
        if not salesforce_messages.is_token_valid(endpoint.token, token):
            return _json(start_response, 404, {"error": "not found"})
    else:
        try:
            with endpoint.uow() as uow:
                route = endpoint.route(uow, token) if endpoint.route is not None else None
        except SQLAlchemyError:
            log.exception("could not look up a Salesforce endpoint token")
            return _soap(start_response, 503, salesforce_messages.fault("Server", "try again"))
        if route is None:
            return _json(start_response, 404, {"error": "not found"})
        # The token says which workspace; the message must come from that workspace's org,
        # whose own formula field holds the owner's email.
        team_id, org_id = route.team_id, route.org_id
        owner_email_field = route.owner_email_field
    if environ.get("REQUEST_METHOD", "GET") != "POST":
        return _json(start_response, 405, {"error": "Salesforce POSTs its messages here"})
    body = _read_body(environ)
    if body is None:
        return _soap(start_response, 413, salesforce_messages.fault("Client", "too large"))
    try:
        message = salesforce_messages.parse_message(body, owner_email_field=owner_email_field)
    except salesforce_messages.BadMessage as problem:
        log.warning("refused a Salesforce Outbound Message: %s", problem)
        return _soap(start_response, 400, salesforce_messages.fault("Client", "malformed message"))
    if org_id and not salesforce_messages.same_org(org_id, message.organization_id):
        log.warning("refused a Salesforce Outbound Message from another org")
        return _soap(start_response, 403, salesforce_messages.fault("Client", "unknown org"))
    assert team_id is not None
    instance = message.instance_url()
    seal = SessionSeal(endpoint.seal_secret or endpoint.token)
    session_id = seal.seal(message.session_id) if message.session_id else None
    try:
        with endpoint.uow() as uow:
            stored = store_outbound_notifications(
                uow,
                message.notifications,
                team_id=team_id,
                api_url=endpoint.api_url or instance,
                session_id=session_id,
                link_base=instance,
            )
    except SQLAlchemyError:
        log.exception("could not store a Salesforce Outbound Message")
        return _soap(start_response, 503, salesforce_messages.fault("Server", "try again"))
    log.info(
        "Salesforce Outbound Message: %d new, %d re-sent, %d not closed, %d other objects",
        stored.new,
        stored.replayed,
        stored.ignored,
        message.other_objects,
    )
    return _soap(start_response, 200, salesforce_messages.ACK)


def _soap(start_response: StartResponse, status: int, body: bytes) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 413: "Content Too Large"}
    start_response(
        f"{status} {reasons.get(status, 'Service Unavailable')}",
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def readiness(engine: Engine) -> tuple[bool, str]:
    """Ready = the database answers and its schema is at this build's newest migration (a
    replica of a newer build waits for `rebound db upgrade` before taking traffic)."""
    if not ping(engine):
        return False, "database unavailable"
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    except SQLAlchemyError:
        return False, "database unavailable"
    if ",".join(sorted(heads)) != head_revision():
        return False, "database schema is not migrated; run `rebound db upgrade`"
    return True, "ready"


def is_slack_signature_valid(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float
) -> bool:
    """Slack's v0 scheme on the raw bytes: HMAC-SHA256 of "v0:{ts}:{body}", and a timestamp
    within five minutes either way (an older one is a replay)."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if not secret or abs(now - sent_at) > MAX_REQUEST_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _read_body(environ: WSGIEnvironment) -> bytes | None:
    """The body, or None when it is over MAX_BODY_BYTES: judged from Content-Length before
    reading anything, and without one (a chunked body) by reading at most one byte too many."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.strip():
        try:
            length = int(declared)
        except ValueError:
            return b""
        if length > MAX_BODY_BYTES:
            return None
        return stream.read(length) if length > 0 else b""
    body = stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    reasons = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        405: "Method Not Allowed",
        413: "Content Too Large",
        503: "Service Unavailable",
    }
    data = json.dumps(body).encode()
    start_response(
        f"{status} {reasons.get(status, '')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def make_http_server(wsgi_app: WsgiApp, *, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server (production-grade, pure Python); port 0 picks a free port. Bodies over
    MAX_BODY_BYTES get waitress's own 413 (waitress refuses a body >= max_request_body_size)."""
    from waitress.server import create_server

    return create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=threads,
        ident="rebound",
        max_request_body_size=MAX_BODY_BYTES + 1,
    )
