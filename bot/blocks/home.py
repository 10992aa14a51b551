"""The Home tab (a pure Block Kit builder)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.blocks.crm import unmatched_deals_text
from bot.blocks.help import COMMANDS
from bot.blocks.kit import context, divider, header, section
from bot.blocks.kudos import kudos_received_text
from bot.blocks.settings import WEEKDAYS


@dataclass(frozen=True)
class HomeFacts:
    user_id: str
    display_name: str
    tz: str
    manager_user_id: str | None
    report_user_ids: Sequence[str]
    recognition_channel_id: str | None
    checkin_weekday: int
    checkin_hour: int
    is_admin: bool
    # Kudos this person received, per category (see bot.domain.kudos.CATEGORIES).
    kudos_received: Mapping[str, int] = field(default_factory=dict)
    # False for people who get no weekly check-in (e.g. a manager who reports to nobody).
    gets_checkins: bool = True
    checkins_paused_until: str | None = None  # a date, already in the person's words
    # Admins: closed deals from the CRM kept but offered to nobody (no owner, no Slack match).
    unmatched_crm_deals: int = 0


# Slack's limit on blocks in a Home view.
MAX_HOME_BLOCKS = 100


def home_view(facts: HomeFacts, dashboard: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The Home view; `dashboard` (bot.blocks.dashboard) goes between the facts and the help."""
    first_name = (facts.display_name.split() or ["there"])[0]
    blocks: list[dict[str, Any]] = [
        header(f"Hi {first_name} 👋"),
        section(
            "Rebound turns every deal into a lesson. Debrief a loss with `/lost`, log a win with "
            "`/won`, and we'll celebrate the *perfect miss* — a loss where you did everything "
            "right — and every bounce-back. Nothing about you goes up in a channel unless you "
            "say yes."
        ),
    ]
    team_lines = []
    if facts.manager_user_id:
        team_lines.append(f"You report to <@{facts.manager_user_id}>.")
    if facts.report_user_ids:
        reps = ", ".join(f"<@{rep}>" for rep in facts.report_user_ids[:30])
        more = len(facts.report_user_ids) - 30
        team_lines.append(f"Your team: {reps}" + (f" and {more} more" if more > 0 else "") + ".")
    if not facts.gets_checkins:
        checkin = (
            "Your reps' check-ins reach you as a weekly digest." if facts.report_user_ids else ""
        )
    elif facts.checkins_paused_until:
        checkin = (
            f"Weekly check-ins are paused until {facts.checkins_paused_until} "
            "(`/checkin resume` brings them back)."
        )
    else:
        checkin = (
            f"Weekly check-in: {WEEKDAYS[facts.checkin_weekday]}s at "
            f"{facts.checkin_hour:02d}:00 your time ({facts.tz})."
        )
    channel = (
        f"Recognition channel: <#{facts.recognition_channel_id}>."
        if facts.recognition_channel_id
        else "No recognition channel yet"
        + (" — set one with `/rebound settings`." if facts.is_admin else " — an admin sets it.")
    )
    blocks.append(section("\n".join(line for line in [*team_lines, checkin, channel] if line)))
    blocks.append(section(kudos_received_text(facts.kudos_received)))
    if facts.is_admin and facts.unmatched_crm_deals > 0:
        blocks.append(section(unmatched_deals_text(facts.unmatched_crm_deals)))
    # The dashboard gives way first, so the view stays within Slack's block limit.
    blocks.extend(list(dashboard)[: MAX_HOME_BLOCKS - len(blocks) - 3])
    blocks.append(divider())
    blocks.append(
        section(
            "*What you can do*\n"
            + "\n".join(f"• `{example}` — {what}" for _, what, example in COMMANDS[:5])
        )
    )
    blocks.append(
        context(
            "“Negative feedback, as painful as it may be, is a learning opportunity.” Type "
            "`/rebound help` any time."
        )
    )
    return {"type": "home", "blocks": blocks}
