"""Two admins saving `/rebound settings` at the same moment, on two `rebound serve` replicas of
one database: a save is all or nothing, saves never interleave, and the one that lost the race
is told the settings changed under it (the modal carries the settings version it showed)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from sqlmodel import Session

from storage import queries
from storage.db import make_engine
from testkit.live import LiveApp, serve_replicas
from testkit.simulator import HttpReply, state_value
from testkit.standin import SlackStandIn
from tests.support.databases import BACKENDS, fresh_database
from tests.support.standin_waits import first_call_since

ROUNDS = 20
ADMINS = ("U0ADMIN", "U0OWNER")  # a workspace admin and the owner
MANAGER, REP1, REP2 = "U0MGR", "U0REP1", "U0REP2"


@dataclass(frozen=True)
class Choice:
    """One admin's whole submission, and what the database holds once it is saved."""

    channel: str
    weekday: int
    hour: int
    policy: str
    threshold: float
    manager: str
    reps: tuple[str, str]

    def values(self) -> dict[str, dict[str, Any]]:
        return {
            "recognition_channel": {"value": state_value("channels_select", self.channel)},
            "checkin_weekday": {"value": state_value("static_select", str(self.weekday))},
            "checkin_hour": {"value": state_value("static_select", str(self.hour))},
            "kudos_policy": {"value": state_value("radio_buttons", self.policy)},
            "threshold": {"value": state_value("number_input", str(self.threshold))},
            "team_0_manager": {"value": state_value("users_select", self.manager)},
            "team_0_reps": {"value": state_value("multi_users_select", list(self.reps))},
            "team_1_manager": {"value": state_value("users_select", None)},
            "team_1_reps": {"value": state_value("multi_users_select", [])},
        }

    def expected(self) -> dict[str, Any]:
        people = {
            user: (user == self.manager, self.manager if user in self.reps else None)
            for user in (MANAGER, REP1, REP2)
        }
        return {
            "workspace": (self.channel, self.weekday, self.hour, self.policy, self.threshold),
            "people": people,
        }


FIRST = Choice("C0WINS", 1, 9, "managers", 0.6, MANAGER, (REP1, REP2))
SECOND = Choice("C0GENERAL", 3, 15, "everyone", 0.9, REP1, (REP2, MANAGER))


@pytest.fixture(scope="module", params=BACKENDS)
def replicas(
    request: pytest.FixtureRequest, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveApp]]:
    folder = tmp_path_factory.mktemp(f"settings-race-{request.param}")
    # Started one after the other: each migrates the database before it listens.
    with (
        fresh_database(request.param, folder) as url,
        serve_replicas(standin, url, folder, 2) as apps,
    ):
        yield apps


def _open_settings(
    replica: LiveApp, standin: SlackStandIn, team_id: str, admin: str
) -> dict[str, Any]:
    seen = len(standin.calls)
    reply = replica.sender(team_id).slash_command("/rebound", "settings", user_id=admin)
    assert reply.status == 200
    return first_call_since(standin, seen, "views.open").response["view"]


def _state(database_url: str, team_id: str) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            workspace = queries.get_workspace(session=session, team_id=team_id)
            assert workspace is not None
            members = {m.user_id: m for m in queries.list_members(session=session, team_id=team_id)}
            return {
                "workspace": (
                    workspace.recognition_channel_id,
                    workspace.checkin_weekday,
                    workspace.checkin_hour,
                    workspace.kudos_policy,
                    workspace.strong_process_threshold,
                ),
                "people": {
                    user: (
                        bool(members[user].is_manager) if user in members else False,
                        members[user].manager_user_id if user in members else None,
                    )
                    for user in (MANAGER, REP1, REP2)
                },
            }
    finally:
        engine.dispose()


def _at_once(sends: list[Callable[[], HttpReply]]) -> list[HttpReply]:
    """Run the sends in threads released together; their replies, in order."""
    start = threading.Barrier(len(sends))
    replies: list[HttpReply | None] = [None] * len(sends)

    def run(i: int) -> None:
        start.wait()
        replies[i] = sends[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(reply is not None for reply in replies)
    return [reply for reply in replies if reply is not None]


def _saved(reply: HttpReply) -> bool:
    """True when the save went through; False when the admin was told the settings changed."""
    assert reply.status == 200, reply.body
    if not reply.body or reply.body == "{}":
        return True
    body = reply.json()
    assert body["response_action"] == "errors", body
    assert (
        "Someone saved the settings after you opened them" in body["errors"]["recognition_channel"]
    ), body
    return False


@pytest.mark.parametrize(
    "versioned", [True, False], ids=["forms-with-version", "forms-from-before-versions"]
)
def test_two_admins_saving_at_once_never_mix_their_settings(
    replicas: list[LiveApp], standin: SlackStandIn, versioned: bool
) -> None:
    """With the version the form showed, the second save is refused; a form without one (opened
    before this version of Rebound) still saves whole, one save after the other."""
    team_id = "T" + uuid.uuid4().hex[:9].upper()
    database_url = replicas[0].database_url
    outcomes: list[dict[str, Any]] = []
    for round_ in range(ROUNDS):
        # Each admin on their own replica (swapped every other round), both forms open at once.
        order = [0, 1] if round_ % 2 == 0 else [1, 0]
        views = [
            _open_settings(replicas[order[i]], standin, team_id, admin)
            for i, admin in enumerate(ADMINS)
        ]
        if not versioned:
            views = [{k: v for k, v in view.items() if k != "private_metadata"} for view in views]
        choices = (FIRST, SECOND) if round_ % 3 else (SECOND, FIRST)
        replies = _at_once(
            [
                partial(
                    replicas[order[i]].sender(team_id).view_submission,
                    views[i],
                    user_id=ADMINS[i],
                    values=choices[i].values(),
                )
                for i in range(2)
            ]
        )
        state = _state(database_url, team_id)
        outcomes.append(state)
        # Workspace fields, teams and manager flags: all from one submission or all from the other.
        assert state in (FIRST.expected(), SECOND.expected()), f"round {round_}: {state}"
        saved = [_saved(reply) for reply in replies]
        if versioned:
            # Both forms showed the same settings: exactly one save wins, the other is told.
            assert sorted(saved) == [False, True], f"round {round_}"
            assert state == choices[saved.index(True)].expected(), f"round {round_}"
        else:
            assert saved == [True, True], f"round {round_}"
    assert len(outcomes) == ROUNDS


def test_a_form_opened_before_a_save_is_refused_and_a_reopened_one_saves(
    replicas: list[LiveApp], standin: SlackStandIn
) -> None:
    team_id = "T" + uuid.uuid4().hex[:9].upper()
    stale = _open_settings(replicas[0], standin, team_id, ADMINS[0])
    fresh = _open_settings(replicas[1], standin, team_id, ADMINS[1])
    reply = (
        replicas[1]
        .sender(team_id)
        .view_submission(fresh, user_id=ADMINS[1], values=SECOND.values())
    )
    assert _saved(reply)
    reply = (
        replicas[0].sender(team_id).view_submission(stale, user_id=ADMINS[0], values=FIRST.values())
    )
    assert not _saved(reply)
    assert _state(replicas[0].database_url, team_id) == SECOND.expected()
    reopened = _open_settings(replicas[0], standin, team_id, ADMINS[0])
    reply = (
        replicas[0]
        .sender(team_id)
        .view_submission(reopened, user_id=ADMINS[0], values=FIRST.values())
    )
    assert _saved(reply)
    assert _state(replicas[0].database_url, team_id) == FIRST.expected()
