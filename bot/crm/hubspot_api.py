"""Reading a closed deal back from HubSpot with the official client (hubspot-api-client), with a
private app's access token, at HUBSPOT_API_URL.

Three reads (https://developers.hubspot.com/docs/api/crm/deals, /crm/pipelines, /crm/owners):
  - GET /crm/v3/pipelines/deals: every deal pipeline and its stages; a stage's `metadata` says
    `isClosed` ("true"/"false") and `probability` ("1.0" for won, "0.0" for lost). Cached: it
    changes only when someone edits a pipeline (and a stage we don't know refreshes it).
    The default pipeline's closing stages are `closedwon` and `closedlost`.
  - POST /crm/v3/objects/deals/batch/read (https://developers.hubspot.com/docs/api-reference/
    legacy/crm/objects/deals/batch/get-deals): up to 100 deals a request, `inputs` [{"id"}]
    and `properties` dealname, amount, deal_currency_code, closed_lost_reason,
    hubspot_owner_id; 200 with `results`, or 207 with `results` and `errors` for the ids it
    could not read. A burst of closings costs one request per 100 deals, well under a private
    app's request limits.
  - GET /crm/v3/owners/{ownerId}: the owner's `email`, cached a while (a team has few owners).
Any failure is a `HubSpotError`: the caller keeps the deal and tries again later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.crm import ClosedDeal, StageChange
from bot.domain.money import crm_amount, currency_code

DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "deal_currency_code",
    "closed_lost_reason",
    "hubspot_owner_id",
]
DEFAULT_CLOSING_STAGES = {"closedwon": True, "closedlost": False}
PIPELINES_TTL_SECONDS = 600.0
OWNERS_TTL_SECONDS = 600.0
MAX_BATCH_READ = 100  # the batch read's limit of inputs
# Each read answers in well under a second; a HubSpot that hangs must not hold up the tick.
REQUEST_TIMEOUT_SECONDS = 10


class HubSpotError(Exception):
    """HubSpot could not be read (down, refused the token, no such deal)."""


@dataclass(frozen=True)
class Closing:
    """Whether a stage closes a deal, and how."""

    closed: bool
    won: bool = False


class HubSpotReader:
    """One per process: the client and the cached pipelines (thread-safe)."""

    def __init__(self, access_token: str, api_url: str) -> None:
        from hubspot import HubSpot  # the client is imported only where HubSpot is used

        self._client = HubSpot(access_token=access_token, host=api_url.rstrip("/"))
        self._stages: dict[str, bool] = {}  # closing stage id -> won
        self._open: set[str] = set()
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self._owners: dict[str, tuple[float, str | None]] = {}  # owner id -> (read at, email)

    # -- pipelines --------------------------------------------------------------------------

    def closing_of(self, stage: str) -> Closing:
        """Whether `stage` closes a deal as won or lost, from the pipelines' stage metadata."""
        with self._lock:
            stale = time.monotonic() - self._read_at > PIPELINES_TTL_SECONDS
            known = stage in self._stages or stage in self._open
            if stale or not known:
                self._read_pipelines()
            if stage in self._stages:
                return Closing(closed=True, won=self._stages[stage])
            if stage in self._open:
                return Closing(closed=False)
        # Not in any pipeline HubSpot listed: the default pipeline's ids still say it.
        if stage in DEFAULT_CLOSING_STAGES:
            return Closing(closed=True, won=DEFAULT_CLOSING_STAGES[stage])
        return Closing(closed=False)

    def _read_pipelines(self) -> None:
        try:
            answer = self._client.crm.pipelines.pipelines_api.get_all(
                "deals", _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except Exception as error:
            raise HubSpotError(f"pipelines: {_describe(error)}") from error
        closing: dict[str, bool] = {}
        still_open: set[str] = set()
        for pipeline in answer.results or []:
            for stage in pipeline.stages or []:
                metadata = stage.metadata or {}
                if str(metadata.get("isClosed", "")).lower() == "true":
                    closing[stage.id] = _probability(metadata.get("probability")) >= 1
                else:
                    still_open.add(stage.id)
        self._stages, self._open, self._read_at = closing, still_open, time.monotonic()

    # -- the deal and its owner ---------------------------------------------------------------

    def closed_deals(
        self, closings: Sequence[tuple[StageChange, bool]]
    ) -> tuple[list[ClosedDeal], dict[str, str]]:
        """The deals of `closings` ((change, won) pairs), read 100 at a time, with their owners'
        emails: (the deals read, event key -> why it could not be read)."""
        deals: list[ClosedDeal] = []
        failed: dict[str, str] = {}
        for start in range(0, len(closings), MAX_BATCH_READ):
            batch = closings[start : start + MAX_BATCH_READ]
            ids = sorted({change.deal_id for change, _ in batch})
            try:
                found = self._read_deals(ids)
            except HubSpotError as error:
                failed.update((change.event_key, str(error)) for change, _ in batch)
                continue
            for change, won in batch:
                properties = found.get(change.deal_id)
                if properties is None:
                    failed[change.event_key] = f"deal {change.deal_id}: not returned"
                    continue
                try:
                    deals.append(self._closed_deal(change, won, properties))
                except HubSpotError as error:
                    failed[change.event_key] = str(error)
        return deals, failed

    def closed_deal(self, change: StageChange, *, won: bool) -> ClosedDeal:
        """One deal (its event key's), or HubSpotError."""
        deals, failed = self.closed_deals([(change, won)])
        if failed:
            raise HubSpotError(failed[change.event_key])
        return deals[0]

    def _read_deals(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        from hubspot.crm.deals import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        request = BatchReadInputSimplePublicObjectId(
            properties=DEAL_PROPERTIES,
            properties_with_history=[],
            inputs=[SimplePublicObjectId(id=deal_id) for deal_id in ids],
        )
        try:
            answer = self._client.crm.deals.batch_api.read(
                request, archived=False, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except Exception as error:
            raise HubSpotError(f"deals: {_describe(error)}") from error
        return {str(deal.id): dict(deal.properties or {}) for deal in answer.results or []}

    def _closed_deal(
        self, change: StageChange, won: bool, properties: dict[str, Any]
    ) -> ClosedDeal:
        owner_id = (properties.get("hubspot_owner_id") or "").strip()
        return ClosedDeal(
            source=change.source,
            team_id=change.team_id,
            event_key=change.event_key,
            deal_id=change.deal_id,
            won=won,
            name=(properties.get("dealname") or "").strip(),
            amount=crm_amount(properties.get("amount")),
            currency=currency_code(properties.get("deal_currency_code")),
            crm_reason=(properties.get("closed_lost_reason") or "").strip() or None,
            owner_email=self._owner_email(owner_id) if owner_id.isdigit() else None,
            link=change.link,
        )

    def _owner_email(self, owner_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._owners.get(owner_id)
        if cached is not None and now - cached[0] < OWNERS_TTL_SECONDS:
            return cached[1]
        try:
            owner = self._client.crm.owners.owners_api.get_by_id(
                int(owner_id), id_property="id", _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except Exception as error:
            raise HubSpotError(f"owner {owner_id}: {_describe(error)}") from error
        email = (owner.email or "").strip() or None
        with self._lock:
            self._owners[owner_id] = (now, email)
        return email


def _probability(raw: object) -> float:
    try:
        return float(str(raw))
    except ValueError:
        return 0.0


def _describe(error: Exception) -> str:
    status = getattr(error, "status", None)
    return f"HTTP {status}" if status else type(error).__name__
