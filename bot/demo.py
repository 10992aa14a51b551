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
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.render import mrkdwn_to_text, render_message, render_view
from bot.simulator import HttpReply, SlackSender, state_value
from bot.standin import RecordedCall, SlackStandIn, StandInUser

TEAM = (
    StandInUser(
        id="U0MAYA", name="maya", real_name="Maya Chen", tz="America/New_York", is_admin=True
    ),
    StandInUser(id="U0LEO", name="leo", real_name="Leo Okafor", tz="Europe/London"),
    StandInUser(id="U0PRIYA", name="priya", real_name="Priya Raman", tz="America/Los_Angeles"),
)
CHANNELS = {"C0WINS": "wins", "C0SALES": "sales"}


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
                f"{self.person('U' + channel[1:])} gets a DM from Rebound"
                if channel.startswith("D")
                else f"#{self.names.get(channel, channel)} sees a post from Rebound"
            )
            self.write(f"\n  {where}:")
            self._box(render_message(text=p.get("text"), blocks=p.get("blocks"), names=self.names))
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


def run_demo(*, out_dir: str | None = None, quiet: bool = False, out: TextIO | None = None) -> int:
    # Imported here: only the demo needs a server in-process.
    from bot.runtime import build_runtime
    from bot.server import make_http_server, make_wsgi_app

    out = out or sys.stdout
    started = time.monotonic()
    folder = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="rebound-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    standin = SlackStandIn(team_name="Acme Sales").start()
    for user in TEAM:
        standin.add_user(user)
    for channel_id, name in CHANNELS.items():
        standin.add_channel(channel_id, name)

    secret = secrets.token_hex(16)
    settings = Settings(
        slack_bot_token=standin.bot_token,
        slack_signing_secret=secret,
        slack_api_url=standin.url,
        database_url=f"sqlite:///{folder / 'rebound.db'}",
    )
    runtime = build_runtime(settings)
    server = make_http_server(make_wsgi_app(runtime.app, runtime.engine), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, name="rebound-demo-http", daemon=True)
    thread.start()
    sender = SlackSender(
        f"http://127.0.0.1:{server.effective_port}/slack/events", secret, team_id=standin.team_id
    )
    transcript = Transcript(standin, out, quiet=quiet)
    transcript.seen = len(standin.calls)
    try:
        _play_week(standin, sender, transcript)
    finally:
        server.close()
        standin.stop()
        runtime.close()

    (folder / "transcript.txt").write_text("\n".join(transcript.lines) + "\n", encoding="utf-8")
    elapsed = time.monotonic() - started
    print(
        f"\nDemo finished in {elapsed:.1f}s: {len(standin.calls)} Slack API calls, every request "
        f"signed. Transcript: {folder / 'transcript.txt'}",
        file=out,
    )
    return 0


def _play_week(standin: SlackStandIn, sender: SlackSender, t: Transcript) -> None:
    maya, leo, priya = (u.id for u in TEAM)

    t.scene("Monday 09:02 — Leo (rep, London) asks Rebound what it can do")
    t.say("Leo types `/rebound help` in #sales")
    t.show_reply(leo, sender.slash_command("/rebound", "help", user_id=leo, channel_id="C0SALES"))

    t.scene("Monday 09:05 — Leo tries the settings")
    t.say("Leo types `/rebound settings` — only admins may change them")
    seen = len(standin.calls)
    sender.slash_command("/rebound", "settings", user_id=leo, channel_id="C0SALES")
    _wait(standin, seen, _has("chat.postEphemeral"))
    t.show_new_calls()

    t.scene("Monday 09:30 — Maya (sales manager, workspace admin, New York) sets Rebound up")
    t.say("Maya types `/rebound settings`")
    seen = len(standin.calls)
    sender.slash_command("/rebound", "settings", user_id=maya, channel_id="C0SALES")
    _wait(standin, seen, _has("views.open"))
    opened = t.show_new_calls()
    view = next(c for c in opened if c.method == "views.open").params["view"]

    base_values: dict[str, dict[str, Any]] = {
        "recognition_channel": {"value": state_value("channels_select", "C0WINS")},
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        "team_0_manager": {"value": state_value("users_select", None)},
        "team_0_reps": {"value": state_value("multi_users_select", [leo, priya])},
        "team_1_manager": {"value": state_value("users_select", None)},
        "team_1_reps": {"value": state_value("multi_users_select", [])},
    }
    t.say(
        "She picks #wins, Friday 14:00, and adds Leo and Priya — but forgets to pick herself "
        "as their manager, and clicks Save"
    )
    t.show_reply(maya, sender.view_submission(view, user_id=maya, values=base_values))

    t.say("She picks herself as the manager and saves again")
    base_values["team_0_manager"] = {"value": state_value("users_select", maya)}
    seen = len(standin.calls)
    reply = sender.view_submission(view, user_id=maya, values=base_values)
    t.show_reply(maya, reply)
    _wait(standin, seen, _has("chat.postMessage"))
    t.show_new_calls()

    t.scene("Monday 10:00 — Leo opens Rebound's Home tab")
    seen = len(standin.calls)
    envelope = sender.event_envelope(
        {"type": "app_home_opened", "user": leo, "channel": "D0LEO", "tab": "home"}
    )
    sender.send_event(envelope)
    _wait(standin, seen, _has("views.publish"))
    t.show_new_calls()
    t.say("Slack didn't see the 200 in time and re-delivers the same event (X-Slack-Retry-Num: 1)")
    seen = len(standin.calls)
    sender.send_event(envelope, retry_num=1)
    time.sleep(0.3)
    again = [c for c in standin.calls[seen:] if c.method == "views.publish"]
    t.say(
        f"Rebound recognises event {envelope['event_id']} and does nothing twice "
        f"({len(again)} extra Home publishes)"
    )
    t.show_new_calls()

    t.scene("Monday 10:05 — Priya mistypes a command")
    t.say("Priya types `/rebound stats`")
    t.show_reply(
        priya, sender.slash_command("/rebound", "stats", user_id=priya, channel_id="C0SALES")
    )
