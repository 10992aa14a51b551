"""HubSpot webhooks: the v3 signature, checked on the raw bytes before anything is parsed, and the
batch of events, of which a deal's `dealstage` change is what Rebound acts on.

HubSpot's request validation (https://developers.hubspot.com/docs/apps/developer-platform/
build-apps/authentication/request-validation, "Validate the v3 request signature"; introduced in
https://developers.hubspot.com/changelog/introducing-version-3-of-webhook-signatures):
  - reject the request if X-HubSpot-Request-Timestamp (milliseconds since the epoch) is older
    than 5 minutes;
  - concatenate, UTF-8: request method + request URI + request body + timestamp, the URI being
    the full one HubSpot called (protocol, host, path and query, as in the target URL);
  - HMAC SHA-256 of that string keyed with the app's client secret, base64-encoded;
  - compare (in constant time) with X-HubSpot-Signature-v3.
The public URI comes from REBOUND_PUBLIC_URL: behind a proxy or load balancer the server sees
neither the scheme nor the host HubSpot used.

Many workspaces (OAuth mode): each workspace connects its own portal with its own private app,
and each portal's webhooks are signed with that app's own client secret, which Rebound keeps per
workspace. The v3 signature is "an HMAC SHA-256 hash built using the client secret of your app"
(the request-validation page above); a private app belongs to one account ("Private apps allow
you to use HubSpot's APIs to access specific data from your HubSpot account", with "an access
token that's unique to your app", https://developers.hubspot.com/docs/api/private-apps), and
its webhooks are its own ("trigger HubSpot to send an API request to an endpoint that you
configure in your private app", https://developers.hubspot.com/docs/api/
create-and-edit-webhook-subscriptions-in-private-apps). So the secret that checks a request is
the one of the portal its events name (`portals_in`, read before the check, acted on only after).

The body (https://developers.hubspot.com/docs/api/webhooks, "Webhook payloads") is a JSON array
of up to 100 events, each with eventId, subscriptionId, portalId, appId, occurredAt,
subscriptionType ("deal.propertyChange"), attemptNumber, objectId (the deal id), and for a
property change propertyName and propertyValue (the new value: a dealstage id). HubSpot retries
a delivery that failed or timed out, for up to 24 hours, with the same eventId.

The deal's page in HubSpot is made from the event's portalId (the HubSpot account) and the
deal id: https://app.hubspot.com/contacts/{portalId}/record/0-3/{dealId}. HubSpot's record
pages live under app.hubspot.com/contacts/<portal id>/ (e.g. Okta's HubSpot connector guide,
https://help.okta.com/wf/ja-jp/Content/Topics/workflows/connector-reference/hubspotcrm/actions/
associateacontactwithanotherobject.htm: "https://app.hubspot.com/contacts/<your_portal_id>/
contact/101/"), and a deal is object type "0-3" (the deal object definition,
https://developers.hubspot.com/docs/api-reference/latest/crm/objects/deals/object-definition.md:
deal: { objectId: "0-3" }).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.crm import StageChange

MAX_AGE_MS = 5 * 60 * 1000
MAX_EVENTS = 100  # "up to 100 events" per request (the webhooks API's batch size)
SOURCE = "hubspot"
DEAL_PAGE = "https://app.hubspot.com/contacts/{portal_id}/record/0-3/{deal_id}"


def deal_link(portal_id: object, deal_id: str) -> str | None:
    """The deal's record page in HubSpot; None without a portal id HubSpot would send."""
    if not _is_id(portal_id):
        return None
    return DEAL_PAGE.format(portal_id=int(str(portal_id)), deal_id=deal_id)


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The X-HubSpot-Signature-v3 value HubSpot sends for this request."""
    base = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_signature_valid(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str,
    signature: str,
    now_ms: int,
) -> bool:
    """HubSpot's v3 check; a missing, malformed, stale or future timestamp fails it too."""
    if not secret or not signature or not timestamp.isdigit():
        return False
    age = now_ms - int(timestamp)
    # Older than 5 minutes is refused; a little clock skew the other way is allowed, no more.
    if age > MAX_AGE_MS or age < -MAX_AGE_MS:
        return False
    expected = signature_v3(secret, method, uri, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace"))


class BadBatch(ValueError):
    """A signed body that is not a batch of HubSpot events (said in one log line, a 400)."""


@dataclass(frozen=True)
class Batch:
    changes: list[StageChange]  # the dealstage changes, in order
    events: int  # events in the batch, acted on or not
    unrouted: int = 0  # events of a portal no workspace connected (many workspaces): skipped


def portals_in(body: bytes) -> set[str]:
    """The `portalId`s of a body not verified yet (many workspaces: the portal says whose
    client secret signed it). Read, never trusted: nothing is stored or acted on before the
    signature holds, and anything that is not a batch of events names no portal (a 401)."""
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return set()
    if not isinstance(events, list) or not 0 < len(events) <= MAX_EVENTS:
        return set()
    portals: set[str] = set()
    for event in events:
        portal = event.get("portalId") if isinstance(event, dict) else None
        if not _is_id(portal):
            return set()
        portals.add(str(portal))
    return portals


def parse_batch(
    body: bytes, *, team_id: str | None = None, teams: Mapping[str, str] | None = None
) -> Batch:
    """The dealstage changes in a verified body; BadBatch for anything HubSpot never sends.

    One workspace: every event is `team_id`'s. Many: each event is its `portalId`'s workspace
    (`teams`, portal id -> team id), and an event of a portal no workspace connected is skipped."""
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadBatch("not JSON") from error
    if not isinstance(events, list):
        raise BadBatch("not an array of events")
    if len(events) > MAX_EVENTS:
        raise BadBatch(f"{len(events)} events; HubSpot sends at most {MAX_EVENTS}")
    changes: list[StageChange] = []
    unrouted = 0
    for event in events:
        if not isinstance(event, dict):
            raise BadBatch("an event that is not an object")
        team = team_id if team_id is not None else (teams or {}).get(str(event.get("portalId")))
        event_id, deal_id = event.get("eventId"), event.get("objectId")
        if not _is_id(event_id) or not _is_id(deal_id):
            raise BadBatch("an event without eventId or objectId")
        if (
            event.get("subscriptionType") != "deal.propertyChange"
            or event.get("propertyName") != "dealstage"
        ):
            continue  # another subscription's event: nothing to do with closings
        stage = event.get("propertyValue")
        if not isinstance(stage, str) or not stage or len(stage) > 100:
            continue
        if team is None:
            unrouted += 1
            continue
        changes.append(
            StageChange(
                source=SOURCE,
                team_id=team,
                event_key=str(event_id),
                deal_id=str(deal_id),
                stage=stage,
                link=deal_link(event.get("portalId"), str(deal_id)),
            )
        )
    return Batch(changes=changes, events=len(events), unrouted=unrouted)


def _is_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 2**63
    return isinstance(value, str) and value.isdigit() and len(value) <= 19
