"""Block Kit for weekly check-ins: the DM, the reminder, the answer modal, the manager's digest.

Pure functions returning dicts. The questions come from the coaching seeds (negative feedback
is a learning opportunity; a lost deal holds a lesson; missing the number is an education).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.blocks.kit import (
    actions,
    button,
    context,
    divider,
    ephemeral,
    escape_mrkdwn,
    header,
    input_block,
    modal,
    option,
    plain,
    section,
)
from bot.blocks.one_on_ones import reply_button
from bot.domain import PRACTICE_LABELS, PRACTICES
from bot.domain.checkins import Question, RepWeek
from bot.domain.text import parse_decimal, saveable_text
from bot.slack_text import truncate

CHECKIN_CALLBACK_ID = "checkin_answer"
OPEN_ACTION_ID = "checkin_open"
SKIP_ACTION_ID = "checkin_skip"
ANSWER_ACTION_ID = "answer"
MAX_ANSWER_LENGTH = 3_000
MAX_NUMBER_ANSWER = Decimal(10**9)  # deals, calls, meetings in a week: far below this
# A digest shows at most this many reps' answers in full: two blocks each, and Slack allows
# 50 blocks in a message.
MAX_DIGEST_REPS = 20
# Check-in texts stop a little short of Slack's 3,000 (the kit's default), as they always have.
_SECTION_LIMIT = 2_900

RATING_CHOICES: tuple[tuple[str, str], ...] = (
    ("1", "1 – rarely"),
    ("2", "2"),
    ("3", "3 – about half the time"),
    ("4", "4"),
    ("5", "5 – every time"),
)
PAUSE_HINT = (
    "I didn't catch that. Try `/checkin pause 2w` (two weeks), `/checkin pause 3d` (three days), "
    "`/checkin pause until 2026-12-01`, or `/checkin resume`. `/checkin` on its own opens this "
    "week's check-in."
)


def _section(text: str, **extra: Any) -> dict[str, Any]:
    return section(text, limit=_SECTION_LIMIT, **extra)


def _context(text: str) -> dict[str, Any]:
    return context(text, limit=_SECTION_LIMIT)


def _quote(text: str) -> str:
    return "\n".join(f">{line}" if line else ">" for line in text.splitlines() or [""])


def _text_questions(questions: Sequence[Question]) -> list[Question]:
    return [q for q in questions if q.kind == "text"]


def _buttons(checkin_id: int, *, answer_label: str = "Answer") -> dict[str, Any]:
    return actions(
        button(answer_label, OPEN_ACTION_ID, style="primary", value=str(checkin_id), emoji=True),
        button("Skip this week", SKIP_ACTION_ID, value=str(checkin_id), emoji=True),
        block_id="checkin_actions",
    )


def checkin_message(checkin_id: int, questions: Sequence[Question], week_label: str) -> dict:
    """The weekly check-in DM: this week's questions and a button to answer them."""
    # Questions carry deal names and the rep's own commitment: user text, escaped.
    lines = [f"• {escape_mrkdwn(q.text)}" for q in _text_questions(questions)]
    extras = ["rate your five process practices (1–5)"]
    if any(q.kind == "number" for q in questions):
        extras.append("note your progress toward your goal")
    return {
        "text": f"Your weekly check-in ({week_label}) is here: a few minutes to look back.",
        "blocks": [
            header(f"Weekly check-in · {week_label}", emoji=True),
            _section(
                "A few minutes to look back on your week. Every loss and every piece of "
                "feedback holds a lesson; so does what went right.\n\n" + "\n".join(lines)
            ),
            _context("Then " + " and ".join(extras) + "."),
            _buttons(checkin_id),
            _context(
                "Away? `/checkin pause 2w` pauses check-ins, `/checkin resume` brings them "
                "back. `/checkin` opens this one any time."
            ),
        ],
    }


def reminder_message(checkin_id: int, week_label: str) -> dict:
    return {
        "text": f"A gentle nudge: your check-in for {week_label} is still open.",
        "blocks": [
            _section(
                f"A gentle nudge: your check-in for *{week_label}* is still open. It takes a few "
                "minutes, and the lesson is easier to catch while the week is fresh."
            ),
            _buttons(checkin_id),
        ],
    }


