"""Home-tab dashboards as pure Block Kit builders: a rep's and a manager's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.blocks.goals import QUADRANT_EMOJI, day_month, goal_progress_lines
from bot.blocks.kit import actions, button, context, divider, escape_mrkdwn, header, section
from bot.blocks.resilience import fastest_recoveries_text, losing_streaks_text
from bot.domain import CLASSIFICATION_LABELS, Classification, format_duration
from bot.domain.calibration import calibrated_words
from bot.domain.dashboard import ManagerDashboard, RepDashboard, Streak, TeamRow
from bot.domain.goals import NOT_ENOUGH_TO_CALL
from bot.domain.pareto import (
    MIN_PARETO_LOSSES,
    control_split,
    control_summary,
    control_tag,
    too_early_text,
)
from bot.slack_text import plural, truncate

# Home views hold at most 100 blocks; the dashboards together stay well under half of that.
MAX_DASHBOARD_BLOCKS = 45
MAX_LESSON_CHARS = 280
HOME_LOST_ACTION_ID = "home_open_lost"
HOME_WON_ACTION_ID = "home_open_won"
HOME_CHECKIN_ACTION_ID = "home_open_checkin"


def _context(text: str) -> dict[str, Any]:
    # Shorter than the kit's default, as the dashboard's notes always were.
    return context(text, limit=2000)


def record_line(record: dict[str, int]) -> str:
    return " · ".join(
        f"{QUADRANT_EMOJI[c]} {CLASSIFICATION_LABELS[c]} {record.get(c.value, 0)}"
        for c in Classification
    )


def rep_dashboard_blocks(
    dashboard: RepDashboard, *, action_buttons: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The rep's goal, this cycle's record, resilience, recent lessons and quick actions."""
    blocks: list[dict[str, Any]] = [divider(), header("Your goal")]
    if dashboard.progress is not None:
        blocks.append(section(goal_progress_lines(dashboard.progress)))
    else:
        blocks.append(section("No goal for this cycle yet. Set a SMART one with `/goal`."))
    cycle = f"{day_month(dashboard.cycle_start)} – {day_month(dashboard.cycle_end)}"
    blocks.append(section(f"*This cycle* ({cycle})\n{record_line(dashboard.record)}"))
    if dashboard.calibrated:
        blocks.append(
            _context(
                f"Of these, {calibrated_words(dashboard.calibrated, for_rep=True)}: "
                "their view is the one counted here, and yours is kept too."
            )
        )
    resilience = dashboard.resilience
    recovery = (
        format_duration(resilience.median_recovery)
        if resilience.median_recovery is not None
        else "—"
    )
    blocks.append(
        section(
            "*Resilience*\n"
            f"Bounce-backs: {resilience.bounce_backs} · Median recovery: {recovery} · "
            f"Current streak: {dashboard.streak.describe()}"
        )
    )
    if dashboard.outcomes_considered:
        count = dashboard.outcomes_considered
        blocks.append(
            _context(
                "From your last outcome." if count == 1 else f"From your last {count:,} outcomes."
            )
        )
    if dashboard.lessons:
        # The rep's own words: shortened first, then escaped, so no entity is cut in half.
        lines = [
            f"• _{escape_mrkdwn(truncate(' '.join(lesson.answer.split()), MAX_LESSON_CHARS))}_"
            for lesson in dashboard.lessons
        ]
        blocks.append(section("*Recent lessons*\n" + "\n".join(lines)))
    else:
        blocks.append(section("*Recent lessons*\nThe lessons from your debriefs gather here."))
    if action_buttons:
        blocks.append(actions(*list(action_buttons)[:5]))
    return blocks


def home_action_buttons() -> list[dict[str, Any]]:
    """Buttons that open the same modals as /lost, /won and /checkin."""
    return [
        button(label, action_id)
        for action_id, label in (
            (HOME_LOST_ACTION_ID, "Debrief a loss"),
            (HOME_WON_ACTION_ID, "Log a win"),
            (HOME_CHECKIN_ACTION_ID, "This week's check-in"),
        )
    ]


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "no debrief yet"
    return f"last debrief {format_duration(max(now - moment, timedelta(0)))} ago"


