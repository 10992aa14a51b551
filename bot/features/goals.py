"""`/goal`, the end-of-cycle review (a scheduled job) and `/rebound report` (charts in a DM)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot import charts
from bot.app import Deps
from bot.blocks.dashboard import (
    HOME_CHECKIN_ACTION_ID,
    HOME_LOST_ACTION_ID,
    HOME_WON_ACTION_ID,
    home_action_buttons,
    manager_dashboard_blocks,
    rep_dashboard_blocks,
)
from bot.blocks.goals import (
    CHANGE_GOAL_ACTION_ID,
    GOAL_CALLBACK_ID,
    GoalDefaults,
    day_month,
    day_month_year,
    goal_id_of,
    goal_modal,
    goal_progress_message,
    goal_saved_message,
    parse_goal_submission,
    review_message,
    review_table_lines,
    team_review_message,
    timeline_comment,
)
from bot.clock import Clock
from bot.delivery import Delivery
from bot.domain import DEFAULT_STRONG_PROCESS_THRESHOLD, OutcomeEvent, OutcomeKind
from bot.domain.goals import CycleReview
from bot.domain.text import parse_row_id
from bot.messaging import (
    NOT_YOURS_ERROR,
    not_yours_message,
    reply_to_click,
    send_ephemeral,
    team_id_of,
    tells_user_on_failure,
)
from bot.slack_errors import UNREACHABLE_PERSON
from bot.slack_text import escape_mrkdwn
from bot.slack_users import fetch_profile
from bot.usecases.dashboard import (
    PARETO_DAYS,
    PARETO_REASONS,
    labelled_reasons,
    manager_dashboard,
    rep_dashboard,
)
from bot.usecases.goals import (
    goal_progress,
    local_today,
    offered_cycle,
    rep_review_due_at,
    review_cycle,
    save_goal,
    team_review_due_at,
)
from bot.usecases.members import remember_profile
from storage import goals_queries, queries
from storage.db import SessionFactory
from storage.models import Goal, Member, Workspace

log = logging.getLogger(__name__)
REVIEW_BATCH = 200
# Team reviews are looked for this long after a cycle ends (a rep's DM may wait for their
# midnight, and a failed send is retried on later ticks).
TEAM_REVIEW_WINDOW = timedelta(days=14)
# Slack errors that no retry will fix: the person is gone, deactivated, or cannot be DMed.
# A review that meets one is marked done (unsent), so it neither blocks the manager's team
# review nor comes back every tick to fill the batch; any other error is retried next tick.
UNREACHABLE_ERRORS = UNREACHABLE_PERSON  # the one list of such errors: bot.slack_errors
TIMELINE_OUTCOMES = 60
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def register(app: App, deps: Deps) -> None:
    register_home_buttons(app, deps)

    @app.command("/goal")
    @tells_user_on_failure
    def goal_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        show_goal_or_open_modal(client, deps, command)

    @app.action(CHANGE_GOAL_ACTION_ID)
    def change_goal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id = team_id_of(body)
        user_id = body["user"]["id"]
        value = (body.get("actions") or [{}])[0].get("value") or ""
        with deps.session_factory() as session:
            try:
                goal_id: int | None = parse_row_id(value)
            except ValueError:
                goal_id = None
            goal = (
                goals_queries.get_goal(session=session, team_id=team_id, goal_id=goal_id)
                if goal_id is not None
                else None
            )
            if goal is None or goal.user_id != user_id:
                owner = goal.user_id if goal is not None else None
                session.rollback()
                reply_to_click(client, body, not_yours_message("goal", owner))
                return
            defaults = GoalDefaults(
                cycle_start=goal.cycle_start,
                cycle_end=goal.cycle_end,
                metric=goal.metric,
                custom_metric=goal.custom_metric,
                target=goal.target,
                why=goal.why,
                goal_id=goal.id,
            )
        _open_modal(client, body["trigger_id"], defaults)

    @app.view(GOAL_CALLBACK_ID)
    def goal_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        team_id = team_id_of(body)
        user_id = body["user"]["id"]
        now = deps.clock()
        replacing = goal_id_of(view)
        try:
            with deps.session_factory() as session:
                tz = _tz_of(session, team_id, user_id)
                replaced = (
                    goals_queries.get_goal(session=session, team_id=team_id, goal_id=replacing)
                    if replacing is not None
                    else None
                )
        except Exception:  # the database is down: keep the modal and what was typed
            log.exception("reading the rep's timezone failed")
            ack(
                response_action="errors",
                errors={"why": "Couldn't save just now. Please try Save again."},
            )
            return
        if replaced is not None and replaced.user_id != user_id:
            # A form changing another rep's goal (forged, or forwarded): nothing is saved.
            ack(response_action="errors", errors={"why": NOT_YOURS_ERROR})
            return
        submission, errors = parse_goal_submission(view["state"]["values"], local_today(now, tz))
        if submission is None:
            ack(response_action="errors", errors=errors)
            return
        # Saved before ack: a short write, and if it fails the modal stays open with the input.
        try:
            with deps.session_factory() as session:
                goal = save_goal(
                    session=session,
                    team_id=team_id,
                    user_id=user_id,
                    submission=submission,
                    submission_key=view["id"],
                    replacing_goal_id=replacing,
                    now=now,
                )
                progress = (
                    goal_progress(session=session, goal=goal, tz=tz, until=now) if goal else None
                )
                session.commit()
        except Exception:
            log.exception("saving a goal failed")
            ack(
                response_action="errors",
                errors={"why": "Couldn't save just now. Please try Save again."},
            )
            return
        ack()
        if progress is None:
            return  # the same view submitted twice: saved the first time
        Delivery(deps.session_factory, client, deps.clock).dm(
            team_id=team_id,
            post_key=f"goal-set:{view['id']}",
            kind="goal_saved",
            user_id=user_id,
            message=goal_saved_message(progress),
        )


def show_goal_or_open_modal(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    """With a goal set: its progress, privately. Without: the modal, on the workspace's cycle."""
    team_id, user_id = command["team_id"], command["user_id"]
    now = deps.clock()
    with deps.session_factory() as session:
        member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
        if member is None or member.tz_refreshed_at is None:
            profile = fetch_profile(client, user_id)
            if profile is not None:
                member = remember_profile(
                    session=session, team_id=team_id, profile=profile, now=now
                )
        tz = member.tz if member is not None and member.tz else "UTC"
        today = local_today(now, tz)
        goal = goals_queries.current_goal(
            session=session, team_id=team_id, user_id=user_id, today=today
        )
        message = (
            goal_progress_message(goal_progress(session=session, goal=goal, tz=tz, until=now))
            if goal is not None
            else None
        )
        workspace = queries.get_or_create_workspace(session=session, team_id=team_id)
        start, end = offered_cycle(today, workspace.cycle)
        session.commit()
    if message is not None:
        send_ephemeral(client, command, message)
        return
    _open_modal(client, command["trigger_id"], GoalDefaults(cycle_start=start, cycle_end=end))


