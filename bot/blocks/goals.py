"""Block Kit for goals: the /goal modal and its SMART checks, progress, and the cycle review."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bot.blocks.kit import (
    actions,
    button,
    context,
    escape_mrkdwn,
    header,
    input_block,
    modal,
    option,
    plain,
    section,
    state,
)
from bot.domain import (
    CLASSIFICATION_LABELS,
    CLASSIFICATION_SUMMARIES,
    COACHING_MESSAGES,
    Classification,
)
from bot.domain.calibration import calibrated_words
from bot.domain.goals import (
    MAX_CYCLE_DAYS,
    METRIC_LABELS,
    NOT_ENOUGH_TO_CALL,
    CycleReview,
    GoalProgress,
    GoalSubmission,
)
from bot.domain.money import format_money
from bot.domain.text import parse_decimal, parse_row_id, saveable_text

GOAL_CALLBACK_ID = "goal_modal"
CHANGE_GOAL_ACTION_ID = "goal_change"
MAX_WHY_LENGTH = 500
MAX_CUSTOM_METRIC_LENGTH = 60
MAX_TARGET = Decimal(10**12)
PROGRESS_BAR_WIDTH = 10

QUADRANT_EMOJI: dict[Classification, str] = {
    Classification.SYSTEM_HIT: "✅",
    Classification.LUCKY_HIT: "🍀",
    Classification.SYSTEM_MISS: "🔧",
    Classification.PERFECT_MISS: "🎉",
}


@dataclass(frozen=True)
class GoalDefaults:
    """What the modal starts with: the workspace's current cycle, or the goal being changed."""

    cycle_start: date
    cycle_end: date
    metric: str = "revenue"
    custom_metric: str | None = None
    target: float | None = None
    why: str | None = None
    goal_id: int | None = None


def format_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def progress_bar(ratio: float, width: int = PROGRESS_BAR_WIDTH) -> str:
    """A text bar such as `██████░░░░ 60%` (full at 100%; the percentage may go above)."""
    ratio = max(0.0, ratio) if math.isfinite(ratio) else 0.0
    filled = min(width, int(ratio * width + 1e-9))
    return "█" * filled + "░" * (width - filled) + f" {ratio:.0%}"


def goal_modal(defaults: GoalDefaults) -> dict[str, Any]:
    metric_options = [option(label, value) for value, label in METRIC_LABELS.items()]
    metric_options[-1] = option("Something else (name it below)", "custom")
    initial_metric = next(o for o in metric_options if o["value"] == defaults.metric)
    target_element: dict[str, Any] = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": True,
        "placeholder": plain("e.g. 50000"),
    }
    if defaults.target is not None:
        target_element["initial_value"] = format_number(defaults.target).replace(",", "")
    custom_element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": MAX_CUSTOM_METRIC_LENGTH,
        "placeholder": plain("e.g. Demos given"),
    }
    if defaults.custom_metric:
        custom_element["initial_value"] = defaults.custom_metric
    why_element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": MAX_WHY_LENGTH,
        "placeholder": plain("What reaching it would mean to you"),
    }
    if defaults.why:
        why_element["initial_value"] = defaults.why
    metric_element = {
        "type": "static_select",
        "action_id": "value",
        "options": metric_options,
        "initial_option": initial_metric,
    }
    blocks = [
        section(
            "A SMART goal: specific, measurable, achievable, relevant and time-bound. Wins you "
            "log with `/won` count towards revenue and deals won by themselves."
        ),
        input_block("metric", "What will you measure?", metric_element),
        input_block("custom_metric", "Your own metric", custom_element, optional=True),
        input_block("target", "Target for the cycle", target_element),
        input_block("cycle_start", "Cycle starts", _datepicker(defaults.cycle_start)),
        input_block("cycle_end", "Cycle ends", _datepicker(defaults.cycle_end)),
        input_block("why", "Why does it matter?", why_element),
    ]
    return modal(
        "Your goal",
        blocks,
        callback_id=GOAL_CALLBACK_ID,
        private_metadata=json.dumps({"goal_id": defaults.goal_id}),
        submit="Save goal",
        close="Cancel",
    )


