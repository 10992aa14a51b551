"""Marking a one-on-one agenda item done (issue 12 §6): the rep or their manager clicks "Done"
on the agenda line of their Home once it has been talked about.

Who may: the rep, the rep's manager now, or an admin — checked at click time, in the
transaction that closes it, so a forged click (someone else's item id, or a manager the rep has
since moved away from) changes nothing. Closing is a compare-and-set (one click wins, a double
click or the other person's click closes nothing more). The item leaves both Homes (the rep's
and their manager's now): each is rendered now and queued as a `views.publish` outbox row in the
same transaction, once per person per item (its post key), so a retried click or a second
process publishes nothing more. Neither person gets a DM about it: the other sees it gone the
next time they look at their Home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from bot.domain.one_on_ones import AgendaRefusal
from bot.domain.people import SlackProfile
from bot.uow import UnitOfWork, to_user
from bot.usecases.home import home_data, home_view_of
from storage import one_on_ones_queries as oq
from storage import queries

AGENDA_HOME = "agenda-home"  # the outbox kind of a Home republished after an item is closed


@dataclass(frozen=True)
class AgendaPeople:
    """Who an agenda item is between, and who may mark it done besides an admin."""

    item_id: int
    rep_user_id: str
    manager_user_id: str  # the manager who put it on the agenda
    current_manager_user_id: str | None

    def may_close(self, user_id: str, *, is_admin: bool) -> bool:
        # Not the manager who added it, once the rep reports to someone else: the item follows
        # the rep (bot.usecases.one_on_ones.agenda_of), and a former manager may neither read
        # it nor close it.
        return is_admin or user_id in (self.rep_user_id, self.current_manager_user_id)

    @property
    def homes(self) -> tuple[str, ...]:
        """The people whose Homes show the item: the rep and their manager now."""
        if self.current_manager_user_id is None:
            return (self.rep_user_id,)
        return (self.rep_user_id, self.current_manager_user_id)


@dataclass(frozen=True)
class HomeOf:
    """What rendering someone's Home needs from Slack: their profile, and whether they are an
    admin (read by the adapter before the transaction: a use case never calls Slack)."""

    profile: SlackProfile | None
    is_admin: bool


@dataclass(frozen=True)
class Refused:
    why: AgendaRefusal
    people: AgendaPeople


def agenda_item_people(*, session: Session, team_id: str, item_id: int) -> AgendaPeople | None:
    """The people of an agenda item of this workspace; None when there is no such item."""
    item = oq.get_item(session=session, team_id=team_id, item_id=item_id)
    if item is None or item.id is None:
        return None
    manager = queries.manager_of(session=session, team_id=team_id, user_id=item.rep_user_id)
    current = manager.user_id if manager is not None and not manager.deleted else None
    return AgendaPeople(
        item_id=item.id,
        rep_user_id=item.rep_user_id,
        manager_user_id=item.manager_user_id,
        current_manager_user_id=current,
    )


def close_item(
    uow: UnitOfWork,
    *,
    team_id: str,
    user_id: str,
    item_id: int,
    is_admin: bool,
    homes: Mapping[str, HomeOf],
) -> AgendaPeople | Refused | None:
    """Mark the item done and queue both Homes' republish; the item's people when it was
    closed now. Refused (nothing changed) when `user_id` may not close it, or it was already
    done; None when there is no such item in this workspace."""
    session = uow.session
    people = agenda_item_people(session=session, team_id=team_id, item_id=item_id)
    if people is None:
        return None
    if not people.may_close(user_id, is_admin=is_admin):
        return Refused(AgendaRefusal.NOT_THEIRS, people)
    now = uow.now()
    if not oq.mark_done(
        session=session, team_id=team_id, item_id=item_id, user_id=user_id, now=now
    ):
        return Refused(AgendaRefusal.ALREADY_DONE, people)
    for person in dict.fromkeys(people.homes):
        home = homes.get(person) or HomeOf(profile=None, is_admin=False)
        data = home_data(
            uow, team_id=team_id, user_id=person, profile=home.profile, is_admin=home.is_admin
        )
        uow.outbox.add(
            team_id=team_id,
            post_key=f"agenda-done:{item_id}:home:{person}",
            kind=AGENDA_HOME,
            to=to_user(person),
            # views.publish's required arguments: "user_id ... id of the user you want publish a
            # view to" and "view ... A view payload"; it will "Create or update the view that
            # comprises an app's Home tab for a specific user" — the whole Home, so publishing
            # it again changes nothing (https://docs.slack.dev/reference/methods/views.publish).
            method="views.publish",
            message={"user_id": person, "view": home_view_of(data, now)},
        )
    return people