def _open_modal(client: WebClient, trigger_id: str, defaults: GoalDefaults) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=goal_modal(defaults))
    except SlackApiError as error:
        log.warning("views.open for /goal failed: %s", error.response.get("error"))


# --- the end-of-cycle review ----------------------------------------------------------------------


def scheduled_jobs(deps: Deps, delivery: Delivery) -> list[tuple[str, Callable[[datetime], None]]]:
    def cycle_reviews(now: datetime) -> None:
        run_cycle_reviews(deps.session_factory, delivery, now)

    return [("goals.cycle_reviews", cycle_reviews)]


def _threshold(session: Any, team_id: str) -> float:
    workspace = queries.get_workspace(session=session, team_id=team_id)
    return workspace.strong_process_threshold if workspace else DEFAULT_STRONG_PROCESS_THRESHOLD


def _tz_of(session: Any, team_id: str, user_id: str) -> str:
    member = queries.get_member(session=session, team_id=team_id, user_id=user_id)
    return member.tz if member is not None and member.tz else "UTC"


def is_unreachable(error: Exception) -> bool:
    """True for a Slack error that says the person can never be DMed (see UNREACHABLE_ERRORS)."""
    return isinstance(error, SlackApiError) and error.response.get("error") in UNREACHABLE_ERRORS