def _datepicker(initial: date) -> dict[str, Any]:
    return {"type": "datepicker", "action_id": "value", "initial_date": initial.isoformat()}


def goal_id_of(view: dict[str, Any]) -> int | None:
    try:
        goal_id = json.loads(view.get("private_metadata") or "{}").get("goal_id")
    except (ValueError, AttributeError):
        return None
    try:
        return parse_row_id(goal_id) if isinstance(goal_id, int) else None
    except ValueError:
        return None


def _date(values: dict[str, Any], block_id: str) -> date | None:
    text = state(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def parse_goal_submission(
    values: dict[str, Any], today: date
) -> tuple[GoalSubmission | None, dict[str, str]]:
    """The SMART checks: a positive target, an end after the start and after `today` (the
    person's own date: a goal ending today leaves no time to work towards it), a cycle of at
    most a year, a named custom metric and a reason. Errors are keyed by block id."""
    errors: dict[str, str] = {}
    metric = (state(values, "metric").get("selected_option") or {}).get("value") or ""
    if metric not in METRIC_LABELS:
        errors["metric"] = "Pick what you will measure."
    raw_custom = str(state(values, "custom_metric").get("value") or "")
    custom, custom_error = saveable_text(
        raw_custom, label="your metric", max_length=MAX_CUSTOM_METRIC_LENGTH, required=False
    )
    if metric == "custom" and not raw_custom.strip():
        errors["custom_metric"] = "Name your metric, e.g. Demos given."
    elif metric == "custom" and custom_error:
        errors["custom_metric"] = custom_error

    target = parse_decimal(
        str(state(values, "target").get("value") or ""),
        minimum=Decimal(0),
        exclusive_minimum=True,
        maximum=MAX_TARGET,
        places=2,
    )
    if target == "too precise":
        errors["target"] = "Use at most 2 decimals, e.g. 12.5 or 50000."
    elif not isinstance(target, Decimal):
        errors["target"] = f"Make the target a positive number up to {MAX_TARGET:,}, e.g. 50000."

    start, end = _date(values, "cycle_start"), _date(values, "cycle_end")
    if start is None:
        errors["cycle_start"] = "Pick the day the cycle starts."
    elif abs(start - today) > timedelta(days=MAX_CYCLE_DAYS):
        errors["cycle_start"] = "Pick a start within a year of today."
    if end is None:
        errors["cycle_end"] = "Pick the day the cycle ends."
    elif start is not None and end <= start:
        errors["cycle_end"] = "The cycle has to end after it starts."
    elif end <= today:
        errors["cycle_end"] = "Pick an end date after today, so there's time to work towards it."
    elif start is not None and end - start > timedelta(days=MAX_CYCLE_DAYS):
        errors["cycle_end"] = "Keep the cycle to a year at most, so the goal stays time-bound."
    elif end - today > timedelta(days=MAX_CYCLE_DAYS):
        errors["cycle_end"] = "Pick an end within a year of today, so the goal stays time-bound."

    raw_why = str(state(values, "why").get("value") or "")
    why, why_error = saveable_text(
        raw_why, label="why it matters", max_length=MAX_WHY_LENGTH, required=True
    )
    if not raw_why.strip():
        errors["why"] = "Say in a sentence why this goal matters to you."
    elif why_error:
        errors["why"] = why_error

    if errors or start is None or end is None:
        return None, errors
    assert isinstance(target, Decimal) and why is not None
    return (
        GoalSubmission(
            metric=metric,
            custom_metric=custom if metric == "custom" else None,
            target=float(target),
            cycle_start=start,
            cycle_end=end,
            why=why,
        ),
        {},
    )


def day_month(day: date) -> str:
    """ "1 Nov": the day without zero padding, as every goal and dashboard text writes dates."""
    return f"{day.day} {day:%b}"


def day_month_year(day: date) -> str:
    return f"{day_month(day)} {day:%Y}"


def cycle_text(start: date, end: date) -> str:
    """ "1 Nov – 30 Nov 2026"."""
    return f"{day_month(start)} – {day_month_year(end)}"


def goal_figure(progress: GoalProgress, value: float) -> str:
    """A goal's number: an amount in the workspace's currency for revenue, else a count."""
    if progress.goal.metric == "revenue":
        return format_money(value, progress.currency)
    return format_number(value)


def goal_progress_lines(progress: GoalProgress) -> str:
    goal = progress.goal
    return (
        f"*{escape_mrkdwn(progress.metric_label)}:* {goal_figure(progress, progress.attainment)} "
        f"of {goal_figure(progress, goal.target)}\n`{progress_bar(progress.ratio)}`\n"
        f"Cycle: {cycle_text(goal.cycle_start, goal.cycle_end)}"
    )


def goal_progress_message(progress: GoalProgress) -> dict[str, Any]:
    """The ephemeral answer to /goal when a goal is set: progress and a button to change it."""
    goal = progress.goal
    blocks: list[dict[str, Any]] = [section(goal_progress_lines(progress))]
    if goal.why:
        blocks.append(context(f"Why: {escape_mrkdwn(goal.why)}"))
    blocks.append(actions(button("Change goal", CHANGE_GOAL_ACTION_ID, value=str(goal.id))))
    return {
        "text": f"Your goal: {escape_mrkdwn(progress.metric_label)} {progress_bar(progress.ratio)}",
        "blocks": blocks,
    }


def goal_saved_message(progress: GoalProgress) -> dict[str, Any]:
    return {
        "text": f"Goal saved: {escape_mrkdwn(progress.metric_label)}, "
        f"target {goal_figure(progress, progress.goal.target)}",
        "blocks": [
            section(
                "🎯 *Goal saved.* You'll see it on your Home tab and in every weekly check-in.\n"
                + goal_progress_lines(progress)
            )
        ],
    }


def quadrant_line(quadrant: Classification) -> str:
    return (
        f"{QUADRANT_EMOJI[quadrant]} *{CLASSIFICATION_LABELS[quadrant]}* — "
        f"{CLASSIFICATION_SUMMARIES[quadrant]}"
    )


def _process_text(score: float | None, *, ended: bool) -> str:
    if score is None:
        return "no process evidence this cycle" if ended else "no process evidence yet"
    return f"process {score:.0%}"


def _calibrated_suffix(review: CycleReview, *, for_rep: bool) -> str:
    """ " (2 outcomes calibrated by your manager)" when a manager's view counts in the score."""
    words = calibrated_words(review.calibrated_outcomes, for_rep=for_rep)
    return f" ({words})" if words else ""


def review_message(review: CycleReview) -> dict[str, Any]:
    """The rep's private end-of-cycle review: quadrant and seed 002's coaching message, or,
    on too little evidence for a quadrant, what there is and "not enough to call yet"."""
    progress = review.progress
    goal = progress.goal
    if not review.enough_evidence:
        return _too_early_review_message(review)
    # The quadrant line above already carries the 🎉; the words alone say it here.
    opening = (
        "*Celebrate the perfect miss.*\n" if review.quadrant is Classification.PERFECT_MISS else ""
    )
    return {
        "text": f"Your cycle review: {CLASSIFICATION_LABELS[review.quadrant]}",
        "blocks": [
            header(f"Your cycle review ({cycle_text(goal.cycle_start, goal.cycle_end)})"),
            section(quadrant_line(review.quadrant)),
            section(
                goal_progress_lines(progress)
                + "\nProcess: "
                + (
                    "no evidence this cycle (no outcomes or check-in ratings)"
                    if review.process_score is None
                    else f"{review.process_score:.0%} of the practices held"
                    + _calibrated_suffix(review, for_rep=True)
                )
            ),
            section(opening + COACHING_MESSAGES[review.quadrant]),
        ],
    }


def _too_early_review_message(review: CycleReview) -> dict[str, Any]:
    progress = review.progress
    goal = progress.goal
    score = (
        f"\nProcess so far: {review.process_score:.0%} of the practices held"
        + _calibrated_suffix(review, for_rep=True)
        if review.process_score is not None
        else ""
    )
    return {
        "text": f"Your cycle review: {NOT_ENOUGH_TO_CALL}",
        "blocks": [
            header(f"Your cycle review ({cycle_text(goal.cycle_start, goal.cycle_end)})"),
            section(
                f"*{NOT_ENOUGH_TO_CALL.capitalize()}.* "
                f"{review.evidence_so_far(ended=True).capitalize()}; "
                f"a quadrant needs at least {review.min_evidence} scored outcomes or check-ins, "
                "so this cycle gets no label."
            ),
            section(goal_progress_lines(progress) + score),
            section(
                "Log every win and loss with `/won` and `/lost`, and answer your weekly "
                "check-ins: next cycle there will be enough to see how your process held."
            ),
        ],
    }


def timeline_comment(user_id: str, outcomes: int) -> str:
    """What goes with the bounce-back timeline chart."""
    if outcomes == 0:
        return f"<@{user_id}> has no wins or losses logged yet, so the timeline is empty."
    last = "last outcome" if outcomes == 1 else f"last {outcomes:,} outcomes"
    return f"<@{user_id}>'s {last}. Each ★ is a bounce-back."


NO_GOAL_TEXT = "no goal set"
NOT_DMED_TEXT = "couldn't be reached by DM, so their review wasn't sent"


def review_table_lines(
    reviews: Sequence[CycleReview],
    *,
    ended: bool,
    without_goal: Sequence[str] = (),
    not_dmed: Collection[str] = (),
) -> list[str]:
    """One line per rep: quadrant, share of goal and process; reps in `without_goal` too, so
    the manager sees the whole team. `ended`: the cycle is over (a review, not a report)."""
    lines = []
    for r in reviews:
        if not r.enough_evidence:
            line = (
                f"<@{r.user_id}> — {NOT_ENOUGH_TO_CALL} ({r.evidence_so_far(ended=ended)}) · "
                f"{r.progress.ratio:.0%} of goal"
            )
            if r.user_id in not_dmed:
                line += f" · {NOT_DMED_TEXT}"
            lines.append(line)
            continue
        line = (
            f"<@{r.user_id}> — {QUADRANT_EMOJI[r.quadrant]} {CLASSIFICATION_LABELS[r.quadrant]} · "
            f"{r.progress.ratio:.0%} of goal · {_process_text(r.process_score, ended=ended)}"
            + _calibrated_suffix(r, for_rep=False)
        )
        if r.user_id in not_dmed:
            line += f" · {NOT_DMED_TEXT}"
        lines.append(line)
    lines += [f"<@{user_id}> — {NO_GOAL_TEXT}" for user_id in without_goal]
    return lines


def team_review_message(
    cycle_end: date,
    reviews: Sequence[CycleReview],
    *,
    without_goal: Sequence[str] = (),
    not_dmed: Collection[str] = (),
) -> dict[str, Any]:
    """The manager's end-of-cycle team review: each rep's quadrant (amounts stay out), and
    the reps who set no goal for the cycle."""
    lines = review_table_lines(reviews, ended=True, without_goal=without_goal, not_dmed=not_dmed)
    chunks = ["\n".join(lines[i : i + 20]) for i in range(0, len(lines), 20)] or ["No goals."]
    coaching = [
        f"<@{r.user_id}>: {CLASSIFICATION_SUMMARIES[r.quadrant]}"
        for r in reviews
        if r.enough_evidence
        and r.quadrant in (Classification.SYSTEM_MISS, Classification.LUCKY_HIT)
    ]
    blocks: list[dict[str, Any]] = [
        header(f"Team review — cycle ending {day_month(cycle_end)}"),
        *(section(chunk) for chunk in chunks[:40]),
    ]
    if coaching:
        blocks.append(section("*Worth a coaching conversation*\n" + "\n".join(coaching[:20])))
    blocks.append(
        context(
            "A perfect miss needs encouragement, not a new plan; a lucky hit is a loss "
            "masquerading as a win."
        )
    )
    return {
        "text": f"Team review for the cycle ending {day_month(cycle_end)}",
        "blocks": blocks,
    }
