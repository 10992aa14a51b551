"""A manager's calibration (issue 12) over HTTP, on SQLite and PostgreSQL: *Agree* and *I see it
differently* on the manager's note, the modal's field errors, who may calibrate (checked at
submit), the rep's private DM (once), and Home saying which view it counts.

Each test has a workspace of its own (the `slack` fixture); Slack calls are read from a mark
and filtered by channel and deal, because the stand-in is shared.
"""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.debriefs import (
    ALREADY_CALIBRATED,
    CALIBRATE_AGREE_ACTION_ID,
    CALIBRATE_CALLBACK_ID,
    CALIBRATE_DIFFER_ACTION_ID,
    NOT_THE_MANAGER,
    OWN_OUTCOME,
    REFLECT_ACTION_ID,
)
from bot.clock import FakeClock
from bot.domain import NONE_HELD
from bot.domain.calibration import MAX_CALIBRATION_NOTE
from bot.domain.debriefs import KEEP_DOING_QUESTION
from storage.models import Outcome
from testkit.simulator import state_value
from testkit.standin import RecordedCall
from tests.support.factories import _lose, add_current_goal, live_session, won_values
from tests.support.slack import ADMIN, ALL_PRACTICES, DM, MANAGER, REP1, REP2, SlackDriver, _text

HOSTILE_NOTE = "<!channel> *Your* discovery <https://evil.example|was> great & thorough"


def _logged_loss(slack: SlackDriver, deal: str, practices: list[str]) -> tuple[Outcome, Any]:
    """A loss REP1 debriefs, and the manager's note about it once the outbox has sent it."""
    slack.setup()
    start = slack.mark()
    _, outcome = _lose(slack, REP1, deal, practices=practices)
    slack.wait(start, "chat.postMessage", channel=DM[MANAGER])
    slack.wait_recorded(f"debrief:{outcome.id}:manager")
    note = [c for c in slack.posts_about(start, deal, channel=DM[MANAGER])][0]
    return outcome, note


def _values(practices: list[str] | None, note: str | None) -> dict[str, Any]:
    return {
        "practices": {"value": state_value("checkboxes", practices)},
        "note": {"value": state_value("plain_text_input", note)},
    }


def _errors(reply: Any) -> dict[str, str]:
    body = reply.json()
    assert body["response_action"] == "errors", body
    return dict(body["errors"])


def _outcome(slack: SlackDriver, outcome_id: int | None) -> Outcome:
    return [o for o in slack.outcomes() if o.id == outcome_id][0]


def _open_differ_modal(slack: SlackDriver, user_id: str, outcome: Outcome, note: Any) -> Any:
    seen = slack.mark()
    slack.click(user_id, CALIBRATE_DIFFER_ACTION_ID, str(outcome.id), message=note)
    return slack.wait(seen, "views.open")[0].response["view"]


def _coaching_dms(slack: SlackDriver, seen: int, deal: str) -> list[RecordedCall]:
    return [
        c
        for c in slack.posts_about(seen, deal, channel=DM[REP1])
        if "looked at your debrief" in _text(c)
    ]


def _replies_to(slack: SlackDriver, seen: int, user_id: str, count: int) -> list[RecordedCall]:
    """Only-visible-to-you replies to a click: an ephemeral where it can reach them, else the
    app's DM (someone else's DM is not a channel the clicker is in)."""

    def replies() -> list[RecordedCall]:
        return [
            c
            for c in slack.since(seen)
            if (c.method == "chat.postEphemeral" and c.params.get("user") == user_id)
            or (c.method == "chat.postMessage" and c.conversation == DM[user_id])
        ]

    slack.standin.wait_for(lambda _: len(replies()) >= count, timeout=10)
    return replies()


def _home_text(slack: SlackDriver, user_id: str) -> str:
    return json.dumps(slack.home(user_id).params["view"])


