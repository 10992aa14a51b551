"""What a rep's correction or removal of an outcome changes in messages already in Slack, as pure
Block Kit builders: the line saying it was corrected, the manager's note and the rep's DM once
the outcome is removed (no buttons left to act on), the lessons-kept DM with the deal renamed,
and the answer to a click on a button of a removed outcome.

Seed 000: "It takes courage to acknowledge that your performance isn't what it should be" — a
rep who corrects their own record is being honest, so the words state what changed and nothing
more; no label, no blame.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.blocks.kit import context, escape_mrkdwn, message, section, slack_date
from bot.domain.debriefs import OutcomeFacts

# The block each updated message carries last: found again (and replaced) by the next update.
CORRECTED_BLOCK_ID = "outcome_corrected"

# A click on a button of an outcome its rep removed (Agree, Answer the questions, Celebrate,
# Take it back...): nothing is saved.
OUTCOME_GONE = (
    "That outcome isn't in the record any more: its rep removed it, so there's nothing to do "
    "here and nothing was saved."
)

# The same, under a form's field (a reflection form open while its rep removed the outcome).
OUTCOME_GONE_ERROR = (
    "This outcome isn't in your record any more (you removed it), so nothing was saved."
)


def _what(facts: OutcomeFacts) -> str:
    return "loss" if facts.kind == "loss" else "win"


# Said under the manager's note when a correction cleared their calibration: the rule, in a line.
CALIBRATION_CLEARED = (
    "Your calibration was cleared, as the practices or luck changed (a new name, amount or "
    "reason keeps one): agree or see it differently again."
)


def corrected_note_line(
    facts: OutcomeFacts, corrected_at: datetime, *, calibration_cleared: bool = False
) -> dict[str, Any]:
    """Under the manager's note: the rep changed what they logged, and when; and, when that
    cleared the manager's calibration, why (bot.usecases.corrections)."""
    text = (
        f"✏️ Corrected by <@{facts.user_id}> on {slack_date(corrected_at)}: this note shows what "
        "they logged now."
    )
    if calibration_cleared:
        text += f"\n{CALIBRATION_CLEARED}"
    block = context(text)
    block["block_id"] = CORRECTED_BLOCK_ID
    return block


def corrected_rep_line(corrected_at: datetime, *, shout_out_down: bool) -> dict[str, Any]:
    """Under the rep's own DM: their correction, and (when it meant the shout-out no longer
    fit) that the shout-out came down."""
    text = (
        f"✏️ You corrected this on {slack_date(corrected_at)}; your classification and figures "
        "follow."
    )
    if shout_out_down:
        text += " It no longer fits its shout-out, so I took that down from the channel."
    block = context(text)
    block["block_id"] = CORRECTED_BLOCK_ID
    return block


def with_line(note: Mapping[str, Any], line: dict[str, Any] | None) -> dict[str, Any]:
    """`note` (chat.postMessage arguments) with `line` as its last block, replacing an earlier
    correction line."""
    blocks = [b for b in note.get("blocks", []) if b.get("block_id") != CORRECTED_BLOCK_ID]
    if line is not None:
        blocks.append(line)
    return {**note, "blocks": blocks}


def removed_manager_note(facts: OutcomeFacts, removed_at: datetime) -> dict[str, Any]:
    """The manager's note once its rep removed the outcome: no buttons, nothing to act on."""
    deal = escape_mrkdwn(facts.deal)
    text = (
        f"<@{facts.user_id}> removed the {_what(facts)} *{deal}* from their record on "
        f"{slack_date(removed_at)}, so it no longer counts in their figures or reviews. Nothing "
        "to calibrate or follow up here."
    )
    return {
        "text": f"<@{facts.user_id}> removed {deal} from their record",
        "blocks": [section(text)],
    }


def removed_rep_dm(facts: OutcomeFacts, removed_at: datetime) -> dict[str, Any]:
    """The rep's own DM about the outcome once they removed it: no buttons left."""
    deal = escape_mrkdwn(facts.deal)
    text = (
        f"You removed the {_what(facts)} *{deal}* from your record on {slack_date(removed_at)}, "
        "with what you wrote about it. It no longer counts in your figures."
    )
    return {"text": f"You removed {deal} from your record", "blocks": [section(text)]}


LESSONS_KEPT_PREFIX = "Kept as your lessons from *"
LESSONS_KEPT_SUFFIX = "*. Find them any time: `/rebound lessons`."
LESSONS_KEPT_TEXT_PREFIX = "Lessons kept: "


def lessons_kept_renamed(sent: Mapping[str, Any], deal: str) -> dict[str, Any] | None:
    """A loss's lessons-kept DM (bot.blocks.debriefs.reflection_saved_dm), as it was sent, with
    the deal's new name; the rest (the commitment, the follow-up) stays word for word. None
    when the message isn't one (nothing to rename)."""
    renamed = copy.deepcopy(dict(sent))
    blocks = renamed.get("blocks") or []
    first = blocks[0].get("text", {}) if blocks else {}
    body = first.get("text", "")
    if not isinstance(body, str) or not body.startswith(LESSONS_KEPT_PREFIX):
        return None
    first_line, newline, others = body.partition("\n")
    if not first_line.endswith(LESSONS_KEPT_SUFFIX):
        return None
    renamed_line = f"{LESSONS_KEPT_PREFIX}{escape_mrkdwn(deal)}{LESSONS_KEPT_SUFFIX}"
    first["text"] = f"{renamed_line}{newline}{others}"
    renamed["text"] = f"{LESSONS_KEPT_TEXT_PREFIX}{escape_mrkdwn(deal)}"
    return renamed


def outcome_gone_message() -> dict[str, Any]:
    return message(OUTCOME_GONE)