def review_dm_key(user_id: str, cycle_end: date) -> str:
    return f"review:{user_id}:{cycle_end.isoformat()}"


def run_cycle_reviews(session_factory: SessionFactory, delivery: Delivery, now: datetime) -> None:
    """DM each rep their quadrant, once, at 09:00 their time the day after the cycle ends;
    then each manager's team review, at 09:00 the manager's time once every rep's cycle with
    that end date is over."""
    # UTC's date or earlier: a zone ahead of UTC reaches its 09:00 the day after the cycle
    # while UTC is still on the last day; _review_one waits for each rep's own morning.
    with session_factory() as session:
        due = goals_queries.goals_due_for_review(
            session=session, ended_on_or_before=now.date(), limit=REVIEW_BATCH
        )
        session.expunge_all()
    for goal in due:
        if not delivery.is_installed(goal.team_id):
            continue  # uninstalled: its data waits for deletion, there is no one to tell
        try:
            _review_one(session_factory, delivery, goal, now)
        except Exception:  # one rep's failure must not stop everyone else's review
            log.exception("cycle review for %s in %s failed", goal.user_id, goal.team_id)
    _team_reviews(session_factory, delivery, now)


def _review_one(
    session_factory: SessionFactory, delivery: Delivery, goal: Goal, now: datetime
) -> None:
    with session_factory() as session:
        tz = _tz_of(session, goal.team_id, goal.user_id)
        if now < rep_review_due_at(goal.cycle_end, tz):
            return  # not yet 09:00 on the day after the cycle where this rep lives
        review = review_cycle(
            session=session, goal=goal, tz=tz, threshold=_threshold(session, goal.team_id)
        )
        session.commit()
    try:
        delivery.dm(
            team_id=goal.team_id,
            post_key=review_dm_key(goal.user_id, goal.cycle_end),
            kind="cycle_review",
            user_id=goal.user_id,
            message=review_message(review),
        )
    except SlackApiError as error:
        if not is_unreachable(error):
            raise  # rate limits, outages: the next tick tries again
        log.warning(
            "cycle review for %s in %s not sent, they can't be DMed (%s)",
            goal.user_id,
            goal.team_id,
            error.response.get("error"),
        )
    with session_factory() as session:
        assert goal.id is not None
        goals_queries.mark_goal_reviewed(session=session, goal_id=goal.id, now=now)
        session.commit()


def _team_reviews(session_factory: SessionFactory, delivery: Delivery, now: datetime) -> None:
    with session_factory() as session:
        cycles = goals_queries.recently_ended_cycles(
            session=session,
            ended_from=(now - TEAM_REVIEW_WINDOW).date(),
            ended_to=now.date(),
        )
    for team_id, cycle_end in cycles:
        if not delivery.is_installed(team_id):
            continue
        with session_factory() as session:
            managers = queries.managers_of(session=session, team_id=team_id)
            session.expunge_all()
        for manager in managers:
            try:
                _team_review(session_factory, delivery, team_id, cycle_end, manager, now)
            except Exception:  # one manager's failure must not stop the others'
                log.exception("team review for %s in %s failed", manager.user_id, team_id)


