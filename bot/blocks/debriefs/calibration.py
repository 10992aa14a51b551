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

from bot.blocks.debriefs.fields import _choice, parse_practices, practices_input
from bot.blocks.debriefs.manager import manager_note
from bot.blocks.kit import (
    context,
    escape_mrkdwn,
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
    LUCK_LABELS,
    LUCK_LEVELS,
    PRACTICE_LABELS,
    PRACTICES,
    OutcomeKind,
    claims_process_without_practice,
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
# A win's "How much of it was luck?", the same block and choices as /won's.
LUCK_BLOCK_ID = "luck"
LUCK_MISSING = "How much of it was luck? Pick one."
PROCESS_WITHOUT_PRACTICE = (
    "You said none of it was luck, but that none of the practices held. If it was the "
    "process, tick the practices you saw hold; if not, say how much was luck."
)

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


def _luck_key(luck: int | None) -> str | None:
    return next((k for k, v in LUCK_LEVELS.items() if v == luck), None)


def _luck_text(luck: int | None) -> str:
    key = _luck_key(luck)
    return LUCK_LABELS[key].lower() if key else "not said"


def _luck_input(luck: int | None) -> dict[str, Any]:
    """/won's question, preselected with the rep's answer, for the manager to change: a win
    of mostly luck is a lucky hit whatever held, so the practices alone can't move it."""
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain("Choose one"),
        "options": [option(text, value) for value, text in LUCK_LABELS.items()],
    }
    key = _luck_key(luck)
    if key is not None:
        element["initial_option"] = option(LUCK_LABELS[key], key)
    return input_block(
        LUCK_BLOCK_ID,
        "How much of it was luck?",
        element,
        hint="Their answer, preselected. Mostly luck makes a lucky hit whatever held.",
    )


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
    if facts.kind == OutcomeKind.WIN.value:
        blocks.insert(2, _luck_input(facts.luck))
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
    luck: int | None = None
    if LUCK_BLOCK_ID in values:  # a win's modal: the manager's view of the luck, as /won asks it
        key = _choice(values, LUCK_BLOCK_ID, LUCK_LEVELS, LUCK_MISSING, errors)
        luck = LUCK_LEVELS[key] if key is not None else None
        if (
            luck is not None
            and "practices" not in errors
            and claims_process_without_practice(practices, luck)
        ):
            errors[LUCK_BLOCK_ID] = PROCESS_WITHOUT_PRACTICE
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
    return CalibrationSubmission(practices=practices, note=note, luck=luck), {}


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
    changed = calibration.classification is not facts.classification
    blocks = [
        section(
            f"{who} looked at your debrief of *{deal}*, just for you. There's a reason top "
            "performers have coaches: they can't see their own swing. Here's what your manager "
            f"saw:\n> {escape_mrkdwn(calibration.note or '')}"
        ),
        section(
            f"You said these held: {_held_text(facts.practices)}.\n"
            f"Your manager saw these hold: {_held_text(calibration.practices)}."
            + (
                f"\nYou said the luck was: {_luck_text(facts.luck)}. "
                f"Your manager saw: {_luck_text(calibration.luck)}."
                if calibration.luck is not None and calibration.luck != facts.luck
                else ""
            )
        ),
        section(
            f"So *{deal}* {'now' if changed else 'still'} reads as *{_label(calibration)}* "
            f"({CALIBRATED_LABEL}) — "
            f"{CLASSIFICATION_SUMMARIES[calibration.classification]}"
            + (f"\n{COACHING_MESSAGES[calibration.classification]}" if changed else "")
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
