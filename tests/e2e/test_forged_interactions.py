"""Every button and form re-checks, when it arrives, that the person using it may: a click or
a submission forged (or forwarded, or left open since someone lost a right) by the wrong
person changes nothing, and they are told why, in the form (view_submission errors) or in an
only-visible-to-them message. One case per handler in bot/features; over HTTP, on SQLite and
PostgreSQL.

Handlers that need no check, because they only ever act for the person using them: the /lost
and /won forms and the Home buttons that open them or the check-in (what they save or open is
the submitter's own), and "Keep my data" (it changes nothing)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from sqlmodel import Session, SQLModel, select

from bot.blocks.checkins import CHECKIN_CALLBACK_ID, OPEN_ACTION_ID, SKIP_ACTION_ID, checkin_modal
from bot.blocks.corrections import CORRECT_ACTION_ID, REMOVE_ACTION_ID, correction_modal
from bot.blocks.debriefs import (
    CELEBRATE_NO_ACTION_ID,
    CELEBRATE_YES_ACTION_ID,
    LESSON_NOT_NOW_ACTION_ID,
    REFLECT_ACTION_ID,
    SHARE_LESSON_ACTION_ID,
    TAKE_BACK_ACTION_ID,
    UNSHARE_LESSON_ACTION_ID,
    reflection_modal,
    win_lesson_modal,
)
from bot.blocks.goals import CHANGE_GOAL_ACTION_ID, GoalDefaults, goal_modal
from bot.blocks.kudos import kudos_modal
from bot.blocks.one_on_ones import AGENDA_DONE_ACTION_ID, AGENDA_ON, REPLY_ACTION_ID, reply_modal
from bot.blocks.privacy import DELETE_WORKSPACE_CONFIRM_ACTION_ID, FORGET_ME_CONFIRM_ACTION_ID
from bot.blocks.resilience import TALK_ACTION_ID
from bot.domain import PRACTICES, Classification
from bot.domain.checkins import Question
from bot.domain.debriefs import WIN_LESSON_KEY, WIN_QUESTION, OutcomeFacts
from bot.domain.one_on_ones import CheckInAnswerShown, ReplyTarget
from bot.usecases.privacy import row_dict
from storage import queries
from storage.db import make_engine
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    OneOnOneItem,
    Outcome,
    Reflection,
    Workspace,
)
from testkit.live import LiveApp
from testkit.simulator import HttpReply, state_value
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.factories import Seeded, outcome_row, seed_person
from tests.support.slack import REP2, SlackDriver

ADMIN, MANAGER, OWNER = "U0ADMIN", "U0MGR", "U0REP1"
# The forger's clicks and submissions come from a rep with no rights over what they touch, on a
# message in #general.
FORGER = REP2
WHERE = {"ts": "1700000000.000100", "channel": "C0GENERAL", "text": ""}
# Member columns a request may refresh from users.info without changing anyone's rights.
_PROFILE_COLUMNS = {"display_name", "tz", "tz_refreshed_at"}


def _text(values: dict[str, str]) -> dict[str, Any]:
    return {key: {"value": state_value("plain_text_input", v)} for key, v in values.items()}


class Scene(NamedTuple):
    """One forgery scene: a workspace whose owner has one of everything, and the settings form
    as an admin opened it (a stale, or stolen, view)."""

    slack: SlackDriver
    owner: Seeded
    settings_view: dict[str, Any]
    # The owner's wins (issue 12): one with its lesson private, one with it shared.
    private_lesson: WinLesson
    shared_lesson: WinLesson
    # An item on the owner's one-on-one agenda with their manager (issue 12).
    agenda_item_id: int


class WinLesson(NamedTuple):
    outcome_id: int
    reflection_id: int


def _click(ctx: Scene, action_id: str, value: str) -> HttpReply:
    return ctx.slack.click(FORGER, action_id, value, message=WHERE)


def _submit(ctx: Scene, view: dict[str, Any], values: dict[str, Any]) -> HttpReply:
    return ctx.slack.submit(view, FORGER, values)


def _settings(ctx: Scene) -> HttpReply:
    values = {
        "recognition_channel": {"value": state_value("channels_select", "C0GENERAL")},
        "checkin_weekday": {"value": state_value("static_select", "0")},
        "checkin_hour": {"value": state_value("static_select", "9")},
        "kudos_policy": {"value": state_value("radio_buttons", "everyone")},
        "threshold": {"value": state_value("number_input", "0.5")},
    }
    return _submit(ctx, ctx.settings_view, values)


def _reflections(ctx: Scene) -> HttpReply:
    view = reflection_modal("Owner's deal", ctx.owner.outcome_id, None)
    return _submit(ctx, view, _text({"learned": "forged", "commitment": "forged"}))


def _win_lesson(ctx: Scene) -> HttpReply:
    view = win_lesson_modal("Owner's win", ctx.private_lesson.outcome_id)
    return _submit(ctx, view, _text({WIN_LESSON_KEY: "forged"}))


def _checkin_reply(ctx: Scene) -> HttpReply:
    answers = [CheckInAnswerShown("win", "Your win this week?", "Answer owner")]
    view = reply_modal(ReplyTarget(ctx.owner.checkin_id, OWNER, answers))
    values = {
        "answer": {"value": state_value("static_select", "win")},
        "reply": {"value": state_value("plain_text_input", "forged reply")},
        AGENDA_ON: {"value": state_value("checkboxes", [AGENDA_ON])},
    }
    return _submit(ctx, view, values)


def _checkin_answers(ctx: Scene) -> HttpReply:
    view = checkin_modal(ctx.owner.checkin_id, [Question(key="win", text="Your win?")], {}, "w")
    assert view["callback_id"] == CHECKIN_CALLBACK_ID
    return _submit(ctx, view, {"win": {"answer": state_value("plain_text_input", "forged")}})


def _goal(ctx: Scene) -> HttpReply:
    today = datetime.now(UTC).date()
    view = goal_modal(
        GoalDefaults(
            cycle_start=today, cycle_end=today + timedelta(days=20), goal_id=ctx.owner.goal_id
        )
    )
    values = {
        "metric": {"value": state_value("static_select", "revenue")},
        "custom_metric": {"value": state_value("plain_text_input", None)},
        "target": {"value": state_value("number_input", "1")},
        "cycle_start": {"value": state_value("datepicker", today.isoformat())},
        "cycle_end": {"value": state_value("datepicker", (today + timedelta(20)).isoformat())},
        "why": {"value": state_value("plain_text_input", "forged")},
    }
    return _submit(ctx, view, values)


def _correction(ctx: Scene) -> HttpReply:
    """The owner's correction form, submitted by the forger."""
    facts = OutcomeFacts(
        id=ctx.owner.outcome_id,
        user_id=OWNER,
        kind="loss",
        deal="Owner's deal",
        classification=Classification.PERFECT_MISS,
        practices=dict.fromkeys(PRACTICES, True),
        occurred_at=ctx.slack.live.clock(),
        stage="proposal",
        reason="price",
    )
    values = {
        "deal": {"value": state_value("plain_text_input", "forged")},
        "amount": {"value": state_value("number_input", None)},
        "stage": {"value": state_value("static_select", "proposal")},
        "reason": {"value": state_value("static_select", "price")},
        "competitor": {"value": state_value("plain_text_input", None)},
        "practices": {"value": state_value("checkboxes", ["none_held"])},
        "buyer_feedback": {"value": state_value("plain_text_input", None)},
    }
    return _submit(ctx, correction_modal(facts), values)


