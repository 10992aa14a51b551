"""`rebound demo`: a short scripted week of a small team, played offline through the real app.

The real HTTP app runs on loopback against the built-in Slack stand-in and a SQLite file in a
temporary folder; every request is signed as Slack signs it. What each person would see in
Slack is printed as text and written to `transcript.txt`.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.clock import FakeClock
from bot.config import Settings
from bot.scheduler import Ticker
from storage.models import OutboxMessage
from testkit.hubspot_standin import HubSpotStandIn
from testkit.render import mrkdwn_to_text, render_message, render_view
from testkit.simulator import HttpReply, SlackSender
from testkit.standin import RecordedCall, SlackStandIn, StandInUser

TEAM = (
    StandInUser(
        id="U0MAYA",
        name="maya",
        real_name="Maya Chen",
        tz="America/New_York",
        is_admin=True,
        email="maya@acme.example",
    ),
    StandInUser(
        id="U0LEO", name="leo", real_name="Leo Okafor", tz="Europe/London", email="leo@acme.example"
    ),
    StandInUser(
        id="U0PRIYA",
        name="priya",
        real_name="Priya Raman",
        tz="America/Los_Angeles",
        email="priya@acme.example",
    ),
)
# HubSpot, connected to the demo's HubSpot stand-in: webhooks are signed for this public URL.
DEMO_PUBLIC_URL = "https://rebound.acme.example"
DEMO_HUBSPOT_SECRET = "demo-hubspot-client-secret"
CHANNELS = {"C0WINS": "wins", "C0SALES": "sales"}
# The demo's week starts Monday 23 November 2026, 09:00 in New York.
DEMO_START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


class Transcript:
    """Prints what each person sees and keeps a copy for transcript.txt."""

    def __init__(self, standin: SlackStandIn, out: TextIO, *, quiet: bool) -> None:
        self.standin = standin
        self.out = out
        self.quiet = quiet
        self.lines: list[str] = []
        self.names = {u.id: u.real_name.split()[0] for u in TEAM} | CHANNELS
        self.seen = 0

    def write(self, text: str = "") -> None:
        self.lines.append(text)
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def scene(self, title: str) -> None:
        self.write()
        self.write("━" * 72)
        self.write(f"  {title}")
        self.write("━" * 72)

    def say(self, text: str) -> None:
        self.write(f"» {text}")

    def person(self, user_id: str) -> str:
        return self.names.get(user_id, user_id)

    def show_reply(self, user_id: str, reply: HttpReply) -> None:
        """The HTTP answer to a command: an ephemeral reply only that person sees."""
        body = reply.json() if reply.body.strip().startswith("{") else None
        if not body:
            return
        if body.get("response_action") == "errors":
            self.write(f"\n  {self.person(user_id)} sees the modal stay open, with:")
            for block_id, message in body.get("errors", {}).items():
                self.write(f"    ⚠ {block_id}: {mrkdwn_to_text(message, names=self.names)}")
            return
        self.write(f"\n  {self.person(user_id)} sees (only visible to you):")
        self._box(
            render_message(text=body.get("text"), blocks=body.get("blocks"), names=self.names)
        )

    def show_replaced(self, user_id: str, body: dict[str, Any]) -> None:
        """A click's answer through its response_url that replaced the message clicked."""
        self.write(f"\n  {self.person(user_id)}'s message is replaced with:")
        self._box(
            render_message(text=body.get("text"), blocks=body.get("blocks"), names=self.names)
        )

    def show_new_calls(self) -> list[RecordedCall]:
        """Everything the app sent to Slack since last time, as the people would see it."""
        calls = self.standin.calls[self.seen :]
        self.seen += len(calls)
        for call in calls:
            self._show_call(call)
        return calls

    def _show_call(self, call: RecordedCall) -> None:
        p = call.params
        if not call.ok:
            return
        if call.method in ("views.open", "views.push", "views.update"):
            self.write("\n  A modal opens:")
            self._box(render_view(p["view"], names=self.names))
        elif call.method == "views.publish":
            self.write(f"\n  {self.person(p['user_id'])}'s Home tab:")
            self._box(render_view(p["view"], names=self.names))
        elif call.method == "chat.postMessage":
            channel = p.get("channel", "")
            where = (
                # A DM is posted to its D-channel, or straight to the user ID (Slack allows both).
                f"{self.person('U' + channel[1:])} gets a DM from Rebound"
                if channel.startswith(("D", "U", "W"))
                else f"#{self.names.get(channel, channel)} sees a post from Rebound"
            )
            self.write(f"\n  {where}:")
            self._box(render_message(text=p.get("text"), blocks=p.get("blocks"), names=self.names))
        elif call.method == "chat.update":
            channel = p.get("channel", "")
            where = (
                f"{self.person('U' + channel[1:])}'s DM from Rebound"
                if channel.startswith("D")
                else f"The post in #{self.names.get(channel, channel)}"
            )
            self.write(f"\n  {where} now reads:")
            self._box(render_message(text=p.get("text"), blocks=p.get("blocks"), names=self.names))
        elif call.method == "chat.delete":
            channel = p.get("channel", "")
            self.write(f"\n  #{self.names.get(channel, channel)}: Rebound removes its post.")
        elif call.method == "chat.postEphemeral":
            self.write(f"\n  {self.person(p['user'])} sees (only visible to you):")
            self._box(render_message(text=p.get("text"), blocks=p.get("blocks"), names=self.names))

    def _box(self, rendered: str) -> None:
        for line in rendered.splitlines():
            self.write(f"    │ {line}")


