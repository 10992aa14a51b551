"""Settings from the environment (and a `.env` file, loaded by the CLI).

Every check names the variable and says how to fix it, because the first person to read these
messages is someone setting Rebound up for the first time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///rebound.db"
# HubSpot's API (https://developers.hubspot.com/docs/api/overview: every endpoint under
# https://api.hubapi.com); tests point HUBSPOT_API_URL at testkit's stand-in.
DEFAULT_HUBSPOT_API_URL = "https://api.hubapi.com"
MAKE_ENCRYPTION_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A missing or malformed setting; `str()` is the one line the user sees."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    admins: frozenset[str] = field(default_factory=frozenset)
    # chat.postMessage per second per workspace per process (the outbox dispatcher's pace:
    # a check-in fan-out is spread at it), under Slack's chat.postMessage limits.
    send_rate_per_second: float = 10.0
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    encryption_key: str | None = None
    # CRM webhooks: the app's public base URL (HubSpot signs the full URI it called), and
    # HubSpot's client secret (verifies its v3 signatures) and private-app token (reads deals).
    public_url: str | None = None
    hubspot_client_secret: str | None = None
    hubspot_access_token: str | None = None
    hubspot_api_url: str = DEFAULT_HUBSPOT_API_URL
    # Salesforce Outbound Messages: the secret in the endpoint's path, the one org taken (None:
    # any), the Opportunity field holding the owner's email, and where REST reads go (None: the
    # message's own PartnerUrl host, when it is Salesforce's).
    salesforce_outbound_token: str | None = None
    salesforce_org_id: str | None = None
    salesforce_owner_email_field: str = "Owner_Email__c"
    salesforce_api_url: str | None = None

    @property
    def hubspot_enabled(self) -> bool:
        return bool(self.hubspot_client_secret and self.hubspot_access_token)

    @property
    def salesforce_enabled(self) -> bool:
        return bool(self.salesforce_outbound_token)

    @property
    def oauth_mode(self) -> bool:
        """Installable in many workspaces: the app's OAuth credentials and no single bot token
        (each workspace's token then comes from its install)."""
        return bool(self.slack_client_id and self.slack_client_secret and not self.slack_bot_token)

    @property
    def has_slack_tokens(self) -> bool:
        return bool(self.slack_bot_token) or self.oauth_mode

    def require_socket_mode(self) -> None:
        """`rebound run` needs the bot token and the app-level token."""
        _require(self.slack_bot_token, "SLACK_BOT_TOKEN", "the bot token (xoxb-…)")
        _require(self.slack_app_token, "SLACK_APP_TOKEN", "an app-level token (xapp-…)")

    def require_http_mode(self) -> None:
        """`rebound serve` needs the signing secret and either the bot token (one workspace) or
        the OAuth credentials plus a key to encrypt the workspaces' tokens with."""
        if self.oauth_mode:
            self.require_encryption_key()
        else:
            _require(self.slack_bot_token, "SLACK_BOT_TOKEN", "the bot token (xoxb-…)")
        _require(self.slack_signing_secret, "SLACK_SIGNING_SECRET", "the app's signing secret")

    def require_encryption_key(self) -> None:
        if not self.encryption_key:
            raise ConfigError(
                "REBOUND_ENCRYPTION_KEY",
                "not set; installs store Slack tokens encrypted with it — make one with "
                f"{MAKE_ENCRYPTION_KEY} and put it in .env (keep it: without it stored tokens "
                "are unreadable)",
            )


def _require(value: str | None, variable: str, what: str) -> None:
    if not value:
        raise ConfigError(
            variable,
            f"not set; put {what} in .env (see .env.example) — "
            "Slack shows it at api.slack.com/apps under your app",
        )


def _clean(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _slack_token(
    environ: Mapping[str, str], name: str, prefix: str, what: str, where: str
) -> str | None:
    """The token in `name`, if set; Slack's tokens of that kind start with `prefix`, and `where`
    says where Slack shows it."""
    token = _clean(environ, name)
    if token and not token.startswith(prefix):
        raise ConfigError(name, f"must be {what} starting with '{prefix}' ({where})")
    return token


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate every setting; raise ConfigError for the first bad one."""
    bot_token = _slack_token(
        environ,
        "SLACK_BOT_TOKEN",
        "xoxb-",
        "a bot token",
        "OAuth & Permissions → Bot User OAuth Token",
    )
    app_token = _slack_token(
        environ,
        "SLACK_APP_TOKEN",
        "xapp-",
        "an app-level token",
        "Basic Information → App-Level Tokens, scope connections:write",
    )
    signing_secret = _clean(environ, "SLACK_SIGNING_SECRET")
    if signing_secret and not re.fullmatch(r"[0-9A-Za-z]{8,}", signing_secret):
        raise ConfigError(
            "SLACK_SIGNING_SECRET",
            "looks malformed; copy the Signing Secret from Basic Information → App Credentials",
        )

    api_url = _clean(environ, "SLACK_API_URL") or DEFAULT_SLACK_API_URL
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            "SLACK_API_URL",
            f"{api_url!r} is not an http(s) URL; leave it unset to use {DEFAULT_SLACK_API_URL}",
        )
    if not api_url.endswith("/"):
        api_url += "/"

    database_url = _clean(environ, "DATABASE_URL") or DEFAULT_DATABASE_URL
    _check_database_url(database_url)

    admins_raw = _clean(environ, "REBOUND_ADMINS") or ""
    admins = frozenset(part.strip() for part in admins_raw.split(",") if part.strip())
    bad = sorted(a for a in admins if not _USER_ID.match(a))
    if bad:
        raise ConfigError(
            "REBOUND_ADMINS",
            f"{', '.join(bad)} is not a Slack user ID; use comma-separated IDs like U012ABCDEF "
            "(profile → ⋮ → Copy member ID)",
        )

    encryption_key = _clean(environ, "REBOUND_ENCRYPTION_KEY")
    if encryption_key is not None:
        _check_encryption_key(encryption_key)

    send_rate = _clean(environ, "REBOUND_SEND_RATE")
    try:
        send_rate_per_second = float(send_rate) if send_rate else 10.0
    except ValueError:
        send_rate_per_second = -1.0
    if not 0 < send_rate_per_second <= 1000:
        raise ConfigError(
            "REBOUND_SEND_RATE",
            f"{send_rate!r} is not a rate; use messages per second per process, e.g. 10",
        )

    client_id = _clean(environ, "SLACK_CLIENT_ID")
    client_secret = _clean(environ, "SLACK_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            missing,
            "not set; installing in many workspaces needs both SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (Basic Information → App Credentials)",
        )

    public_url = _clean(environ, "REBOUND_PUBLIC_URL")
    if public_url is not None:
        parsed_public = urlparse(public_url)
        if parsed_public.scheme not in ("http", "https") or not parsed_public.netloc:
            raise ConfigError(
                "REBOUND_PUBLIC_URL",
                f"{public_url!r} is not an http(s) URL; use the address Slack and your CRM reach "
                "Rebound at, e.g. https://rebound.example.com",
            )
        public_url = public_url.rstrip("/")
    hubspot_secret = _clean(environ, "HUBSPOT_CLIENT_SECRET")
    hubspot_token = _clean(environ, "HUBSPOT_ACCESS_TOKEN")
    many_workspaces = bool(client_id and client_secret and not bot_token)
    # With many workspaces each connects its own portal in /rebound settings; a client secret
    # alone is then the deployment's own HubSpot app's, signing for portals that give none.
    if bool(hubspot_secret) != bool(hubspot_token) and not (many_workspaces and hubspot_secret):
        missing = "HUBSPOT_ACCESS_TOKEN" if hubspot_secret else "HUBSPOT_CLIENT_SECRET"
        raise ConfigError(
            missing,
            "not set; HubSpot needs both HUBSPOT_CLIENT_SECRET (your app's Auth tab → Client "
            "secret) and HUBSPOT_ACCESS_TOKEN (the private app's access token)",
        )
    if hubspot_secret and public_url is None:
        raise ConfigError(
            "REBOUND_PUBLIC_URL",
            "not set; HubSpot signs the full URL it calls, so Rebound needs its public address "
            "(e.g. https://rebound.example.com) to check the signature",
        )
    hubspot_api_url = (_clean(environ, "HUBSPOT_API_URL") or DEFAULT_HUBSPOT_API_URL).rstrip("/")
    parsed_hubspot = urlparse(hubspot_api_url)
    if parsed_hubspot.scheme not in ("http", "https") or not parsed_hubspot.netloc:
        raise ConfigError(
            "HUBSPOT_API_URL",
            f"{hubspot_api_url!r} is not an http(s) URL; leave it unset to use "
            f"{DEFAULT_HUBSPOT_API_URL}",
        )

    salesforce = _salesforce_settings(environ)
    return Settings(
        **salesforce,
        public_url=public_url,
        hubspot_client_secret=hubspot_secret,
        hubspot_access_token=hubspot_token,
        hubspot_api_url=hubspot_api_url,
        send_rate_per_second=send_rate_per_second,
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=api_url,
        database_url=database_url,
        admins=admins,
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        encryption_key=encryption_key,
    )


# A path token an attacker could guess would let them post deals: 32 characters at least.
MIN_SALESFORCE_TOKEN = 32
MAKE_SALESFORCE_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def _salesforce_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    token = _clean(environ, "SALESFORCE_OUTBOUND_TOKEN")
    if token is not None and (
        len(token) < MIN_SALESFORCE_TOKEN or not re.fullmatch(r"[A-Za-z0-9_-]+", token)
    ):
        raise ConfigError(
            "SALESFORCE_OUTBOUND_TOKEN",
            f"must be at least {MIN_SALESFORCE_TOKEN} letters, digits, - or _ (it is the "
            f"secret in the Outbound Message's URL); make one with {MAKE_SALESFORCE_TOKEN}",
        )
    org_id = _clean(environ, "SALESFORCE_ORG_ID")
    if org_id is not None and not re.fullmatch(r"00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?", org_id):
        raise ConfigError(
            "SALESFORCE_ORG_ID",
            f"{org_id!r} is not an org id; Salesforce shows it in Setup → Company Information "
            "→ Salesforce.com Organization ID (15 or 18 characters, starting 00D)",
        )
    field_name = _clean(environ, "SALESFORCE_OWNER_EMAIL_FIELD") or "Owner_Email__c"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,79}", field_name):
        raise ConfigError(
            "SALESFORCE_OWNER_EMAIL_FIELD",
            f"{field_name!r} is not a field's API name (e.g. Owner_Email__c)",
        )
    api_url = _clean(environ, "SALESFORCE_API_URL")
    if api_url is not None:
        parsed = urlparse(api_url)
        if parsed.scheme != "https" or not parsed.netloc or parsed.path not in ("", "/"):
            raise ConfigError(
                "SALESFORCE_API_URL",
                f"{api_url!r} is not an https origin; use your My Domain, e.g. "
                "https://acme.my.salesforce.com, or leave it unset",
            )
        api_url = f"https://{parsed.netloc}"
    if token is None and (org_id or api_url):
        raise ConfigError(
            "SALESFORCE_OUTBOUND_TOKEN",
            f"not set; Salesforce's Outbound Messages need it (make one with "
            f"{MAKE_SALESFORCE_TOKEN})",
        )
    return {
        "salesforce_outbound_token": token,
        "salesforce_org_id": org_id,
        "salesforce_owner_email_field": field_name,
        "salesforce_api_url": api_url,
    }


def _check_encryption_key(key: str) -> None:
    from cryptography.fernet import Fernet

    try:
        Fernet(key.encode())
    except ValueError:
        raise ConfigError(
            "REBOUND_ENCRYPTION_KEY",
            f"is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
            f"{MAKE_ENCRYPTION_KEY}",
        ) from None


def _check_database_url(url: str) -> None:
    hint = "use sqlite:///rebound.db or postgresql://user:password@host:5432/dbname"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL", f"{url!r} is not a database URL; {hint}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError("DATABASE_URL", f"{backend!r} is not supported; {hint}")
    if backend == "sqlite" and (parsed.database in (None, "", ":memory:") or "mode=memory" in url):
        # An in-memory database lives in one connection: the migrations' own engine would
        # leave the app's empty, and the request threads and the dispatcher's would share it.
        raise ConfigError(
            "DATABASE_URL",
            f"{url!r} is an in-memory SQLite database, which the app can't share between its "
            f"threads and loses at every restart; {hint}",
        )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


def load_logging(environ: Mapping[str, str]) -> tuple[str, str]:
    """LOG_LEVEL and LOG_FORMAT, checked (read before everything else, to log the rest)."""
    level = (_clean(environ, "LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            "LOG_LEVEL", f"{level!r} is not a level; use one of {', '.join(LOG_LEVELS)}"
        )
    log_format = (_clean(environ, "LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError("LOG_FORMAT", f"{log_format!r} is not a format; use text or json")
    return level, log_format


def load_port(environ: Mapping[str, str], default: int = 3000) -> int:
    raw = _clean(environ, "PORT")
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError("PORT", f"{raw!r} is not a port number; use e.g. 3000")
    return int(raw)
