"""manifest.yml is a Slack app manifest that Slack's own JSON Schema accepts.

The schema is Slack's own (slackapi/manifest-schema, MIT). The reference copy lives in the shared
data beside the repository (``../shared/slack``), as in CI; ``tests/support/manifest_schema/``
carries a verbatim copy so a clone on its own can run the suite too, and a test keeps the two
identical.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.protocols import Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PATH = REPO_ROOT / "manifest.yml"
SHARED_SCHEMA_PATH = REPO_ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
VENDORED_SCHEMA_PATH = (
    REPO_ROOT / "tests" / "support" / "manifest_schema" / "manifest.schema.1.0.0.json"
)
SCHEMA_PATH = SHARED_SCHEMA_PATH if SHARED_SCHEMA_PATH.is_file() else VENDORED_SCHEMA_PATH

EXPECTED_COMMANDS: dict[str, tuple[str, str | None]] = {
    "/lost": ("Debrief a lost deal", "[deal name]"),
    "/won": ("Log a win", "[deal name]"),
    "/kudos": ("Recognise a teammate", "@person #category message"),
    "/checkin": ("Open this week's check-in", "[pause 2w | resume]"),
    # The schema forbids an empty usage_hint (minLength 1), so /goal has none.
    "/goal": ("Set or view your SMART goal", None),
    "/rebound": (
        "Help, settings, lessons and reports",
        "help | settings | lessons [words] | report | export | forget-me",
    ),
}
# /kudos @person, /rebound report @person.
COMMANDS_READING_MENTIONS = {"/kudos", "/rebound"}
LEAST_PRIVILEGE_BOT_SCOPES = {
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    # users.lookupByEmail: a CRM deal's owner, known to the CRM by email (bot.jobs.crm).
    "users:read.email",
    "files:write",
    "channels:read",
    # Reconciling a post whose outcome was lost (bot.dispatcher): the DM, the recognition channel.
    "im:history",
    "channels:history",
    # Reconciling an upload whose share's answer was lost: files.info on our own files.
    "files:read",
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "manifest.yml must be a YAML mapping"
    return loaded


@pytest.fixture(scope="module")
def validator() -> Validator:
    if not SCHEMA_PATH.is_file():
        pytest.fail(
            f"Slack manifest schema not found at {SHARED_SCHEMA_PATH} nor {VENDORED_SCHEMA_PATH}"
        )
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The validator class follows the schema's own "$schema" (draft-07 today).
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _errors(validator: Validator, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_manifest_is_valid_against_slack_schema(
    manifest: dict[str, Any], validator: Validator
) -> None:
    assert _errors(validator, manifest) == []


def test_validator_uses_the_schemas_draft(validator: Validator) -> None:
    assert isinstance(validator, jsonschema.Draft7Validator)


@pytest.mark.parametrize(
    ("breakage", "expected_path"),
    [
        (lambda m: m["display_information"].pop("name"), "display_information"),
        (lambda m: m["display_information"].update(name="R" * 36), "display_information/name"),
        (lambda m: m["features"]["slash_commands"][0].update(command="lost"), "features"),
        (lambda m: m["settings"].update(socket_mode="yes"), "settings"),
    ],
    ids=["name-missing", "name-too-long", "command-without-slash", "unknown-setting"],
)
def test_validator_rejects_broken_manifest(
    manifest: dict[str, Any],
    validator: Validator,
    breakage: Callable[[dict[str, Any]], object],
    expected_path: str,
) -> None:
    broken = copy.deepcopy(manifest)
    breakage(broken)
    errors = _errors(validator, broken)
    assert errors, "the schema should reject the broken manifest"
    assert any(error.startswith(expected_path) for error in errors), errors


def test_display_information(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert info["name"] == "Rebound"
    assert info["background_color"] == "#1f4e79"
    assert 0 < len(info["description"]) <= 140
    long_description = info["long_description"]
    assert 175 <= len(long_description) <= 4000
    for phrase in ("/lost", "perfect miss", "bounce-back", "kudos", "check-in", "SMART"):
        assert phrase in long_description, phrase
    for outcome in ("system-hit", "lucky-hit", "system-miss", "perfect-miss"):
        assert outcome in long_description, outcome
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}


def test_six_slash_commands_with_descriptions_and_hints(manifest: dict[str, Any]) -> None:
    commands = {entry["command"]: entry for entry in manifest["features"]["slash_commands"]}
    assert set(commands) == set(EXPECTED_COMMANDS)
    for name, (description, usage_hint) in EXPECTED_COMMANDS.items():
        entry = commands[name]
        assert entry["description"] == description, name
        assert entry.get("usage_hint") == usage_hint, name
        # Escaped where the command reads mentions: only then does Slack send @leo as
        # <@U123|leo> (https://docs.slack.dev/interactivity/implementing-slash-commands).
        assert entry["should_escape"] is (name in COMMANDS_READING_MENTIONS), name
        # Socket Mode: Slack sends commands over the socket, no public URL.
        assert "url" not in entry, name


def test_app_home_and_bot_user(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    assert features["bot_user"] == {"display_name": "Rebound", "always_online": True}


def test_settings_socket_mode_events_and_interactivity(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    assert settings["interactivity"]["is_enabled"] is True
    bot_events = settings["event_subscriptions"]["bot_events"]
    assert "app_home_opened" in bot_events
    assert set(bot_events) == {"app_home_opened", "app_uninstalled", "tokens_revoked"}


def test_bot_scopes_are_exactly_least_privilege(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "no user scopes"
    bot_scopes = scopes["bot"]
    assert len(bot_scopes) == len(set(bot_scopes)), "duplicate scope"
    assert set(bot_scopes) == LEAST_PRIVILEGE_BOT_SCOPES


def test_the_vendored_schema_is_slacks_reference_copy() -> None:
    if not SHARED_SCHEMA_PATH.is_file():
        pytest.skip("no shared/ beside this clone; the vendored copy is all there is")
    assert VENDORED_SCHEMA_PATH.read_bytes() == SHARED_SCHEMA_PATH.read_bytes()
