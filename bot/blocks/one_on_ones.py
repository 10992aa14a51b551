"""Block Kit for replying to a check-in answer from the digest and for the one-on-one agenda
both people see on their Home (pure builders and the reply form's parser).

The words lean on seed 004: "Regular feedback is key – it keeps everyone in sync", and "Use
one-on-one meetings to discuss progress, celebrate wins, and address challenges."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.blocks.kit import (
    button,
    context,
    escape_mrkdwn,
    input_block,
    message,
    modal,
    option,
    plain,
    section,
    slack_date,
    state,
)
from bot.domain.one_on_ones import Agenda, AgendaItem, ReplySubmission, ReplyTarget
from bot.domain.text import parse_row_id, saveable_text
from bot.slack_text import truncate

REPLY_ACTION_ID = "checkin_reply_open"
AGENDA_DONE_ACTION_ID = "agenda_item_done"
REPLY_CALLBACK_ID = "checkin_reply"
MAX_REPLY = 1000
# Slack's limit on an option's plain text.
OPTION_TEXT_LIMIT = 75
AGENDA_ON = "agenda"
# What a Home shows of the agenda: the newest open items, each answer cut to a few lines.
AGENDA_SHOWN = 5
AGENDA_SNIPPET = 300


def reply_button(checkin_id: int) -> dict[str, Any]:
    """The digest's button beside one rep's answers."""
    return button("Reply", REPLY_ACTION_ID, value=str(checkin_id))


def _snippet(text: str, limit: int = AGENDA_SNIPPET) -> str:
    # Cut the words before escaping them, so no entity is cut in half.
    return escape_mrkdwn(truncate(" ".join(text.split()), limit))


def reply_modal(target: ReplyTarget) -> dict[str, Any]:
    """The manager's reply to one answer of a rep's check-in, and whether it goes on the
    agenda of their next one-on-one (ticked: feedback is the rehearsal, not the review)."""
    answers = "\n".join(
        f"_{escape_mrkdwn(a.question)}_\n> {_snippet(a.answer)}" for a in target.answers
    )
    choices = [
        option(truncate(a.question.strip(), OPTION_TEXT_LIMIT) or "This answer", a.key)
        for a in target.answers
    ]
    agenda = option("Add it to our one-on-one agenda", AGENDA_ON)
    blocks: list[dict[str, Any]] = [
        section(f"<@{target.rep_user_id}>'s check-in:\n{answers}"),
        input_block(
            "answer",
            "Replying to",
            {
                "type": "static_select",
                "action_id": "value",
                "options": choices,
                "initial_option": choices[0],
            },
        ),
        input_block(
            "reply",
            "Your reply",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": MAX_REPLY,
                "placeholder": plain(
                    "e.g. Great call on the champion — let's dig into it Thursday"
                ),
            },
            hint="Sent to them as a DM from Rebound. Specific beats big.",
        ),
        input_block(
            AGENDA_ON,
            "One-on-one",
            {
                "type": "checkboxes",
                "action_id": "value",
                "options": [agenda],
                "initial_options": [agenda],
            },
            optional=True,
            hint="You'll both see it on your Home, with their open commitments.",
        ),
    ]
    return modal(
        "Reply to a check-in",
        blocks,
        callback_id=REPLY_CALLBACK_ID,
        private_metadata=str(target.checkin_id),
        submit="Send reply",
        close="Cancel",
    )


def read_reply_metadata(private_metadata: str) -> int | None:
    try:
        return parse_row_id(private_metadata)
    except ValueError:
        return None


def parse_reply_submission(
    values: Mapping[str, Any],
) -> tuple[ReplySubmission | None, dict[str, str]]:
    errors: dict[str, str] = {}
    answer_key = (state(values, "answer").get("selected_option") or {}).get("value")
    if not answer_key:
        errors["answer"] = "Pick the answer you're replying to."
    reply, error = saveable_text(
        state(values, "reply").get("value"), label="your reply", max_length=MAX_REPLY, required=True
    )
    if error:
        errors["reply"] = error
    ticked = {o.get("value") for o in state(values, AGENDA_ON).get("selected_options") or []}
    if errors or reply is None or not answer_key:
        return None, errors
    return ReplySubmission(
        answer_key=str(answer_key), reply=reply, add_to_agenda=AGENDA_ON in ticked
    ), {}


def reply_dm(
    manager_user_id: str, question: str, answer: str, reply: str, *, on_agenda: bool
) -> dict[str, Any]:
    """The rep's DM with their manager's reply (an outbox row, queued with the agenda item)."""
    lines = [
        f"<@{manager_user_id}> replied to your check-in:",
        f"> {_snippet(reply, MAX_REPLY)}",
        f"_You wrote — {escape_mrkdwn(question)}_",
        f"> {_snippet(answer)}",
    ]
    blocks = [section("\n".join(lines))]
    if on_agenda:
        blocks.append(
            context(
                "It's on the agenda of your next one-on-one — you'll both see it on your Home, "
                "with your open commitments."
            )
        )
    return {
        "text": f"Your manager replied to your check-in: {_snippet(reply, 150)}",
        "blocks": blocks,
    }


def not_their_manager_message(rep_user_id: str) -> dict[str, Any]:
    """Someone who is not the rep's manager used the digest's Reply (a forwarded or stale
    digest): nothing is sent."""
    return message(
        f"Only <@{rep_user_id}>'s manager can reply to their check-in, so I sent nothing."
    )


NOT_THEIR_MANAGER_ERROR = "Only their manager can reply to this check-in, so nothing was sent."


def not_on_their_agenda_message(rep_user_id: str) -> dict[str, Any]:
    """Someone who is neither the rep, their manager nor an admin clicked "Done" on an agenda
    item (a forged click): nothing changed."""
    return message(
        f"Only <@{rep_user_id}> or their manager can mark this agenda item done, so I left it open."
    )


def _item(item: AgendaItem, viewer_id: str) -> str:
    theirs = f"<@{item.manager_user_id}>'s reply"
    if item.rep_user_id == viewer_id:
        who, replied = f"with <@{item.manager_user_id}>", theirs
    else:
        # The rep's manager: the one who added it, or (the rep moved) their manager now, who
        # is shown whose reply it was.
        who = f"<@{item.rep_user_id}>"
        replied = "Your reply" if item.manager_user_id == viewer_id else theirs
    return (
        f"• {who} · {slack_date(item.added_at)} · _{escape_mrkdwn(item.question)}_\n"
        f"> {_snippet(item.answer)}\n"
        f"{replied}: {_snippet(item.reply)}"
    )


def done_button(item_id: int) -> dict[str, Any]:
    """The agenda line's button: talked about, off both Homes."""
    return button("Done", AGENDA_DONE_ACTION_ID, value=str(item_id))


