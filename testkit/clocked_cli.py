"""`python -m testkit.clocked_cli CLOCK_FILE ARGS…`: the `rebound` command on a test's clock.

The only way to give the app a clock other than the wall clock, and it lives in the test kit:
production runs `rebound` (bot.cli:main), which always reads the wall clock.
"""

from __future__ import annotations

import sys

from bot.cli import main
from testkit.clock import FileClock

if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: python -m testkit.clocked_cli CLOCK_FILE ARGS…", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(sys.argv[2:], clock=FileClock(sys.argv[1])))
