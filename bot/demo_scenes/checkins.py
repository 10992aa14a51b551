"""Placeholder: the checkins feature's demo scene is being written."""

from __future__ import annotations

from bot.demo import DemoContext


def play(ctx: DemoContext) -> None:
    return None