def streak_label(streak: Streak) -> str:
    """The streak with its name, for a table row where a bare "1 loss" would read as a count."""
    if streak.kind is None or streak.length == 0:
        return "no outcomes yet"
    return f"{'winning' if streak.kind == 'win' else 'losing'} streak: {streak.length}"


def team_row_line(row: TeamRow, now: datetime) -> str:
    words = calibrated_words(row.calibrated, for_rep=False)
    calibrated = f", {words}" if words else ""
    if row.quadrant is not None and row.attainment_ratio is not None:
        quadrant = (
            f"{QUADRANT_EMOJI[row.quadrant]} {CLASSIFICATION_LABELS[row.quadrant]} so far "
            f"({row.attainment_ratio:.0%} of goal{calibrated})"
        )
    elif row.too_early is not None:
        ratio = f", {row.attainment_ratio:.0%} of goal" if row.attainment_ratio is not None else ""
        quadrant = f"{NOT_ENOUGH_TO_CALL} ({row.too_early}{ratio}{calibrated})"
    else:
        quadrant = "no goal set"
    checkins = (
        f"check-ins {row.checkins_answered}/{row.checkins_sent}"
        if row.checkins_sent
        else "no check-ins yet"
    )
    return (
        f"<@{row.user_id}> · {quadrant} · {checkins} · {_ago(row.last_debrief_at, now)} · "
        f"{streak_label(row.streak)}"
    )


def manager_dashboard_blocks(dashboard: ManagerDashboard, *, now: datetime) -> list[dict[str, Any]]:
    """The team table, the Pareto of loss reasons and who may need a coaching conversation."""
    blocks: list[dict[str, Any]] = [divider(), header("Your team")]
    if not dashboard.rows:
        blocks.append(section("Nobody reports to you in Rebound yet."))
        return blocks
    for row in dashboard.rows:
        blocks.append(section(team_row_line(row, now)))
    if dashboard.more_reps:
        blocks.append(_context(f"…and {dashboard.more_reps} more. `/rebound report` has them all."))
    blocks.append(
        section(
            why_we_lose_text(dashboard.loss_reasons, dashboard.vital_few, dashboard.pareto_days)
        )
    )
    blocks.append(section(losing_streaks_text(dashboard.on_streak)))
    blocks.append(section(fastest_recoveries_text(dashboard.fastest)))
    if dashboard.coaching:
        lines = [f"• <@{user_id}>: {why}" for user_id, why in dashboard.coaching[:15]]
        blocks.append(section("*Who may need coaching*\n" + "\n".join(lines)))
    else:
        blocks.append(section("*Who may need coaching*\nNobody stands out right now."))
    blocks.append(_context("`/rebound report` sends the charts to your DM."))
    return blocks[:MAX_DASHBOARD_BLOCKS]


def why_we_lose_text(
    reasons: Sequence[tuple[str, int]], vital_few: Sequence[str], days: int
) -> str:
    """Seed 004's Pareto in words: each reason's count and cumulative share and the few reasons
    behind most losses; below MIN_PARETO_LOSSES losses, the counts alone and that it is too
    early for a pattern."""
    total = sum(count for _, count in reasons)
    period = plural(days, "day", "days")
    if not total:
        return f"*Why we lose*\nNo losses logged in the last {period}."
    heading = f"*Why we lose* (last {period}, {plural(total, 'loss', 'losses')})\n"
    if total < MIN_PARETO_LOSSES:
        lines = [
            f"• {escape_mrkdwn(reason or 'No reason given')} — {count} · _{control_tag(reason)}_"
            for reason, count in reasons[:8]
        ]
        return (
            heading
            + "\n".join(lines)
            + f"\n{too_early_text(total)}\n"
            + control_summary(control_split(reasons))
        )
    lines = []
    running = 0
    for reason, count in reasons[:8]:
        running += count
        lines.append(
            f"• {escape_mrkdwn(reason or 'No reason given')} — {count} "
            f"({running / total:.0%} cumulative) · _{control_tag(reason)}_"
        )
    few = ", ".join(escape_mrkdwn(reason) for reason in vital_few[:5])
    return (
        heading
        + "\n".join(lines)
        + f"\nThe few reasons behind most losses: *{few}*.\n"
        + control_summary(control_split(reasons))
    )
