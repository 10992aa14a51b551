"""`/rebound help`: every command with an example (a pure Block Kit builder)."""

from __future__ import annotations

from typing import Any

from bot.blocks.kit import escape_mrkdwn, header, section
from bot.slack_text import truncate

# (command, what it does, example) — the order a new user meets them.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "/lost",
        "Debrief a lost deal. A lost opportunity is feedback — there's a lesson in it somewhere.",
        "/lost Acme renewal",
    ),
    (
        "/won",
        "Log a win, and how much of it was process and how much luck.",
        "/won Globex expansion",
    ),
    (
        "/kudos",
        "Recognise a teammate in the recognition channel.",
        "/kudos @dana #resilience Came back from three losses with a clean discovery call",
    ),
    (
        "/checkin",
        "Open this week's check-in any time; `pause 2w` on holiday, `resume` when back.",
        "/checkin",
    ),
    ("/goal", "Set a SMART goal for this cycle, or see your progress.", "/goal"),
    (
        "/rebound lessons",
        "Search your lessons and the ones your teammates shared (managers: your team's).",
        "/rebound lessons pricing",
    ),
    (
        "/rebound report",
        "Managers: your team's quadrant and loss-reason charts in your DM "
        "(`@rep` for their bounce-back timeline).",
        "/rebound report",
    ),
    (
        "/rebound export",
        "Get everything Rebound keeps about you as files in your DM "
        "(admins: `/rebound export workspace`).",
        "/rebound export",
    ),
    (
        "/rebound forget-me",
        "Delete everything Rebound keeps about you (asks first).",
        "/rebound forget-me",
    ),
    (
        "/rebound delete-workspace-data",
        "Admins: delete all of this workspace's Rebound data now (asks first).",
        "/rebound delete-workspace-data",
    ),
    (
        "/rebound settings",
        "Admins: recognition channel, teams, check-in time, kudos, goal cycle, reminders.",
        "/rebound settings",
    ),
    ("/rebound help", "This list.", "/rebound help"),
)


def help_message(*, unknown: str | None = None) -> dict[str, Any]:
    """The ephemeral help reply; `unknown` is a subcommand we did not recognise."""
    blocks: list[dict[str, Any]] = []
    if unknown:
        blocks.append(
            section(
                f"I don't know `{escape_mrkdwn(_shorten(unknown))}` yet — here is what I can do."
            )
        )
    blocks.append(header("Rebound — how to use it"))
    blocks.append(
        section(
            "Every win and every loss has a lesson. Rebound helps you capture it, celebrate the "
            "*perfect miss*, and bounce back."
        )
    )
    for command, what, example in COMMANDS:
        blocks.append(section(f"*{command}* — {what}\n_e.g._ `{example}`"))
    text = "Rebound commands: " + ", ".join(c for c, _, _ in COMMANDS)
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


def _shorten(word: str, limit: int = 40) -> str:
    return truncate(word.replace("`", "'"), limit)
