"""Settings: every bad value gets one clear line naming the variable, and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, DEFAULT_SLACK_API_URL, ConfigError, load_settings


def test_defaults_need_no_configuration() -> None:
    settings = load_settings({})
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.admins == frozenset()
    assert not settings.has_slack_tokens


def test_values_are_read_and_cleaned() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": " xoxb-1-2-abc ",
            "SLACK_SIGNING_SECRET": "abc123def456",
            "SLACK_APP_TOKEN": "xapp-1-A1-2-xyz",
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "DATABASE_URL": "postgresql://u:p@db:5432/rebound",
            "REBOUND_ADMINS": "U012ABC, W0456DEF,",
        }
    )
    assert settings.slack_bot_token == "xoxb-1-2-abc"
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.admins == {"U012ABC", "W0456DEF"}
    assert settings.has_slack_tokens


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", "xapp-"),
        ("SLACK_SIGNING_SECRET", "short!", "Signing Secret"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL"),
        ("DATABASE_URL", "not a url", "not a database URL"),
        ("DATABASE_URL", "mysql://u@h/db", "not supported"),
        ("DATABASE_URL", "sqlite:///:memory:", "in-memory"),
        ("DATABASE_URL", "sqlite://", "in-memory"),
        ("REBOUND_ADMINS", "U012ABC,alice", "alice"),
        ("REBOUND_SEND_RATE", "fast", "not a rate"),
        ("REBOUND_SEND_RATE", "0", "not a rate"),
        ("REBOUND_PUBLIC_URL", "rebound.example.com", "not an http(s) URL"),
        ("HUBSPOT_API_URL", "api.hubapi.com", "not an http(s) URL"),
    ],
)
def test_malformed_values_name_the_variable(variable: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}:")
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"HUBSPOT_CLIENT_SECRET": "s3cret"}, "HUBSPOT_ACCESS_TOKEN", "private app"),
        ({"HUBSPOT_ACCESS_TOKEN": "pat-na1-x"}, "HUBSPOT_CLIENT_SECRET", "Client secret"),
        (
            {"HUBSPOT_CLIENT_SECRET": "s3cret", "HUBSPOT_ACCESS_TOKEN": "pat-na1-x"},
            "REBOUND_PUBLIC_URL",
            "signs the full URL",
        ),
    ],
)
def test_hubspot_needs_its_secret_its_token_and_the_public_url(
    env: dict[str, str], variable: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert message.startswith(f"{variable}:") and words in message
    assert "\n" not in message


def test_many_workspaces_may_set_the_hubspot_client_secret_alone() -> None:
    """In OAuth mode each workspace connects its own portal; the deployment's own app's secret
    may sign for portals connected without one, with no access token of its own."""
    oauth = {
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "x",
        "HUBSPOT_CLIENT_SECRET": "s3cret",
        "REBOUND_PUBLIC_URL": "https://rebound.example.com",
    }
    settings = load_settings(oauth)
    assert settings.oauth_mode and settings.hubspot_client_secret == "s3cret"
    assert not settings.hubspot_enabled  # no one workspace's HubSpot
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN"):
        load_settings({**oauth, "SLACK_BOT_TOKEN": "xoxb-1"})  # one workspace: both needed


def test_hubspot_settings_are_read() -> None:
    settings = load_settings(
        {
            "HUBSPOT_CLIENT_SECRET": " s3cret ",
            "HUBSPOT_ACCESS_TOKEN": "pat-na1-x",
            "REBOUND_PUBLIC_URL": "https://rebound.example.com/",
        }
    )
    assert settings.hubspot_enabled
    assert settings.hubspot_client_secret == "s3cret"
    assert settings.public_url == "https://rebound.example.com"
    assert settings.hubspot_api_url == "https://api.hubapi.com"
    assert not load_settings({}).hubspot_enabled


def test_modes_require_their_tokens() -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}).require_socket_mode()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}).require_http_mode()
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings({}).require_http_mode()


def _rebound(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "variable"),
    [
        (["serve", "--port", "0"], {"SLACK_BOT_TOKEN": "oops"}, "SLACK_BOT_TOKEN"),
        (["serve", "--port", "0"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        (["run"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
        (
            ["db", "upgrade"],
            {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "DATABASE_URL",
        ),
        (["db", "upgrade"], {"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        (["db", "upgrade"], {"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        (["serve"], {"PORT": "abc", "SLACK_BOT_TOKEN": "xoxb-1"}, "PORT"),
        (["serve", "--port", "0"], {"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_SECRET"),
    ],
)
def test_cli_reports_configuration_errors_in_one_line_with_exit_code_2(
    tmp_path: Path, args: list[str], env: dict[str, str], variable: str
) -> None:
    result = _rebound(args, env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_cli_reads_dot_env_from_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=not-a-bot-token\n")
    result = _rebound(["serve", "--port", "0"], {}, tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = _rebound(["--help"], {"PORT": "not-a-port"}, tmp_path)  # help needs no settings
    assert result.returncode == 0
    for command in ("start", "run", "serve", "db", "demo"):
        assert command in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = _rebound(["db", "upgrade"], {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.db").exists()
    assert "up to date" in result.stdout


def test_json_logs_are_one_object_a_line(tmp_path: Path) -> None:
    import json

    result = _rebound(
        ["db", "upgrade"],
        {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "expected some debug logs"
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= entry.keys()