def _team_review(
    session_factory: SessionFactory,
    delivery: Delivery,
    team_id: str,
    cycle_end: date,
    manager: Member,
    now: datetime,
) -> None:
    """The table, then the chart: each sent exactly once under its own post key, so a chart
    whose upload failed after the table went out is uploaded on a later tick."""
    table_key = f"team-review:{manager.user_id}:{cycle_end.isoformat()}"
    chart_key = f"team-review-chart:{manager.user_id}:{cycle_end.isoformat()}"
    if delivery.already_sent(team_id=team_id, post_key=table_key) and delivery.already_sent(
        team_id=team_id, post_key=chart_key
    ):
        return
    with session_factory() as session:
        reps = queries.reports_of(session=session, team_id=team_id, manager_user_id=manager.user_id)
        goals = goals_queries.goals_ending_on(
            session=session,
            team_id=team_id,
            cycle_end=cycle_end,
            user_ids=[rep.user_id for rep in reps],
        )
        if not goals:
            return  # nobody on this manager's team had a cycle ending that day
        zones = {rep.user_id: rep.tz or "UTC" for rep in reps}
        due_at = team_review_due_at(
            cycle_end, [zones[g.user_id] for g in goals], manager.tz or "UTC"
        )
        if now < due_at:
            return
        threshold = _threshold(session, team_id)
        reviews = [
            review_cycle(session=session, goal=g, tz=zones[g.user_id], threshold=threshold)
            for g in goals
        ]
        with_goal = {g.user_id for g in goals}
        without_goal = [rep.user_id for rep in reps if rep.user_id not in with_goal]
        # Reviewed without a DM on record: the rep could not be reached (UNREACHABLE_ERRORS).
        not_dmed = {
            g.user_id
            for g in goals
            if g.reviewed_at is not None
            and not _was_sent(session, team_id, review_dm_key(g.user_id, cycle_end))
        }
        session.commit()
    client = delivery.client_for(team_id)
    channel = client.conversations_open(users=manager.user_id)["channel"]["id"]
    delivery.post(
        team_id=team_id,
        post_key=table_key,
        kind="team_review",
        channel=channel,
        message=team_review_message(
            cycle_end, reviews, without_goal=without_goal, not_dmed=not_dmed
        ),
    )
    if not delivery.already_sent(team_id=team_id, post_key=table_key):
        return  # another worker is sending the table; it sends the chart after it
    points = quadrant_points(reviews, _names(client, reviews))
    upload_once(
        session_factory,
        client,
        delivery.clock,
        team_id=team_id,
        post_key=chart_key,
        channel=channel,
        content=charts.quadrant_chart(
            points, threshold, title=f"Cycle ending {day_month_year(cycle_end)}"
        ),
        alt_txt=charts.quadrant_alt_text(
            points, threshold, whose=f"your team's cycle ending {day_month(cycle_end)}"
        ),
        filename=f"team-review-{cycle_end.isoformat()}.png",
        title=f"Team review, cycle ending {day_month(cycle_end)}",
        initial_comment="Process score against attainment, one dot per rep.",
    )


def _was_sent(session: Session, team_id: str, post_key: str) -> bool:
    post = queries.get_post(session=session, team_id=team_id, post_key=post_key)
    return post is not None and post.status == "sent"


def quadrant_points(
    reviews: list[CycleReview], names: dict[str, str]
) -> list[charts.QuadrantPoint]:
    return [
        charts.QuadrantPoint(
            label=names.get(r.user_id, r.user_id),
            process_score=r.process_score,  # None: drawn hollow, not as 0%
            attainment_ratio=r.progress.ratio,
        )
        for r in reviews
    ]


def _names(client: WebClient, reviews: list[CycleReview]) -> dict[str, str]:
    """First names for chart labels (a chart cannot show Slack mentions)."""
    names: dict[str, str] = {}
    for review in reviews:
        profile = fetch_profile(client, review.user_id)
        if profile is not None and profile.display_name:
            names[review.user_id] = profile.display_name.split()[0]
    return names


