"""What Slack does to a slash command's text before it sends it: escaping `&`, `<` and `>`,
and, with the command's manifest `should_escape` on, turning a typed `@name` or `#channel` into
Slack's `<@U…|name>` / `<#C…|name>` (testkit.simulator sends it)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

# The repository's manifest.yml (beside the `testkit` package in a checkout), else one in the
# working directory.
_MANIFEST_NEAR_PACKAGE = Path(__file__).resolve().parents[1] / "manifest.yml"


class Directory(Protocol):
    """Who and what a name points at in the workspace, as Slack resolves `@name` and `#name`
    when it escapes a command's text. The Slack stand-in is one."""

    def user_id_named(self, name: str) -> str | None: ...

    def channel_id_named(self, name: str) -> str | None: ...

    def usergroup_id_named(self, handle: str) -> str | None: ...


@dataclass(frozen=True)
class NameDirectory:
    """A fixed name -> id directory, consulted before `then` (e.g. the stand-in). For a person
    Slack's composer knows but `users.info` can't find, or a channel only one test has."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    usergroups: Mapping[str, str] = field(default_factory=dict)  # handle -> S… id
    then: Directory | None = None

    def user_id_named(self, name: str) -> str | None:
        found = self.users.get(name)
        return found or (self.then.user_id_named(name) if self.then else None)

    def channel_id_named(self, name: str) -> str | None:
        found = self.channels.get(name)
        return found or (self.then.channel_id_named(name) if self.then else None)

    def usergroup_id_named(self, handle: str) -> str | None:
        found = self.usergroups.get(handle)
        return found or (self.then.usergroup_id_named(handle) if self.then else None)


def manifest_path() -> Path:
    for path in (_MANIFEST_NEAR_PACKAGE, Path.cwd() / "manifest.yml"):
        if path.is_file():
            return path
    raise FileNotFoundError(
        "manifest.yml not found beside the testkit package or in the working directory: the "
        "simulator reads each slash command's should_escape from it"
    )


@functools.lru_cache(maxsize=16)
def _should_escape_by_command(path: Path, modified_ns: int) -> dict[str, bool]:
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    commands = manifest["features"]["slash_commands"]
    # The manifest schema's default for should_escape is false.
    return {entry["command"]: bool(entry.get("should_escape", False)) for entry in commands}


def should_escape(command: str, manifest: Path | None = None) -> bool:
    """The `should_escape` manifest.yml sets for `command` (read once per file version)."""
    path = (manifest or manifest_path()).resolve()
    escapes = _should_escape_by_command(path, path.stat().st_mtime_ns)
    if command not in escapes:
        raise ValueError(f"{command} is not a slash command in {path}; Slack would not send it")
    return escapes[command]


def escape_text(text: str) -> str:
    """`&`, `<` and `>` as Slack escapes them in all text, slash command text included
    (https://docs.slack.dev/messaging/formatting-message-text#escaping-text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# A link, an @-name (dots only inside it, so "@leo." ends at "leo") or a #channel, as typed.
_TYPED_REFERENCE = re.compile(
    r"(?P<link>https?://[^\s<>]+)"
    r"|@(?P<user>[\w-]+(?:\.[\w-]+)*)"
    r"|#(?P<channel>[\w-]+)"
)
_SPECIAL_MENTIONS = frozenset({"here", "channel", "everyone"})


def command_text_as_sent(typed: str, *, escape: bool, directory: Directory | None) -> str:
    """The `text` Slack sends for a slash command typed as `typed`.

    `&`, `<` and `>` always arrive as `&amp;`, `&lt;` and `&gt;`. With "Escape channels, users,
    and links sent to your app" on (manifest `should_escape: true`), Slack also turns `@name`
    into `<@U…|name>` (a user group's `@handle` into `<!subteam^S…|@handle>`), `#channel` into
    `<#C…|channel>`, `@here` into `<!here>` and links into `<https://…>`; with it off,
    they arrive as typed (https://docs.slack.dev/interactivity/implementing-slash-commands; the
    manifest's should_escape is that setting: "channel, user, and link references in the
    command's text are escaped ... matching the slash-command should_escape behavior. Absent is
    treated as false", https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/
    AgentsConversationsSetCommandsArguments/). A name nobody has stays plain text."""
    if not escape:
        return escape_text(typed)
    sent: list[str] = []
    position = 0
    for match in _TYPED_REFERENCE.finditer(typed):
        sent.append(escape_text(typed[position : match.start()]))
        position = match.end()
        sent.append(_reference_as_sent(match, directory))
    sent.append(escape_text(typed[position:]))
    return "".join(sent)


def _reference_as_sent(match: re.Match[str], directory: Directory | None) -> str:
    if link := match.group("link"):
        return f"<{escape_text(link)}>"
    if (name := match.group("user")) is not None:
        if name in _SPECIAL_MENTIONS:
            return f"<!{name}>"
        if directory is not None:
            if user_id := directory.user_id_named(name):
                return f"<@{user_id}|{name}>"
            if group_id := directory.usergroup_id_named(name):
                return f"<!subteam^{group_id}|@{name}>"
        return escape_text(match.group(0))
    name = match.group("channel")
    channel_id = directory.channel_id_named(name) if directory else None
    return f"<#{channel_id}|{name}>" if channel_id else escape_text(match.group(0))
