"""A HubSpot API stand-in: the three reads Rebound makes after a deal closes, answered in HubSpot's
shapes, plus `signed_webhook` to send a webhook batch signed as HubSpot signs it.

Modelled from HubSpot's docs:
- GET /crm/v3/pipelines/deals (https://developers.hubspot.com/docs/api/crm/pipelines): `results`,
  each pipeline with `id`, `label`, `displayOrder`, `archived`, `createdAt`, `updatedAt` and
  `stages`, each stage with `id`, `label`, `displayOrder`, `archived`, `createdAt`, `updatedAt`
  and `metadata` ({"isClosed": "true"|"false", "probability": "1.0"|"0.0"|…}: strings). The
  default pipeline ("default") has the stages appointmentscheduled … closedwon, closedlost.
- GET /crm/v3/objects/deals/{dealId}?properties=a,b (https://developers.hubspot.com/docs/api/crm/
  deals): `id`, `properties` (strings, or null for a property without a value, only those asked
  for, plus hs_object_id, createdate, hs_lastmodifieddate), `createdAt`, `updatedAt`, `archived`.
  An unknown id: 404 with {"status": "error", "category": "OBJECT_NOT_FOUND", …}.
- POST /crm/v3/objects/deals/batch/read (https://developers.hubspot.com/docs/api-reference/legacy/
  crm/objects/deals/batch/get-deals): {"inputs": [{"id"}], "properties": [...]}, at most 100
  inputs; 200 {"status": "COMPLETE", "results": [deal objects as above], "startedAt",
  "completedAt"}, or 207 with `numErrors` and `errors` for ids it could not read.
- GET /crm/v3/owners/{ownerId}?idProperty=id (https://developers.hubspot.com/docs/api/crm/owners):
  `id`, `email`, `firstName`, `lastName`, `userId`, `createdAt`, `updatedAt`, `archived`.
- Every request needs `Authorization: Bearer <private app token>`; without it, 401 with
  category INVALID_AUTHENTICATION (https://developers.hubspot.com/docs/api/private-apps).
- Many accounts (`add_account`): a private app's token is "unique to your app" and reads only
  the account it was made in ("Private apps allow you to use HubSpot's APIs to access specific
  data from your HubSpot account", https://developers.hubspot.com/docs/api/private-apps), so
  each account here has its own token, deals and owners, and a token sees only its account's.

Webhooks (`signed_webhook`): the v3 signature of https://developers.hubspot.com/docs/apps/
developer-platform/build-apps/authentication/request-validation, written again here from the
docs rather than imported from the product, so a mistake in one is caught by the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from testkit.clock import real_time
from testkit.crm_http import JsonReplyHandler, serve_in_background, stop_serving
from testkit.local_http import LocalHTTPServer

_STAMP = "2026-01-05T09:00:00.000Z"
DEFAULT_STAGES: tuple[tuple[str, str, str, str], ...] = (
    # id, label, isClosed, probability
    ("appointmentscheduled", "Appointment scheduled", "false", "0.2"),
    ("qualifiedtobuy", "Qualified to buy", "false", "0.4"),
    ("presentationscheduled", "Presentation scheduled", "false", "0.6"),
    ("decisionmakerboughtin", "Decision maker bought-in", "false", "0.8"),
    ("contractsent", "Contract sent", "false", "0.9"),
    ("closedwon", "Closed won", "true", "1.0"),
    ("closedlost", "Closed lost", "true", "0.0"),
)


@dataclass
class HubSpotCall:
    method: str
    path: str
    status: int
    # The deals a read asked for (the batch read's inputs, or the one deal of a single read):
    # what tests count to show each deal is read once however many processes run the job.
    deal_ids: tuple[str, ...] = ()


@dataclass
class HubSpotStandIn:
    access_token: str = "pat-na1-standin-token"
    deals: dict[str, dict[str, str | None]] = field(default_factory=dict)
    owners: dict[str, dict[str, Any]] = field(default_factory=dict)
    # pipeline id -> (label, [(stage id, label, isClosed, probability)])
    pipelines: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = field(
        default_factory=lambda: {"default": ("Sales Pipeline", list(DEFAULT_STAGES))}
    )
    calls: list[HubSpotCall] = field(default_factory=list)
    # While set, every API request is answered 503 (HubSpot down).
    down: bool = False
    # Other HubSpot accounts (portals) behind the same API host, by their private app token.
    accounts: dict[str, HubSpotStandIn] = field(default_factory=dict)
    # Seconds each deal read takes (a slow HubSpot): lets several processes' passes overlap.
    read_delay: float = 0.0
    _server: LocalHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> HubSpotStandIn:
        server = LocalHTTPServer(("127.0.0.1", 0), _Handler)
        serve_in_background(server, self)
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            stop_serving(self._server)
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- setup -----------------------------------------------------------------------------------

    def add_owner(self, owner_id: str, email: str, first: str = "Leo", last: str = "Rep") -> None:
        with self._lock:
            self.owners[owner_id] = {"email": email, "firstName": first, "lastName": last}

    def add_deal(
        self,
        deal_id: str,
        name: str,
        *,
        amount: str | None = None,
        currency: str | None = None,
        reason: str | None = None,
        owner_id: str | None = None,
        stage: str = "closedlost",
    ) -> None:
        with self._lock:
            self.deals[deal_id] = {
                "dealname": name,
                "amount": amount,
                "deal_currency_code": currency,
                "closed_lost_reason": reason,
                "hubspot_owner_id": owner_id,
                "dealstage": stage,
            }

    def add_account(self, access_token: str) -> HubSpotStandIn:
        """Another HubSpot account on this API host, read with its own token: its deals and
        owners are its own (the returned object's), and its calls are recorded there."""
        account = HubSpotStandIn(access_token=access_token)
        with self._lock:
            self.accounts[access_token] = account
        return account

    def calls_to(self, prefix: str) -> list[HubSpotCall]:
        with self._lock:
            return [c for c in self.calls if c.path.startswith(prefix)]

    # -- answers ---------------------------------------------------------------------------------

    def answer(
        self, method: str, url: str, authorization: str, body: bytes = b""
    ) -> tuple[int, dict[str, Any]]:
        parsed = urlparse(url)
        path, query = parsed.path, parse_qs(parsed.query)
        with self._lock:
            account = self.accounts.get(authorization.removeprefix("Bearer "))
        if account is not None:
            return account.answer(method, url, authorization, body)
        deal_ids = _deals_asked(method, path, body)
        if deal_ids and self.read_delay:
            time.sleep(self.read_delay)
        status, answer = self._answer(method, path, query, authorization, body)
        with self._lock:
            self.calls.append(HubSpotCall(method, path, status, deal_ids))
        return status, answer

    def deals_read(self) -> list[str]:
        """Every deal id asked for by a read that HubSpot answered, once per time asked."""
        with self._lock:
            return [i for c in self.calls if c.status in (200, 207) for i in c.deal_ids]

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        authorization: str,
        body: bytes,
    ) -> tuple[int, dict[str, Any]]:
        if authorization != f"Bearer {self.access_token}":
            return 401, _error("INVALID_AUTHENTICATION", "Authentication credentials not found.")
        if self.down:
            return 503, _error("SERVICE_UNAVAILABLE", "Service unavailable")
        if method == "POST" and path == "/crm/v3/objects/deals/batch/read":
            return self._batch_read(body)
        if method != "GET":
            return 405, _error("METHOD_NOT_ALLOWED", "Method not allowed")
        if path == "/crm/v3/pipelines/deals":
            return 200, {"results": [self._pipeline(p) for p in self.pipelines]}
        if path.startswith("/crm/v3/objects/deals/"):
            deal_id = path.rsplit("/", 1)[-1]
            with self._lock:
                deal = self.deals.get(deal_id)
            if deal is None:
                return 404, _error("OBJECT_NOT_FOUND", "Object not found.")
            wanted = ",".join(query.get("properties", [])).split(",")
            properties = {name: deal.get(name) for name in wanted if name}
            properties.update(hs_object_id=deal_id, createdate=_STAMP, hs_lastmodifieddate=_STAMP)
            return 200, {
                "id": deal_id,
                "properties": properties,
                "createdAt": _STAMP,
                "updatedAt": _STAMP,
                "archived": False,
            }
        if path.startswith("/crm/v3/owners/"):
            owner_id = path.rsplit("/", 1)[-1]
            with self._lock:
                owner = self.owners.get(owner_id)
            if owner is None:
                return 404, _error("OBJECT_NOT_FOUND", "Object not found.")
            return 200, {
                "id": owner_id,
                "userId": int(owner_id) + 1000 if owner_id.isdigit() else 1,
                "createdAt": _STAMP,
                "updatedAt": _STAMP,
                "archived": False,
                "type": "PERSON",
                **owner,
            }
        return 404, _error("NOT_FOUND", "Not found")

    def _deal_object(self, deal_id: str, wanted: list[str]) -> dict[str, Any] | None:
        with self._lock:
            deal = self.deals.get(deal_id)
        if deal is None:
            return None
        properties: dict[str, Any] = {name: deal.get(name) for name in wanted if name}
        properties.update(hs_object_id=deal_id, createdate=_STAMP, hs_lastmodifieddate=_STAMP)
        return {
            "id": deal_id,
            "properties": properties,
            "createdAt": _STAMP,
            "updatedAt": _STAMP,
            "archived": False,
        }

    def _batch_read(self, body: bytes) -> tuple[int, dict[str, Any]]:
        # 200 when every id was read; 207 (multi-status) with `errors` naming the ids that were
        # not, beside the `results` that were.
        try:
            request = json.loads(body)
            ids = [str(item["id"]) for item in request["inputs"]]
            wanted = [str(name) for name in request.get("properties") or []]
        except (ValueError, KeyError, TypeError):
            return 400, _error("VALIDATION_ERROR", "Invalid input JSON")
        if len(ids) > 100:
            return 400, _error("VALIDATION_ERROR", "Batch input limit exceeded (100)")
        results = [d for d in (self._deal_object(i, wanted) for i in ids) if d is not None]
        missing = [i for i in ids if i not in {r["id"] for r in results}]
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": _STAMP,
            "completedAt": _STAMP,
        }
        if not missing:
            return 200, answer
        answer["numErrors"] = 1
        answer["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some DEAL objects, they may be deleted or not exist.",
                "context": {"ids": missing},
            }
        ]
        return 207, answer

    def _pipeline(self, pipeline_id: str) -> dict[str, Any]:
        label, stages = self.pipelines[pipeline_id]
        return {
            "id": pipeline_id,
            "label": label,
            "displayOrder": 0,
            "archived": False,
            "createdAt": _STAMP,
            "updatedAt": _STAMP,
            "stages": [
                {
                    "id": stage_id,
                    "label": stage_label,
                    "displayOrder": order,
                    "archived": False,
                    "createdAt": _STAMP,
                    "updatedAt": _STAMP,
                    "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                    "metadata": {"isClosed": closed, "probability": probability},
                }
                for order, (stage_id, stage_label, closed, probability) in enumerate(stages)
            ],
        }


