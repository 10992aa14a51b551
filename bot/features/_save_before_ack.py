"""Save, then ack: the pattern of every modal whose answers must not be lost.

Slack closes a modal when its submission is acked; if the save failed after that, everything
the person typed would be gone. So the use case runs (in one unit of work) before the ack, and
a failure is the ack itself: the modal stays open with an error under one field and all the
answers still there (https://docs.slack.dev/surfaces/modals#displaying_errors: respond with
`response_action: errors` to keep the view open). Slack waits 3 seconds for the ack, so the
save must be one short transaction; what it causes is queued in the outbox, not sent here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_bolt import Ack

from bot.uow import UnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")
SAVE_FAILED = "Couldn't save just now. Please try again — your answers are still here."


def save_before_ack(
    ack: Ack,
    uow: UnitOfWork,
    save: Callable[[UnitOfWork], T | None],
    *,
    error_block: str,
    message: str = SAVE_FAILED,
) -> T | None:
    """Run `save` in `uow` (committed before the ack), then ack. On failure the ack keeps the
    modal open with `message` under `error_block` and None is returned; None also when `save`
    found nothing new to do (a repeated submission)."""
    try:
        with uow:
            result = save(uow)
    except Exception:
        log.exception("saving a submission failed")
        ack(response_action="errors", errors={error_block: message})
        return None
    ack()
    return result
