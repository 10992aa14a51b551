"""Saving settings on both databases: teams the modal could not show are left alone."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.settings import SettingsSubmission
from bot.usecases.settings import MAX_TEAMS_IN_MODAL, current_settings, save_settings
from storage import queries
from storage.db import make_engine, upgrade

TEAM = "T0SETTINGS"


def test_saving_keeps_teams_beyond_the_modal_and_applies_more_settings(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    managers = [f"U0M{i:03d}" for i in range(MAX_TEAMS_IN_MODAL + 2)]
    with Session(engine) as session:
        queries.get_or_create_workspace(session=session, team_id=TEAM)
        for index, manager in enumerate(managers):
            queries.set_reports(
                session=session,
                team_id=TEAM,
                manager_user_id=manager,
                report_user_ids=[f"U0R{index:03d}"],
            )
        session.commit()
        shown = current_settings(session=session, team_id=TEAM).teams
        assert len(shown) == MAX_TEAMS_IN_MODAL
        # The admin drops the first team shown and saves everything else as it was.
        kept = {m: list(r) for m, r in shown.items() if m != managers[0]}
        save_settings(
            session=session,
            team_id=TEAM,
            submission=SettingsSubmission(
                recognition_channel_id="C0WINS",
                checkin_weekday=4,
                checkin_hour=14,
                kudos_policy="everyone",
                strong_process_threshold=0.8,
                teams=kept,
                more={"cycle": "quarterly", "kudos_daily_cap": 9},
            ),
        )
        session.commit()
    with Session(engine) as session:
        workspace = queries.get_or_create_workspace(session=session, team_id=TEAM)
        assert (workspace.cycle, workspace.kudos_daily_cap) == ("quarterly", 9)
        hidden = [m for m in managers if m not in shown]
        assert len(hidden) == 2
        for manager in hidden:  # never shown, so untouched
            reps = queries.reports_of(session=session, team_id=TEAM, manager_user_id=manager)
            assert [r.user_id for r in reps] == [f"U0R{managers.index(manager):03d}"]
            assert queries.get_member(session=session, team_id=TEAM, user_id=manager).is_manager
        # The team the admin removed is gone.
        assert queries.reports_of(session=session, team_id=TEAM, manager_user_id=managers[0]) == []
    engine.dispose()
