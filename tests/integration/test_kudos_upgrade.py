"""Kudos saved before the outbox existed: the old retry job was their only sender, so after the
upgrade the scheduler's first tick queues them (bot.usecases.kudos_sending.adopt_unqueued_kudos)
and the dispatcher sends them, once, against the stand-in, on both databases."""

from __future__ import annotations

import uuid
from typing import Any

from storage.models import Kudos, KudosRecipient, PostLog
from testkit.standin import SlackStandIn
from tests.support.upgrades import UPGRADE_AT, add_workspace_with_wins, standin, world

TEAM = "T0UPGRADE"
GIVER, ANN, BEN = "U0ADMIN", "U0OWNER", "U0MGR"
# The clock of the ticker in `world` (tests/support/upgrades.py): the old rows are dated by it.
AT = UPGRADE_AT

__all__ = ["standin", "world"]  # the fixtures (tests/support/upgrades.py)


def _old_kudos(session: Any, message: str, dm_status: dict[str, str]) -> int:
    """A kudos as the code before the outbox left it: pending, with no outbox row."""
    kudos = Kudos(
        team_id=TEAM,
        giver_user_id=GIVER,
        category="resilience",
        message=message,
        status="pending",
        submission_key=uuid.uuid4().hex,
    )
    session.add(kudos)
    session.flush()
    assert kudos.id is not None
    for user_id, status in dm_status.items():
        session.add(
            KudosRecipient(team_id=TEAM, kudos_id=kudos.id, user_id=user_id, dm_status=status)
        )
    return kudos.id


def test_kudos_left_pending_by_the_old_code_are_sent_once_after_the_upgrade(
    world: Any, standin: SlackStandIn
) -> None:
    session_factory, ticker = world
    with session_factory() as session:
        add_workspace_with_wins(session, TEAM)
        # Kept while there was no channel: never posted.
        _old_kudos(session, "Kept for a channel", {ANN: "pending"})
        # Posted by the old code, one DM sent, one still being retried.
        posted = _old_kudos(session, "Up already", {ANN: "sent", BEN: "retry"})
        session.add(
            PostLog(
                team_id=TEAM,
                post_key=f"kudos:{posted}",
                kind="kudos",
                channel_id="C0WINS",
                message_ts="1700000000.000100",
                status="sent",
                claimed_at=AT,
                sent_at=AT,
            )
        )
        session.commit()

    ticker.tick()
    ticker.tick()  # a second tick (or process) queues nothing again
    assert ticker.failures == []

    channel_posts = [c for c in standin.messages_to("C0WINS") if c.method == "chat.postMessage"]
    assert len(channel_posts) == 1  # the kept one; the one up already is not posted again
    assert "Kept for a channel" in str(channel_posts[0].params)
    # Ann: her DM for the kept kudos (sent once it was up), none again for the posted one;
    # Ben: the DM the old code was still retrying.
    ann_dms = standin.messages_to(ANN)
    assert len(ann_dms) == 1 and "Kept for a channel" in str(ann_dms[0].params)
    ben_dms = standin.messages_to(BEN)
    assert len(ben_dms) == 1 and "Up already" in str(ben_dms[0].params)
    with session_factory() as session:
        kudos = session.get(Kudos, posted)
        assert kudos is not None
        assert (kudos.status, kudos.channel_id) == ("posted", "C0WINS")
