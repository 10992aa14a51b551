"""A slash command's text as Slack sends it (the simulator), and back as typed (the app).

Slack escapes &, < and > in all text (https://docs.slack.dev/messaging/formatting-message-text),
and with should_escape on also sends @name, #channel and links in their escaped forms
(https://docs.slack.dev/interactivity/implementing-slash-commands). Pure functions, so plain
unit tests; the commands themselves are tested over HTTP in the feature test modules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.slack_text import unescape_command_text
from testkit.simulator import (
    NameDirectory,
    SlackSender,
    command_text_as_sent,
    should_escape,
)
from testkit.standin import SlackStandIn, StandInUser

DIRECTORY = NameDirectory(
    users={"leo": "U0REP1", "priya.k": "U0REP2"},
    channels={"wins": "C0WINS"},
    usergroups={"sales": "S0SALES"},
)
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("@leo great call", "<@U0REP1|leo> great call"),
        ("@leo, @priya.k. Thanks", "<@U0REP1|leo>, <@U0REP2|priya.k>. Thanks"),
        ("#wins #resilience", "<#C0WINS|wins> #resilience"),  # no #resilience channel
        ("@nobody hi", "@nobody hi"),  # nobody by that name: left as typed
        ("AT&T <renewal> & more", "AT&amp;T &lt;renewal&gt; &amp; more"),
        ("see https://x.example/?a=1&b=2 now", "see <https://x.example/?a=1&amp;b=2> now"),
        ("@here look", "<!here> look"),
        ("@sales team", "<!subteam^S0SALES|@sales> team"),
        ("typed <@U0REP1>", "typed &lt;@U0REP1&gt;"),  # markup typed by hand is just text
    ],
)
def test_with_should_escape_names_channels_and_links_arrive_escaped(typed: str, sent: str) -> None:
    assert command_text_as_sent(typed, escape=True, directory=DIRECTORY) == sent


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("@leo great call", "@leo great call"),
        ("#wins https://x.example", "#wins https://x.example"),
        ("AT&T <renewal>", "AT&amp;T &lt;renewal&gt;"),  # escaped either way
    ],
)
def test_without_should_escape_only_ampersand_and_angle_brackets_are_escaped(
    typed: str, sent: str
) -> None:
    assert command_text_as_sent(typed, escape=False, directory=DIRECTORY) == sent


def test_should_escape_comes_from_the_manifest_and_follows_a_copy(tmp_path: Path) -> None:
    assert should_escape("/kudos") is True
    assert should_escape("/lost") is False
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    for entry in manifest["features"]["slash_commands"]:
        entry["should_escape"] = not entry["should_escape"]
        if entry["command"] == "/goal":
            del entry["should_escape"]  # the schema's default: false
    flipped = tmp_path / "manifest.yml"
    flipped.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    assert should_escape("/kudos", flipped) is False
    assert should_escape("/lost", flipped) is True
    assert should_escape("/goal", flipped) is False
    with pytest.raises(ValueError, match="not a slash command"):
        should_escape("/dance", flipped)


def test_the_sender_escapes_per_command_and_resolves_names_through_the_stand_in() -> None:
    standin = SlackStandIn()  # not started: only its directory is used
    standin.add_user(StandInUser(id="U0REP1", name="leo", real_name="Leo Rep"))
    standin.add_channel("C0WINS", "wins")
    sender = SlackSender("unused://", "unused-secret", directory=standin)
    typed = "@leo #wins AT&T"
    kudos = sender.slash_command_fields("/kudos", typed, user_id="U0MGR")["text"]
    assert kudos == "<@U0REP1|leo> <#C0WINS|wins> AT&amp;T"
    lost = sender.slash_command_fields("/lost", typed, user_id="U0MGR")["text"]
    assert lost == "@leo #wins AT&amp;T"


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("AT&amp;T &lt;renewal&gt;", "AT&T <renewal>"),
        ("&amp;lt; stays what was typed", "&lt; stays what was typed"),
        ("<@U0REP1|leo> and <@U0REP2>", "@leo and @U0REP2"),
        ("<#C0WINS|wins> <#C0LOST>", "#wins #C0LOST"),
        ("<!here> <!subteam^S0SALES|@sales> <!subteam^S0OPS>", "@here @sales @S0OPS"),
        (
            "<https://x.example/?a=1&amp;b=2> <http://acme.com|acme.com>",
            "https://x.example/?a=1&b=2 acme.com",
        ),
    ],
)
def test_unescape_gives_back_what_was_typed(sent: str, typed: str) -> None:
    assert unescape_command_text(sent) == typed


@pytest.mark.parametrize("typed", ["AT&T <renewal>", "R&D <3 &amp; more", "@leo #wins x>y"])
def test_unescape_undoes_what_slack_sends_for_either_setting(typed: str) -> None:
    for escape in (True, False):
        sent = command_text_as_sent(typed, escape=escape, directory=DIRECTORY)
        assert unescape_command_text(sent) == typed
