"""Kudos rules, digest timing and the kudos Block Kit builders, as pure functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.home import HomeFacts, home_view
from bot.blocks.kudos import (
    digest_message,
    kudos_dm,
    kudos_modal,
    kudos_post,
    kudos_received_text,
    not_posted_message,
    posted_message,
    problem_message,
    read_kudos_modal,
    unreached_message,
)
from bot.blocks.settings import parse_settings_submission, settings_modal
from bot.domain.kudos import BounceBackLine, DigestFacts, KudosLine
from bot.domain.people import SlackProfile
from bot.slack_text import unescape_command_text
from bot.usecases.kudos import (
    KudosDraft,
    Problem,
    check_draft,
    digest_due,
    local_day_start,
    may_give_kudos,
    parse_kudos_text,
    recipient_problem,
)
from testkit.simulator import state_value
from testkit.standin import MAX_MESSAGE_BLOCKS, BlockKitChecker
from tests.support.settings_form import current_settings, settings_form

GIVER = "U0MGR"


def _message_problems(message: dict[str, Any]) -> list[str]:
    checker = BlockKitChecker()
    checker.check_blocks(message["blocks"], "/blocks", MAX_MESSAGE_BLOCKS)
    return checker.problems


# -- parsing /kudos --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "recipients", "category", "message"),
    [
        ("<@U0REP1> #resilience Kept going", ("U0REP1",), "resilience", "Kept going"),
        ("<@U0REP1|leo> <@U0REP2|priya> #win Big one", ("U0REP1", "U0REP2"), "win", "Big one"),
        ("<@U0REP1>, <@U0REP2> #Teamwork Pairing", ("U0REP1", "U0REP2"), "teamwork", "Pairing"),
        ("#process <@U0REP1> Clean pipeline", ("U0REP1",), "process", "Clean pipeline"),
        ("<@U0REP1> <#C0LEARN|learning> Wrote it up", ("U0REP1",), "learning", "Wrote it up"),
        ("<@U0REP1> Thanks for the help", ("U0REP1",), "", "Thanks for the help"),
        ("<@U0REP1> <@U0REP1> #win Twice", ("U0REP1",), "win", "Twice"),
        # Mentions and hashtags after the first word of the message stay in the message.
        (
            "<@U0REP1> #win Beat <@U0REP2>'s #1 record",
            ("U0REP1",),
            "win",
            "Beat @U0REP2's #1 record",  # plain text, escaped where shown
        ),  # fmt: skip
        ("<@U0REP1> #win line one\nline two", ("U0REP1",), "win", "line one\nline two"),
    ],
)
def test_parse_reads_mentions_category_and_message(
    text: str, recipients: tuple[str, ...], category: str, message: str
) -> None:
    assert parse_kudos_text(text, giver_user_id=GIVER) == KudosDraft(recipients, category, message)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("#win Great week", "recipients", "Who is it for?"),
        ("@leo #win Great week", "recipients", "“@leo”"),
        ("<@U0REP1> @priya.r #win Great", "recipients", "“@priya.r”"),
        ("<!subteam^S0SALES|@sales> #win Great", "recipients", "not groups like @sales"),
        ("<@U0REP1> #vibes Great", "category", "“#vibes” isn't a kudos category"),
        ("<@U0REP1> <#C0RANDOM|random> Great", "category", "“#random”"),
        ("<@U0REP1> #win #process Great", "category", "One category"),
        ("<@U0REP1> #win", "message", "Add a few words"),
        (f"<@{GIVER}> #win Me!", "recipients", "Kudos are for someone else"),
        ("<@U0REP1> #win " + "a" * 1001, "message", "1,000 characters (yours has 1,001)"),
    ],
)
def test_parse_problems_name_the_field_and_say_what_to_do(
    text: str, field: str, words: str
) -> None:
    problem = parse_kudos_text(text, giver_user_id=GIVER)
    assert isinstance(problem, Problem)
    assert problem.field == field
    assert words in problem.text


def test_an_unknown_category_lists_all_five() -> None:
    problem = parse_kudos_text("<@U0REP1> #vibes Great", giver_user_id=GIVER)
    assert isinstance(problem, Problem)
    for name in ("#resilience", "#process", "#learning", "#win", "#teamwork"):
        assert name in problem.text


def test_exactly_1000_characters_is_fine_and_broadcasts_are_defused() -> None:
    draft = parse_kudos_text("<@U0REP1> " + "a" * 1000, giver_user_id=GIVER)
    assert isinstance(draft, KudosDraft) and len(draft.message) == 1000
    draft = parse_kudos_text("<@U0REP1> #win Tell <!channel> and <!here|here>", giver_user_id=GIVER)
    assert isinstance(draft, KudosDraft)
    assert draft.message == "Tell @channel and @here"


def test_check_draft_limits_recipients_and_rejects_blank_messages() -> None:
    many = tuple(f"U0P{n:02d}" for n in range(11))
    problem = check_draft(KudosDraft(many, "win", "Team effort"), giver_user_id=GIVER)
    assert isinstance(problem, Problem) and "10 at most" in problem.text
    problem = check_draft(KudosDraft(("U0REP1",), "win", " \n\t "), giver_user_id=GIVER)
    assert isinstance(problem, Problem) and problem.field == "message"
    problem = check_draft(KudosDraft((), "win", "Hi"), giver_user_id=GIVER)
    assert isinstance(problem, Problem) and problem.field == "recipients"


def _profile(**overrides: Any) -> SlackProfile:
    values: dict[str, Any] = {
        "user_id": "U0REP1",
        "display_name": "leo",
        "tz": "Europe/London",
        "is_admin": False,
        "is_bot": False,
        "deleted": False,
    }
    values.update(overrides)
    return SlackProfile(**values)


def test_recipient_problems_for_unknown_bots_and_deactivated_people() -> None:
    assert recipient_problem("U0REP1", _profile()) is None
    unknown = recipient_problem("U0REP1", None)
    assert unknown is not None and "couldn't find" in unknown.text
    bot = recipient_problem("U0REP1", _profile(is_bot=True))
    assert bot is not None and "is a bot" in bot.text
    gone = recipient_problem("U0REP1", _profile(deleted=True))
    assert gone is not None and "no longer active" in gone.text


@pytest.mark.parametrize(
    ("policy", "is_manager", "is_admin", "allowed"),
    [
        ("managers", False, False, False),
        ("managers", True, False, True),
        ("managers", False, True, True),
        ("everyone", False, False, True),
    ],
)
def test_who_may_give_kudos(policy: str, is_manager: bool, is_admin: bool, allowed: bool) -> None:
    assert may_give_kudos(policy, is_manager=is_manager, is_admin=is_admin) is allowed


def test_the_daily_cap_day_starts_at_the_givers_local_midnight() -> None:
    # 03:00 UTC on 1 Dec is still 30 Nov in Chicago (UTC-6).
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert local_day_start(now, "America/Chicago") == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert local_day_start(now, "UTC") == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


# -- digest timing ---------------------------------------------------------------------------


def test_the_digest_is_due_from_the_checkin_hour_for_a_day() -> None:
    # Friday 27 Nov 2026, 14:00 in Chicago = 20:00 UTC.
    due = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert digest_due(due - timedelta(seconds=1), "America/Chicago", 4, 14) is None
    assert digest_due(due, "America/Chicago", 4, 14) == ("2026-W48", due)
    assert digest_due(due + timedelta(hours=23), "America/Chicago", 4, 14) == ("2026-W48", due)
    assert digest_due(due + timedelta(hours=25), "America/Chicago", 4, 14) is None


# -- builders --------------------------------------------------------------------------------


def test_the_kudos_post_is_warm_readable_and_within_slack_limits() -> None:
    message = kudos_post(
        giver_user_id=GIVER,
        recipients=["U0REP1", "U0REP2", "U0REP3"],
        category="resilience",
        message="Lost Acme on Monday,\nbooked three meetings by Wednesday" + "!" * 950,
    )
    assert _message_problems(message) == []
    rendered = json.dumps(message, ensure_ascii=False)
    assert "<@U0MGR> gave kudos to <@U0REP1>, <@U0REP2> and <@U0REP3> for *resilience*" in rendered
    assert "> booked three meetings" in message["blocks"][1]["text"]["text"]
    assert "bounce back" in rendered
    assert message["text"].startswith("<@U0MGR> gave kudos")


def test_the_dm_links_to_the_post() -> None:
    dm = kudos_dm(
        giver_user_id=GIVER,
        category="win",
        message="Closed it",
        permalink="https://x.slack.com/archives/C1/p1",
    )
    assert _message_problems(dm) == []
    assert "<https://x.slack.com/archives/C1/p1|" in json.dumps(dm)
    without = kudos_dm(giver_user_id=GIVER, category="", message="Thanks", permalink=None)
    assert "archives" not in json.dumps(without) and " for *" not in json.dumps(without)


def test_the_modal_passes_slacks_checks_and_reads_back() -> None:
    view = kudos_modal(channel_id="C0SALES")
    checker = BlockKitChecker()
    checker.check_view(view)
    assert checker.problems == []
    values = {
        "recipients": {"value": state_value("multi_users_select", ["U0REP1"])},
        "category": {"value": state_value("static_select", None)},
        "message": {"value": state_value("plain_text_input", "Thanks")},
    }
    read = read_kudos_modal({**view, "state": {"values": values}})
    assert (read.recipients, read.category, read.message, read.channel_id) == (
        ("U0REP1",),
        "",
        "Thanks",
        "C0SALES",
    )


def test_the_digest_counts_and_names_and_stays_within_limits() -> None:
    facts = DigestFacts(
        week="2026-W48",
        perfect_miss_user_ids=("U0REP1", "U0REP1", "U0REP2"),
        bounce_backs=(BounceBackLine("U0REP2", 1, timedelta(days=3)),),
        kudos=(
            KudosLine(GIVER, ("U0REP1", "U0REP2"), "teamwork"),
            KudosLine(GIVER, ("U0REP1",), "resilience"),
        ),
    )
    message = digest_message(facts)
    assert _message_problems(message) == []
    rendered = json.dumps(message, ensure_ascii=False)
    assert "Perfect misses (3)" in rendered and "<@U0REP1> ×2" in rendered
    assert "<@U0REP2> won after 1 loss in a row, back in 3 days" in rendered
    assert "Kudos (2)" in rendered and "<@U0REP1> ×2 (resilience, teamwork)" in rendered
    assert message["text"] == ("This week's recognition: 3 perfect misses, 1 bounce-back, 2 kudos.")
    # The channel hears about the reps in the third person, not the rep-facing coaching line.
    assert "a win masquerading as a loss" in rendered
    for rep_facing in ("You did great", "you are excellent", "dashboard"):
        assert rep_facing not in rendered


def test_a_big_week_is_cut_short_not_rejected_by_slack() -> None:
    users = [f"U0P{n:04d}" for n in range(300)]
    facts = DigestFacts(
        week="2026-W48",
        perfect_miss_user_ids=tuple(users),
        bounce_backs=tuple(BounceBackLine(u, 4, timedelta(days=12)) for u in users),
        kudos=tuple(KudosLine(GIVER, (u,), "learning") for u in users),
    )
    message = digest_message(facts)
    assert _message_problems(message) == []
    assert "…and 275 more" in json.dumps(message, ensure_ascii=False)


def test_a_quiet_week_gets_an_encouraging_note() -> None:
    message = digest_message(DigestFacts("2026-W48", (), (), ()))
    assert "A quiet week" in json.dumps(message, ensure_ascii=False) and "/kudos" in json.dumps(
        message, ensure_ascii=False
    )


def test_kudos_received_on_the_home_tab() -> None:
    assert "None yet" in kudos_received_text({})
    text = kudos_received_text({"resilience": 2, "win": 1, "": 1})
    assert text.startswith("*Kudos received: 4*")
    assert "Resilience 2" in text and "Win 1" in text and "Other 1" in text
    facts = HomeFacts(
        user_id="U0REP1",
        display_name="Leo Rep",
        tz="Europe/London",
        manager_user_id=None,
        report_user_ids=[],
        recognition_channel_id=None,
        checkin_weekday=4,
        checkin_hour=14,
        is_admin=False,
        kudos_received={"teamwork": 3},
    )
    assert "Teamwork 3" in json.dumps(home_view(facts))


# -- the digest switch in settings -----------------------------------------------------------


def test_the_settings_digest_checkbox() -> None:
    current = current_settings(digest_enabled=False)
    block = next(
        b for b in settings_modal(current)["blocks"] if b.get("block_id") == "digest_enabled"
    )
    assert "initial_options" not in block["element"]
    on = {"digest_enabled": {"value": state_value("checkboxes", ["on"])}}
    off = {"digest_enabled": {"value": state_value("checkboxes", [])}}
    assert parse_settings_submission(settings_form(**on))[0].digest_enabled is True  # type: ignore[union-attr]
    assert parse_settings_submission(settings_form(**off))[0].digest_enabled is False  # type: ignore[union-attr]
    assert parse_settings_submission(settings_form())[0].digest_enabled is None  # type: ignore[union-attr]


# -- escaping, DM retries and what the giver is told --------------------------------------------


def test_command_text_becomes_the_plain_words_the_person_typed() -> None:
    sent = (
        "<!subteam^S1|@sales> &amp; <@U0REP2|maya> <@U0REP3> <#C1|wins> "
        "<https://evil.example|https://sso.example> <!Here> &lt;b&gt; &amp;lt;"
    )
    assert unescape_command_text(sent) == (
        "@sales & @maya @U0REP3 #wins https://sso.example (https://evil.example) @here <b> &lt;"
    )
    assert unescape_command_text("Plain words stay as they are") == "Plain words stay as they are"


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_giver_hears_the_post_is_up_even_when_a_dm_failed() -> None:
    message = posted_message(
        channel_id="C0WINS",
        recipients=["U0REP1", "U0REP2"],
        permalink="https://example.slack.com/archives/C0WINS/p1",
        unreached=["U0REP1"],
    )
    text = message["text"]
    assert text.startswith("Your kudos is up in <#C0WINS>")
    assert "I've let <@U0REP2> know" in text
    assert "couldn't reach <@U0REP1> by DM just now; I'll try once more" in text
    assert _message_problems(message) == []
    everyone_told = posted_message(channel_id="C0WINS", recipients=["U0REP1"], permalink=None)
    assert "couldn't" not in everyone_told["text"]
    given_up = unreached_message(channel_id="C0WINS", unreached=["U0REP1"], permalink=None)
    assert "still couldn't reach <@U0REP1>" in given_up["text"]


def test_no_slack_error_code_reaches_the_giver() -> None:
    text = json.dumps(not_posted_message(channel_id="C0WINS"))
    assert "couldn't post in <#C0WINS>" in text and "`" not in text


def test_a_problem_after_the_modal_closed_shows_the_givers_words_back() -> None:
    message = problem_message("Slack didn't answer just now.", your_words="Ran the demo\nTwice")
    rendered = json.dumps(message)
    assert "> Ran the demo" in rendered and "> Twice" in rendered
    assert _message_problems(message) == []
    assert len(problem_message("Nope.")["blocks"]) == 1
