"""/kudos from the command line over HTTP, against the Slack stand-in, on both backends: the post
and the recipients' DMs, mistakes and who may give, the daily cap, the Home tab's counts, and
what people type shown as typed.

Each test works in a workspace and recognition channel of its own (tests/support/kudos.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from testkit.live import CONFIGURED_ADMIN
from testkit.simulator import NameDirectory, SlackSender
from testkit.standin import SlackStandIn
from tests.support.kudos import (
    ADMIN,
    BOT,
    GONE,
    MANAGER,
    MANAGER_TZ,
    REP1,
    REP2,
    _dms_to,
    _ephemerals_after,
    _modal_values,
    _open_modal,
    team,
)
from tests.support.slack import SlackDriver, _text_of

__all__ = ["team"]  # the fixtures (tests/support/kudos.py)

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


# -- giving kudos from the command line --------------------------------------------------------


def test_a_managers_kudos_is_posted_and_each_recipient_gets_a_dm_with_the_link(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    message = f"Kept calling after losing Acme and booked three meetings {team.run}"
    # Typed as in the composer; /kudos escapes, so Slack sends <@U0REP1|leo> <@U0REP2|priya>.
    team.kudos(MANAGER, f"@leo @priya #resilience {message}")

    confirmation = _ephemerals_after(standin, seen, MANAGER)[0]
    assert "Your kudos is up" in _text_of(confirmation)
    posts = team.channel_posts()
    assert len(posts) == 1
    post = _text_of(posts[0])
    for expected in (f"<@{MANAGER}>", f"<@{REP1}>", f"<@{REP2}>", "resilience", message):
        assert expected in post
    ts = posts[0].response["ts"]
    permalink_part = f"/archives/{team.channel}/p{ts.replace('.', '')}"
    assert permalink_part in _text_of(confirmation)
    for recipient in (REP1, REP2):
        dms = _dms_to(standin, recipient, team.run)
        assert len(dms) == 1
        assert permalink_part in _text_of(dms[0])
        assert f"<@{MANAGER}> gave you kudos" in _text_of(dms[0])
    (row,) = team.kudos_rows()
    assert (row.status, row.category, row.channel_id, row.message_ts) == (
        "posted",
        "resilience",
        team.channel,
        ts,
    )


def test_a_category_slack_turned_into_a_channel_link_still_counts(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    # There is a #learning channel, so Slack sends "#learning" as <#C0LEARN|learning>.
    standin.add_channel("C0LEARN", "learning")
    team.kudos(MANAGER, f"@leo #learning Wrote up the Globex lessons {team.run}")
    _ephemerals_after(standin, seen, MANAGER)
    assert [row.category for row in team.kudos_rows()] == ["learning"]
    assert "learning" in _text_of(team.channel_posts()[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#resilience Great week", "Who is it for?"),
        ("@leo #resilience", "Add a few words"),
        ("@leo #resilience    ", "Add a few words"),
        ("@leo #resilience " + "x" * 1001, "Keep it to 1,000 characters"),
        ("@leo #vibes Great week", "#resilience, #process, #learning, #win, #teamwork"),
        ("@leo #win #process Great week", "One category per kudos"),
        # Nobody is called "leonardo": Slack leaves the name as typed.
        ("@leonardo #win Great week", "Slack didn't turn it into a mention"),
        ("@leo @pri #win Great week", "Pick the person from the autocomplete"),
        ("@maya #win Great week", "Kudos are for someone else"),
    ],
)
def test_mistakes_in_the_command_get_a_specific_ephemeral_answer_and_no_post(
    team: SlackDriver, text: str, expected: str
) -> None:
    team.setup(channel=team.channel)
    body = team.kudos(MANAGER, text).json()
    assert body["response_type"] == "ephemeral"
    assert expected.lower() in (body["text"] + json.dumps(body["blocks"])).lower()
    time.sleep(0.2)
    assert team.channel_posts() == []
    assert team.kudos_rows() == []


def test_kudos_typed_with_a_mention_works_because_the_manifest_escapes_it(
    team: SlackDriver, standin: SlackStandIn, tmp_path: Path
) -> None:
    """Slack turns "@leo" into <@U0REP1|leo> only when /kudos has should_escape: true
    (https://docs.slack.dev/interactivity/implementing-slash-commands). The same words, sent
    as Slack would for a manifest with it off, reach the app as plain "@leo"."""
    team.setup(channel=team.channel)
    typed = f"@leo #win Great call {team.run}"
    assert team.sender.slash_command_fields("/kudos", typed, user_id=MANAGER)["text"] == (
        f"<@{REP1}|leo> #win Great call {team.run}"
    )

    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    for entry in manifest["features"]["slash_commands"]:
        if entry["command"] == "/kudos":
            entry["should_escape"] = False
    unescaped = tmp_path / "manifest.yml"
    unescaped.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    wrong = SlackSender(
        team.sender.events_url,
        team.sender.signing_secret,
        team_id=team.team_id,
        directory=standin,
        manifest=unescaped,
    )
    assert wrong.slash_command_fields("/kudos", typed, user_id=MANAGER)["text"] == typed
    body = wrong.slash_command("/kudos", typed, user_id=MANAGER).json()
    assert "Slack didn't turn it into a mention" in body["text"] + json.dumps(body["blocks"])
    time.sleep(0.2)
    assert team.kudos_rows() == []

    seen = len(standin.calls)
    team.kudos(MANAGER, typed)  # the repository's manifest
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert len(team.kudos_rows()) == 1
    assert f"<@{REP1}>" in _text_of(team.channel_posts()[0])


def test_a_user_group_typed_as_the_recipient_gets_a_specific_answer(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    # With should_escape on, Slack sends "@sales" as <!subteam^S0SALES|@sales>.
    standin.add_usergroup("S0SALES", "sales")
    team.setup(channel=team.channel)
    body = team.kudos(MANAGER, "@sales #win Great quarter").json()
    assert body["response_type"] == "ephemeral"
    assert "Kudos go to people, not groups like @sales" in body["text"] + json.dumps(body["blocks"])
    time.sleep(0.2)
    assert team.kudos_rows() == []


def test_a_typed_message_is_measured_as_typed_not_as_slack_escaped_it(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    message = ("R&D <3 " * 150)[:990] + team.run  # 1,000 typed; Slack sends over 1,500
    sent = team.sender.slash_command_fields("/kudos", f"@leo #win {message}", user_id=MANAGER)
    assert len(sent["text"]) > 1500
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #win {message}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "R&amp;D &lt;3 R&amp;D" in _text_of(team.channel_posts()[0])


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        (BOT, "is a bot"),
        (GONE, "no longer active"),
        ("U0NOBODY", "couldn't find <@U0NOBODY>"),
    ],
)
def test_bots_deactivated_and_unknown_people_cannot_receive_kudos(
    team: SlackDriver, standin: SlackStandIn, recipient: str, expected: str
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    # "nobody" is someone Slack's composer offered but users.info can't find.
    sender = SlackSender(
        team.sender.events_url,
        team.sender.signing_secret,
        team_id=team.team_id,
        directory=NameDirectory(users={"nobody": "U0NOBODY"}, then=standin),
    )
    name = {BOT: "rebound", GONE: "gone", "U0NOBODY": "nobody"}[recipient]
    reply = sender.slash_command(
        "/kudos", f"@leo @{name} #teamwork Great pairing {team.run}", user_id=MANAGER
    )
    assert reply.status == 200
    (answer,) = _ephemerals_after(standin, seen, MANAGER)
    assert expected in _text_of(answer)
    assert team.channel_posts() == []
    assert team.kudos_rows() == []
    assert _dms_to(standin, REP1, team.run) == []


def test_reps_may_not_give_kudos_unless_the_workspace_opens_it_to_everyone(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)  # default policy: managers and admins
    seen = len(standin.calls)
    team.kudos(REP1, f"@priya #teamwork Covered my demo {team.run}")
    (answer,) = _ephemerals_after(standin, seen, REP1)
    assert "kudos come from managers and admins" in _text_of(answer)
    assert team.channel_posts() == []
    assert team.kudos_rows() == []

    team.configure(kudos_policy="everyone")
    seen = len(standin.calls)
    team.kudos(REP1, f"@priya #teamwork Covered my demo {team.run}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, REP1)[0])
    assert len(team.channel_posts()) == 1


@pytest.mark.parametrize("giver", [ADMIN, CONFIGURED_ADMIN])
def test_workspace_admins_and_rebound_admins_may_give_kudos(
    team: SlackDriver, standin: SlackStandIn, giver: str
) -> None:
    team.configure(recognition_channel_id=team.channel)
    seen = len(standin.calls)
    team.kudos(giver, f"@leo #process Textbook discovery call {team.run}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, giver)[0])
    assert len(team.channel_posts()) == 1


def test_the_daily_cap_stops_the_next_kudos_with_a_reason(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel, kudos_daily_cap=2)
    for n in range(2):
        seen = len(standin.calls)
        team.kudos(MANAGER, f"@leo #win Closed deal {n} {team.run}")
        assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@priya #win One more {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "You've given 2 kudos today" in answer
    assert f"midnight your time ({MANAGER_TZ})" in answer
    assert len(team.channel_posts()) == 2
    assert len(team.kudos_rows()) == 2


# -- the Home tab ------------------------------------------------------------------------------


def test_the_home_tab_counts_kudos_received_by_category(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    for text in ("#resilience Came back strong", "#resilience Again", "#process Clean pipeline"):
        seen = len(standin.calls)
        team.kudos(MANAGER, f"@priya {text} {team.run}")
        _ephemerals_after(standin, seen, MANAGER)
    seen = len(standin.calls)
    team.sender.app_home_opened(REP2)
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.publish" for c in calls[seen:]), timeout=10
    )
    (home,) = [c for c in calls[seen:] if c.method == "views.publish"]
    rendered = json.dumps(home.params["view"]["blocks"])
    assert "Kudos received: 3" in rendered
    assert "Resilience 2" in rendered
    assert "Process 1" in rendered


# -- what people type --------------------------------------------------------------------------


def test_markup_typed_into_the_modal_shows_literally_in_the_channel(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    view = _open_modal(team, standin, MANAGER)
    seen = len(standin.calls)
    typed = (
        f"Thanks <!subteam^S0SALES|@sales> and <@{REP2}>, see <https://evil.example|the doc> "
        f"& <!here> {team.run}"
    )
    team.sender.view_submission(
        view, user_id=MANAGER, values=_modal_values([REP1], "teamwork", typed)
    )
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    post = team.channel_posts()[0]
    rendered = _text_of(post)
    assert "&lt;!subteam^S0SALES|@sales&gt;" in rendered
    assert f"&lt;@{REP2}&gt;" in rendered
    assert "&lt;https://evil.example|the doc&gt;" in rendered
    assert "&amp; " in rendered
    for live_markup in ("<!subteam", f"<@{REP2}>", "<https://evil", "<!here"):
        assert live_markup not in rendered
    assert f"<@{REP1}>" in rendered  # the recipient picked in the modal is a real mention


def test_markup_in_a_typed_command_message_shows_as_words_and_pings_nobody(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.setup(channel=team.channel)
    seen = len(standin.calls)
    standin.add_usergroup("S0SALES", "sales")
    # Typed as a person types it; Slack sends @priya as <@U0REP2|priya>, @channel as <!channel>,
    # @sales as <!subteam^S0SALES|@sales> and the typed "<" as &lt; (the manifest escapes /kudos).
    team.kudos(
        MANAGER,
        f"@leo #teamwork Paired with @priya on a <hard> one, tell @channel and @sales {team.run}",
    )
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    rendered = _text_of(team.channel_posts()[0])
    assert "Paired with @priya on a &lt;hard&gt; one, tell @channel and @sales" in rendered
    for live_markup in (f"<@{REP2}", "<!channel", "<!subteam"):
        assert live_markup not in rendered
    assert f"<@{REP1}>" in rendered  # the recipient, named by the app: a real mention
