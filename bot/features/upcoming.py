"""Commands whose features are not switched on in this version answer honestly instead of
leaving Slack to show "dispatch_failed"."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.app import Deps

NOT_YET: tuple[str, ...] = ()


def register(app: App, deps: Deps) -> None:
    def not_yet(ack: Ack, command: dict[str, Any]) -> None:
        ack(
            response_type="ephemeral",
            text=(
                f"`{command['command']}` isn't switched on in this version of Rebound yet. "
                "`/rebound help` shows what is."
            ),
        )

    for name in NOT_YET:
        app.command(name)(not_yet)
