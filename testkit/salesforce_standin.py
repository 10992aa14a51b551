"""A Salesforce REST API stand-in: the one read Rebound makes after an Outbound Message without
an owner-email field, answered in Salesforce's shapes, over HTTPS (simple-salesforce only speaks
https), with a certificate of its own that the test trusts (`ca_bundle`, REQUESTS_CA_BUNDLE).

Modelled from Salesforce's REST API docs:
- GET /services/data/vXX.X/query?q=<SOQL> with `Authorization: Bearer <session id>` (the Query
  resource, https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html):
  {"totalSize": n, "done": true, "records": [...]}, each record with
  "attributes": {"type": "Opportunity", "url": "/services/data/vXX.X/sobjects/Opportunity/<id>"}
  and a relationship field as a nested record: "Owner": {"attributes": {"type": "User", "url":
  …}, "Email": "…"} (null when the owner has none). No matching Opportunity: totalSize 0,
  records [].
- A session that is unknown or expired: 401 with [{"message": "Session expired or invalid",
  "errorCode": "INVALID_SESSION_ID"}] ("Status Codes and Error Responses",
  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
- Salesforce unavailable: 503 with [{"message": …, "errorCode": "SERVER_UNAVAILABLE"}] (same page).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from testkit.crm_http import JsonReplyHandler, serve_in_background, stop_serving
from testkit.local_http import LocalHTTPServer

_QUERY = re.compile(
    r"SELECT Owner\.Email FROM Opportunity WHERE Id = '(?P<id>[A-Za-z0-9]{15,18})'", re.I
)


@dataclass
class SalesforceCall:
    path: str
    soql: str
    authorization: str
    status: int


@dataclass
class SalesforceStandIn:
    session_id: str = "00DSTANDIN!AQ0AQStandInSessionId.abcdefghijklmnopqrstuvwxyz"
    owners: dict[str, str | None] = field(default_factory=dict)  # opportunity id -> email
    calls: list[SalesforceCall] = field(default_factory=list)
    down: bool = False  # while set, every request is answered 503
    # Seconds each query takes (a slow Salesforce): lets several processes' passes overlap.
    read_delay: float = 0.0
    _server: LocalHTTPServer | None = None
    _folder: tempfile.TemporaryDirectory[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SalesforceStandIn:
        self._folder = tempfile.TemporaryDirectory(prefix="sfdc-standin-")
        cert, key = _self_signed(Path(self._folder.name))
        server = LocalHTTPServer(("127.0.0.1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        serve_in_background(server, self)
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            stop_serving(self._server)
            self._server = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_bundle(self) -> str:
        assert self._folder is not None
        return str(Path(self._folder.name) / "cert.pem")

    def add_opportunity(self, opportunity_id: str, owner_email: str | None) -> None:
        self.owners[opportunity_id] = owner_email

    def answer(self, path: str, authorization: str) -> tuple[int, Any]:
        parsed = urlparse(path)
        soql = (parse_qs(parsed.query).get("q") or [""])[0]
        if self.read_delay:
            time.sleep(self.read_delay)
        status, body = self._answer(parsed.path, soql, authorization)
        with self._lock:
            self.calls.append(SalesforceCall(parsed.path, soql, authorization, status))
        return status, body

    def opportunities_read(self) -> list[str]:
        """The Opportunity id of every owner query answered 200, once per time asked."""
        with self._lock:
            found = [_QUERY.fullmatch(c.soql.strip()) for c in self.calls if c.status == 200]
        return [m.group("id") for m in found if m is not None]

    def _answer(self, path: str, soql: str, authorization: str) -> tuple[int, Any]:
        if self.down:
            return 503, [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
        if authorization != f"Bearer {self.session_id}":
            return 401, [
                {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
            ]
        version = re.fullmatch(r"/services/data/v(\d+\.\d)/query/?", path)
        found = _QUERY.fullmatch(soql.strip())
        if version is None or found is None:
            return 400, [{"message": "unexpected query", "errorCode": "MALFORMED_QUERY"}]
        base = f"/services/data/v{version.group(1)}/sobjects"
        opportunity_id = found.group("id")
        if opportunity_id not in self.owners:
            return 200, {"totalSize": 0, "done": True, "records": []}
        record = {
            "attributes": {"type": "Opportunity", "url": f"{base}/Opportunity/{opportunity_id}"},
            "Owner": {
                "attributes": {"type": "User", "url": f"{base}/User/005STANDIN0000001"},
                "Email": self.owners[opportunity_id],
            },
        }
        return 200, {"totalSize": 1, "done": True, "records": [record]}


class _Handler(JsonReplyHandler):
    content_type = "application/json;charset=UTF-8"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        stand_in: SalesforceStandIn = self.server.stand_in  # type: ignore[attr-defined]
        status, body = stand_in.answer(self.path, self.headers.get("Authorization", ""))
        self.send_json(status, body)


def _self_signed(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1, its own CA: the test trusts exactly it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salesforce stand-in")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # fixed: no wall clock in the tests
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)
