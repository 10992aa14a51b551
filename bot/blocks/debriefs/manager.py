"""The private note to a rep's manager about a loss or a lucky hit, with one coaching question."""

from __future__ import annotations

from typing import Any

from bot.blocks.crm import crm_deal_link
from bot.blocks.debriefs._words import _held, _slipped, _verdict
from bot.blocks.kit import actions, button, escape_mrkdwn, section
from bot.domain import CLASSIFICATION_LABELS, Classification
from bot.domain.debriefs import REASONS, STAGES, OutcomeFacts, reason_in_control
from bot.domain.money import format_money

MANAGER_ADVICE: dict[Classification, str] = {
    Classification.PERFECT_MISS: (
        "Their process held. Don't invent fixes or ghost-feedback after a perfect miss — the "
        "process and pitch need no change. Encourage them to repeat exactly the same thing; "
        "performance shakes out statistically."
    ),
    Classification.SYSTEM_MISS: (
        "Losing an opportunity hurts, so start with how they are. The miss matches the "
        "process: then help them pick the one practice that slipped first and make it their "
        "focus — coaching, not criticism."
    ),
    Classification.LUCKY_HIT: (
        "A loss, masquerading as a win: the result came in, the process behind it didn't. "
        "Celebrate it with them, then look at the fundamentals together."
    ),
}


def coaching_question(facts: OutcomeFacts) -> str:
    if facts.classification is Classification.PERFECT_MISS:
        return "What did you do on this deal that you want to do exactly the same way next time?"
    if facts.classification is Classification.LUCKY_HIT:
        return (
            "If this deal hadn't landed, what would your pipeline look like — and what will you "
            "do this week to fill it?"
        )
    slipped = ", ".join(_slipped(facts)).lower() or "the five practices"
    return f"Looking back, which slipped first — {slipped}? What would have helped it hold?"


# The note's calibration buttons (issue 12): seed 000's reps "can't see their own swing", so the
# manager may agree with the rep's own score or say what they saw.
CALIBRATE_BLOCK_ID = "debrief_calibrate"
CALIBRATE_AGREE_ACTION_ID = "calibrate_agree"
CALIBRATE_DIFFER_ACTION_ID = "calibrate_differ"


def calibration_buttons(outcome_id: int) -> dict[str, Any]:
    return actions(
        button("Agree", CALIBRATE_AGREE_ACTION_ID, value=str(outcome_id)),
        button("I see it differently", CALIBRATE_DIFFER_ACTION_ID, value=str(outcome_id)),
        block_id=CALIBRATE_BLOCK_ID,
    )


def manager_note(facts: OutcomeFacts, *, with_buttons: bool = True) -> dict[str, Any]:
    """The private DM to the rep's manager about a loss or a lucky hit, with the buttons to
    calibrate the rep's own score (`with_buttons=False` once it is calibrated)."""
    what = "lost" if facts.kind == "loss" else "won"
    details = [f"Deal: *{escape_mrkdwn(facts.deal)}*"]
    if facts.amount is not None:
        details.append(f"Amount: {format_money(facts.amount, facts.currency)}")
    if facts.stage:
        details.append(f"Stage: {STAGES.get(facts.stage, facts.stage)}")
    if facts.reason:
        reason = REASONS.get(facts.reason, facts.reason)
        if facts.competitor:
            reason += f" ({escape_mrkdwn(facts.competitor)})"
        if reason_in_control(facts.reason):
            reason += ", in their control"
        details.append(f"Reason: {reason}")
    if facts.luck is not None and facts.kind == "win":
        details.append(f"Luck (their estimate): {facts.luck}%")
    if facts.crm_link:
        details.append(crm_deal_link(facts.crm_link, facts.crm_source))
    held = ", ".join(_held(facts)).lower() or "none of the five"
    text = (
        f"*<@{facts.user_id}> {what} a deal* — just for you.\n"
        + " · ".join(details)
        + f"\n{_verdict(facts.classification)}\nPractices that held: {held}."
    )
    blocks = [section(text)]
    if facts.classification in MANAGER_ADVICE:  # a system hit needs no note, nor advice
        blocks.append(section(MANAGER_ADVICE[facts.classification]))
    blocks.append(section(f"*One question to ask:* {coaching_question(facts)}"))
    if with_buttons:
        blocks.append(
            section(
                "*Is this how you saw it?* They scored it themselves, and nobody sees their own "
                "swing. Agree, or tell them what you saw — they get it privately."
            )
        )
        blocks.append(calibration_buttons(facts.id))
    return {
        "text": (
            f"<@{facts.user_id}> {what} {escape_mrkdwn(facts.deal)}: "
            f"{CLASSIFICATION_LABELS[facts.classification]}"
        ),
        "blocks": blocks,
    }
