"""Data rights over HTTP: `/rebound forget-me` (confirm, click, exactly the clicker's rows go,
once), and an admin deleting the workspace's data. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

from sqlmodel import Session

from bot.blocks.privacy import FORGET_ME_CONFIRM_ACTION_ID
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Goal,
    Kudos,
    KudosRecipient,
    Member,
    Outcome,
    Reflection,
)
from testkit.live import LiveApp
from testkit.standin import RecordedCall, SlackStandIn
from tests.support.factories import count, seed_kudos, seed_person
from tests.support.privacy import _ephemerals_to, db, new_team, new_user
from tests.support.standin_waits import first_call_since

__all__ = ["db"]  # the fixtures (tests/support/privacy.py)


# --- /rebound forget-me -------------------------------------------------------------------------


def ask_to_forget(live: LiveApp, standin: SlackStandIn, team: str, user_id: str) -> RecordedCall:
    seen = len(standin.calls)
    assert live.sender(team).slash_command("/rebound", "forget-me", user_id=user_id).status == 200
    calls = standin.wait_for(lambda calls: bool(_ephemerals_to(calls[seen:], user_id)), timeout=10)
    return _ephemerals_to(calls[seen:], user_id)[0]


def click_delete(
    live: LiveApp, team: str, user_id: str, value: str, *, confirmation_ts: str = "1700000000.1"
) -> str:
    """Click "Delete my data" on the ephemeral confirmation; the click's response_url."""
    sender = live.sender(team)
    response_url = sender.new_response_url("actions")
    reply = sender.block_actions(
        user_id=user_id,
        actions=[{"action_id": FORGET_ME_CONFIRM_ACTION_ID, "value": value}],
        ephemeral_ts=confirmation_ts,
        channel_id="C0GENERAL",
        response_url=response_url,
    )
    assert reply.status == 200
    return response_url


def answer_to(standin: SlackStandIn, response_url: str) -> dict[str, Any]:
    """The one answer the app sent to a click's response_url."""
    answers = standin.wait_for_responses(response_url, timeout=10)
    assert len(answers) == 1, answers
    return answers[0]


def test_forget_me_deletes_exactly_the_clickers_rows_once(
    live: LiveApp, standin: SlackStandIn, db: Session
) -> None:
    team, other_team = new_team(), new_team()
    rep, teammate, third = new_user(standin), new_user(standin), new_user(standin)
    seed_person(db, team, rep, "mine", at=live.clock())
    theirs = seed_person(db, team, teammate, "theirs", at=live.clock())
    seed_person(db, other_team, rep, "elsewhere", at=live.clock())
    given = seed_kudos(db, team, rep, [teammate], "Kudos I gave")
    shared = seed_kudos(db, team, teammate, [rep, third], "Kudos for two")
    db.commit()

    confirmation = ask_to_forget(live, standin, team, rep)
    button = confirmation.params["blocks"][1]["elements"][0]
    assert button["style"] == "danger" and button["text"]["text"] == "Delete my data"
    assert button["value"] == rep

    # Someone else clicking this button (value = rep) deletes nothing at all; the
    # confirmation stays as it was (a new private note, not a replacement).
    refusal = answer_to(standin, click_delete(live, team, teammate, rep))
    assert "for someone else" in refusal["text"]
    assert refusal["replace_original"] is False and refusal["response_type"] == "ephemeral"
    db.expire_all()
    assert count(db, Outcome, team_id=team, user_id=rep) == 1
    assert count(db, Member, team_id=team, user_id=teammate) == 1

    # Done: the answer replaces the ephemeral confirmation, so its button can't be clicked
    # again (an ephemeral message changes only through response_url).
    answer = answer_to(
        standin,
        click_delete(live, team, rep, rep, confirmation_ts=confirmation.response["message_ts"]),
    )
    assert answer["replace_original"] is True
    assert "blocks" not in answer or not any(b["type"] == "actions" for b in answer["blocks"])
    done = answer["text"]
    assert "your data is deleted" in done
    for line in (
        "reflections: 1",
        "outcomes: 1",
        "check-ins: 1",
        "check-in answers: 1",
        "goals: 1",
        "kudos given: 1",
        "kudos received: 1",
        "profile: 1",
    ):
        assert line in done

    db.expire_all()
    for model in (Member, Outcome, Reflection, CheckIn, Goal):
        assert count(db, model, team_id=team, user_id=rep) == 0, model
    assert count(db, CheckInAnswer, team_id=team) == 1  # the teammate's
    assert count(db, Kudos, team_id=team, giver_user_id=rep) == 0
    assert count(db, KudosRecipient, kudos_id=given) == 0
    assert count(db, KudosRecipient, team_id=team, user_id=rep) == 0
    # The teammate's kudos to two people stays, minus only this person's place on it.
    assert db.get(Kudos, shared) is not None
    assert count(db, KudosRecipient, kudos_id=shared, user_id=third) == 1
    # Everyone else's rows, and the same person in another workspace, are untouched.
    for model in (Member, Outcome, Reflection, CheckIn, Goal):
        assert count(db, model, team_id=team, user_id=teammate) == 1, model
        assert count(db, model, team_id=other_team, user_id=rep) == 1, model
    assert db.get(Reflection, theirs.reflection_id) is not None

    # A second click (a stale copy of the button) finds nothing and says so.
    assert "nothing of yours left" in answer_to(standin, click_delete(live, team, rep, rep))["text"]


