"""The test's clock, shared with the `rebound serve` process under test.

Production reads the wall clock (`bot.clock.utc_now`). A test instead owns a `SharedClock`: it
reads "now" as the real time plus an offset kept in a small file, and the app under test is
started through `python -m testkit.clocked_cli CLOCK_FILE serve …`, which hands `bot.cli.main` a
`FileClock` on the same file. Moving the test's clock therefore moves the app's clock too, and no
environment variable or setting of the product can switch this on.

Under `time-machine` (the suite's fixed-instant runs) the test process's `datetime.now()` is the
travelled instant while the child process keeps the real time; the offset is measured against the
real time (time-machine's escape hatch), so both processes agree on the travelled "now".
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def real_time() -> float:
    """Seconds since the epoch on the real clock, even while time-machine travels.

    Slack signs requests with the real time and Bolt checks it against the real time
    (https://docs.slack.dev/authentication/verifying-requests-from-slack/: a timestamp more than
    five minutes from local time is refused), so signatures must never use a travelled clock.
    """
    try:
        import time_machine
    except ImportError:  # production installs have no time-machine; nothing travels there
        return time.time()
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time()
    return time.time()


def _real_now() -> datetime:
    return datetime.fromtimestamp(real_time(), UTC)


class FileClock:
    """The app-side clock: real time plus the offset in `path`, read on every call (a few
    microseconds; a cache keyed on mtime could miss two writes within the file system's tick)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._offset = timedelta(0)

    def _read_offset(self) -> timedelta:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._offset = timedelta(seconds=float(data["offset_seconds"]))
        except FileNotFoundError:
            self._offset = timedelta(0)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable: keep the last good offset
        return self._offset

    def __call__(self) -> datetime:
        return _real_now() + self._read_offset()


class SharedClock(FileClock):
    """The test-side clock. It starts at the test process's "now" (the real time, or the
    travelled instant under time-machine) and moves only when told to; time passes as usual."""

    def __init__(self, path: Path | str, start: datetime | None = None) -> None:
        super().__init__(path)
        self.set(start or datetime.now(UTC))

    def _write(self, offset: timedelta) -> None:
        # Write-then-rename, so the app never reads half a file.
        staging = self.path.with_suffix(".tmp")
        staging.write_text(json.dumps({"offset_seconds": offset.total_seconds()}), "utf-8")
        os.replace(staging, self.path)
        self._offset = offset

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("SharedClock needs timezone-aware times")
        self._write(when - _real_now())

    def advance(self, **delta: float) -> datetime:
        self._write(self._read_offset() + timedelta(**delta))
        return self()
