"""Placeholder: the debriefs feature is being built; it registers nothing yet."""

from __future__ import annotations

from slack_bolt import App

from bot.app import Deps


def register(app: App, deps: Deps) -> None:
    return None
