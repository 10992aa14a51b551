"""Scale-out: three `rebound serve` replicas on one PostgreSQL behind a round-robin front.

Slack retries an event or a view submission when it sees no quick 200, and a load balancer
sends each retry to whichever replica is next; whatever replica gets it, the effect happens
once (processed_events for events, the submission key and post_log for submissions).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from testkit.live import ScaleOut, scale_out
from testkit.standin import SlackStandIn
from tests.support.databases import fresh_database
from tests.support.factories import lost_values
from tests.support.slack import DM, MANAGER, REP1, WINS, SlackDriver

REPLICAS = 3


@pytest.fixture(scope="module")
def cluster(standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleOut]:
    folder = tmp_path_factory.mktemp("scale-out")
    with (
        fresh_database("postgresql", folder) as url,
        scale_out(standin, url, folder, REPLICAS) as replicas,
    ):
        yield replicas


@pytest.fixture
def slack(cluster: ScaleOut, standin: SlackStandIn) -> Iterator[SlackDriver]:
    """One test's own workspace, as Slack reaches it: through the front."""
    driver = SlackDriver.for_app(cluster.app, standin, f"T{uuid.uuid4().hex[:10].upper()}")
    yield driver
    driver.close()


def test_an_event_sent_to_every_replica_publishes_home_once(
    cluster: ScaleOut, slack: SlackDriver
) -> None:
    seen = slack.mark()
    served_before = len(cluster.front.served_by)
    event_id = f"Ev{uuid.uuid4().hex[:10].upper()}"
    for _ in range(REPLICAS):  # Slack's retries, each to the next replica
        assert slack.sender.app_home_opened(REP1, event_id=event_id).status == 200
    assert len(set(cluster.front.served_by[served_before:])) == REPLICAS
    slack.wait(seen, "views.publish", user_id=REP1)
    time.sleep(0.5)
    assert len(slack.since(seen, "views.publish", user_id=REP1)) == 1


def test_a_lost_submission_sent_twice_to_different_replicas_counts_once(
    cluster: ScaleOut, slack: SlackDriver
) -> None:
    slack.setup(channel=WINS)
    view = slack.open_modal("/lost", "Scale deal", REP1)
    seen = slack.mark()
    served_before = len(cluster.front.served_by)
    first = slack.sender.view_submission(view, user_id=REP1, values=lost_values("Scale deal"))
    second = slack.sender.view_submission(view, user_id=REP1, values=lost_values("Scale deal"))
    assert (first.status, second.status) == (200, 200)
    served = cluster.front.served_by[served_before:]
    assert served[0] != served[1]  # two different replicas took the two deliveries
    slack.wait(seen, "chat.postMessage", channel=DM[REP1])
    time.sleep(0.5)
    assert len(slack.outcomes()) == 1
    assert len(slack.since(seen, "chat.postMessage", channel=DM[REP1])) == 1


def test_slash_commands_spread_over_replicas_are_each_answered_once(
    cluster: ScaleOut, slack: SlackDriver
) -> None:
    seen = slack.mark()
    served_before = len(cluster.front.served_by)
    for _ in range(REPLICAS):
        assert slack.sender.slash_command("/lost", "Spread deal", user_id=REP1).status == 200
    assert len(set(cluster.front.served_by[served_before:])) == REPLICAS
    slack.wait(seen, "views.open", count=REPLICAS)
    time.sleep(0.3)
    assert len(slack.since(seen, "views.open")) == REPLICAS


def test_a_losing_streak_finished_on_different_replicas_brings_its_support_once(
    cluster: ScaleOut, slack: SlackDriver
) -> None:
    """Three losses, each saved by whichever replica the front picks (the third sent twice, as
    Slack retries it): one private DM to the rep and one prompt to the manager, from three
    processes' dispatchers."""
    slack.setup(channel=WINS)
    seen = slack.mark()
    for deal in ("Replica 1", "Replica 2", "Replica 3"):
        view = slack.open_modal("/lost", deal, REP1)
        values = lost_values(deal)
        replies = [slack.sender.view_submission(view, user_id=REP1, values=values)]
        if deal == "Replica 3":
            replies.append(slack.sender.view_submission(view, user_id=REP1, values=values))
        assert all(reply.status == 200 for reply in replies)
    slack.wait(seen, "chat.postMessage", channel=DM[MANAGER], count=4)  # 3 notes + the prompt
    time.sleep(1)
    support = [
        c
        for c in slack.since(seen, "chat.postMessage", channel=DM[REP1])
        if "one thing that helps" in str(c.params.get("text"))
    ]
    prompts = [
        c
        for c in slack.since(seen, "chat.postMessage", channel=DM[MANAGER])
        if "one-on-one" in str(c.params.get("text"))
    ]
    assert (len(support), len(prompts)) == (1, 1)
    assert len(slack.outcomes()) == 3
    assert not [c for c in slack.since(seen, "chat.postMessage") if c.conversation == WINS]