def _wait(
    standin: SlackStandIn, seen: int, predicate: Callable[[list[RecordedCall]], bool]
) -> None:
    standin.wait_for(lambda calls: predicate(calls[seen:]), timeout=10.0)


def _has(method: str) -> Callable[[list[RecordedCall]], bool]:
    return lambda calls: any(c.method == method for c in calls)


# How long the outbox may take to send what one tick queued, on a loaded machine.
OUTBOX_SETTLE_SECONDS = 30.0


def wait_for_outbox(engine: Engine, clock: FakeClock) -> None:
    """Wait until the outbox has nothing left to send at the demo's `now`: no row due and
    waiting, none being sent. A tick only queues rows; the dispatcher sends them on its own
    thread, so a scene that shows what a tick caused must wait for this first (rows due later,
    such as paced ones, wait for the clock to move on, as in `serve`)."""
    deadline = time.monotonic() + OUTBOX_SETTLE_SECONDS
    while True:
        with Session(engine) as session:
            busy = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    col(OutboxMessage.state).in_(("pending", "sending")),
                    col(OutboxMessage.not_before) <= clock(),
                )
            ).one()
        if busy == 0:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the outbox still had {busy} messages to send")
        time.sleep(0.02)


@dataclass
class DemoContext:
    """What a scene needs: the stand-in, a signed sender, the transcript, the demo's clock and
    the scheduler's tick (scenes move the clock, then tick, instead of waiting for real time)."""

    standin: SlackStandIn
    sender: SlackSender
    transcript: Transcript
    clock: FakeClock
    ticker: Ticker
    # The demo's output folder (transcript.txt goes there; scenes may add files such as charts).
    out_dir: Path
    maya: str = "U0MAYA"
    leo: str = "U0LEO"
    priya: str = "U0PRIYA"
    # The HubSpot stand-in and where the app takes HubSpot's webhooks (the CRM scene).
    hubspot: HubSpotStandIn | None = None
    hubspot_webhook_url: str = ""
    # Waits until the outbox has sent everything due (wait_for_outbox on the demo's database).
    outbox_settled: Callable[[], None] = lambda: None

    def tick(self) -> None:
        """Run the scheduler once, and wait until the outbox has sent what it queued: the
        tick itself only writes outbox rows."""
        self.ticker.tick()
        self.outbox_settled()

    def wait_for_new(self, seen: int, method: str, count: int = 1) -> list[RecordedCall]:
        """Wait until `count` new calls to `method` arrived after index `seen`."""
        calls = self.standin.wait_for(
            lambda calls: len([c for c in calls[seen:] if c.method == method]) >= count,
            timeout=10.0,
        )
        return [c for c in calls[seen:] if c.method == method]


