"""/kudos and the weekly recognition digest over HTTP, against the Slack stand-in, on both backends.

Each test works in a workspace (team id) and recognition channel of its own, so tests sharing the
module's server and database never see each other's kudos, settings or digests.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.app import Deps, build_ticker, make_dispatch_client, make_web_client
from bot.blocks.kudos import DigestFacts, digest_message
from bot.clock import FakeClock
from bot.config import Settings
from bot.dispatcher import DEFAULT_LEASE, Dispatcher
from bot.domain import local_checkin_time, week_key
from bot.features import kudos as kudos_feature
from bot.scheduler import Ticker
from bot.slack_users import SlackUnavailable, fetch_profile, lookup_profile
from storage import outbox_queries, queries
from storage.db import make_engine, make_session_factory
from testkit.live import CONFIGURED_ADMIN, LiveApp
from testkit.simulator import NameDirectory, SlackSender, state_value
from testkit.standin import RecordedCall, SlackStandIn, StandInUser
from tests.support.slack import SlackDriver, _text_of

ADMIN, MANAGER, REP1, REP2 = "U0ADMIN", "U0MGR", "U0REP1", "U0REP2"
MANAGER_TZ = "America/Chicago"  # Maya's Slack time zone in testkit/live.py
BOT = "U0REBOUNDBOT"
GONE = "U0GONE"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@pytest.fixture
def team(live: LiveApp, standin: SlackStandIn) -> Iterator[SlackDriver]:
    suffix = uuid.uuid4().hex[:10].upper()
    channel = f"CK{suffix}"
    standin.add_channel(channel, f"wins-{suffix.lower()}")
    if GONE not in standin.users:
        standin.add_user(
            StandInUser(id=GONE, name="gone", real_name="Gone Person", tz="UTC", deleted=True)
        )
    team = SlackDriver.for_app(live, standin, f"TK{suffix}", channel=channel, run=suffix.lower())
    yield team
    team.close()


def _ephemerals_after(standin: SlackStandIn, seen: int, user_id: str) -> list[RecordedCall]:
    calls = standin.wait_for(
        lambda calls: any(
            c.method == "chat.postEphemeral" and c.params.get("user") == user_id
            for c in calls[seen:]
        ),
        timeout=10,
    )
    return [
        c for c in calls[seen:] if c.method == "chat.postEphemeral" and c.params["user"] == user_id
    ]


def _dms_to(standin: SlackStandIn, user_id: str, marker: str) -> list[RecordedCall]:
    return [c for c in standin.messages_to(user_id) if marker in _text_of(c)]


# -- giving kudos from the command line --------------------------------------------------------


def test_a_managers_kudos_is_posted_and_each_recipient_gets_a_dm_with_the_link(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
    body = team.kudos(MANAGER, "@sales #win Great quarter").json()
    assert body["response_type"] == "ephemeral"
    assert "Kudos go to people, not groups like @sales" in body["text"] + json.dumps(body["blocks"])
    time.sleep(0.2)
    assert team.kudos_rows() == []


def test_a_typed_message_is_measured_as_typed_not_as_slack_escaped_it(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)  # default policy: managers and admins
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


# -- the modal ---------------------------------------------------------------------------------


def _open_modal(team: SlackDriver, standin: SlackStandIn, user_id: str) -> dict[str, Any]:
    seen = len(standin.calls)
    team.kudos(user_id, "")
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    (opened,) = [c for c in calls[seen:] if c.method == "views.open"]
    return opened.response["view"]


def _modal_values(recipients: list[str], category: str | None, message: str) -> dict[str, Any]:
    return {
        "recipients": {"value": state_value("multi_users_select", recipients)},
        "category": {"value": state_value("static_select", category)},
        "message": {"value": state_value("plain_text_input", message)},
    }


def test_kudos_with_no_text_opens_a_modal_that_validates_and_posts_once(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
    view = _open_modal(team, standin, MANAGER)
    assert view["callback_id"] == "kudos_modal"
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert elements["recipients"]["type"] == "multi_users_select"
    assert elements["category"]["type"] == "static_select"
    assert [o["value"] for o in elements["category"]["options"]] == [
        "resilience",
        "process",
        "learning",
        "win",
        "teamwork",
    ]
    assert elements["message"]["type"] == "plain_text_input"
    assert elements["message"]["multiline"] is True

    sender = team.sender
    # What needs no Slack call is answered in the modal itself.
    cases = [
        (_modal_values([], "win", "Great"), "recipients"),
        (_modal_values([MANAGER], "win", "Great"), "recipients"),
        (_modal_values([REP1], "win", "   \n  "), "message"),
        (_modal_values([REP1], "win", "y" * 1001), "message"),
    ]
    for values, block_id in cases:
        body = sender.view_submission(view, user_id=MANAGER, values=values).json()
        assert body["response_action"] == "errors", values
        assert block_id in body["errors"]
    # Who is a bot only Slack knows, and Slack may be slow: the modal closes, the answer comes
    # as an ephemeral message with the giver's own words to paste back.
    seen = len(standin.calls)
    words = f"Great pairing {team.run}"
    reply = sender.view_submission(
        view, user_id=MANAGER, values=_modal_values([REP1, BOT], "win", words)
    )
    assert reply.status == 200 and reply.body in ("", "{}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "is a bot" in answer and words in answer
    assert team.kudos_rows() == []

    values = _modal_values([REP1, REP2], "teamwork", f"Ran the joint demo {team.run}")
    seen = len(standin.calls)
    first = sender.view_submission(view, user_id=MANAGER, values=values)
    assert first.status == 200 and first.body in ("", "{}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert len(team.channel_posts()) == 1
    for recipient in (REP1, REP2):
        standin.wait_for(
            lambda calls, user=recipient: len(_dms_to(standin, user, team.run)) >= 1, timeout=10
        )
    # Slack retries the same view (same view id): nothing new is saved or posted.
    seen = len(standin.calls)
    again = sender.view_submission(view, user_id=MANAGER, values=values)
    assert again.status == 200 and again.body in ("", "{}")
    # The retry's work is done once it has asked Slack about the giver and both recipients.
    standin.wait_for(
        lambda calls: len([c for c in calls[seen:] if c.method == "users.info"]) >= 3, timeout=10
    )
    time.sleep(0.3)  # room for a wrong extra post or DM to show up
    assert len(team.channel_posts()) == 1
    assert len(team.kudos_rows()) == 1
    assert "teamwork" in _text_of(team.channel_posts()[0])
    for recipient in (REP1, REP2):
        assert len(_dms_to(standin, recipient, team.run)) == 1


def test_someone_not_allowed_gets_no_modal(team: SlackDriver, standin: SlackStandIn) -> None:
    team.make_team()
    seen = len(standin.calls)
    team.kudos(REP2, "")
    (answer,) = _ephemerals_after(standin, seen, REP2)
    assert "managers and admins" in _text_of(answer)
    assert not [c for c in standin.calls[seen:] if c.method == "views.open"]


def test_the_modal_reaching_the_daily_cap_keeps_the_modal_open(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel, kudos_daily_cap=1)
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #win First {team.run}")
    _ephemerals_after(standin, seen, MANAGER)
    view = _open_modal(team, standin, MANAGER)
    body = team.sender.view_submission(
        view, user_id=MANAGER, values=_modal_values([REP2], None, "Second")
    ).json()
    assert body["response_action"] == "errors"
    assert "daily limit" in body["errors"]["message"]
    assert len(team.kudos_rows()) == 1


# -- no recognition channel yet ----------------------------------------------------------------


def test_kudos_without_a_channel_is_kept_and_posted_once_when_one_is_set(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #resilience Back on the phones {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "no recognition channel yet" in answer
    assert "`/rebound settings`" in answer and "Ask an admin" in answer
    assert [row.status for row in team.kudos_rows()] == ["pending"]
    assert _dms_to(standin, REP1, team.run) == []

    clock = FakeClock(datetime.now(UTC))
    team.tick(clock)  # still no channel: nothing happens
    assert team.channel_posts() == []

    team.configure(recognition_channel_id=team.channel)
    # Two processes tick at once, then one ticks again: one post, one DM.
    threads = [threading.Thread(target=team.tick, args=(clock,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    clock.advance(minutes=1)
    team.tick(clock)
    assert len(team.kudos_posts()) == 1
    assert "Back on the phones" in _text_of(team.kudos_posts()[0])
    (dm,) = _dms_to(standin, REP1, team.run)
    assert f"/archives/{team.channel}/" in _text_of(dm)
    assert [row.status for row in team.kudos_rows()] == ["posted"]
    # Maya, told it would go up later, hears once that it has.
    told = [c for c in standin.messages_to(MANAGER) if team.channel in _text_of(c)]
    assert len(told) == 1 and "Your kudos is up" in _text_of(told[0])


def test_a_kudos_slack_refuses_to_post_is_told_later_once_and_goes_up_when_the_channel_changes(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    refusing = f"C0NOPE{team.run.upper()}"  # a channel Slack answers channel_not_found for
    team.configure(recognition_channel_id=refusing)
    seen = len(standin.calls)
    team.kudos(MANAGER, f"@leo #process Clean handover to CS {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert f"I couldn't post in <#{refusing}> just now" in answer
    assert "Your kudos is up" not in answer
    assert [row.status for row in team.kudos_rows()] == ["pending"]
    assert _dms_to(standin, REP1, team.run) == []

    # An admin picks a channel the bot is in: the kept kudos goes up on the next tick, Leo gets
    # his DM, and Maya (told it would come later) hears once that it is up.
    team.configure(recognition_channel_id=team.channel)
    clock = FakeClock(datetime.now(UTC))
    team.tick(clock)
    clock.advance(minutes=1)
    team.tick(clock)
    assert len(team.kudos_posts()) == 1
    (dm,) = _dms_to(standin, REP1, team.run)
    assert f"/archives/{team.channel}/" in _text_of(dm)
    told = [c for c in standin.messages_to(MANAGER) if team.channel in _text_of(c)]
    assert len(told) == 1 and "Your kudos is up" in _text_of(told[0])
    assert [row.status for row in team.kudos_rows()] == ["posted"]


def test_an_admin_without_a_channel_is_told_to_set_one(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    team.kudos(ADMIN, f"@leo #learning Shared the loss review {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, ADMIN)[0])
    assert "Set one with `/rebound settings`" in answer


# -- the Home tab ------------------------------------------------------------------------------


def test_the_home_tab_counts_kudos_received_by_category(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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


# -- the weekly digest -------------------------------------------------------------------------


def _digest_posts(team: SlackDriver) -> list[RecordedCall]:
    return [c for c in team.channel_posts() if "This week's recognition" in _text_of(c)]


def _schedule_digest_tomorrow(team: SlackDriver, now: datetime) -> datetime:
    """Set the check-in day and hour so this week's digest falls about a day from now, in the
    manager's time zone (the digest's time zone); return that moment."""
    local = (now + timedelta(days=1)).astimezone(ZoneInfo(MANAGER_TZ))
    team.configure(checkin_weekday=local.weekday(), checkin_hour=local.hour)
    due = local_checkin_time(week_key(local, MANAGER_TZ), MANAGER_TZ, local.weekday(), local.hour)
    return due.astimezone(UTC)


def test_the_weekly_digest_names_the_weeks_perfect_misses_bounce_backs_and_kudos(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
    seen = len(standin.calls)
    # Maya gives kudos: her Slack profile (America/Chicago) becomes the digest's time zone.
    team.kudos(MANAGER, f"@leo #resilience Kept going {team.run}")
    _ephemerals_after(standin, seen, MANAGER)
    now = datetime.now(UTC)
    due = _schedule_digest_tomorrow(team, now)

    perfect_miss = {"classification": "perfect-miss"}
    team.add_outcome(REP1, "loss", now - timedelta(hours=3), celebrate_consent=True, **perfect_miss)
    # REP2: three losses in a row (the last a perfect miss they keep private), then a win.
    team.add_outcome(REP2, "loss", now - timedelta(days=20))
    team.add_outcome(REP2, "loss", now - timedelta(days=12))
    team.add_outcome(
        REP2, "loss", now - timedelta(hours=4), celebrate_consent=False, **perfect_miss
    )
    # ... and agreed to share the bounce-back (issue 12: only then is it public).
    team.add_outcome(REP2, "win", now - timedelta(hours=2), celebrate_consent=True)
    # REP1's win after their perfect miss is a bounce-back they were never asked to share (one
    # loss), and one they say no to would be the same: it is in no public post.
    team.add_outcome(REP1, "win", now - timedelta(hours=1))
    # A win after a win is no bounce-back.
    team.add_outcome(MANAGER, "win", now - timedelta(days=30))
    team.add_outcome(MANAGER, "win", now - timedelta(hours=1))
    # A perfect miss shared, then taken back: in no public post any more.
    team.add_outcome(
        MANAGER,
        "loss",
        now - timedelta(minutes=30),
        celebrate_consent=True,
        shout_out_taken_back_at=now - timedelta(minutes=20),
        **perfect_miss,
    )

    clock = FakeClock(due - timedelta(minutes=1))
    team.tick(clock)
    assert _digest_posts(team) == []

    clock.set(due)
    team.tick(clock)
    clock.advance(minutes=5)
    team.tick(clock)
    (digest,) = _digest_posts(team)
    blocks = digest.params["blocks"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    perfect = next(s for s in sections if "Perfect misses" in s)
    assert "Perfect misses (1)" in perfect
    assert f"<@{REP1}>" in perfect and f"<@{REP2}>" not in perfect
    assert f"<@{MANAGER}>" not in perfect
    # Said about the reps, to the whole channel: not the rep-facing coaching line.
    assert "a win masquerading as a loss" in perfect
    assert "You did great" not in perfect and "dashboard" not in perfect
    bounce = next(s for s in sections if "Bounce-backs" in s)
    assert "Bounce-backs (1)" in bounce
    assert f"<@{REP2}> won after 3 losses in a row, back in 19 days" in bounce
    assert f"<@{MANAGER}>" not in bounce and f"<@{REP1}>" not in bounce
    kudos = next(s for s in sections if "Kudos" in s)
    assert "Kudos (1)" in kudos and f"<@{REP1}> ×1 (resilience)" in kudos
    # Privacy: no amounts or deal names.
    assert "125" not in json.dumps(blocks) and "Deal " not in json.dumps(blocks)


def test_three_processes_ticking_at_once_post_the_digest_once(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.configure(recognition_channel_id=team.channel, checkin_weekday=0, checkin_hour=9)
    # No manager or admin time zone known in this workspace: the digest runs on UTC.
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def process(number: int) -> None:
        """One app process: its own engine and connection pool, its own worker name."""
        engine = make_engine(team.live.database_url)
        try:
            clock = FakeClock(monday_nine + timedelta(seconds=5))
            deps = Deps(
                settings=team.deps(clock).settings,
                session_factory=make_session_factory(engine),
                clock=clock,
            )
            dispatcher = Dispatcher(
                deps.session_factory,
                make_dispatch_client(deps.settings),
                clock,
                worker=f"replica-{number}",
            )
            jobs = kudos_feature.scheduled_jobs(deps)
            ticker = Ticker(jobs=[*jobs, ("outbox-dispatch", dispatcher.run_once)], clock=clock)
            barrier.wait()
            ticker.tick()
            errors.extend(error for _, error in ticker.failures)
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=process, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    (digest,) = _digest_posts(team)
    # A week with nothing to celebrate gets a short encouraging note.
    assert "A quiet week" in _text_of(digest)
    assert "/kudos" in _text_of(digest)

    # The next week has its own digest.
    team.tick(FakeClock(monday_nine + timedelta(days=7, minutes=1)))
    assert len(_digest_posts(team)) == 2


def test_a_digest_claimed_by_a_process_that_died_is_posted_once_its_lease_runs_out(
    team: SlackDriver,
) -> None:
    team.configure(recognition_channel_id=team.channel, checkin_weekday=0, checkin_hour=9)
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    # A process queued this week's digest and claimed it, then died before sending it.
    week = week_key(monday_nine, "UTC")
    with team.session_factory() as session:
        claim = outbox_queries.enqueue(
            session=session,
            team_id=team.team_id,
            post_key=f"digest:{week}",
            kind="digest",
            target_kind="recognition_channel",
            target_id=None,
            payload=digest_message(DigestFacts(week, (), (), ())),
            now=monday_nine,
        )
        row = outbox_queries.get(session=session, team_id=team.team_id, post_key=f"digest:{week}")
        assert row is not None
        row.state, row.claimed_by = "sending", "replica-that-died"
        row.lease_until = monday_nine + DEFAULT_LEASE
        session.add(row)
        session.commit()
    assert claim

    team.tick(FakeClock(monday_nine + timedelta(minutes=1)))  # the claim may still be live
    assert _digest_posts(team) == []
    # Once the lease ran out, the dispatcher looks for it in the channel, then sends it.
    team.tick(FakeClock(monday_nine + DEFAULT_LEASE + timedelta(minutes=1)))
    assert len(_digest_posts(team)) == 1
    team.tick(FakeClock(monday_nine + DEFAULT_LEASE + timedelta(minutes=2)))
    assert len(_digest_posts(team)) == 1


def test_a_workspace_whose_digest_fails_does_not_hold_up_the_others(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    wednesday_three = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    broken, healthy = team.team_id, f"{team.team_id}B"  # the broken one comes first by id
    team.configure(
        recognition_channel_id=f"C0ARCHIVED{team.run.upper()}", checkin_weekday=2, checkin_hour=15
    )
    with team.session_factory() as session:
        queries.update_workspace_settings(
            session=session,
            team_id=healthy,
            recognition_channel_id=team.channel,
            checkin_weekday=2,
            checkin_hour=15,
        )
        session.commit()

    def failed_posts() -> list[RecordedCall]:
        return [
            c
            for c in standin.calls_to("chat.postMessage", ok_only=False)
            if c.conversation == f"C0ARCHIVED{team.run.upper()}"
        ]

    team.tick(FakeClock(wednesday_three + timedelta(minutes=1)))
    assert [c.error for c in failed_posts()] == ["channel_not_found"]
    assert len(_digest_posts(team)) == 1
    # A later tick in the window (past the dispatcher's wait for a channel the bot can't post
    # in: bot.dispatcher.REFUSED_CHANNEL_RETRY) tries the broken one again, and posts nothing
    # twice.
    team.tick(FakeClock(wednesday_three + timedelta(hours=7)))
    assert len(failed_posts()) == 2
    assert len(_digest_posts(team)) == 1
    with team.session_factory() as session:
        key = f"digest:{week_key(wednesday_three, 'UTC')}"
        sent = outbox_queries.get(session=session, team_id=healthy, post_key=key)
        assert sent is not None and sent.state == "sent"
        waiting = outbox_queries.get(session=session, team_id=broken, post_key=key)
        assert waiting is not None and waiting.state == "pending"  # kept, to be tried again


def test_no_digest_when_switched_off_or_when_it_is_days_late(team: SlackDriver) -> None:
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    team.configure(
        recognition_channel_id=team.channel,
        checkin_weekday=0,
        checkin_hour=9,
        digest_enabled=False,
    )
    team.tick(FakeClock(monday_nine))
    assert _digest_posts(team) == []
    team.configure(digest_enabled=True)
    team.tick(FakeClock(monday_nine + timedelta(days=2)))  # past the 24-hour grace
    assert _digest_posts(team) == []
    team.tick(FakeClock(monday_nine + timedelta(hours=3)))
    assert len(_digest_posts(team)) == 1


def test_an_admin_switches_the_digest_off_in_settings(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    seen = len(standin.calls)
    team.sender.slash_command("/rebound", "settings", user_id=ADMIN)
    calls = standin.wait_for(
        lambda calls: any(c.method == "views.open" for c in calls[seen:]), timeout=10
    )
    view = [c for c in calls[seen:] if c.method == "views.open"][0].response["view"]
    digest_block = next(b for b in view["blocks"] if b.get("block_id") == "digest_enabled")
    assert digest_block["element"]["type"] == "checkboxes"
    assert digest_block["element"]["initial_options"][0]["value"] == "on"

    values = {
        "recognition_channel": {"value": state_value("channels_select", team.channel)},
        "checkin_weekday": {"value": state_value("static_select", "4")},
        "checkin_hour": {"value": state_value("static_select", "14")},
        "kudos_policy": {"value": state_value("radio_buttons", "managers")},
        "threshold": {"value": state_value("number_input", "0.8")},
        "digest_enabled": {"value": state_value("checkboxes", [])},
    }
    reply = team.sender.view_submission(view, user_id=ADMIN, values=values)
    assert reply.status == 200 and reply.body in ("", "{}")
    with team.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team.team_id)
        assert workspace.digest_enabled is False

    # A submission without the checkbox (an older modal) leaves the setting alone.
    del values["digest_enabled"]
    team.sender.view_submission(view, user_id=ADMIN, values=values)
    with team.session_factory() as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=team.team_id)
        assert workspace.digest_enabled is False


# -- Slack being slow or failing ----------------------------------------------------------------


def test_the_modal_closes_at_once_while_users_info_is_rate_limited_and_posts_afterwards(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
    view = _open_modal(team, standin, MANAGER)
    seen = len(standin.calls)
    standin.fail_next("users.info", status=429, retry_after=2)
    values = _modal_values([REP1, REP2], "process", f"Clean handover {team.run}")
    reply = team.sender.view_submission(view, user_id=MANAGER, values=values)
    # Answered (the modal closes) before Slack has let any users.info call through: the
    # ack no longer waits for the giver and recipient checks.
    answered_lookups = [c for c in standin.calls[seen:] if c.method == "users.info" and c.ok]
    assert reply.status == 200 and reply.body in ("", "{}")
    assert answered_lookups == []

    standin.wait_for(lambda calls: len(team.channel_posts()) == 1, timeout=15)
    for recipient in (REP1, REP2):
        standin.wait_for(
            lambda calls, user=recipient: len(_dms_to(standin, user, team.run)) == 1, timeout=10
        )
    limited = [c for c in standin.calls[seen:] if c.method == "users.info" and not c.ok]
    assert [c.error for c in limited] == ["ratelimited"]
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert len(team.kudos_rows()) == 1


def test_when_slack_cannot_say_who_the_giver_is_they_are_asked_to_try_again(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    # Ada is an admin only in Slack's eyes: while users.info fails, that can't be known.
    team.configure(recognition_channel_id=team.channel)
    seen = len(standin.calls)
    standin.fail_next("users.info", status=500, times=3)  # the first try and both retries
    team.kudos(ADMIN, f"@leo #process Textbook discovery call {team.run}")
    answer = _text_of(_ephemerals_after(standin, seen, ADMIN)[0])
    assert "Slack didn't answer just now" in answer
    assert "managers and admins" not in answer and "couldn't find" not in answer
    assert team.kudos_rows() == [] and team.channel_posts() == []

    seen = len(standin.calls)
    team.kudos(ADMIN, f"@leo #process Textbook discovery call {team.run}")
    assert "Your kudos is up" in _text_of(_ephemerals_after(standin, seen, ADMIN)[0])
    assert len(team.channel_posts()) == 1


def test_slack_users_tells_no_such_person_from_slack_not_answering(
    standin: SlackStandIn,
) -> None:
    client = make_web_client(Settings(slack_bot_token=standin.bot_token, slack_api_url=standin.url))
    assert lookup_profile(client, "U0NOBODY") is None
    assert lookup_profile(client, REP1) is not None
    standin.fail_next("users.info", status=429, retry_after=0, times=4)
    with pytest.raises(SlackUnavailable):
        lookup_profile(client, REP1)
    # The older helper keeps its contract: None on any Slack error.
    standin.fail_next("users.info", status=500, times=3)
    assert fetch_profile(client, REP1) is None


def test_a_failed_dm_is_reported_truthfully_and_retried_once_by_the_scheduler(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
    seen = len(standin.calls)
    # Leo's DM is refused for now (a definite answer: the outbox dispatcher tries it again after
    # a backoff, bot.dispatcher); Priya's goes out.
    standin.fail_next("chat.postMessage", error="internal_error", to=REP1)
    team.kudos(MANAGER, f"@leo @priya #win Closed Initech {team.run}")

    answer = _text_of(_ephemerals_after(standin, seen, MANAGER)[0])
    assert "Your kudos is up" in answer
    assert f"I've let <@{REP2}> know" in answer
    assert f"couldn't reach <@{REP1}> by DM just now" in answer and "try once more" in answer
    assert "couldn't post" not in answer and "`" not in answer and "fatal_error" not in answer
    assert len(team.channel_posts()) == 1
    assert _dms_to(standin, REP1, team.run) == []
    assert len(_dms_to(standin, REP2, team.run)) == 1
    assert [row.status for row in team.kudos_rows()] == ["pending"]

    # The scheduler's retry (its tick's outbox dispatch, past the first backoff) reaches Leo;
    # Maya, already told it's up, hears nothing more.
    clock = FakeClock(datetime.now(UTC) + timedelta(minutes=1))

    def told_giver() -> list[RecordedCall]:
        return [c for c in standin.messages_to(MANAGER) if team.channel in _text_of(c)]

    told_before = len(told_giver())
    team.tick(clock)
    assert len(_dms_to(standin, REP1, team.run)) == 1
    assert len(_dms_to(standin, REP2, team.run)) == 1
    assert len(team.kudos_posts()) == 1
    assert [row.status for row in team.kudos_rows()] == ["posted"]
    clock.advance(minutes=1)
    team.tick(clock)
    assert len(_dms_to(standin, REP1, team.run)) == 1
    assert len(told_giver()) == told_before


def test_a_dm_that_fails_again_on_its_retry_is_given_up_and_the_giver_told_once(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
    seen = len(standin.calls)
    standin.fail_next("chat.postMessage", error="internal_error", to=REP1)
    team.kudos(MANAGER, f"@leo #learning Wrote up the Globex review {team.run}")
    assert "couldn't reach" in _text_of(_ephemerals_after(standin, seen, MANAGER)[0])

    def dm_tries() -> int:
        return len([c for c in standin.messages_to(REP1, ok_only=False) if not c.ok])

    # Only the kudos jobs and the outbox dispatch run here; the injected failure is Leo's alone.
    # Past the first backoff, the retry meets a refusal that can never work (Leo turned off
    # DMs from apps): the dispatcher gives up on it (bot.slack_errors).
    clock = FakeClock(datetime.now(UTC) + timedelta(minutes=1))
    deps = team.deps(clock)
    ticker = build_ticker(deps)
    kudos_ticker = Ticker(
        jobs=[job for job in ticker.jobs if job[0].startswith(("kudos", "outbox"))], clock=clock
    )
    tries_before = dm_tries()
    standin.fail_next("chat.postMessage", error="messages_tab_disabled", to=REP1)
    kudos_ticker.tick()
    assert dm_tries() == tries_before + 1  # one retry (the dispatcher's client never re-sends)
    assert _dms_to(standin, REP1, team.run) == []
    assert [row.status for row in team.kudos_rows()] == ["posted"]

    def told_unreached() -> list[RecordedCall]:
        return [
            c
            for c in standin.messages_to(MANAGER)
            if "still couldn't reach" in _text_of(c) and team.channel in _text_of(c)
        ]

    (told,) = told_unreached()
    assert f"<@{REP1}>" in _text_of(told)

    clock.advance(minutes=1)
    kudos_ticker.tick()
    assert dm_tries() == tries_before + 1
    assert _dms_to(standin, REP1, team.run) == []
    assert len(told_unreached()) == 1


# -- what people type --------------------------------------------------------------------------


def test_markup_typed_into_the_modal_shows_literally_in_the_channel(
    team: SlackDriver, standin: SlackStandIn
) -> None:
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
    team.make_team()
    team.configure(recognition_channel_id=team.channel)
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