def test_agree_records_it_updates_the_note_and_tells_the_rep_once(slack: SlackDriver) -> None:
    outcome, note = _logged_loss(slack, "Agree Corp", ["discovery"])
    assert CALIBRATE_AGREE_ACTION_ID in _text(note) and CALIBRATE_DIFFER_ACTION_ID in _text(note)

    seen = slack.mark()
    slack.click(MANAGER, CALIBRATE_AGREE_ACTION_ID, str(outcome.id), message=note)
    update = slack.wait(seen, "chat.update", channel=DM[MANAGER])[0]
    assert update.params["ts"] == note.response["ts"]
    assert CALIBRATE_AGREE_ACTION_ID not in json.dumps(update.params["blocks"])
    assert f"Calibrated by <@{MANAGER}>: agreed with <@{REP1}>'s own score." in _text(update)
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    dm = _coaching_dms(slack, seen, "Agree Corp")[0]
    assert "sees it the way you do: *System miss*" in _text(dm)

    saved = _outcome(slack, outcome.id)
    assert (saved.calibrated_by, saved.calibration_agrees) == (MANAGER, True)
    assert saved.calibrated_classification == "system-miss"
    assert saved.calibration_note is None

    # A second click (a double click, or later) changes nothing and says so.
    again = slack.mark()
    slack.click(MANAGER, CALIBRATE_AGREE_ACTION_ID, str(outcome.id), message=note)
    refusal = _replies_to(slack, again, MANAGER, count=1)[0]
    assert "already calibrated" in _text(refusal)
    slack.settle()
    assert len(_coaching_dms(slack, seen, "Agree Corp")) == 1
    assert len(slack.since(seen, "chat.update", channel=DM[MANAGER])) == 1
    keys = [row.post_key.rsplit(":", 1)[-1] for row in slack.post_log()]
    assert keys.count("calibration") == 1 and keys.count("manager-calibrated") == 1


def test_see_it_differently_checks_the_form_then_recalibrates_and_coaches(
    slack: SlackDriver,
) -> None:
    outcome, note = _logged_loss(slack, "Differ Inc", ["discovery"])
    view = _open_differ_modal(slack, MANAGER, outcome, note)
    assert view["callback_id"] == CALIBRATE_CALLBACK_ID
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert [o["value"] for o in blocks["practices"]["element"]["initial_options"]] == ["discovery"]

    # Field errors keep the modal open, and nothing is saved.
    assert "note" in _errors(slack.submit(view, MANAGER, _values(ALL_PRACTICES, None)))
    too_long = _errors(
        slack.submit(view, MANAGER, _values(ALL_PRACTICES, "x" * (MAX_CALIBRATION_NOTE + 1)))
    )
    assert f"Keep it to {MAX_CALIBRATION_NOTE}" in too_long["note"]
    contradictory = _errors(slack.submit(view, MANAGER, _values(["discovery", NONE_HELD], "Fine.")))
    assert "can't go with" in contradictory["practices"]
    assert _errors(slack.submit(view, MANAGER, _values([], "Fine.")))["practices"]
    assert _outcome(slack, outcome.id).calibrated_at is None

    seen = slack.mark()
    reply = slack.submit(view, MANAGER, _values(ALL_PRACTICES, HOSTILE_NOTE))
    assert reply.body in ("", "{}"), reply.body
    saved = _outcome(slack, outcome.id)
    # Both views: the rep's own, and the manager's with its label recomputed.
    assert (saved.classification, saved.process_score) == ("system-miss", 0.2)
    assert saved.calibrated_classification == "perfect-miss"
    assert saved.calibrated_process_score == 1.0
    assert saved.calibration_agrees is False and saved.calibration_note == HOSTILE_NOTE

    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    dm = _text(_coaching_dms(slack, seen, "Differ Inc")[0])
    assert "can't see their own swing" in dm
    assert "*Perfect miss* (calibrated by your manager)" in dm
    # The manager's sentence is escaped wherever it meets mrkdwn.
    assert "<!channel>" not in dm and "&lt;!channel&gt;" in dm
    assert "<https://evil.example" not in dm
    update = slack.wait(seen, "chat.update", channel=DM[MANAGER])[0]
    assert CALIBRATE_DIFFER_ACTION_ID not in json.dumps(update.params["blocks"])
    assert "&lt;!channel&gt;" in _text(update) and "<!channel>" not in _text(update)

    # A second calibration is refused in the form: the first stands, the rep hears it once.
    second = _errors(slack.submit(view, MANAGER, _values(["discovery"], "On second thought.")))
    assert second == {"note": ALREADY_CALIBRATED}
    slack.settle()
    assert _outcome(slack, outcome.id).calibrated_classification == "perfect-miss"
    assert len(_coaching_dms(slack, seen, "Differ Inc")) == 1


