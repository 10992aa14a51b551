"""`/rebound lessons`: the lessons found, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks.kit import escape_mrkdwn, message, section
from bot.domain.debriefs import REASONS, LessonsResult
from bot.slack_text import truncate

LESSON_SNIPPET = 280


def _snippet(text: str) -> str:
    return truncate(" ".join(text.split()), LESSON_SNIPPET)


def _date(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%b %d, %Y}>"


def lessons_message(result: LessonsResult) -> dict[str, Any]:
    searched = " ".join(result.words if result.typed_words is None else result.typed_words)
    if not result.lessons:
        if searched:
            text = (
                f"No lessons match “{escape_mrkdwn(searched)}” yet. Try fewer or other words, or "
                "`/rebound lessons` for the newest."
            )
        else:
            text = (
                "No lessons yet. After your next `/lost`, the answers to the reflection "
                "questions are kept here — a lost deal has a lesson in it somewhere."
            )
        return message(text)
    whose = "your team's" if result.is_manager else "your"
    title = (
        f"Lessons matching “{escape_mrkdwn(searched)}”"
        if searched
        else f"The newest of {whose} lessons"
    )
    blocks: list[dict[str, Any]] = [section(f"*{title}*")]
    for lesson in result.lessons:
        where = "Win" if lesson.kind == "win" else REASONS.get(lesson.reason or "", "Loss")
        by = "" if lesson.user_id == result.viewer_id else f" · <@{lesson.user_id}>"
        done = ""
        if lesson.is_commitment and lesson.followed_up is not None:
            done = " (done ✓)" if lesson.followed_up else " (not done yet)"
        blocks.append(
            section(
                f"*{escape_mrkdwn(lesson.deal)}* · {where} · {_date(lesson.answered_at)}{by}\n"
                f"_{escape_mrkdwn(lesson.question)}_{done}\n"
                f"> {escape_mrkdwn(_snippet(lesson.answer))}"
            )
        )
    return {"text": title, "blocks": blocks[:50]}