def skipped_message(week_label: str) -> dict:
    return {
        "text": f"Skipped the check-in for {week_label}. See you next week.",
        "blocks": [
            _section(
                f"Skipped the check-in for *{week_label}*. See you next week. "
                "Changed your mind? `/checkin` opens it again."
            )
        ],
    }


def answered_message(week_label: str) -> dict:
    return {
        "text": f"Thanks, your check-in for {week_label} is saved.",
        "blocks": [
            _section(
                f"Thanks, your check-in for *{week_label}* is saved. Your manager sees it in "
                "their weekly digest. `/checkin` lets you change your answers."
            )
        ],
    }


def paused_message(until_label: str) -> dict:
    return ephemeral(
        f"Check-ins paused until {until_label}. `/checkin resume` restarts them sooner."
    )


def resumed_message(next_label: str) -> dict:
    return ephemeral(f"Welcome back! Check-ins are on again; the next one comes {next_label}.")


def pause_hint() -> dict:
    return ephemeral(PAUSE_HINT)


def pause_problem(problem: str) -> dict:
    """A pause written correctly that cannot be (already over, longer than a year)."""
    return ephemeral(problem)


def not_paused_message(next_label: str) -> dict:
    return ephemeral(f"Your check-ins weren't paused; the next one comes {next_label}.")


def already_answered_message(week_label: str) -> dict:
    """Skip clicked on a check-in answered already: it stays answered."""
    return {
        "text": f"Your check-in for {week_label} is already answered, so there's nothing to "
        "skip. `/checkin` lets you change your answers."
    }


def _rating_option(value: str) -> dict[str, Any]:
    return option(dict(RATING_CHOICES)[value], value, emoji=True)


def checkin_modal(
    checkin_id: int,
    questions: Sequence[Question],
    answers: Mapping[str, str],
    week_label: str,
) -> dict:
    """The answer form, prefilled with the answers already given (answering again edits)."""
    blocks: list[dict[str, Any]] = [
        _context(f"Your check-in for *{week_label}*. Only you and your manager see the answers.")
    ]
    for question in questions:
        previous = answers.get(question.key, "")
        label = truncate(question.text, 2_000)
        if question.kind == "text":
            element: dict[str, Any] = {
                "type": "plain_text_input",
                "action_id": ANSWER_ACTION_ID,
                "multiline": True,
                "max_length": MAX_ANSWER_LENGTH,
            }
            if previous:
                element["initial_value"] = previous
        elif question.kind == "rating":
            if not any(b.get("block_id") == "ratings_intro" for b in blocks):
                blocks.append(divider())
                blocks.append(
                    section(
                        "*How well did you run your process this week?* "
                        "1 = rarely, 5 = every time.",
                        block_id="ratings_intro",
                    )
                )
            label = question.text  # a practice's name, always short
            element = {
                "type": "static_select",
                "action_id": ANSWER_ACTION_ID,
                "placeholder": plain("1–5", emoji=True),
                "options": [_rating_option(value) for value, _ in RATING_CHOICES],
            }
            if previous in dict(RATING_CHOICES):
                element["initial_option"] = _rating_option(previous)
        else:  # "number": progress toward the goal
            element = {
                "type": "number_input",
                "action_id": ANSWER_ACTION_ID,
                "is_decimal_allowed": True,
                "min_value": "0",
            }
            if previous:
                element["initial_value"] = previous
        blocks.append(input_block(question.key, label, element, optional=True, emoji=True))
    return modal(
        "Weekly check-in",
        blocks,
        callback_id=CHECKIN_CALLBACK_ID,
        private_metadata=str(checkin_id),
        submit="Save",
        close="Not now",
        emoji=True,
    )


def _plain_number(number: Decimal) -> str:
    """12, 4.5, 1000000: as typed, without trailing zeros or an exponent."""
    return format(number.normalize(), "f")