def _kudos(ctx: Scene) -> HttpReply:
    values = {
        "recipients": {"value": state_value("multi_users_select", [OWNER])},
        "category": {"value": state_value("static_select", "teamwork")},
        "message": {"value": state_value("plain_text_input", "forged kudos")},
    }
    return _submit(ctx, kudos_modal(channel_id="C0GENERAL"), values)


@dataclass(frozen=True)
class Case:
    handler: str  # the listener, as registered in bot/features
    permission: str
    send: Callable[[Scene], HttpReply]
    expect: str  # words the forger is told
    in_form: bool  # told in the form's errors (else in an ephemeral or DM)


CASES = [
    Case("rebound_command.settings_submitted", "admin", _settings, "Only Rebound admins", True),
    Case(
        "privacy.delete_workspace_confirmed",
        "admin",
        lambda c: _click(c, DELETE_WORKSPACE_CONFIRM_ACTION_ID, "workspace"),
        "Only Rebound admins",
        False,
    ),
    Case(
        "privacy.forget_me_confirmed",
        "the person themself",
        lambda c: _click(c, FORGET_ME_CONFIRM_ACTION_ID, OWNER),
        "for someone else",
        False,
    ),
    Case(
        "debriefs.reflect_clicked",
        "the rep",
        lambda c: _click(c, REFLECT_ACTION_ID, str(c.owner.outcome_id)),
        f"These questions are for <@{OWNER}>",
        False,
    ),
    Case("debriefs.reflections_submitted", "the rep", _reflections, "someone else's", True),
    Case("debriefs.reflections_submitted (a win)", "the rep", _win_lesson, "someone else's", True),
    Case(
        "debriefs.lesson_share_clicked (share)",
        "the rep",
        lambda c: _click(c, SHARE_LESSON_ACTION_ID, str(c.private_lesson.reflection_id)),
        f"That lesson is <@{OWNER}>'s",
        False,
    ),
    Case(
        "debriefs.lesson_share_clicked (make private)",
        "the rep",
        lambda c: _click(c, UNSHARE_LESSON_ACTION_ID, str(c.shared_lesson.reflection_id)),
        f"That lesson is <@{OWNER}>'s",
        False,
    ),
    Case(
        "debriefs.celebration_clicked (yes)",
        "the rep",
        lambda c: _click(c, CELEBRATE_YES_ACTION_ID, str(c.owner.outcome_id)),
        f"<@{OWNER}>'s",
        False,
    ),
    Case(
        "debriefs.celebration_clicked (no)",
        "the rep",
        lambda c: _click(c, CELEBRATE_NO_ACTION_ID, str(c.owner.outcome_id)),
        f"<@{OWNER}>'s",
        False,
    ),
    Case(
        "debriefs.take_back_clicked",
        "the rep the shout-out is about",
        lambda c: _click(c, TAKE_BACK_ACTION_ID, str(c.owner.outcome_id)),
        f"That shout-out is <@{OWNER}>'s",
        False,
    ),
    Case(
        "checkins.open_clicked",
        "the rep",
        lambda c: _click(c, OPEN_ACTION_ID, str(c.owner.checkin_id)),
        f"<@{OWNER}>'s",
        False,
    ),
    Case(
        "checkins.skip_clicked",
        "the rep",
        lambda c: _click(c, SKIP_ACTION_ID, str(c.owner.checkin_id)),
        f"<@{OWNER}>'s",
        False,
    ),
    Case("checkins.answers_submitted", "the rep", _checkin_answers, "someone else's", True),
    Case(
        "one_on_ones.reply_clicked",
        "the rep's manager",
        lambda c: _click(c, REPLY_ACTION_ID, str(c.owner.checkin_id)),
        f"Only <@{OWNER}>'s manager can reply",
        False,
    ),
    Case(
        "one_on_ones.reply_submitted",
        "the rep's manager",
        _checkin_reply,
        "Only their manager can reply",
        True,
    ),
    Case(
        "lesson_reminders.not_now_clicked",
        "the rep",
        lambda c: _click(c, LESSON_NOT_NOW_ACTION_ID, str(c.private_lesson.outcome_id)),
        f"That question is for <@{OWNER}>",
        False,
    ),
    Case(
        "one_on_ones.agenda_done_clicked",
        "the rep, their manager or an admin",
        lambda c: _click(c, AGENDA_DONE_ACTION_ID, str(c.agenda_item_id)),
        f"Only <@{OWNER}> or their manager can mark this agenda item done",
        False,
    ),
    Case(
        "goals.change_goal",
        "the goal's owner",
        lambda c: _click(c, CHANGE_GOAL_ACTION_ID, str(c.owner.goal_id)),
        f"<@{OWNER}>'s",
        False,
    ),
    Case("goals.goal_submitted", "the goal's owner", _goal, "someone else's", True),
    Case(
        "resilience.talk_clicked",
        "the rep",
        lambda c: _click(c, TALK_ACTION_ID, str(c.owner.outcome_id)),
        f"<@{OWNER}>'s",
        False,
    ),
    Case(
        "corrections.correct_clicked",
        "the rep",
        lambda c: _click(c, CORRECT_ACTION_ID, str(c.owner.outcome_id)),
        "someone else's",
        False,
    ),
    Case(
        "corrections.remove_clicked",
        "the rep",
        lambda c: _click(c, REMOVE_ACTION_ID, str(c.owner.outcome_id)),
        "someone else's",
        False,
    ),
    Case("corrections.correction_submitted", "the rep", _correction, "someone else's", True),
    Case(
        "kudos.kudos_submitted",
        "the kudos policy",
        _kudos,
        "kudos come from managers and admins",
        False,
    ),
]