def agenda_blocks(agenda: Agenda) -> list[dict[str, Any]]:
    """The Home's one-on-one agenda (nothing open and nothing closed lately: no blocks): each
    open item with its "Done" button, each rep's open commitments, how many more are open than
    shown, and how many were marked done in the last four weeks."""
    if not agenda.items and not agenda.done_lately:
        return []
    blocks: list[dict[str, Any]] = [section("*One-on-one agenda*")]
    for item in agenda.items[:AGENDA_SHOWN]:
        blocks.append(section(_item(item, agenda.viewer_id), accessory=done_button(item.item_id)))
    if not agenda.items:
        blocks.append(section("Nothing open. Everything on it has been talked about."))
    commitments: list[str] = []
    for rep_user_id, texts in agenda.open_commitments.items():
        if not texts:
            continue
        whose = "Your" if rep_user_id == agenda.viewer_id else f"<@{rep_user_id}>'s"
        commitments.append(
            f"{whose} open commitments: " + "; ".join(f"_{_snippet(t, 150)}_" for t in texts)
        )
    counts: list[str] = []
    if agenda.more_open > 0:
        counts.append(f"{agenda.more_open} more open — mark the ones you've talked about done.")
    if agenda.done_lately:
        counts.append(f"{agenda.done_lately} done in the last four weeks.")
    if counts:
        commitments.append(" ".join(counts))
    if commitments:
        blocks.append(context("\n".join(commitments)))
    return blocks
