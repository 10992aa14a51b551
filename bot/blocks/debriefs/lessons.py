"""`/rebound lessons`: the lessons found, and the ones teammates shared, newest first."""

from __future__ import annotations

from typing import Any

from bot.blocks.kit import context, escape_mrkdwn, message, section, slack_date
from bot.domain.debriefs import REASONS, Lesson, LessonsResult
from bot.slack_text import truncate

LESSON_SNIPPET = 280


def _snippet(text: str) -> str:
    return truncate(" ".join(text.split()), LESSON_SNIPPET)


def _entry(lesson: Lesson, viewer_id: str, *, in_shared: bool = False) -> dict[str, Any]:
    where = "Win" if lesson.kind == "win" else REASONS.get(lesson.reason or "", "Loss")
    by = "" if lesson.user_id == viewer_id else f" · <@{lesson.user_id}>"
    done = ""
    if lesson.is_commitment and lesson.followed_up is not None:
        done = " (done ✓)" if lesson.followed_up else " (not done yet)"
    shared = ""
    # In the rep's (or their manager's) own list: say who else can read it.
    if lesson.shared and not in_shared:
        shared = " · shared with your team" if lesson.user_id == viewer_id else " · shared"
    return section(
        f"*{escape_mrkdwn(lesson.deal)}* · {where} · {slack_date(lesson.answered_at)}{by}{shared}\n"
        f"_{escape_mrkdwn(lesson.question)}_{done}\n"
        f"> {escape_mrkdwn(_snippet(lesson.answer))}"
    )


def lessons_message(result: LessonsResult) -> dict[str, Any]:
    """The rep's own lessons (a manager's: with their reps'), then what teammates shared."""
    searched = " ".join(result.words if result.typed_words is None else result.typed_words)
    if not result.lessons and not result.shared:
        if searched:
            text = (
                f"No lessons match “{escape_mrkdwn(searched)}” yet. Try fewer or other words, or "
                "`/rebound lessons` for the newest."
            )
        else:
            text = (
                "No lessons yet. After your next `/lost` or `/won`, your answers are kept here — "
                "every win and every loss has a lesson in it somewhere."
            )
        return message(text)
    whose = "your team's" if result.is_manager else "your"
    title = (
        f"Lessons matching “{escape_mrkdwn(searched)}”"
        if searched
        else f"The newest of {whose} lessons"
    )
    blocks: list[dict[str, Any]] = [section(f"*{title}*")]
    if not result.lessons:
        mine = "None of your own match" if searched else "None of your own yet"
        blocks.append(context(f"{mine} — here is what your team shared."))
    blocks.extend(_entry(lesson, result.viewer_id) for lesson in result.lessons)
    if result.shared:
        # Seed 004: "often, the best tips come from fellow team members who've been there,
        # done that."
        blocks.append(section("*Shared by your team* — tips from people who've been there"))
        blocks.extend(_entry(lesson, result.viewer_id, in_shared=True) for lesson in result.shared)
    return {"text": title, "blocks": blocks[:50]}