def _whose(client: WebClient, subject: str, viewer: str) -> str:
    """ "your", or "Leo's": whose timeline a chart shows, in words (a chart's alt text can't
    hold a mention)."""
    if subject == viewer:
        return "your"
    profile = fetch_profile(client, subject)
    name = profile.display_name.split()[0] if profile and profile.display_name.split() else ""
    return f"{name}'s" if name else "your rep's"


def upload_once(
    session_factory: SessionFactory,
    client: WebClient,
    clock: Clock,
    *,
    team_id: str,
    post_key: str,
    channel: str,
    content: bytes,
    filename: str,
    title: str,
    initial_comment: str,
    alt_txt: str,
) -> bool:
    """Upload a chart with files upload v2 exactly once per post key; False if already done.
    `alt_txt` says what the chart shows, for screen readers (files.getUploadURLExternal's
    "Description of image for screen-reader": https://api.slack.com/methods/files.getUploadURLExternal)."""
    with session_factory() as session:
        claim = queries.claim_post(
            session=session,
            team_id=team_id,
            post_key=post_key,
            kind="file_upload",
            claimed_by=f"goals:{id(client)}",
            now=clock(),
            lease=timedelta(minutes=5),
        )
        session.commit()
    if claim is None:
        return False
    try:
        client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=title,
            initial_comment=initial_comment,
            alt_txt=alt_txt,
        )
    except Exception:
        with session_factory() as session:
            queries.release_post(session=session, post=claim)
            session.commit()
        raise
    with session_factory() as session:
        queries.mark_post_sent(
            session=session, post=claim, channel_id=channel, message_ts=None, now=clock()
        )
        session.commit()
    return True


# --- /rebound report ------------------------------------------------------------------------


def send_report(client: WebClient, deps: Deps, command: dict[str, Any]) -> None:
    """`/rebound report`: a manager gets the team's quadrant and loss-reason charts in their DM;
    `/rebound report @rep` (a manager's rep) or a rep without a team gets a bounce-back timeline."""
    team_id, user_id = command["team_id"], command["user_id"]
    now = deps.clock()
    mention = _MENTION.search(command.get("text") or "")
    with deps.session_factory() as session:
        reps = queries.reports_of(session=session, team_id=team_id, manager_user_id=user_id)
        rep_ids = {rep.user_id for rep in reps}
        subject = mention.group(1) if mention else None
        if subject is not None and subject not in rep_ids | {user_id}:
            send_ephemeral(
                client,
                command,
                {"text": "You can ask for your own report, or for someone who reports to you."},
            )
            return
        threshold = _threshold(session, team_id)
        if subject is None and reps:
            reviews = []
            without_goal: list[str] = []
            for rep in reps:
                tz = rep.tz or "UTC"
                goal = goals_queries.current_goal(
                    session=session,
                    team_id=team_id,
                    user_id=rep.user_id,
                    today=local_today(now, tz),
                )
                if goal is None:
                    without_goal.append(rep.user_id)
                    continue
                reviews.append(
                    review_cycle(session=session, goal=goal, tz=tz, threshold=threshold, until=now)
                )
            reasons = labelled_reasons(
                goals_queries.loss_reason_counts(
                    session=session,
                    team_id=team_id,
                    user_ids=sorted(rep_ids),
                    start=now - timedelta(days=PARETO_DAYS),
                    end=now + timedelta(seconds=1),
                    limit=PARETO_REASONS,
                )
            )
            history: list[OutcomeEvent] = []
        else:
            subject = subject or user_id
            rows = goals_queries.recent_outcome_kinds(
                session=session, team_id=team_id, user_id=subject, limit=TIMELINE_OUTCOMES
            )
            history = [OutcomeEvent(kind=OutcomeKind(kind), at=at) for kind, at in rows]
        session.commit()
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    key = f"report:{user_id}:{command.get('trigger_id') or now.isoformat()}"
    if subject is None:
        table = (
            "\n".join(review_table_lines(reviews, ended=False, without_goal=without_goal))
            if reviews
            else "Nobody on your team has a goal set yet."
        )
        points = quadrant_points(reviews, _names(client, reviews))
        upload_once(
            deps.session_factory,
            client,
            deps.clock,
            team_id=team_id,
            post_key=f"{key}:quadrants",
            channel=channel,
            content=charts.quadrant_chart(points, threshold, title="Cycle so far"),
            alt_txt=charts.quadrant_alt_text(points, threshold, whose="your team's cycle so far"),
            filename="team-quadrants.png",
            title="Your team's cycle so far",
            initial_comment=table,
        )
        upload_once(
            deps.session_factory,
            client,
            deps.clock,
            team_id=team_id,
            post_key=f"{key}:pareto",
            channel=channel,
            content=charts.pareto_chart(reasons, title=f"Why we lose (last {PARETO_DAYS} days)"),
            alt_txt=charts.pareto_alt_text(reasons, days=PARETO_DAYS),
            filename="loss-reasons.png",
            title="Loss reasons",
            initial_comment="The few reasons behind most losses: "
            + (", ".join(escape_mrkdwn(r) for r in charts.vital_few(reasons)) or "no losses logged")
            + ".",
        )
        send_ephemeral(client, command, {"text": "Your team report is in your DM."})
        return
    upload_once(
        deps.session_factory,
        client,
        deps.clock,
        team_id=team_id,
        post_key=f"{key}:timeline:{subject}",
        channel=channel,
        content=charts.timeline_chart(history, title="Bounce-backs"),
        alt_txt=charts.timeline_alt_text(history, whose=_whose(client, subject, user_id)),
        filename="bounce-backs.png",
        title="Bounce-back timeline",
        initial_comment=timeline_comment(subject, len(history)),
    )
    send_ephemeral(client, command, {"text": "The bounce-back timeline is in your DM."})


