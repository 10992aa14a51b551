"""`rebound demo` — the main job with no Slack tokens — plays its week and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_plays_the_scripted_week_offline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REBOUND_"))}
    env.pop("DATABASE_URL", None)
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "start"],  # no tokens: `start` means the demo
        cwd=tmp_path,
        env={**env, "REBOUND_DEMO_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    transcript = (out / "transcript.txt").read_text()
    # What people see, rendered as text, from the real app's answers:
    assert "Leo sees (only visible to you)" in transcript
    assert "/lost" in transcript  # the help
    assert "Only Rebound admins can change settings" in transcript
    assert "Rebound settings" in transcript  # the modal Maya opens
    assert "Pick their manager" in transcript  # a field error keeps the modal open
    assert "Settings saved" in transcript  # Maya's DM
    assert "Leo's Home tab" in transcript
    assert "(0 extra Home publishes)" in transcript
    assert "I don't know `stats` yet" in transcript
    # Debriefs: the perfect miss is celebrated in #wins (with consent), its reflection asks
    # what to keep doing, and Priya's win after two losses gets a bounce-back shout-out once
    # she says yes; she takes it back, and the post is removed once.
    assert (
        "#wins sees a post from Rebound:\n    │ :dart: *Celebrating a perfect miss.* @Leo lost "
        "*Acme renewal*"
    ) in transcript
    assert "• One thing I'll keep doing exactly the same" in transcript
    # Issue 12: Maya's calibration makes Priya's Initech a perfect miss; Priya is asked first
    # (in Maya's note to her), says yes, and the shout-out names what Maya saw held.
    assert "Now that it reads as a perfect miss, shall we celebrate it?" in transcript
    assert (
        "#wins sees a post from Rebound:\n    │ :dart: *Celebrating a perfect miss.* @Priya lost "
        "*Initech*"
    ) in transcript
    assert (
        "#wins sees a post from Rebound:\n    │ :arrows_counterclockwise: *Bounce-back!* @Priya "
        "won *Hooli*"
    ) in transcript
    assert "Share it with the team? I'd post a tip of the hat in #wins" in transcript
    assert "Done — your bounce-back is up in #wins. A tip of the hat." in transcript
    assert transcript.count("#wins: Rebound removes its post.") == 1
    assert "Taken back. The shout-out is coming down from the channel." in transcript
    assert "Already taken back. Nothing more to do." in transcript
    # Issue 12: Priya's win asks what worked; she shares the lesson and Leo finds it.
    assert "One question, while it's fresh: *What worked that you would do again?*" in transcript
    assert "[ *Share with my team* ]" in transcript
    assert "Shared with your team." in transcript
    leo_sees = transcript[transcript.index("Leo types `/rebound lessons budget`") :]
    assert "*Shared by your team*" in leo_sees and "Asked about budget and who signs" in leo_sees
    # Issue 12: Maya replies to Leo's check-in from her digest; both Homes show the agenda.
    assert "Maya replies to Leo's check-in and puts it on their one-on-one" in transcript
    assert "@Maya replied to your check-in:" in transcript
    assert transcript.count("*One-on-one agenda*") >= 2
    # ... and once they have talked it through, Leo marks it done: off both Homes, no DM.
    done = transcript[transcript.index("» Leo clicks “Done” beside the item") :]
    assert "Leo's Home tab:" in done and "Maya's Home tab:" in done
    assert "Nothing open. Everything on it has been talked about." in done
    assert "Messages about it: 0." in done
    # A win's lesson question can be put off: "Skip this one" beside it means no reminder.
    assert "[ *Answer the question* ]  [ Skip this one ]" in transcript
    # ... and one left unanswered gets one gentle nudge a day later, and only one.
    assert "A gentle nudge about your win on *Initrode*: *What worked that you would" in transcript
    assert "Nudges about Initrode sent: 1" in transcript
    # A HubSpot closed-lost arrives: the offer in Leo's DM, then the prefilled form.
    # (seed 000's "When you lose an opportunity, it hurts." first, as the transcript wraps it)
    assert (
        "Leo gets a DM from Rebound:\n    │ When you lose an opportunity, it hurts. HubSpot "
        "marked *Umbrella\n    │ renewal* (£60,000) closed lost. Debrief it while it's fresh?"
    ) in transcript
    assert "The same request signed with another secret is refused: 401" in transcript
    assert "From HubSpot, filled in where it could be." in transcript
    # Resilience support (seed 003): Leo's third loss in a row brings him a private practice
    # and an offer to talk, Maya a one-on-one question; nothing in #wins; Maya's Home lists him.
    assert "*Soylent* makes it 3 losses" in transcript
    assert "*Get up the next morning and correct the mistake in question.*" in transcript
    assert "*One question for your next one-on-one:*" in transcript
    assert "#wins got 0 posts about it: support is private" in transcript
    assert "*@Leo would like to talk.*" in transcript
    assert "• @Leo: 3 losses in a row, for 9 days" in transcript
    # Leo corrects Umbrella from his Home: a perfect miss now, and his record follows.
    assert "Lost *Umbrella* · Perfect miss" in transcript
    assert "🔧 System miss 1 · 🎉 Perfect miss 1" in transcript
    assert "Demo finished" in result.stdout
