"""Loss debriefs, wins, reflections and lessons: the decisions, without Slack.

The `record_*` / `queue_*` functions take a unit of work (bot.uow): they save the fact and
queue, in the same transaction, every message it causes as outbox rows (the rep's DM, the
manager's note, the shout-outs); the dispatcher sends them, and the hooks registered at the end
of this module record what the debrief needs to know (the questions are in the rep's DM, the
shout-out is up) in the dispatcher's transaction. The others work inside the caller's session.
"""

from __future__ import annotations

# Read as debriefs.NotYours by callers since before the split.
from bot.domain.debriefs import NotYours
from bot.usecases.debrief_facts import (
    BOUNCE_BACK,
    CALIBRATED_NOTE,
    CHOICE,
    MANAGER_NOTE,
    PERFECT_MISS,
    REFLECTED,
    REMINDER,
    REP_DM,
    TAKE_BACK,
    TAKE_BACK_FAILED,
    WIN_REP_DM,
    bounce_back_post_key,
    calibration_of,
    counted_facts,
    facts_of,
    perfect_miss_key,
    reminder_key,
    rep_dm_key,
    shout_out_key,
)
from bot.usecases.debrief_reflections import (
    ReflectionPrompt,
    SavedReflections,
    debrief_owner,
    queue_reflection_reminders,
    record_reflections,
    reflection_prompt,
    save_reflections,
)
from bot.usecases.debrief_saving import (
    Answers,
    SavedOutcome,
    _manager_id,
    _resilience_line,
    loss_answers,
    queue_calibrated_note,
    record_loss,
    record_win,
    rep_resilience,
    save_loss,
    save_win,
    win_answers,
)
from bot.usecases.debrief_shout_outs import (
    CelebrationState,
    CelebrationWithdrawn,
    TakeBackResult,
    TakenBack,
    _queue_choice_dm,
    ask_withdrawal_due,
    choose_celebration,
    queue_shout_out_deletion,
    record_celebration_choice,
    take_back_shout_out,
)

# Everything the modules above hold, importable from here as before the split.
__all__ = [
    "NotYours",
    "Answers",
    "BOUNCE_BACK",
    "CALIBRATED_NOTE",
    "CHOICE",
    "CelebrationState",
    "CelebrationWithdrawn",
    "MANAGER_NOTE",
    "PERFECT_MISS",
    "REFLECTED",
    "REMINDER",
    "REP_DM",
    "ReflectionPrompt",
    "SavedOutcome",
    "SavedReflections",
    "TAKE_BACK",
    "TAKE_BACK_FAILED",
    "TakeBackResult",
    "TakenBack",
    "WIN_REP_DM",
    "_manager_id",
    "_queue_choice_dm",
    "_resilience_line",
    "ask_withdrawal_due",
    "bounce_back_post_key",
    "calibration_of",
    "choose_celebration",
    "counted_facts",
    "debrief_owner",
    "facts_of",
    "loss_answers",
    "perfect_miss_key",
    "queue_calibrated_note",
    "queue_reflection_reminders",
    "queue_shout_out_deletion",
    "record_celebration_choice",
    "record_loss",
    "record_reflections",
    "record_win",
    "reflection_prompt",
    "reminder_key",
    "rep_dm_key",
    "rep_resilience",
    "save_loss",
    "save_reflections",
    "save_win",
    "shout_out_key",
    "take_back_shout_out",
    "win_answers",
]


# The hooks that record what the outbox sent (bot.outbox_hooks) register on import.
from bot.usecases import debrief_hooks  # noqa: E402, F401