def _deals_asked(method: str, path: str, body: bytes) -> tuple[str, ...]:
    if method == "POST" and path == "/crm/v3/objects/deals/batch/read":
        try:
            return tuple(str(item["id"]) for item in json.loads(body)["inputs"])
        except (ValueError, KeyError, TypeError):
            return ()
    if method == "GET" and path.startswith("/crm/v3/objects/deals/"):
        return (path.rsplit("/", 1)[-1],)
    return ()


def _error(category: str, message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "00000000-0000-0000-0000-000000000000",
        "category": category,
    }


class _Handler(JsonReplyHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._reply()

    def do_POST(self) -> None:  # noqa: N802
        self._reply()

    def _reply(self) -> None:
        stand_in: HubSpotStandIn = self.server.stand_in  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length > 0 else b""
        status, body = stand_in.answer(
            self.command, self.path, self.headers.get("Authorization", ""), sent
        )
        self.send_json(status, body)


# --- webhooks, as HubSpot sends them ------------------------------------------------------------

# eventIds unique across the processes of a run (a test's webhooks and a bench's alike).
_event_ids = itertools.count(secrets.randbelow(10**12) * 1000 + 1)


def deal_stage_event(
    deal_id: str, stage: str = "closedlost", *, event_id: int | None = None, portal_id: int = 62515
) -> dict[str, Any]:
    """One `deal.propertyChange` event of `dealstage`, in the webhooks API's payload shape
    (https://developers.hubspot.com/docs/api/webhooks, "Webhook payloads")."""
    return {
        "eventId": next(_event_ids) if event_id is None else event_id,
        "subscriptionId": 4321,
        "portalId": portal_id,
        "appId": 54321,
        "occurredAt": int(real_time() * 1000),
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": int(deal_id),
        "propertyName": "dealstage",
        "propertyValue": stage,
        "changeSource": "CRM",
        "sourceId": "userId:1234",
    }


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """X-HubSpot-Signature-v3: base64(HMAC-SHA256(client secret, method + URI + body + ts))."""
    source = method.encode("utf-8") + uri.encode("utf-8") + body + timestamp.encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class WebhookReply:
    status: int
    body: str
    seconds: float


def signed_webhook(
    target: str,
    public_uri: str,
    secret: str,
    body: bytes,
    *,
    timestamp_ms: int | None = None,
    signature: str | None = None,
    signed_uri: str | None = None,
    headers: dict[str, str] | None = None,
) -> WebhookReply:
    """POST `body` to `target` (where the app listens) signed for `public_uri` (where HubSpot
    believes it is sending: REBOUND_PUBLIC_URL + /crm/hubspot), as HubSpot sends webhooks."""
    ts = str(int(real_time() * 1000) if timestamp_ms is None else timestamp_ms)
    sent_headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": ts,
        "X-HubSpot-Signature-v3": signature
        if signature is not None
        else hubspot_signature(secret, "POST", signed_uri or public_uri, body, ts),
        "X-HubSpot-Signature-Version": "v3",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
        **(headers or {}),
    }
    request = urllib.request.Request(target, data=body, headers=sent_headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return WebhookReply(response.status, text, time.perf_counter() - started)
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return WebhookReply(error.code, text, time.perf_counter() - started)