# --- the Home tab ----------------------------------------------------------------------------


def register_home_buttons(app: App, deps: Deps) -> None:
    """The Home dashboard's buttons open the very modals of /lost, /won and /checkin."""
    from bot.blocks.debriefs import lost_modal, won_modal
    from bot.features.checkins import open_week_modal

    def opener(build: Callable[[], dict[str, Any]]) -> Callable[..., None]:
        def open_it(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            try:
                client.views_open(trigger_id=body["trigger_id"], view=build())
            except SlackApiError as error:
                log.warning("views.open from Home failed: %s", error.response.get("error"))

        return open_it

    app.action(HOME_LOST_ACTION_ID)(opener(lost_modal))
    app.action(HOME_WON_ACTION_ID)(opener(won_modal))

    @app.action(HOME_CHECKIN_ACTION_ID)
    def open_checkin(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        command = {
            "team_id": team_id_of(body),
            "user_id": body["user"]["id"],
            "trigger_id": body["trigger_id"],
        }
        open_week_modal(client, deps, command)


def home_dashboard_blocks(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    tz: str,
    now: datetime,
    workspace: Workspace,
    reports: Sequence[Member],
) -> list[dict[str, Any]]:
    """The dashboards for someone's Home: their own (unless a manager with no record of their
    own), and their team's when people report to them."""
    blocks: list[dict[str, Any]] = []
    mine = rep_dashboard(
        session=session, team_id=team_id, user_id=user_id, tz=tz, now=now, cycle=workspace.cycle
    )
    if not reports or mine.progress is not None or mine.outcomes_considered:
        blocks += rep_dashboard_blocks(mine, action_buttons=home_action_buttons())
    if reports:
        team = manager_dashboard(
            session=session,
            team_id=team_id,
            reps=[(rep.user_id, rep.tz or "UTC") for rep in reports],
            now=now,
            threshold=workspace.strong_process_threshold,
        )
        blocks += manager_dashboard_blocks(team, now=now)
    return blocks