def test_only_the_reps_manager_or_an_admin_can_calibrate_checked_at_submit(
    slack: SlackDriver,
) -> None:
    outcome, note = _logged_loss(slack, "Guarded Ltd", ["discovery"])
    # Another rep's click on the buttons: told so, no modal, nothing saved.
    seen = slack.mark()
    for action_id in (CALIBRATE_DIFFER_ACTION_ID, CALIBRATE_AGREE_ACTION_ID):
        # Someone else's DM is no channel of theirs: the answer goes by the response_url.
        answer = slack.click_answer(REP2, action_id, str(outcome.id), message=note)
        assert answer == NOT_THE_MANAGER
    assert slack.views_opened(seen) == []

    # The modal the manager opened, submitted by someone else (forged or misrouted): refused
    # at submit, under the sentence; the rep can't calibrate their own deal either.
    view = _open_differ_modal(slack, MANAGER, outcome, note)
    values = _values(ALL_PRACTICES, "It all held.")
    assert _errors(slack.submit(view, REP2, values)) == {"note": NOT_THE_MANAGER}
    assert _errors(slack.submit(view, REP1, values)) == {"note": OWN_OUTCOME}
    assert _outcome(slack, outcome.id).calibrated_at is None

    # Once the manager changed (the rep moved teams), the old manager is refused at submit,
    # though they opened the form when they still were the manager.
    slack.make_team(manager=REP2, reps=[REP1])
    assert _errors(slack.submit(view, MANAGER, values)) == {"note": NOT_THE_MANAGER}

    # A workspace admin (Slack says so) may calibrate.
    seen = slack.mark()
    reply = slack.submit(view, ADMIN, values)
    assert reply.body in ("", "{}"), reply.body
    saved = _outcome(slack, outcome.id)
    assert (saved.calibrated_by, saved.calibrated_classification) == (ADMIN, "perfect-miss")
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    assert f"<@{ADMIN}> looked at your debrief" in _text(_coaching_dms(slack, seen, "Guarded")[0])


def test_home_counts_the_calibrated_view_and_says_so(slack: SlackDriver) -> None:
    outcome, note = _logged_loss(slack, "Homely Co", ["discovery"])
    today = outcome.occurred_at.date()
    with live_session(slack.app) as session:  # type: ignore[arg-type]
        add_current_goal(session, REP1, today, metric="deals_won", target=4, team_id=slack.team_id)
        session.commit()
    before = _home_text(slack, REP1)
    assert "System miss 1" in before and "calibrated by your manager" not in before

    view = _open_differ_modal(slack, MANAGER, outcome, note)
    seen = slack.mark()
    slack.submit(view, MANAGER, _values(ALL_PRACTICES, "Everything held; the timing didn't."))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])

    home = _home_text(slack, REP1)
    assert "Perfect miss 1" in home and "System miss 0" in home
    assert "Of these, 1 outcome calibrated by your manager" in home
    team = _home_text(slack, MANAGER)
    assert f"<@{REP1}>" in team and "1 calibrated by a manager" in team


