"""The post keys of a manager's calibration, one set per calibration (issue 12).

A rep's correction of what was calibrated (practices, luck, classification) clears the
calibration, and the manager may calibrate the outcome again (bot.usecases.corrections). The
outbox sends a post key once, so each calibration's messages (the rep's DM with the manager's
view, the update of the manager's note) need keys of their own: the first calibration keeps the
plain keys, the second gets "-2", and so on. The round is read from the rep's DMs already
queued: record_calibration queues one per calibration, in the calibration's own transaction, so
a hook that runs later (the note recorded as sent after the click) finds the same round again.
"""

from __future__ import annotations

from sqlmodel import Session

from storage import corrections_queries as cq


def _rep_dm_base(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:calibration"


def _note_base(outcome_id: int) -> str:
    return f"debrief:{outcome_id}:manager-calibrated"


def _with_round(base: str, round_: int) -> str:
    return base if round_ <= 1 else f"{base}-{round_}"


def latest_round(session: Session, team_id: str, outcome_id: int) -> int:
    """How many calibrations of the outcome queued their rep DM (0 for none yet)."""
    base = _rep_dm_base(outcome_id)
    rounds = [0]
    for key in cq.outbox_keys_like(session=session, team_id=team_id, prefix=base):
        rest = key.removeprefix(base)
        if rest == "":
            rounds.append(1)
        elif rest.startswith("-") and rest[1:].isdigit():
            rounds.append(int(rest[1:]))
    return max(rounds)


def next_rep_dm_key(session: Session, team_id: str, outcome_id: int) -> str:
    """The key of the rep's DM about a calibration being recorded now."""
    return _with_round(_rep_dm_base(outcome_id), latest_round(session, team_id, outcome_id) + 1)


def calibrated_note_key(session: Session, team_id: str, outcome_id: int) -> str:
    """The key of the manager's note's update for the latest calibration (its rep DM queued)."""
    return _with_round(_note_base(outcome_id), latest_round(session, team_id, outcome_id))
