"""What a filled-in modal parses to, for the tests that call the use cases straight:
`loss_submission(deal, practices=...)`, a price loss at the proposal stage with no amount,
competitor or buyer feedback."""

from __future__ import annotations

from bot.domain.debriefs import LossSubmission


def loss_submission(deal: str, *, practices: dict[str, bool]) -> LossSubmission:
    return LossSubmission(
        deal=deal,
        amount=None,
        stage="proposal",
        reason="price",
        competitor=None,
        practices=practices,
        buyer_feedback=None,
    )
