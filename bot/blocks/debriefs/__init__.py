"""Block Kit for `/lost`, `/won`, reflections and lessons (pure builders and parsers), one module
for each kind of surface:

- `lost`, `won`, `reflection`: each modal and the parsing of its submission, with what they
  share in `fields` (the inputs and their parsing) and `crm_prefill` (a CRM's answers, filled in);
- `dms`: the rep's DMs (the debrief, reminders, the choice to celebrate or share, taking a
  shout-out back, the logged win);
- `recognition`: the channel shout-outs for a perfect miss and a bounce-back;
- `manager`: the private note to the rep's manager;
- `calibration`: the manager's calibration of the rep's score and the rep's DM about it;
- `lessons`: `/rebound lessons` (the rep's own, and what their teammates shared);
- `lesson_reminder`: a win's lesson question followed up ("Not now", the one reminder).

The words come from the seed texts: the reflection questions from 000/001 ("A lost opportunity is
a form of negative feedback. There's a lesson in there for you somewhere."), the four outcomes
and "go out and do exactly what you did again" from 002, the "tip of the hat" for a bounce-back
from 003. The values they are built from (bot.domain.debriefs) live in the domain.

Everything is re-exported here, so `from bot.blocks.debriefs import lost_modal` keeps working.
"""

from bot.blocks.debriefs.calibration import (
    ALREADY_CALIBRATED,
    CALIBRATE_CALLBACK_ID,
    NO_SUCH_OUTCOME,
    NOT_THE_MANAGER,
    OWN_OUTCOME,
    calibrated_manager_note,
    calibration_modal,
    calibration_rep_dm,
    parse_calibration_submission,
    read_calibration_metadata,
)
from bot.blocks.debriefs.calibration_shout_outs import (
    ShoutOutChange,
    ask_withdrawn_blocks,
    ask_withdrawn_dm,
    calibration_shout_out_blocks,
)
from bot.blocks.debriefs.crm_prefill import CrmPrefill, read_crm_offer_id
from bot.blocks.debriefs.dms import (
    CELEBRATE_ASK_BLOCK_ID,
    CELEBRATE_BLOCK_ID,
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
    SHARE_LESSON_ACTION_ID,
    SHARE_LESSON_BLOCK_ID,
    TAKE_BACK_ACTION_ID,
    TAKE_BACK_BLOCK_ID,
    UNSHARE_LESSON_ACTION_ID,
    WIN_COACHING,
    ShoutOut,
    already_taken_back,
    celebration_choice_dm,
    consent_recorded_blocks,
    loss_debrief_dm,
    not_your_questions,
    nothing_to_take_back,
    reflection_reminder_dm,
    reflection_saved_dm,
    take_back_button,
    take_back_failed_dm,
    take_back_lost_track,
    taken_back_blocks,
    win_lesson_saved_dm,
    win_logged_dm,
)
from bot.blocks.debriefs.fields import MAX_AMOUNT, MAX_DEAL
from bot.blocks.debriefs.lesson_reminder import (
    LESSON_NOT_NOW_ACTION_ID,
    lesson_not_now_blocks,
    lesson_not_now_not_yours,
    win_lesson_reminder_dm,
)
from bot.blocks.debriefs.lessons import LESSON_SNIPPET, lessons_message
from bot.blocks.debriefs.lost import (
    LOST_CALLBACK_ID,
    MAX_COMPETITOR,
    MAX_FEEDBACK,
    lost_modal,
    parse_lost_submission,
)
from bot.blocks.debriefs.manager import (
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    MANAGER_ADVICE,
    coaching_question,
    manager_note,
)
from bot.blocks.debriefs.recognition import bounce_back_shout_out, perfect_miss_shout_out
from bot.blocks.debriefs.reflection import (
    FOLLOW_UP_BLOCK_ID,
    MAX_ANSWER,
    MAX_COMMITMENT,
    REFLECT_CALLBACK_ID,
    ReflectionIds,
    already_reflected_modal,
    parse_reflection_submission,
    read_reflection_metadata,
    reflection_metadata,
    reflection_modal,
    win_lesson_modal,
)
from bot.blocks.debriefs.won import WON_CALLBACK_ID, parse_won_submission, won_modal

__all__ = [
    "CELEBRATE_ASK_BLOCK_ID",
    "ShoutOutChange",
    "ask_withdrawn_blocks",
    "ask_withdrawn_dm",
    "calibration_shout_out_blocks",
    "LESSON_NOT_NOW_ACTION_ID",
    "lesson_not_now_blocks",
    "lesson_not_now_not_yours",
    "win_lesson_reminder_dm",
    "ALREADY_CALIBRATED",
    "CALIBRATE_AGREE_ACTION_ID",
    "CALIBRATE_CALLBACK_ID",
    "CALIBRATE_DIFFER_ACTION_ID",
    "NOT_THE_MANAGER",
    "NO_SUCH_OUTCOME",
    "OWN_OUTCOME",
    "calibrated_manager_note",
    "calibration_modal",
    "calibration_rep_dm",
    "parse_calibration_submission",
    "read_calibration_metadata",
    "CELEBRATE_BLOCK_ID",
    "CELEBRATE_NO_ACTION_ID",
    "CELEBRATE_YES_ACTION_ID",
    "FOLLOW_UP_BLOCK_ID",
    "LESSON_SNIPPET",
    "LOST_CALLBACK_ID",
    "MANAGER_ADVICE",
    "MAX_AMOUNT",
    "MAX_ANSWER",
    "MAX_COMMITMENT",
    "MAX_COMPETITOR",
    "MAX_DEAL",
    "MAX_FEEDBACK",
    "REFLECT_ACTION_ID",
    "REFLECT_CALLBACK_ID",
    "TAKE_BACK_ACTION_ID",
    "TAKE_BACK_BLOCK_ID",
    "SHARE_LESSON_ACTION_ID",
    "SHARE_LESSON_BLOCK_ID",
    "UNSHARE_LESSON_ACTION_ID",
    "WIN_COACHING",
    "WON_CALLBACK_ID",
    "CrmPrefill",
    "ReflectionIds",
    "ShoutOut",
    "already_reflected_modal",
    "already_taken_back",
    "bounce_back_shout_out",
    "celebration_choice_dm",
    "coaching_question",
    "consent_recorded_blocks",
    "lessons_message",
    "lost_modal",
    "loss_debrief_dm",
    "manager_note",
    "not_your_questions",
    "nothing_to_take_back",
    "parse_lost_submission",
    "parse_reflection_submission",
    "parse_won_submission",
    "perfect_miss_shout_out",
    "read_crm_offer_id",
    "read_reflection_metadata",
    "reflection_metadata",
    "reflection_modal",
    "reflection_reminder_dm",
    "reflection_saved_dm",
    "take_back_button",
    "take_back_failed_dm",
    "take_back_lost_track",
    "taken_back_blocks",
    "win_lesson_modal",
    "win_lesson_saved_dm",
    "win_logged_dm",
    "won_modal",
]
