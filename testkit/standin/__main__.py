"""Run the Slack stand-in on its own: `python -m testkit.standin --port 8765`."""

from __future__ import annotations

import argparse
import time

from testkit.standin.core import SlackStandIn
from testkit.standin.records import StandInUser


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in until interrupted, with a couple of sample users and a wins channel."""
    parser = argparse.ArgumentParser(description="A local stand-in for the Slack Web API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--bot-token", default="xoxb-standin")
    arguments = parser.parse_args(argv)
    stand_in = SlackStandIn(host=arguments.host, port=arguments.port, bot_token=arguments.bot_token)
    stand_in.add_user(
        StandInUser(id="U0MANAGER", name="maria", real_name="Maria Manager", is_admin=True)
    )
    stand_in.add_user(
        StandInUser(id="U0REP", name="riley", real_name="Riley Rep", tz="America/Los_Angeles")
    )
    stand_in.add_channel("C0WINS", "wins")
    stand_in.start()
    print(f"Slack stand-in listening: SLACK_API_URL={stand_in.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stand_in.stop()


if __name__ == "__main__":
    main()