def parse_checkin_submission(
    values: Mapping[str, Mapping[str, Any]], questions: Sequence[Question]
) -> tuple[dict[str, str], dict[str, str]]:
    """(answers by question key, errors by block id). Empty answers are left out; a
    whitespace-only or over-long text, or no answer at all, is an error."""
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for question in questions:
        state = (values.get(question.key) or {}).get(ANSWER_ACTION_ID) or {}
        if question.kind == "rating":
            option = state.get("selected_option") or {}
            value = str(option.get("value") or "")
            if value and value not in dict(RATING_CHOICES):
                errors[question.key] = "Pick a rating from 1 to 5."
            elif value:
                answers[question.key] = value
            continue
        raw = state.get("value")
        text = "" if raw is None else str(raw)
        if question.kind == "number":
            if text.strip():
                number = parse_decimal(
                    text, minimum=Decimal(0), maximum=MAX_NUMBER_ANSWER, places=2
                )
                if number == "not a number":
                    errors[question.key] = "Enter a number, e.g. 12 or 4.5."
                elif number == "too precise":
                    errors[question.key] = "Use at most 2 decimals, e.g. 4.5."
                elif not isinstance(number, Decimal):
                    errors[question.key] = (
                        f"Enter a number from 0 to {MAX_NUMBER_ANSWER:,}, e.g. 12 or 4.5."
                    )
                else:
                    answers[question.key] = _plain_number(number)
            continue
        if text and not text.strip():
            errors[question.key] = "This answer is only spaces; write something or leave it empty."
            continue
        answer, error = saveable_text(
            text, label="this answer", max_length=MAX_ANSWER_LENGTH, required=False
        )
        if error:
            errors[question.key] = error
        elif answer:
            answers[question.key] = answer
    if not answers and not errors and questions:
        first = _text_questions(questions)[:1] or list(questions[:1])
        errors[first[0].key] = "Answer at least one question, or close and skip this week."
    return answers, errors


# --- the manager's weekly digest -------------------------------------------------------------


def response_rate(reps: Sequence[RepWeek]) -> tuple[int, int]:
    """(answered, asked): asked counts reps whose check-in went out and was not skipped."""
    asked = [r for r in reps if r.status in ("sent", "answered", "claimed")]
    return len([r for r in asked if r.status == "answered"]), len(asked)


def _mentions(reps: Sequence[RepWeek]) -> str:
    return ", ".join(f"<@{r.user_id}>" for r in reps)


def digest_message(week_label: str, reps: Sequence[RepWeek]) -> dict:
    answered, asked = response_rate(reps)
    percent = f" ({round(100 * answered / asked)}%)" if asked else ""
    summary = [f"*{answered} of {asked} answered{percent}.*"]
    waiting = [r for r in reps if r.status in ("sent", "claimed", "pending")]
    if waiting:
        summary.append(f"Not answered yet: {_mentions(waiting)}")
    away = [r for r in reps if r.status in ("skipped", "paused")]
    if away:
        summary.append(f"Skipped or paused: {_mentions(away)}")
    drops = [
        f"<@{r.user_id}>: "
        + ", ".join(f"{PRACTICE_LABELS[d.practice]} {d.before} → {d.after}" for d in r.drops)
        for r in reps
        if r.drops
    ]
    if drops:
        summary.append("*Self-ratings that dropped since last week*\n" + "\n".join(drops))
    blocks: list[dict[str, Any]] = [
        header(f"Team check-ins · {week_label}", emoji=True),
        _section("\n".join(summary)),
    ]
    detailed = [r for r in reps if r.status == "answered"]
    for rep in detailed[:MAX_DIGEST_REPS]:
        parts = [f"*<@{rep.user_id}>*"]
        for question, answer in rep.answers:
            # Cut the rep's words before escaping them, so no entity is cut in half.
            parts.append(
                f"_{escape_mrkdwn(question)}_\n{_quote(escape_mrkdwn(truncate(answer, 600)))}"
            )
        if rep.ratings:
            ratings = " · ".join(
                f"{PRACTICE_LABELS[p]} {rep.ratings[p]}" for p in PRACTICES if p in rep.ratings
            )
            parts.append(f"Process self-rating: {ratings}")
        blocks.append(divider())
        if rep.checkin_id is not None:
            # A reply goes to the rep, and can go on the agenda of their one-on-one.
            blocks.append(_section("\n".join(parts), accessory=reply_button(rep.checkin_id)))
        else:
            blocks.append(_section("\n".join(parts)))
    if len(detailed) > MAX_DIGEST_REPS:
        blocks.append(
            _context(
                f"…and {len(detailed) - MAX_DIGEST_REPS} more answered; one message holds "
                f"{MAX_DIGEST_REPS} in full."
            )
        )
    blocks.append(
        _context(
            "Feedback is the rehearsal, not the review: reply to one answer and put it on "
            "your next one-on-one's agenda."
        )
    )
    return {
        "text": f"Team check-ins for {week_label}: {answered} of {asked} answered.",
        "blocks": blocks,
    }