def run_demo(*, out_dir: str | None = None, quiet: bool = False, out: TextIO | None = None) -> int:
    # Imported here: only the demo needs a server in-process.
    from bot.app import build_ticker
    from bot.runtime import build_runtime
    from bot.server import HubSpotEndpoint, make_http_server, make_wsgi_app
    from testkit.demo_scenes import all_scenes

    out = out or sys.stdout
    started = time.monotonic()
    folder = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="rebound-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    standin = SlackStandIn(team_name="Acme Sales").start()
    for user in TEAM:
        standin.add_user(user)
    for channel_id, name in CHANNELS.items():
        standin.add_channel(channel_id, name)

    hubspot = HubSpotStandIn().start()
    secret = secrets.token_hex(16)
    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_signing_secret=secret,
        slack_api_url=standin.url,
        database_url=f"sqlite:///{folder / 'rebound.db'}",
        public_url=DEMO_PUBLIC_URL,
        hubspot_client_secret=DEMO_HUBSPOT_SECRET,
        hubspot_access_token=hubspot.access_token,
        hubspot_api_url=hubspot.url,
    )
    clock = FakeClock(DEMO_START)
    runtime = build_runtime(settings, clock=clock)
    # Messages that are not a request's direct answer go out through the outbox, as in `serve`.
    runtime.start_dispatcher()
    ticker = build_ticker(runtime.deps)
    hubspot_endpoint = HubSpotEndpoint(
        client_secret=DEMO_HUBSPOT_SECRET,
        public_url=DEMO_PUBLIC_URL,
        team_id=runtime.team_id or standin.team_id,
        uow=runtime.deps.uow,
    )
    server = make_http_server(
        make_wsgi_app(runtime.app, runtime.engine, secret, hubspot=hubspot_endpoint),
        host="127.0.0.1",
        port=0,
    )
    stopping = threading.Event()

    def serve() -> None:
        # waitress's loop selects on the listening socket; closing it from this thread at the
        # end (server.close) can make that select fail with a bad file descriptor. Only then,
        # with the demo over, is the error expected.
        try:
            server.run()
        except (OSError, ValueError):
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, name="rebound-demo-http", daemon=True)
    thread.start()
    sender = SlackSender(
        f"http://127.0.0.1:{server.effective_port}/slack/events",
        secret,
        team_id=standin.team_id,
        directory=standin,
        response_origin=standin.origin,  # replies through response_urls land in the stand-in
    )
    transcript = Transcript(standin, out, quiet=quiet)
    transcript.seen = len(standin.calls)
    context = DemoContext(
        standin,
        sender,
        transcript,
        clock,
        ticker,
        folder,
        hubspot=hubspot,
        hubspot_webhook_url=f"http://127.0.0.1:{server.effective_port}/crm/hubspot",
        outbox_settled=lambda: wait_for_outbox(runtime.engine, clock),
    )
    try:
        for play in all_scenes():
            play(context)
    finally:
        stopping.set()
        server.close()
        standin.stop()
        hubspot.stop()
        runtime.close()

    (folder / "transcript.txt").write_text("\n".join(transcript.lines) + "\n", encoding="utf-8")
    elapsed = time.monotonic() - started
    print(
        f"\nDemo finished in {elapsed:.1f}s: {len(standin.calls)} Slack API calls, every request "
        f"signed. Transcript: {folder / 'transcript.txt'}",
        file=out,
    )
    return 0
