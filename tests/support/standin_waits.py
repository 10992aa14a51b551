"""Waiting on the stand-in without a driver, for the e2e tests that send through
`LiveApp.sender()` themselves: the first call of a method made since a mark."""

from __future__ import annotations

from testkit.standin import RecordedCall, SlackStandIn


def first_call_since(
    standin: SlackStandIn, seen: int, method: str, timeout: float = 10
) -> RecordedCall:
    """Wait until the app has called `method` since the mark `seen` (len(standin.calls) then),
    answered or refused; the first such call."""
    calls = standin.wait_for(
        lambda calls: any(c.method == method for c in calls[seen:]), timeout=timeout
    )
    return next(c for c in calls[seen:] if c.method == method)