def _snapshot(live: LiveApp, team_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the workspace that a permission guards (post logs aside)."""
    models: list[type[SQLModel]] = [
        Workspace,
        Member,
        Outcome,
        Reflection,
        Kudos,
        KudosRecipient,
        CheckIn,
        CheckInAnswer,
        Goal,
        OneOnOneItem,
    ]
    engine = make_engine(live.database_url)
    try:
        with Session(engine) as session:
            snapshot: dict[str, list[dict[str, Any]]] = {}
            for model in models:
                rows = session.exec(select(model).where(model.team_id == team_id)).all()  # type: ignore[attr-defined]
                skip = _PROFILE_COLUMNS if model is Member else set()
                dicts = [{k: v for k, v in row_dict(r).items() if k not in skip} for r in rows]
                snapshot[model.__tablename__] = sorted(dicts, key=json.dumps)  # type: ignore[arg-type]
            return snapshot
    finally:
        engine.dispose()


@pytest.fixture
def ctx(slack: SlackDriver) -> Scene:
    team_id = slack.team_id
    with slack.session_factory() as session:
        queries.get_or_create_workspace(session=session, team_id=team_id)
        queries.update_workspace_settings(
            session=session, team_id=team_id, recognition_channel_id="C0WINS"
        )
        owner = seed_person(session, team_id, OWNER, "owner", at=slack.live.clock())
        session.flush()
        outcome = session.get(Outcome, owner.outcome_id)
        checkin = session.get(CheckIn, owner.checkin_id)
        goal = session.get(Goal, owner.goal_id)
        assert outcome is not None and checkin is not None and goal is not None
        outcome.classification = "perfect-miss"  # its rep is asked whether to celebrate it
        checkin.status = "sent"  # waiting for an answer, so a skip would change it
        today = datetime.now(UTC).date()
        goal.cycle_start, goal.cycle_end = today - timedelta(days=5), today + timedelta(days=20)
        session.add_all([outcome, checkin, goal])
        queries.set_reports(
            session=session, team_id=team_id, manager_user_id=MANAGER, report_user_ids=[OWNER]
        )
        queries.upsert_member(session=session, team_id=team_id, user_id=FORGER)
        lessons = [
            _seed_win_lesson(session, team_id, slack.live.clock(), shared=shared)
            for shared in (False, True)
        ]
        item = OneOnOneItem(
            team_id=team_id,
            manager_user_id=MANAGER,
            rep_user_id=OWNER,
            checkin_id=owner.checkin_id,
            question="Your win this week?",
            answer="Answer owner",
            reply="Let's talk Thursday",
            submission_key="view:agenda",
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        item_id = item.id
        session.commit()
    # The settings form as an admin opened it: a stale (or stolen) view.
    view = slack.open_modal("/rebound", "settings", ADMIN)
    return Scene(slack, owner, view, *lessons, item_id)


def _seed_win_lesson(session: Session, team_id: str, at: datetime, *, shared: bool) -> WinLesson:
    win = outcome_row(team_id, OWNER, "win", at, reflection_answered_at=at)
    session.add(win)
    session.flush()
    assert win.id is not None
    lesson = Reflection(
        team_id=team_id,
        user_id=OWNER,
        outcome_id=win.id,
        question_key=WIN_LESSON_KEY,
        question=WIN_QUESTION,
        answer="Asked for the budget early",
        answered_at=at,
        shared_at=at if shared else None,
    )
    session.add(lesson)
    session.flush()
    assert lesson.id is not None
    return WinLesson(win.id, lesson.id)


def _told(calls: list[RecordedCall]) -> list[str]:
    """What the forger was told in messages: ephemerals to them, and DMs."""
    texts = []
    for call in calls:
        if call.method == "chat.postEphemeral" and call.params.get("user") == FORGER:
            texts.append(call.params.get("text") or "")
        if call.method == "chat.postMessage" and call.params.get("channel") in (
            FORGER,
            "D" + FORGER[1:],
        ):
            texts.append(call.params.get("text") or "")
    return texts


@pytest.mark.parametrize("case", CASES, ids=[c.handler for c in CASES])
def test_a_forged_interaction_changes_nothing_and_says_why(
    ctx: Scene, standin: SlackStandIn, case: Case
) -> None:
    before = _snapshot(ctx.slack.live, ctx.slack.team_id)
    seen = len(standin.calls)
    responses_seen = len(standin.response_url_posts)
    reply = case.send(ctx)
    assert reply.status == 200, reply.body
    if case.in_form:
        body = reply.json()
        assert body["response_action"] == "errors", body
        assert any(case.expect in text for text in body["errors"].values()), body
    else:
        assert not reply.body or "errors" not in reply.body

        # Told in an ephemeral or DM, or through the click's response_url (where the button is).
        def told(calls: list[RecordedCall]) -> list[str]:
            answers = [p.body for p in standin.response_url_posts[responses_seen:] if p.ok]
            return _told(calls[seen:]) + [str(a.get("text") or "") for a in answers]

        standin.wait_for(lambda calls: any(case.expect in text for text in told(calls)), timeout=10)
    time.sleep(0.5)  # anything the request still did after its ack
    assert _snapshot(ctx.slack.live, ctx.slack.team_id) == before, case.permission
    # No modal opened for them, nothing posted in a channel.
    later = standin.calls[seen:]
    assert not [c for c in later if c.method == "views.open"]
    channel_posts = [
        c
        for c in later
        if c.method == "chat.postMessage" and str(c.params.get("channel", "")).startswith("C")
    ]
    assert channel_posts == []
    assert not [c for c in later if c.method == "chat.delete"]  # no post taken down either
