"""Reading an Opportunity's owner email back from Salesforce, for orgs whose Outbound Message
has no owner-email formula field, with the session id the message itself carried.

simple-salesforce runs the SOQL query `SELECT Owner.Email FROM Opportunity WHERE Id = '…'`
through the REST API's Query resource (GET /services/data/vXX.X/query?q=…, Authorization:
Bearer <session id>; https://developer.salesforce.com/docs/platform/api-rest/guide/
resources-query.html). A relationship field comes back nested in the record:
{"totalSize": 1, "done": true, "records": [{"attributes": {...}, "Owner": {"attributes": {...},
"Email": "…"}}]}. An expired or revoked session is a 401 with errorCode INVALID_SESSION_ID
("Status Codes and Error Responses", https://developer.salesforce.com/docs/atlas.en-us.api_rest.
meta/api_rest/errorcodes.htm), which simple-salesforce raises as SalesforceExpiredSession.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import requests
from cryptography.fernet import Fernet, InvalidToken
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

API_VERSION = "59.0"
TIMEOUT_SECONDS = 10
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


class SalesforceReadError(Exception):
    """Salesforce could not be read now (down, refused, malformed answer): tried again."""


class SessionGone(SalesforceReadError):
    """The message's session expired or was revoked: it can never be read with it."""


class SessionSeal:
    """The message's session id is a live credential: it is stored encrypted (Fernet), with a
    key derived from SALESFORCE_OUTBOUND_TOKEN, so the database alone never holds a usable
    session. A token changed since makes old seals unreadable: those deals are kept as having
    no owner, like an expired session."""

    def __init__(self, outbound_token: str) -> None:
        digest = hashlib.sha256(b"rebound salesforce session\0" + outbound_token.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, session_id: str) -> str:
        return self._fernet.encrypt(session_id.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def owner_email(*, instance_url: str, session_id: str, opportunity_id: str) -> str | None:
    """The Opportunity owner's email, or None when the Opportunity or its owner has none."""
    if not _ID.fullmatch(opportunity_id):  # it goes into SOQL: an id and nothing else
        raise SalesforceReadError("not an Opportunity id")
    session = requests.Session()
    session.request = _with_timeout(session.request)  # type: ignore[method-assign]
    client = Salesforce(
        instance_url=instance_url, session_id=session_id, version=API_VERSION, session=session
    )
    try:
        result: Any = client.query(
            f"SELECT Owner.Email FROM Opportunity WHERE Id = '{opportunity_id}'"
        )
    except SalesforceExpiredSession as error:
        raise SessionGone("INVALID_SESSION_ID") from error
    except SalesforceError as error:
        raise SalesforceReadError(f"Salesforce answered {error.status}") from error
    except (requests.RequestException, ValueError) as error:
        raise SalesforceReadError(type(error).__name__) from error
    records = result.get("records") if isinstance(result, dict) else None
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return None
    owner = records[0].get("Owner")
    email = owner.get("Email") if isinstance(owner, dict) else None
    return email if isinstance(email, str) and "@" in email and len(email) <= 254 else None


def _with_timeout(request: Any) -> Any:
    def timed(method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return request(method, url, **kwargs)

    return timed
