"""Token buckets on real seconds: how the dispatcher paces each workspace's calls per method
and per channel, and holds a bucket after a 429 (bot.dispatcher)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

# Pacing waits shorter than this are slept through; longer ones put the row back until then.
MAX_INLINE_WAIT_SECONDS = 2.0


class TokenBuckets:
    """Token buckets in real (monotonic) seconds: `wait(key, per_minute)` says how long until
    one more call may go, and takes the token when it is 0. A held key (429) waits until the
    hold ends."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._state: dict[tuple[str, ...], tuple[float, float]] = {}  # key -> (tokens, at)
        self._held: dict[tuple[str, ...], float] = {}

    def wait(self, key: tuple[str, ...], per_minute: float, burst: float) -> float:
        return self.wait_all([(key, per_minute, burst)])

    def wait_all(self, buckets: Sequence[tuple[tuple[str, ...], float, float]]) -> float:
        """`wait` for several buckets at once (a channel's and its workspace's): the tokens
        are taken from all of them or, when one has none, from none (the longest wait)."""
        with self._lock:
            now = self._monotonic()
            longest = 0.0
            refilled: list[tuple[tuple[str, ...], float]] = []
            for key, per_minute, burst in buckets:
                held = self._held.get(key, 0.0)
                if held > now:
                    longest = max(longest, held - now)
                    continue
                tokens, at = self._state.get(key, (burst, now))
                tokens = min(burst, tokens + (now - at) * per_minute / 60.0)
                refilled.append((key, tokens))
                if tokens < 1.0 - 1e-9:
                    longest = max(longest, (1.0 - tokens) * 60.0 / per_minute)
            for key, tokens in refilled:
                self._state[key] = (tokens - 1.0 if longest == 0.0 else tokens, now)
            return longest

    def hold(self, key: tuple[str, ...], seconds: float) -> None:
        with self._lock:
            until = self._monotonic() + seconds
            self._held[key] = max(self._held.get(key, 0.0), until)
