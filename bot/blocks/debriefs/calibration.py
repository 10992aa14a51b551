"""A manager's calibration of a rep's own score (issue 12): the "I see it differently" modal and
its parsing, the manager's note once calibrated, and the rep's private DM with the manager's view.

The words come from seed 000: "There's a reason the top performers [...] have coaches. They can't
see their own swing", and "an open heart and an open mind will give you the opportunity to look at
what you're doing through someone else's eyes". The manager's sentence is the manager's own text:
escaped wherever it meets mrkdwn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.blocks.debriefs.fields import parse_practices, practices_input
from bot.blocks.debriefs.manager import manager_note
from bot.blocks.kit import context, escape_mrkdwn, input_block, modal, plain, section, state
from bot.domain import (
    CLASSIFICATION_LABELS,
    CLASSIFICATION_SUMMARIES,
    COACHING_MESSAGES,
    PRACTICE_LABELS,
    PRACTICES,
)
from bot.domain.calibration import (
    CALIBRATED_LABEL,
    MAX_CALIBRATION_NOTE,
    Calibration,
    CalibrationSubmission,
)
from bot.domain.debriefs import OutcomeFacts
from bot.domain.text import parse_row_id, saveable_text

CALIBRATE_CALLBACK_ID = "debrief_calibrate"
NOTE_BLOCK_ID = "note"

# Said to whoever may not calibrate (an ephemeral after a click; under the sentence in the modal,
# where text is plain, so no mentions).
NOT_THE_MANAGER = "Only this rep's manager, or a Rebound admin, can calibrate their score."
OWN_OUTCOME = "This is your own deal: your manager calibrates your score, not you."
ALREADY_CALIBRATED = (
    "This deal is already calibrated, and a calibration is given once, so the rep hears it "
    "once. Talk it through with them in your next one-on-one."
)
NO_SUCH_OUTCOME = (
    "That outcome isn't in the rep's record any more (they removed it), so there's nothing to "
    "calibrate and nothing was saved."
)


def _held_text(practices: Mapping[str, bool]) -> str:
    return ", ".join(PRACTICE_LABELS[p] for p in PRACTICES if practices.get(p)).lower() or (
        "none of the five"
    )


def _label(calibration: Calibration) -> str:
    return CLASSIFICATION_LABELS[calibration.classification]


# --- the modal -----------------------------------------------------------------------------------


def calibration_metadata(outcome_id: int) -> str:
    return json.dumps({"outcome_id": outcome_id})


def read_calibration_metadata(private_metadata: str) -> int | None:
    try:
        return parse_row_id(json.loads(private_metadata or "")["outcome_id"])
    except (ValueError, KeyError, TypeError):
        return None


def calibration_modal(facts: OutcomeFacts) -> dict[str, Any]:
    """ "I see it differently": the rep's own checklist, ticked as they answered it, for the
    manager to tick as they saw it, and one sentence for the rep."""
    blocks: list[dict[str, Any]] = [
        context(
            f"<@{facts.user_id}> scored *{escape_mrkdwn(facts.deal)}* themselves: "
            f"*{CLASSIFICATION_LABELS[facts.classification]}*, with these holding: "
            f"{_held_text(facts.practices)}. Nobody sees their own swing; tell them what you saw."
        ),
        practices_input(
            "Which of these did you see hold?",
            hint="The same checklist they used, ticked as they answered it. Your view is kept "
            "beside theirs, and reviews and Home count yours.",
            initial=facts.practices,
        ),
        input_block(
            NOTE_BLOCK_ID,
            "What did you see? One sentence",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": MAX_CALIBRATION_NOTE,
                "multiline": False,
                "placeholder": plain("e.g. Your discovery call found the real need — keep it."),
            },
            optional=False,
            hint="They read it privately, as coaching: what you saw, and what to keep or try.",
        ),
    ]
    return modal(
        "Calibrate the score",
        blocks,
        callback_id=CALIBRATE_CALLBACK_ID,
        private_metadata=calibration_metadata(facts.id),
        submit="Share my view",
        close="Cancel",
    )


def parse_calibration_submission(
    values: Mapping[str, Any],
) -> tuple[CalibrationSubmission | None, dict[str, str]]:
    """The manager's view, or field errors keyed by block_id (the checklist as the rep's: an
    answer is required and "None of these held" can't go with a practice; the sentence is
    required and at most MAX_CALIBRATION_NOTE characters)."""
    errors: dict[str, str] = {}
    practices = parse_practices(values, errors)
    note, error = saveable_text(
        state(values, NOTE_BLOCK_ID).get("value"),
        label="the one sentence they'll read",
        max_length=MAX_CALIBRATION_NOTE,
        required=True,
    )
    if error:
        errors[NOTE_BLOCK_ID] = error
    if errors:
        return None, errors
    assert note is not None
    return CalibrationSubmission(practices=practices, note=note), {}


# --- what the calibration changes in Slack ----------------------------------------------------


def calibrated_manager_note(facts: OutcomeFacts, calibration: Calibration) -> dict[str, Any]:
    """The manager's note once calibrated (chat.update of the note): the buttons give way to
    what was decided, so nobody calibrates it twice by accident."""
    note = manager_note(facts, with_buttons=False)
    who = f"<@{calibration.manager_user_id}>"
    if calibration.agrees:
        line = f"✅ Calibrated by {who}: agreed with <@{facts.user_id}>'s own score."
    else:
        line = (
            f"🔎 Calibrated by {who}: *{_label(calibration)}*, with these holding: "
            f"{_held_text(calibration.practices)}.\n> {escape_mrkdwn(calibration.note or '')}"
        )
    line += f"\n<@{facts.user_id}> has it privately, as coaching."
    return {"text": note["text"], "blocks": [*note["blocks"], section(line)]}


def calibration_rep_dm(
    facts: OutcomeFacts,
    calibration: Calibration,
    *,
    shout_out: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The rep's private DM with their manager's view, worded as coaching (seed 000), and then
    what it changed about a perfect-miss shout-out (`shout_out`, bot.blocks.debriefs.
    calibration_shout_outs), so the rep hears it all in one message."""
    who = f"<@{calibration.manager_user_id}>"
    deal = escape_mrkdwn(facts.deal)
    if calibration.agrees:
        blocks = [
            section(
                f"{who} looked at your debrief of *{deal}* and sees it the way you do: "
                f"*{_label(calibration)}* — "
                f"{CLASSIFICATION_SUMMARIES[calibration.classification]}"
            ),
            context(
                "Seeing your own swing is the hard part, and you scored this one honestly. "
                "Keep doing it."
            ),
        ]
        return {
            "text": f"Your manager sees {deal} the way you do",
            "blocks": [*blocks, *shout_out],
        }
    blocks = [
        section(
            f"{who} looked at your debrief of *{deal}*, just for you. There's a reason top "
            "performers have coaches: they can't see their own swing. Here's what your manager "
            f"saw:\n> {escape_mrkdwn(calibration.note or '')}"
        ),
        section(
            f"You said these held: {_held_text(facts.practices)}.\n"
            f"Your manager saw these hold: {_held_text(calibration.practices)}."
        ),
        section(
            f"So *{deal}* now reads as *{_label(calibration)}* ({CALIBRATED_LABEL}) — "
            f"{CLASSIFICATION_SUMMARIES[calibration.classification]}"
            + (
                f"\n{COACHING_MESSAGES[calibration.classification]}"
                if calibration.classification is not facts.classification
                else ""
            )
        ),
        context(
            "It takes an open mind to look at what you did through someone else's eyes, and "
            "it's the fastest way to get better. Your own score is kept too; talk it through "
            "in your next one-on-one."
        ),
    ]
    return {
        "text": f"Your manager's view of {deal}, just for you",
        "blocks": [*blocks, *shout_out],
    }