def test_a_loss_calibrated_into_a_perfect_miss_is_reminded_and_asked_as_one(
    slack: SlackDriver,
) -> None:
    """Seed 002's ghost-feedback: once the manager sees a perfect miss, the reminder and the
    questions don't ask what to change."""
    outcome, note = _logged_loss(slack, "Initech", ["discovery"])
    slack.wait_recorded(f"debrief:{outcome.id}:rep")  # the reminder counts from the DM
    view = _open_differ_modal(slack, MANAGER, outcome, note)
    seen = slack.mark()
    slack.submit(view, MANAGER, _values(ALL_PRACTICES, "Everything held; the timing didn't."))
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    assert _outcome(slack, outcome.id).classification == "system-miss"  # the rep's own, kept

    clock = FakeClock(slack.live.clock())
    clock.advance(hours=25)
    seen = slack.mark()
    slack.tick(clock)
    slack.standin.wait_for(
        lambda _: any("gentle nudge" in _text(c) for c in slack.posts_about(seen, "Initech")),
        timeout=10,
    )
    (nudge,) = [c for c in slack.posts_about(seen, "Initech") if "gentle nudge" in _text(c)]
    assert nudge.conversation == DM[REP1]
    assert "You did it right" in _text(nudge)
    assert "what do you need to change" not in _text(nudge)

    opened = slack.mark()
    slack.click(REP1, REFLECT_ACTION_ID, str(outcome.id), message=nudge)
    modal = json.dumps(slack.wait(opened, "views.open")[0].response["view"])
    assert KEEP_DOING_QUESTION in modal


def test_a_mostly_luck_win_is_calibrated_with_the_managers_own_view_of_the_luck(
    slack: SlackDriver,
) -> None:
    slack.setup()
    start = slack.mark()
    view = slack.open_modal("/won", "Luck Corp", REP1)
    slack.submit(view, REP1, won_values("Luck Corp", practices=ALL_PRACTICES, luck="mostly"))
    slack.wait(start, "chat.postMessage", channel=DM[MANAGER])  # the manager hears of lucky hits
    win = next(o for o in slack.outcomes() if o.deal == "Luck Corp")
    assert win.classification == "lucky-hit"
    slack.wait_recorded(f"debrief:{win.id}:manager")
    (note,) = slack.posts_about(start, "Luck Corp", channel=DM[MANAGER])

    modal = _open_differ_modal(slack, MANAGER, win, note)
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    # /won's question and choices, the rep's answer preselected.
    assert blocks["luck"]["element"]["initial_option"]["value"] == "mostly"
    assert [o["value"] for o in blocks["luck"]["element"]["options"]] == [
        "none",
        "some",
        "a_lot",
        "mostly",
    ]
    values = {
        **_values(ALL_PRACTICES, "This was no luck: you ran a textbook process."),
        "luck": {"value": state_value("static_select", "none")},
    }
    seen = slack.mark()
    assert slack.submit(modal, MANAGER, values).body in ("", "{}")
    saved = _outcome(slack, win.id)
    assert (saved.classification, saved.luck) == ("lucky-hit", 90)  # the rep's own view, kept
    assert saved.calibrated_classification == "system-hit"

    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    dm = _text(_coaching_dms(slack, seen, "Luck Corp")[0])
    assert "now reads as *System hit* (calibrated by your manager)" in dm
    assert "Lucky hit" not in dm and "masquerading" not in dm
    assert "You said the luck was: mostly luck. Your manager saw: none" in dm
    update = slack.wait(seen, "chat.update", channel=DM[MANAGER])[0]
    assert "*System hit*" in _text(update)


def test_a_wins_calibration_checks_the_luck_as_won_does(slack: SlackDriver) -> None:
    slack.setup()
    start = slack.mark()
    view = slack.open_modal("/won", "Odd Corp", REP1)
    slack.submit(view, REP1, won_values("Odd Corp", practices=["discovery"], luck="mostly"))
    slack.wait(start, "chat.postMessage", channel=DM[MANAGER])
    win = next(o for o in slack.outcomes() if o.deal == "Odd Corp")
    slack.wait_recorded(f"debrief:{win.id}:manager")
    (note,) = slack.posts_about(start, "Odd Corp", channel=DM[MANAGER])
    modal = _open_differ_modal(slack, MANAGER, win, note)
    missing = {
        **_values(["discovery"], "Fine."),
        "luck": {"value": state_value("static_select", None)},
    }
    assert "luck" in _errors(slack.submit(modal, MANAGER, missing))
    contradictory = {
        **_values([NONE_HELD], "Fine."),
        "luck": {"value": state_value("static_select", "none")},
    }
    assert (
        "none of the practices held" in _errors(slack.submit(modal, MANAGER, contradictory))["luck"]
    )
    assert _outcome(slack, win.id).calibrated_at is None
