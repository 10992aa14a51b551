"""/lost, /won, reflections, shout-outs and lessons over HTTP, on SQLite and PostgreSQL.

Each test uses a workspace (team id) of its own, so the rows other tests leave in the module's
shared database never change what a test sees. Slack calls are read from a starting index and
filtered by channel and deal (or the team's post log), because the stand-in is shared: a late
manager note from the previous test may land after a test's starting index.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.blocks.debriefs import (
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    REFLECT_ACTION_ID,
)
from bot.clock import FakeClock, utc_now
from bot.domain import NONE_HELD
from tests.support.factories import (
    _lose,
    _reflect,
    log_win,
    lost_values,
    reflection_values,
    won_values,
)
from tests.support.slack import (
    ADMIN,
    ALL_PRACTICES,
    DM,
    MANAGER,
    REP1,
    REP2,
    WINS,
    SlackDriver,
    _text,
)

# -- /lost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/lost", "/won"])
def test_a_deal_typed_with_ampersands_and_angle_brackets_is_prefilled_as_typed(
    slack: SlackDriver, command: str
) -> None:
    # Slack escapes &, < and > in a command's text whatever should_escape says.
    sent = slack.sender.slash_command_fields(command, "AT&T <renewal>", user_id=REP1)
    assert sent["text"] == "AT&amp;T &lt;renewal&gt;"
    view = slack.open_modal(command, "AT&T <renewal>", REP1)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == "AT&T <renewal>"


def test_lost_opens_a_prefilled_modal(slack: SlackDriver) -> None:
    view = slack.open_modal("/lost", "  Acme renewal ", REP1)
    assert view["callback_id"] == "debrief_lost"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == "Acme renewal"
    assert blocks["deal"]["optional"] is False
    for optional in ("amount", "competitor", "buyer_feedback"):
        assert blocks[optional]["optional"] is True
    # The checklist must be answered, "None of these held" being an answer (issue 12).
    assert blocks["practices"]["optional"] is False
    options = [o["value"] for o in blocks["practices"]["element"]["options"]]
    assert options == [*ALL_PRACTICES, NONE_HELD]
    # The causes a rep can own come first, apart from the outside ones (issue 12).
    groups = {
        group["label"]["text"]: [o["value"] for o in group["options"]]
        for group in blocks["reason"]["element"]["option_groups"]
    }
    assert groups == {
        "In my control": ["real_need", "next_steps", "no_decision_maker", "follow_up"],
        "Outside my control": [
            "price",
            "competitor",
            "no_decision",
            "timing",
            "product_fit",
            "champion_left",
        ],
        "Can't say yet": ["not_sure", "other"],
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"deal": "   "}, "deal", "can't be only spaces"),
        ({"deal": "x" * 121}, "deal", "Keep it to 120 characters (yours has 121)."),
        ({"amount": "-5"}, "amount", "Enter an amount from 0 to 999,999,999,999.99"),
        ({"amount": "1000000000000"}, "amount", "Enter an amount from 0 to 999,999,999,999.99"),
        ({"amount": "lots"}, "amount", "Enter an amount"),
        ({"stage": None}, "stage", "Pick the stage"),
        ({"reason": "weather"}, "reason", "Pick the main reason"),
        ({"competitor": "  "}, "competitor", "can't be only spaces"),
        ({"feedback": "y" * 1501}, "buyer_feedback", "Keep it to 1,500 characters"),
        ({"practices": []}, "practices", "Tick the practices that held on this deal, or"),
        ({"practices": [NONE_HELD, "discovery"]}, "practices", "can't go with a practice"),
    ],
)
def test_bad_input_keeps_the_modal_open_and_saves_nothing(
    slack: SlackDriver, overrides: dict[str, Any], field: str, message: str
) -> None:
    view = slack.open_modal("/lost", "Acme", REP1)
    values = lost_values(**{"deal": "Acme", **overrides})
    body = slack.submit(view, REP1, values).json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field]
    time.sleep(0.2)
    assert slack.outcomes() == []
    # Nothing was posted for this workspace (its post log is empty; Slack calls other tests
    # still make on the shared stand-in don't count).
    assert slack.post_log() == []


def test_a_loss_the_rep_owns_is_saved_with_its_reason_and_the_manager_hears_it(
    slack: SlackDriver,
) -> None:
    slack.setup()
    view = slack.open_modal("/lost", "Vandelay", REP1)
    seen = slack.mark()
    slack.submit(view, REP1, lost_values("Vandelay", reason="follow_up", practices=["discovery"]))
    note = slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])[0]
    assert slack.outcomes()[0].reason == "follow_up"
    assert "Reason: Follow-up slipped, in their control" in _text(note)


def test_the_longest_buyer_feedback_allowed_is_saved(slack: SlackDriver) -> None:
    _, outcome = _lose(slack, REP1, "Long story", feedback="y" * 1500)
    assert outcome.buyer_feedback == "y" * 1500


def test_a_system_miss_is_saved_and_the_rep_and_manager_hear_once(slack: SlackDriver) -> None:
    slack.setup()
    view = slack.open_modal("/lost", "Initech", REP1)
    seen = slack.mark()
    values = lost_values(
        "Initech", reason="competitor", competitor="Hooli", practices=["discovery"]
    )
    first = slack.submit(view, REP1, values)
    assert first.body in ("", "{}")
    rep_dm = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    manager_dm = slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])[0]

    # Slack retries the same submission (same view id): nothing new is saved or posted.
    slack.submit(view, REP1, values)
    time.sleep(0.4)
    assert len(slack.outcomes()) == 1
    about = [
        c.conversation
        for c in slack.posts_about(seen, "Initech")
        if c.conversation in (DM[REP1], DM[MANAGER])
    ]
    assert sorted(about) == sorted([DM[REP1], DM[MANAGER]])
    assert [p.post_key.rsplit(":", 1)[-1] for p in slack.post_log()] == ["rep", "manager"]

    outcome = slack.outcomes()[0]
    assert (outcome.user_id, outcome.kind, outcome.deal) == (REP1, "loss", "Initech")
    assert outcome.classification == "system-miss"
    assert outcome.process_score == pytest.approx(0.2)
    assert (outcome.reason, outcome.competitor, outcome.amount) == ("competitor", "Hooli", 48000)
    assert outcome.reflection_requested_at is not None

    rep_text = _text(rep_dm)
    assert "System miss" in rep_text
    # Seed 000 first: losing hurts; then the label and the lesson; then the questions.
    first = rep_dm.params["blocks"][0]["text"]["text"]
    assert first.startswith("When you lose an opportunity, it hurts, and losing *Initech*")
    assert rep_dm.params["text"].startswith("When you lose an opportunity, it hurts.")
    assert (
        rep_text.index("When you lose an opportunity")
        < rep_text.index("A loss that looks like a loss.")
        < rep_text.index("What did you learn from this opportunity?")
    )
    assert "What did you learn from this opportunity?" in rep_text
    assert "One thing I will do differently" in rep_text
    assert REFLECT_ACTION_ID in rep_text
    assert CELEBRATE_YES_ACTION_ID not in rep_text  # only perfect misses are celebrated

    note = _text(manager_dm)
    assert f"<@{REP1}> lost a deal" in note
    for fact in ("Initech", "Proposal", "Competitor (Hooli)", "System miss", "48,000"):
        assert fact in note
    assert "One question to ask" in note
    assert "slipped first" in note
    # A system miss is not posted anywhere public.
    assert slack.since(seen, "chat.postMessage", channel=WINS) == []


def test_perfect_miss_celebrated_with_consent_once_without_the_amount(slack: SlackDriver) -> None:
    slack.setup()
    start = slack.mark()
    dm, outcome = _lose(slack, REP1, "Umbrella Corp", practices=ALL_PRACTICES, amount="99000")
    assert outcome.classification == "perfect-miss"
    assert CELEBRATE_YES_ACTION_ID in _text(dm)
    note = _text(slack.wait(start, "chat.postMessage", channel=DM[MANAGER])[0])
    assert "Perfect miss" in note and "Umbrella Corp" in note
    assert "Don't invent fixes" in note
    assert "exactly the same way" in note  # the coaching question after a perfect miss
    # Nothing public before the rep says yes.
    assert slack.since(start, "chat.postMessage", channel=WINS) == []

    seen = slack.mark()
    replaced = slack.click_replacing(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)  # double click
    slack.wait(seen, "chat.postMessage", channel=WINS)
    time.sleep(0.4)
    posts = slack.posts_about(seen, "Umbrella Corp", channel=WINS)
    assert len(posts) == 1
    shout = _text(posts[0])
    assert f"<@{REP1}>" in shout
    assert "perfect miss" in shout.lower()
    assert "do exactly what you did again" in shout
    assert "Handled objections well" in shout
    assert "99" not in shout  # the amount is never posted publicly
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])  # may trail the post on a busy machine
    confirmations = slack.posts_about(seen, "perfect miss", channel=DM[REP1])
    assert len(confirmations) == 1 and "<#C0WINS>" in _text(confirmations[0])
    assert "celebrated in" in _text(confirmations[0])
    # The ask is replaced through the click's response_url: no chat.update outside the outbox.
    assert CELEBRATE_YES_ACTION_ID not in json.dumps(replaced["blocks"])
    assert slack.since(seen, "chat.update") == []
    assert slack.outcomes()[0].celebrate_consent is True


def test_perfect_miss_without_consent_posts_nothing(slack: SlackDriver) -> None:
    slack.setup()
    dm, outcome = _lose(slack, REP2, "Stark deal", practices=ALL_PRACTICES)
    seen = slack.mark()
    # Someone else clicking the rep's button changes nothing.
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id))
    slack.click(REP2, CELEBRATE_NO_ACTION_ID, str(outcome.id), message=dm)
    slack.wait(seen, "chat.postMessage", channel=DM[REP2])
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(outcome.id))  # the first answer stands
    time.sleep(0.5)
    assert slack.posts_about(seen, "Stark deal", channel=WINS) == []
    assert slack.outcomes()[0].celebrate_consent is False


def test_consent_without_a_channel_is_kept_and_posted_once_a_channel_is_set(
    slack: SlackDriver,
) -> None:
    slack.setup(channel=None)
    dm, outcome = _lose(slack, REP1, "Wayne Enterprises", practices=ALL_PRACTICES)
    seen = slack.mark()
    slack.click(REP1, CELEBRATE_YES_ACTION_ID, str(outcome.id), message=dm)
    reply = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    assert "no recognition channel" in _text(reply)
    assert slack.outcomes()[0].celebrate_consent is True

    clock = FakeClock(utc_now())
    ticker = slack.ticker(clock)
    ticker.tick()
    # Only this deal's post counts: another test's workspace may be due a digest in #wins.
    assert slack.posts_about(seen, "Wayne", channel=WINS) == []
    slack.set_channel(WINS)
    ticker.tick()
    ticker.tick()
    posts = [c for c in slack.since(seen, "chat.postMessage", channel=WINS) if "Wayne" in _text(c)]
    assert len(posts) == 1
    assert slack.outcomes()[0].celebration_posted_at is not None


# -- reflections ------------------------------------------------------------------------------


def test_reflections_are_kept_privately_and_the_next_debrief_follows_up(slack: SlackDriver) -> None:
    slack.setup()
    _, first = _lose(slack, REP1, "Acme renewal", practices=["discovery"])
    bad_view_seen = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(first.id))
    view = slack.wait(bad_view_seen, "views.open")[0].response["view"]
    assert "followed_up" not in {b.get("block_id") for b in view["blocks"]}
    # The commitment is required and may not be blank.
    body = slack.submit(view, REP1, reflection_values("   ")).json()
    assert body["response_action"] == "errors" and "commitment" in body["errors"]

    seen = slack.mark()
    slack.submit(
        view,
        REP1,
        reflection_values(
            "Confirm budget in the first call",
            learned="Price came up too late",
            in_control="When I asked about budget",
        ),
    )
    thanks = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    assert "Confirm budget in the first call" in _text(thanks)
    slack.submit(view, REP1, reflection_values("something else"))  # a second submission
    time.sleep(0.4)
    rows = slack.reflections()
    assert [r.question_key for r in rows] == ["learned", "in_control", "commitment"]
    assert [r.is_commitment for r in rows] == [False, False, True]
    assert rows[-1].answer == "Confirm budget in the first call"
    assert len(slack.since(seen, "chat.postMessage", channel=DM[REP1])) == 1
    # Reflections never reach a channel.
    for call in slack.since(0, "chat.postMessage"):
        if not str(call.conversation).startswith("D"):
            assert "Price came up too late" not in _text(call)

    _, second = _lose(slack, REP1, "Beta deal", practices=["discovery"])
    seen = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(second.id))
    view = slack.wait(seen, "views.open")[0].response["view"]
    assert "Confirm budget in the first call" in json.dumps(view["blocks"])
    body = slack.submit(view, REP1, reflection_values("Multi-thread early")).json()
    assert body["response_action"] == "errors" and "followed_up" in body["errors"]
    seen = slack.mark()
    slack.submit(view, REP1, reflection_values("Multi-thread early", followed_up="yes"))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    commitments = [r for r in slack.reflections() if r.is_commitment]
    assert [(r.answer, r.commitment_followed_up) for r in commitments] == [
        ("Confirm budget in the first call", True),
        ("Multi-thread early", None),
    ]


def test_only_the_rep_can_open_their_reflections(slack: SlackDriver) -> None:
    slack.setup()
    dm, outcome = _lose(slack, REP1, "Private deal")
    seen = slack.mark()
    response_url = slack.sender.new_response_url("actions")
    slack.click(REP2, REFLECT_ACTION_ID, str(outcome.id), message=dm, response_url=response_url)
    # Only the clicker sees it, where they clicked: through the click's response_url, since
    # chat.postEphemeral can't reach them in someone else's DM (user_not_in_channel).
    (note,) = slack.standin.wait_for_responses(response_url, timeout=10)
    assert note["text"] == f"These questions are for <@{REP1}>."
    assert note["response_type"] == "ephemeral" and note["replace_original"] is False
    time.sleep(0.3)
    assert slack.since(seen, "views.open") == []


def test_one_reminder_when_reflections_are_not_answered_within_a_day(slack: SlackDriver) -> None:
    slack.setup()
    _, outcome = _lose(slack, REP2, "Slow deal")
    _, answered = _lose(slack, REP1, "Answered deal")
    _reflect(slack, REP1, answered, reflection_values("Ask for the budget"))
    clock = FakeClock(utc_now())
    ticker = slack.ticker(clock)
    seen = slack.mark()
    clock.advance(hours=23)
    ticker.tick()
    # (A check-in falling due meanwhile may ask about the deal too; it is not a reminder.)
    reminders_so_far = [
        c for c in slack.posts_about(seen, "Slow deal") if "still waiting" in _text(c)
    ]
    assert reminders_so_far == []
    clock.advance(hours=2)
    ticker.tick()
    clock.advance(days=3)
    ticker.tick()
    reminders = [c for c in slack.since(seen, "chat.postMessage") if "still waiting" in _text(c)]
    assert [c.conversation for c in reminders if "Slow deal" in _text(c)] == [DM[REP2]]
    assert not [c for c in reminders if "Answered deal" in _text(c)]
    assert REFLECT_ACTION_ID in _text(reminders[0])
    assert [o.reflection_reminded_at is not None for o in slack.outcomes()] == [True, False]


# -- /won -------------------------------------------------------------------------------------


def test_won_after_losses_is_a_bounce_back_shared_only_with_the_reps_yes(
    slack: SlackDriver,
) -> None:
    slack.setup()
    _lose(slack, REP2, "Loss one")
    _lose(slack, REP2, "Loss two")
    view = slack.open_modal("/won", "Globex", REP2)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["deal"]["element"]["initial_value"] == "Globex"
    assert [o["value"] for o in blocks["luck"]["element"]["options"]] == [
        "none",
        "some",
        "a_lot",
        "mostly",
    ]
    seen = slack.mark()
    values = won_values("Globex", practices=ALL_PRACTICES, amount="75000")
    slack.submit(view, REP2, values)
    dm = slack.wait(seen, "chat.postMessage", channel=DM[REP2])[0]
    slack.submit(view, REP2, values)  # retried
    assert "System hit" in _text(dm) and "bounce-back" in _text(dm)
    # Asked first (issue 12): nothing public until the rep says yes.
    assert CELEBRATE_YES_ACTION_ID in _text(dm)
    time.sleep(0.4)
    assert slack.posts_about(seen, "Globex", channel=WINS) == []
    win = slack.outcomes()[-1]
    slack.click(REP2, CELEBRATE_YES_ACTION_ID, str(win.id), message=dm)
    shout = slack.wait(seen, "chat.postMessage", channel=WINS)[0]
    time.sleep(0.4)
    assert len(slack.posts_about(seen, "Globex", channel=WINS)) == 1
    assert "bounced back after 2 losses in under an hour" in _text(shout)
    assert f"<@{REP2}>" in _text(shout) and "75" not in _text(shout)
    # A system hit needs no manager note. (The second loss's note may land after `seen`:
    # _lose waits only for the rep's DM, so look for a note about this win.)
    notes = slack.since(seen, "chat.postMessage", channel=DM[MANAGER])
    assert not [note for note in notes if "Globex" in _text(note)]
    win = slack.outcomes()[-1]
    assert (win.kind, win.classification, win.bounce_back_losses) == ("win", "system-hit", 2)
    assert win.luck == 0 and win.bounce_back_recovery_seconds is not None

    # The next win ends no streak: no shout-out, and nothing to ask.
    seen = slack.mark()
    dm, _ = log_win(slack, REP2, "Globex 2")
    time.sleep(0.3)
    assert CELEBRATE_YES_ACTION_ID not in _text(dm)
    assert slack.posts_about(seen, "Globex 2", channel=WINS) == []
    assert slack.outcomes()[-1].bounce_back_losses is None


def test_a_mostly_lucky_win_is_a_lucky_hit_with_a_private_manager_note(slack: SlackDriver) -> None:
    slack.setup()
    view = slack.open_modal("/won", "", REP1)
    body = slack.submit(view, REP1, won_values("Big inbound", luck=None)).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["luck"]
    seen = slack.mark()
    slack.submit(view, REP1, won_values("Big inbound", practices=ALL_PRACTICES, luck="mostly"))
    note = slack.wait(seen, "chat.postMessage", channel=DM[MANAGER])[0]
    dm = slack.wait(seen, "chat.postMessage", channel=DM[REP1])[0]
    assert "Lucky hit" in _text(note) and "masquerading as a win" in _text(note)
    assert "Lucky hit" in _text(dm)
    assert slack.posts_about(seen, "Big inbound", channel=WINS) == []
    assert slack.outcomes()[0].luck == 90


@pytest.mark.parametrize(
    ("practices", "luck", "field", "message"),
    [
        ([], "some", "practices", "or “None of these held”"),
        ([NONE_HELD, "discovery"], "some", "practices", "can't go with a practice"),
        # "None — it was the process" with no practice held: contradictory, explained.
        ([NONE_HELD], "none", "luck", "You said none of it was luck, but that none of"),
    ],
)
def test_a_win_with_the_checklist_unanswered_or_contradictory_saves_nothing(
    slack: SlackDriver, practices: list[str], luck: str, field: str, message: str
) -> None:
    slack.setup()
    view = slack.open_modal("/won", "Globex", REP1)
    body = slack.submit(view, REP1, won_values("Globex", practices=practices, luck=luck)).json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field] and message in body["errors"][field]
    time.sleep(0.2)
    assert slack.outcomes() == [] and slack.post_log() == []
    # Answered honestly, the same modal saves: no practice held and mostly luck.
    seen = slack.mark()
    slack.submit(view, REP1, won_values("Globex", practices=[NONE_HELD], luck="mostly"))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    win = slack.outcomes()[0]
    assert (win.classification, win.process_score, win.luck) == ("lucky-hit", 0.0, 90)


# -- lessons ----------------------------------------------------------------------------------


def _lessons(slack: SlackDriver, user_id: str, words: str = "") -> str:
    seen = slack.mark()
    reply = slack.sender.slash_command("/rebound", f"lessons {words}".strip(), user_id=user_id)
    assert reply.status == 200
    answer = slack.wait(seen, "chat.postEphemeral", user=user_id)[0]
    return _text(answer)


def test_lessons_search_finds_words_with_ampersands_and_echoes_them_escaped(
    slack: SlackDriver,
) -> None:
    slack.setup()
    _, deal = _lose(slack, REP1, "AT&T <renewal>", reason="price")
    _reflect(
        slack,
        REP1,
        deal,
        reflection_values("Call their CFO", learned="Procurement at AT&T wants three quotes"),
    )
    # Slack sends "lessons AT&amp;T"; the search is for what was typed.
    found = _lessons(slack, REP1, "AT&T")
    assert "Procurement at AT&amp;T wants three quotes" in found
    assert "Lessons matching “AT&amp;T”" in found  # echoed, escaped once for mrkdwn
    assert "AT&amp;T &lt;renewal&gt;" in found  # the deal's name
    assert "&amp;amp;" not in found


def test_lessons_search_is_private_to_the_rep_and_their_manager(slack: SlackDriver) -> None:
    slack.setup()
    assert "No lessons yet" in _lessons(slack, REP1)
    _, acme = _lose(slack, REP1, "Acme renewal", reason="price")
    _reflect(
        slack,
        REP1,
        acme,
        reflection_values(
            "Confirm budget early", learned="Pricing objections need a budget question"
        ),
    )
    _, beta = _lose(slack, REP2, "Beta deal", reason="timing")
    _reflect(slack, REP2, beta, reflection_values("Ask about their timeline and pricing"))

    mine = _lessons(slack, REP1, "pricing budget")
    assert "Pricing objections need a budget question" in mine
    assert "Confirm budget early" in mine
    assert "Acme renewal" in mine and "Price" in mine
    assert "timeline" not in mine  # another rep's lessons stay theirs
    # Best match first: the answer matching both words comes before the one matching one.
    assert mine.index("Pricing objections") < mine.index("Confirm budget early")

    assert "Ask about their timeline" in _lessons(slack, REP2, "pricing")
    assert "Acme" not in _lessons(slack, REP2, "pricing")

    team = _lessons(slack, MANAGER, "pricing")
    assert "Pricing objections" in team and "Ask about their timeline" in team
    assert f"<@{REP2}>" in team

    assert "No lessons" in _lessons(slack, ADMIN, "pricing")  # not their team
    newest = _lessons(slack, REP1)  # no words: the newest first (the commitment came last)
    assert newest.index("Confirm budget early") < newest.index("Pricing objections")
    assert "No lessons match" in _lessons(slack, REP1, "zebra%_")