def test_a_double_click_deletes_once(live: LiveApp, standin: SlackStandIn, db: Session) -> None:
    team, rep = new_team(), new_user(standin)
    seed_person(db, team, rep, "double", at=live.clock())
    db.commit()

    urls: list[str] = []
    clicks = [
        threading.Thread(target=lambda: urls.append(click_delete(live, team, rep, rep)))
        for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    replies = [answer_to(standin, url)["text"] for url in urls]
    assert sorted("your data is deleted" in text for text in replies) == [False, True]
    assert any("nothing of yours left" in text for text in replies)
    done = next(text for text in replies if "deleted" in text)
    assert "outcomes: 1" in done and "reflections: 1" in done
    db.expire_all()
    assert count(db, Outcome, team_id=team) == 0


def test_an_admin_deletes_the_workspace_data_on_request_and_others_cannot(
    live: LiveApp, standin: SlackStandIn
) -> None:
    from sqlmodel import Session

    from bot.blocks.privacy import DELETE_WORKSPACE_CONFIRM_ACTION_ID
    from storage import queries
    from storage.db import make_engine

    team_id = "T0DELETEME"
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        queries.get_or_create_workspace(session=session, team_id=team_id)
        queries.set_reports(
            session=session, team_id=team_id, manager_user_id="U0MGR", report_user_ids=["U0REP1"]
        )
        session.commit()
    sender = live.sender(team_id=team_id)

    def members() -> int:
        with Session(engine) as session:
            return len(queries.list_members(session=session, team_id=team_id))

    def ask(user_id: str) -> RecordedCall:
        """`/rebound delete-workspace-data` typed by `user_id`; the private answer."""
        seen = len(standin.calls)
        sender.slash_command("/rebound", "delete-workspace-data", user_id=user_id)
        return first_call_since(standin, seen, "chat.postEphemeral")

    def confirm(user_id: str, ephemeral_ts: str) -> list[dict[str, Any]]:
        """`user_id` clicks the confirmation's Delete; what the app answered to the click."""
        response_url = sender.new_response_url("actions")
        sender.block_actions(
            user_id=user_id,
            actions=[{"action_id": DELETE_WORKSPACE_CONFIRM_ACTION_ID, "value": "workspace"}],
            ephemeral_ts=ephemeral_ts,
            channel_id="C0GENERAL",
            response_url=response_url,
        )
        return standin.wait_for_responses(response_url, timeout=10)

    # A rep asks: refused, nothing deleted.
    refusal = ask("U0REP1")
    assert "Only Rebound admins" in refusal.params["text"]
    # A rep clicking a forwarded button is refused too; the button stays where it was.
    assert confirm("U0REP1", "1.0")[0]["replace_original"] is False
    assert members() == 2

    # The admin asks, confirms, and the data is gone; another workspace keeps its own.
    confirmation = ask("U0ADMIN")
    assert "Delete all of this workspace's Rebound data now?" in confirmation.params["text"]
    done = confirm("U0ADMIN", confirmation.response["message_ts"])
    assert len(done) == 1 and "data is deleted" in done[0]["text"]
    # The confirmation is replaced by the outcome: its button is gone.
    assert done[0]["replace_original"] is True
    assert members() == 0
    with Session(engine) as session:
        assert queries.get_workspace(session=session, team_id=team_id) is None
        assert queries.get_workspace(session=session, team_id="T0REBOUND") is not None
    engine.dispose()
