"""Hostile user text through every Block Kit builder that takes user text: nothing a person typed
reaches Slack as a live control sequence, in a block or in the top-level `text` fallback.

Slack parses `&`, `<` and `>` as control characters in mrkdwn; user text must carry them as
`&amp;`, `&lt;`, `&gt;` (https://docs.slack.dev/messaging/formatting-message-text#escaping).
The only live sequences allowed are the ones builders write themselves from ids of the fixtures
below (`<@U0…>`, `<#C0…>`, `<!date^…>`, permalinks).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.blocks
from bot.blocks import (
    checkins,
    correction_updates,
    corrections,
    crm,
    crm_settings,
    dashboard,
    debriefs,
    goals,
    help,
    home,
    kudos,
    one_on_ones,
    resilience,
)
from bot.blocks.checkins import MAX_ANSWER_LENGTH
from bot.blocks.debriefs import MAX_ANSWER, MAX_COMMITMENT, MAX_DEAL
from bot.blocks.goals import MAX_CUSTOM_METRIC_LENGTH, MAX_WHY_LENGTH, GoalDefaults
from bot.blocks.home import HomeFacts
from bot.blocks.kit import section
from bot.domain import PRACTICES, Classification
from bot.domain import dashboard as dash
from bot.domain.calibration import MAX_CALIBRATION_NOTE, Calibration, make_calibration
from bot.domain.checkins import Question, RepWeek
from bot.domain.crm_connections import CrmStatus
from bot.domain.debriefs import (
    Commitment,
    Lesson,
    LessonShare,
    LessonsResult,
    OutcomeFacts,
    ResilienceLine,
)
from bot.domain.goals import CycleReview, GoalProgress
from bot.domain.one_on_ones import Agenda, AgendaItem, CheckInAnswerShown, ReplyTarget
from bot.domain.resilience import (
    ONE_ON_ONE_QUESTIONS,
    RESILIENCE_PRACTICES,
    OngoingStreak,
    Recovery,
    StreakSupport,
)
from bot.slack_text import escape_mrkdwn, plural, truncate
from bot.usecases.kudos import Problem, parse_kudos_text
from storage.models import Goal
from testkit.standin import MAX_MESSAGE_BLOCKS, BlockKitChecker

REP, MANAGER, CHANNEL = "U0REP1", "U0MGR", "C0WINS"
PERMALINK = "https://fixture.slack.com/archives/C0WINS/p1700000000000100"
NOW = datetime.now(UTC)

# --- hostile text --------------------------------------------------------------------------

HOSTILE_SAMPLES: tuple[str, ...] = (
    "<!channel>",
    "<!CHANNEL>",
    "<!Here>",
    "<! here >",
    "<!channel >",
    "<!everyone>",
    "<!group>",
    "<!here|here>",
    "<!subteam^S123|@sales>",
    "<@U123>",
    "<@U123|boss>",
    "<#C123|x>",
    "<https://evil.example|https://sso.example>",
    "<mailto:a@evil.example|Support>",
    "&<>",
    "&amp;",
    "&lt;!channel&gt;",
    "*bold* _it_ ~st~ `code` ```block```",
    "> quoted\n>> twice",
    "\u202eevil\u202c",
    "<\u200b!channel>",
    "a\u200bb",
    "",
    " ",
    "&",
    "<",
    ">",
)


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(
            st.one_of(st.sampled_from(HOSTILE_SAMPLES), st.text(max_size=30)),
            min_size=1,
            max_size=8,
        )
    )
    text = "".join(parts)
    if draw(st.booleans()):
        # Long: past every limit (sections hold 3,000, headers 150), cut mid-sequence.
        text = (text or "<@U123>") * (4000 // max(1, len(text or "<@U123>")) + 1)
        text = text[: draw(st.integers(min_value=3990, max_value=4000))]
    return text


HOSTILE = hostile_text()

# --- what counts as live --------------------------------------------------------------------

# Sequences builders write themselves, from fixture ids (never from user text).
_OURS = re.compile(
    r"<@U0[A-Z0-9]+>"
    r"|<#C0[A-Z0-9]+>"
    r"|<!date\^\d+\^\{date_short\}\|[A-Z][a-z]{2} \d{2}, \d{4}>"
    r"|<https://fixture\.slack\.com/[^<>|]*\|[^<>]*>"
)
_BAD_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def live_problems(text: str) -> list[str]:
    """What in a mrkdwn string could be live that a builder didn't write: any `<` or `>` left
    after our own sequences and block quotes, and any `&` that starts no entity."""
    rest = _OURS.sub("", text)
    rest = re.sub(r"(?m)^>+", "", rest)  # block quotes are the builders' own markup
    problems = []
    for match in re.finditer(r"[<>]", rest):
        problems.append(f"raw {match.group()!r} near {rest[max(0, match.start() - 20) :][:40]!r}")
    if match := _BAD_AMPERSAND.search(rest):
        problems.append(f"bare & near {rest[max(0, match.start() - 20) :][:40]!r}")
    return problems


def mrkdwn_strings(payload: Any, *, top_level: bool = True) -> Iterator[str]:
    """Every mrkdwn string in a message, view or list of blocks, and the message's `text`."""
    if isinstance(payload, str):
        yield payload
        return
    if isinstance(payload, list):
        for item in payload:
            yield from mrkdwn_strings(item, top_level=False)
        return
    if not isinstance(payload, dict):
        return
    if top_level and isinstance(payload.get("text"), str):
        yield payload["text"]  # the fallback, rendered as mrkdwn too
    if payload.get("type") == "mrkdwn" and isinstance(payload.get("text"), str):
        yield payload["text"]
    for value in payload.values():
        if isinstance(value, dict | list):
            yield from mrkdwn_strings(value, top_level=False)


def assert_safe(payload: Any) -> None:
    for text in mrkdwn_strings(payload):
        assert live_problems(text) == [], text[:400]
    checker = BlockKitChecker()
    if isinstance(payload, dict) and payload.get("type") in ("modal", "home"):
        checker.check_view(payload)
    elif isinstance(payload, dict) and "blocks" in payload:
        checker.check_blocks(payload["blocks"], "/blocks", MAX_MESSAGE_BLOCKS)
    elif isinstance(payload, list):
        checker.check_blocks(payload, "/blocks", MAX_MESSAGE_BLOCKS)
    assert checker.problems == []  # plain_text and mrkdwn within Slack's lengths


# --- fixtures built around user text ----------------------------------------------------------


def _facts(text: str, classification: Classification, kind: str = "loss") -> OutcomeFacts:
    return OutcomeFacts(
        id=7,
        user_id=REP,
        kind=kind,
        deal=text[:MAX_DEAL],
        classification=classification,
        practices={p: i % 2 == 0 for i, p in enumerate(PRACTICES)},
        occurred_at=NOW,
        amount=1200.0,
        stage="proposal",
        reason="competitor",
        competitor=text[:80],
        buyer_feedback=text,
        luck=30 if kind == "win" else None,
        bounce_back_losses=2,
        bounce_back_recovery=timedelta(days=3),
    )


def _calibration(text: str, *, agrees: bool) -> Calibration:
    return make_calibration(
        kind="loss",
        luck=None,
        manager_user_id="U0MGR",
        practices={p: i % 2 == 1 for i, p in enumerate(PRACTICES)},
        note=None if agrees else text[:MAX_CALIBRATION_NOTE],
        agrees=agrees,
        threshold=0.8,
        now=NOW,
    )


def _goal(text: str) -> Goal:
    today = NOW.date()
    return Goal(
        id=3,
        team_id="T0",
        user_id=REP,
        metric="custom",
        custom_metric=text[:MAX_CUSTOM_METRIC_LENGTH],
        target=10,
        progress=4,
        cycle_start=today - timedelta(days=10),
        cycle_end=today + timedelta(days=20),
        why=text[:MAX_WHY_LENGTH],
    )


def _progress(text: str) -> GoalProgress:
    goal = _goal(text)
    return GoalProgress(goal=goal, attainment=4, metric_label=goal.custom_metric or "")


def _lesson(text: str) -> Lesson:
    return Lesson(
        user_id="U0REP2",
        deal=text[:MAX_DEAL],
        kind="loss",
        reason="price",
        question=text,
        answer=text,
        answered_at=NOW,
        is_commitment=True,
        followed_up=False,
    )


def _questions(text: str) -> list[Question]:
    return [
        Question(key="loss", text=f"You debriefed the loss of {text[:120]} this week."),
        Question(key="commitment", text=f'You said you would: "{text[:300]}". Did you do it?'),
        Question(key="rating_qualified", text="Qualified", kind="rating"),
        Question(key="goal", text=f"Progress toward your goal so far ({text[:60]})", kind="number"),
    ]


def _crm_status(text: str) -> CrmStatus:
    return CrmStatus(
        hubspot_portal_id=text[:19],
        hubspot_token_hint=text[-4:],
        hubspot_secret_hint=text[:4],
        salesforce_org_id=text[:18],
        salesforce_token_hint=text[-4:],
    )


def _rep_dashboard(text: str) -> dash.RepDashboard:
    today = NOW.date()
    return dash.RepDashboard(
        user_id=REP,
        progress=_progress(text),
        cycle_start=today - timedelta(days=10),
        cycle_end=today + timedelta(days=20),
        record={},
        resilience=dash.Resilience(
            bounce_backs=1,
            median_recovery=timedelta(days=1),
            longest_losing_streak=1,
            current_losing_streak=1,
        ),
        streak=dash.Streak(kind="loss", length=1),
        outcomes_considered=1,
        lessons=[dash.Lesson(question=text, answer=text, at=NOW)],
    )


def _team_row() -> dash.TeamRow:
    return dash.TeamRow(
        user_id="U0REP2",
        quadrant=Classification.SYSTEM_MISS,
        attainment_ratio=0.4,
        checkins_answered=1,
        checkins_sent=1,
        last_debrief_at=NOW - timedelta(days=1),
        streak=dash.Streak(kind="loss", length=1),
        losing_streak=1,
    )


def _kudos_command(text: str) -> Any:
    """`/kudos` as Slack sends it: what the person typed, then what the app makes of it."""
    parsed = parse_kudos_text(f"<@{REP}> #win {text}", giver_user_id=MANAGER)
    if isinstance(parsed, Problem):
        return kudos.problem_message(parsed.text)
    return kudos.kudos_post(
        giver_user_id=MANAGER, recipients=parsed.recipients, category="win", message=parsed.message
    )


def _kudos_command_problem(text: str) -> Any:
    parsed = parse_kudos_text(text, giver_user_id=MANAGER)
    return kudos.problem_message(parsed.text) if isinstance(parsed, Problem) else {}


def _classifications() -> list[Classification]:
    return list(Classification)


# Every builder in bot.blocks that takes user text, by module and name, and how to feed it.
# Each call returns a list of payloads (messages, views, block lists or mrkdwn strings).
Build = Callable[[str], list[Any]]


def _streak_support() -> StreakSupport:
    return StreakSupport(
        first_loss_id=7,
        losses=3,
        started_at=NOW - timedelta(days=9),
        practice=RESILIENCE_PRACTICES[0],
        question=ONE_ON_ONE_QUESTIONS[0],
    )


USER_TEXT_BUILDERS: dict[str, Build] = {
    # the CRM connection: ids checked on the way in, a pasted secret's last characters
    "crm_settings.crm_status_text": lambda t: [crm_settings.crm_status_text(_crm_status(t))],
    "crm_settings.crm_settings_entry": lambda t: [crm_settings.crm_settings_entry(_crm_status(t))],
    "crm_settings.crm_settings_modal": lambda t: [crm_settings.crm_settings_modal(_crm_status(t))],
    "crm_settings.crm_saved_view": lambda t: [
        crm_settings.crm_saved_view(_crm_status(t), public_url=None, salesforce_endpoint=None)
    ],
    # check-ins: questions carry deal names and commitments; answers are the rep's words
    "checkins.checkin_message": lambda t: [checkins.checkin_message(1, _questions(t), "week")],
    "checkins.checkin_modal": lambda t: [
        checkins.checkin_modal(
            1,
            _questions(t),
            {"loss": t[:MAX_ANSWER_LENGTH], "commitment": t[:MAX_ANSWER_LENGTH]},
            "week",
        )
    ],
    "checkins.digest_message": lambda t: [
        checkins.digest_message(
            "week",
            [
                RepWeek(
                    REP,
                    "answered",
                    answers=[(t, t), ("Plain?", t)],
                    ratings={"qualified": 3},
                    checkin_id=4,
                ),
                RepWeek("U0REP2", "sent"),
            ],
        )
    ],
    # Home dashboards: goal metric and why, recent lessons, loss reasons
    "dashboard.rep_dashboard_blocks": lambda t: [dashboard.rep_dashboard_blocks(_rep_dashboard(t))],
    "dashboard.manager_dashboard_blocks": lambda t: [
        dashboard.manager_dashboard_blocks(
            dash.ManagerDashboard(
                rows=[_team_row()],
                more_reps=0,
                loss_reasons=[(t, 3), ("Price", 1)],
                vital_few=[t],
                pareto_days=90,
                coaching=[],
                on_streak=[(REP, OngoingStreak(3, NOW - timedelta(days=4), timedelta(days=4)))],
                fastest=[(REP, Recovery(2, NOW - timedelta(days=3), NOW - timedelta(days=1)))],
            ),
            now=NOW,
        ),
    ],
    # The loss reasons in words, below and above the five losses a pattern needs.
    "dashboard.why_we_lose_text": lambda t: [
        [section(text)]
        for text in (
            dashboard.why_we_lose_text([(t, 3), ("Price", 1)], [], 90),
            dashboard.why_we_lose_text([(t, 3), ("Price", 2)], [t], 90),
        )
    ],
    # debriefs: deal names, competitors, feedback, reflections, commitments, lessons
    "debriefs.lost_modal": lambda t: [
        debriefs.lost_modal(t),
        # Opened from a CRM's offer: the CRM's reason, in its own words, is shown too.
        debriefs.lost_modal(t, debriefs.CrmPrefill(3, "HubSpot", 60000.0, "price", t[:500])),
    ],
    "debriefs.won_modal": lambda t: [
        debriefs.won_modal(t),
        debriefs.won_modal(t, debriefs.CrmPrefill(3, "HubSpot", 60000.0)),
    ],
    # CRM offers: the deal's name is the CRM's, typed by anyone with access to it.
    "crm.debrief_offer_dm": lambda t: [
        crm.debrief_offer_dm(crm.DealOffer(3, "hubspot", t[:120], False, 60000.0, "GBP")),
        crm.debrief_offer_dm(crm.DealOffer(3, "hubspot", t[:120], True)),
    ],
    "crm.debrief_offer_reminder_dm": lambda t: [
        crm.debrief_offer_reminder_dm(crm.DealOffer(3, "hubspot", t[:120], False, 60000.0)),
    ],
    "crm.already_debriefed_reply": lambda t: [
        crm.already_debriefed_reply(crm.DealOffer(3, "hubspot", t[:120], False, 1.0)),
    ],
    "crm.not_now_reply": lambda t: [
        crm.not_now_reply(crm.DealOffer(3, "hubspot", t[:120], False, 1.5, "SEK")),
    ],
    "debriefs.reflection_modal": lambda t: [
        debriefs.reflection_modal(t[:MAX_DEAL], 7, Commitment(1, t[:MAX_COMMITMENT], t[:MAX_DEAL]))
    ],
    "debriefs.already_reflected_modal": lambda t: [
        debriefs.already_reflected_modal(t[:MAX_DEAL], [(t, t[:1000])])
    ],
    "debriefs.loss_debrief_dm": lambda t: [
        debriefs.loss_debrief_dm(_facts(t, c), recognition_channel_id=CHANNEL)
        for c in _classifications()
    ],
    "debriefs.reflection_reminder_dm": lambda t: [
        debriefs.reflection_reminder_dm(_facts(t, c)) for c in _classifications()
    ],
    "debriefs.reflection_saved_dm": lambda t: [
        debriefs.reflection_saved_dm(t[:MAX_DEAL], t[:MAX_COMMITMENT], False, perfect_miss=True)
    ],
    "debriefs.win_logged_dm": lambda t: (
        [
            debriefs.win_logged_dm(
                _facts(t, c, "win"), ResilienceLine(2, timedelta(days=2)), shout_out_channel=CHANNEL
            )
            for c in _classifications()
        ]
        # The ask to share a bounce-back repeats the deal's name (issue 12).
        + [
            debriefs.win_logged_dm(
                _facts(t, Classification.SYSTEM_HIT, "win"),
                None,
                shout_out_channel=None,
                share_offer=True,
                recognition_channel_id=CHANNEL,
            )
        ]
    ),
    "debriefs.perfect_miss_shout_out": lambda t: [
        debriefs.perfect_miss_shout_out(_facts(t, Classification.PERFECT_MISS))
    ],
    "debriefs.bounce_back_shout_out": lambda t: [
        debriefs.bounce_back_shout_out(_facts(t, Classification.SYSTEM_HIT, "win"))
    ],
    # A manager hears about losses and lucky hits.
    # correcting a recent outcome: the deal, competitor and feedback are the rep's words
    "corrections.recent_outcomes_blocks": lambda t: [
        corrections.recent_outcomes_blocks(
            [
                _facts(t, Classification.SYSTEM_MISS),
                dataclasses.replace(_facts(t, Classification.SYSTEM_HIT, "win"), id=8),
            ],
            now=NOW,
        )
    ],
    "corrections.correction_modal": lambda t: [
        corrections.correction_modal(_facts(t, Classification.SYSTEM_MISS)),
        corrections.correction_modal(_facts(t, Classification.LUCKY_HIT, "win")),
    ],
    # messages already posted about an outcome its rep corrected or removed: the deal's name
    "correction_updates.removed_manager_note": lambda t: [
        correction_updates.removed_manager_note(_facts(t, Classification.SYSTEM_MISS), NOW)
    ],
    "correction_updates.removed_rep_dm": lambda t: [
        correction_updates.removed_rep_dm(_facts(t, Classification.LUCKY_HIT, "win"), NOW)
    ],
    "correction_updates.with_line": lambda t: [
        correction_updates.with_line(
            debriefs.manager_note(_facts(t, Classification.SYSTEM_MISS)),
            correction_updates.corrected_note_line(_facts(t, Classification.SYSTEM_MISS), NOW),
        )
    ],
    "correction_updates.lessons_kept_renamed": lambda t: [
        correction_updates.lessons_kept_renamed(
            debriefs.reflection_saved_dm("Old name", t[:MAX_COMMITMENT], True), t[:MAX_DEAL]
        )
        or {}
    ],
    # resilience support after a losing streak: the latest deal's name is the rep's words
    "resilience.streak_support_dm": lambda t: [
        resilience.streak_support_dm(_streak_support(), latest_deal=t, manager_user_id=MANAGER),
        resilience.streak_support_dm(_streak_support(), latest_deal=t, manager_user_id=None),
    ],
    "resilience.streak_manager_prompt": lambda t: [
        resilience.streak_manager_prompt(_streak_support(), rep_user_id=REP, latest_deal=t)
    ],
    "debriefs.manager_note": lambda t: [
        debriefs.manager_note(_facts(t, Classification.PERFECT_MISS)),
        debriefs.manager_note(_facts(t, Classification.SYSTEM_MISS)),
        debriefs.manager_note(_facts(t, Classification.LUCKY_HIT, "win")),
    ],
    # A manager's calibration: their one sentence meets mrkdwn in the rep's DM and the note.
    "debriefs.calibration_modal": lambda t: [
        debriefs.calibration_modal(_facts(t, c)) for c in _classifications()
    ],
    "debriefs.calibrated_manager_note": lambda t: [
        debriefs.calibrated_manager_note(_facts(t, c), _calibration(t, agrees=agrees))
        for c in _classifications()
        for agrees in (True, False)
    ],
    "debriefs.calibration_rep_dm": lambda t: [
        debriefs.calibration_rep_dm(_facts(t, c), _calibration(t, agrees=agrees))
        for c in _classifications()
        for agrees in (True, False)
    ],
    # Issue 12: what a calibration changes about a perfect-miss shout-out names the deal.
    "debriefs.ask_withdrawn_dm": lambda t: [
        debriefs.ask_withdrawn_dm(_facts(t, Classification.PERFECT_MISS), manager_user_id=MANAGER)
    ],
    "debriefs.calibration_shout_out_blocks": lambda t: [
        {
            "text": "shout-out",
            "blocks": debriefs.calibration_shout_out_blocks(
                change, _facts(t, Classification.PERFECT_MISS), channel_id=CHANNEL
            ),
        }
        for change in debriefs.ShoutOutChange
        if change is not debriefs.ShoutOutChange.NONE
    ],
    "debriefs.lessons_message": lambda t: [
        debriefs.lessons_message(LessonsResult(REP, [t], [_lesson(t)], is_manager=True)),
        debriefs.lessons_message(LessonsResult(REP, [t], [])),
        # Issue 12: a teammate's shared win lesson (their text, their deal), beside the rep's own
        # shared one, and alone.
        debriefs.lessons_message(
            LessonsResult(
                REP,
                [t],
                [replace(_lesson(t), user_id=REP, kind="win", shared=True)],
                shared=[replace(_lesson(t), kind="win", shared=True)],
            )
        ),
        debriefs.lessons_message(
            LessonsResult(REP, [], [], shared=[replace(_lesson(t), kind="win", shared=True)])
        ),
    ],
    # Issue 12: a manager's reply to a check-in answer, and the one-on-one agenda.
    "one_on_ones.reply_modal": lambda t: [
        one_on_ones.reply_modal(
            ReplyTarget(9, REP, [CheckInAnswerShown("win", t, t), CheckInAnswerShown("q", "Q?", t)])
        )
    ],
    "one_on_ones.reply_dm": lambda t: [
        one_on_ones.reply_dm(MANAGER, t, t, t[:1000], on_agenda=on) for on in (True, False)
    ],
    "one_on_ones.agenda_blocks": lambda t: [
        one_on_ones.agenda_blocks(
            Agenda(viewer, [AgendaItem(MANAGER, REP, t, t, t, NOW, 5)], {REP: [t, t]}, 2, 1)
        )
        for viewer in (REP, MANAGER)
    ],
    # Issue 12: a win's lesson (what worked), kept and shared or not.
    "debriefs.win_lesson_modal": lambda t: [debriefs.win_lesson_modal(t[:MAX_DEAL], 7)],
    "debriefs.win_lesson_saved_dm": lambda t: [
        debriefs.win_lesson_saved_dm(LessonShare(3, t[:MAX_DEAL], t[:MAX_ANSWER], shared))
        for shared in (False, True)
    ],
    "debriefs.win_lesson_reminder_dm": lambda t: [
        debriefs.win_lesson_reminder_dm(_facts(t, c, kind="win"))
        for c in (Classification.SYSTEM_HIT, Classification.LUCKY_HIT)
    ],
    # goals: the custom metric and the why
    "goals.goal_modal": lambda t: [
        goals.goal_modal(
            GoalDefaults(
                cycle_start=NOW.date(),
                cycle_end=NOW.date() + timedelta(days=30),
                metric="custom",
                custom_metric=t[:MAX_CUSTOM_METRIC_LENGTH],
                target=5,
                why=t[:MAX_WHY_LENGTH],
                goal_id=3,
            )
        )
    ],
    "goals.goal_progress_lines": lambda t: [goals.goal_progress_lines(_progress(t))],
    "goals.goal_progress_message": lambda t: [goals.goal_progress_message(_progress(t))],
    "goals.goal_saved_message": lambda t: [goals.goal_saved_message(_progress(t))],
    "goals.review_message": lambda t: [
        goals.review_message(CycleReview(REP, _progress(t), 0.8, c)) for c in _classifications()
    ],
    # help: the subcommand someone typed
    "help.help_message": lambda t: [help.help_message(unknown=t)],
    # Home: the person's name (from their Slack profile), with both dashboards
    "home.home_view": lambda t: [
        home.home_view(
            HomeFacts(
                user_id=REP,
                display_name=t,
                tz="Europe/Paris",
                manager_user_id=MANAGER,
                report_user_ids=["U0REP2"],
                recognition_channel_id=CHANNEL,
                checkin_weekday=0,
                checkin_hour=9,
                is_admin=True,
            ),
            dashboard.rep_dashboard_blocks(_rep_dashboard(t)),
        )
    ],
    # kudos: the giver's words, from the modal (raw) and from the command (as Slack sends it)
    "kudos.kudos_post": lambda t: [
        kudos.kudos_post(giver_user_id=MANAGER, recipients=[REP], category="win", message=t),
        _kudos_command(t),
        _kudos_command_problem(t),
    ],
    "kudos.kudos_dm": lambda t: [
        kudos.kudos_dm(giver_user_id=MANAGER, category="win", message=t, permalink=PERMALINK)
    ],
    "kudos.problem_message": lambda t: [kudos.problem_message("Nope.", your_words=t)],
}

# Public functions of bot.blocks that take no user text (ids, counts, our own words), or are
# parsers and helpers that build no Slack payload.
NO_USER_TEXT: frozenset[str] = frozenset(
    {
        "crm_settings.parse_crm_submission",
        "checkins.reminder_message",
        "checkins.skipped_message",
        "checkins.answered_message",
        "checkins.paused_message",
        "checkins.resumed_message",
        "checkins.pause_hint",
        "checkins.pause_problem",  # our own explanation of a pause that can't be
        "checkins.not_paused_message",
        "checkins.already_answered_message",
        "checkins.parse_checkin_submission",
        "checkins.response_rate",
        "dashboard.record_line",
        "dashboard.home_action_buttons",
        "dashboard.streak_label",
        "dashboard.team_row_line",
        "crm.unmatched_deals_text",  # a count
        # A URL Rebound builds from checked CRM ids and hosts (bot.crm), escaped all the same.
        "crm.crm_deal_link",
        "debriefs.crm_metadata",  # a row id
        "debriefs.read_crm_offer_id",
        "debriefs.parse_lost_submission",
        "debriefs.parse_won_submission",
        "debriefs.reflection_metadata",
        "debriefs.read_reflection_metadata",
        "debriefs.parse_reflection_submission",
        "debriefs.celebration_choice_dm",
        "debriefs.not_your_questions",
        "debriefs.consent_recorded_blocks",  # reuses blocks built above
        "debriefs.taken_back_blocks",  # reuses blocks built above
        "debriefs.ask_withdrawn_blocks",  # reuses blocks built above, adds an id
        "debriefs.withdrawn_line",  # a user id
        "debriefs.celebrate_ask_blocks",  # a row id and a channel link
        "debriefs.lesson_not_now_blocks",  # reuses blocks built above
        "debriefs.win_question_actions",  # an outcome id
        "debriefs.lesson_not_now_not_yours",  # a user id
        "debriefs.take_back_button",
        "debriefs.take_back_failed_dm",
        "debriefs.already_taken_back",
        "debriefs.nothing_to_take_back",
        "debriefs.take_back_lost_track",
        "debriefs.coaching_question",
        "debriefs.calibration_buttons",
        "debriefs.calibration_metadata",
        "debriefs.read_calibration_metadata",
        "debriefs.parse_calibration_submission",
        "debriefs.parse_practices",
        "debriefs.practices_input",
        "goals.format_number",
        "goals.progress_bar",
        "goals.goal_id_of",
        "goals.parse_goal_submission",
        "goals.day_month",
        "goals.day_month_year",
        "goals.cycle_text",
        "goals.quadrant_line",
        "goals.review_table_lines",
        "goals.team_review_message",
        "goals.timeline_comment",
        "goals.goal_figure",  # a number, in the workspace's currency for revenue
        "kudos.category_label",
        "kudos.posted_message",
        "kudos.unreached_message",
        "kudos.pending_message",
        "kudos.not_posted_message",
        "kudos.duplicate_message",
        "kudos.kudos_modal",
        "kudos.read_kudos_modal",
        "kudos.digest_message",
        "kudos.kudos_received_text",
        "privacy.export_on_its_way_message",
        "privacy.workspace_export_refused_message",
        "privacy.export_failed_message",
        "privacy.export_comment",  # our own file names
        "privacy.forget_me_confirmation",
        "privacy.forgotten_message",
        "privacy.not_your_button_message",
        "privacy.kept_message",
        "privacy.forget_failed_message",
        "privacy.delete_workspace_confirmation",
        "privacy.workspace_deleted_message",
        "privacy.delete_workspace_refused_message",
        "one_on_ones.reply_button",  # a check-in id
        "one_on_ones.read_reply_metadata",
        "one_on_ones.parse_reply_submission",
        "one_on_ones.not_their_manager_message",  # a user id
        "one_on_ones.not_on_their_agenda_message",  # a user id
        "one_on_ones.done_button",  # an item id
        "corrections.read_correction_metadata",
        "corrections.refused_message",  # our own words
        "correction_updates.corrected_note_line",  # a user id and a date
        "correction_updates.corrected_rep_line",
        "correction_updates.outcome_gone_message",
        # ids, counts and durations only: the Home lines name people by <@id>
        "resilience.talk_request_note",
        "resilience.talk_requested_reply",
        "resilience.no_manager_reply",
        "resilience.streak_gone_reply",
        "resilience.losing_streaks_text",
        "resilience.fastest_recoveries_text",
        "settings.settings_modal",
        "settings.parse_settings_submission",
        "settings.settings_saved_message",
        "settings.not_admin_message",
        "settings.settings_version_of",  # reads the version a modal was opened at
    }
)


# The kit's primitives take finished mrkdwn (escaping is each builder's job), so they are not
# builders; every builder is made of them and is checked here.
NOT_BUILDERS = {"kit"}


def _public_functions() -> set[str]:
    """ "module.function" for every public function defined in bot.blocks; a builder in a
    package's submodule (bot.blocks.debriefs.dms) is named by the package (debriefs.…)."""
    names = set()
    for info in pkgutil.walk_packages(bot.blocks.__path__, prefix="bot.blocks."):
        top = info.name.split(".")[2]
        if top in NOT_BUILDERS:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isfunction(value)
                and not name.startswith("_")
                and value.__module__ == module.__name__
            ):
                names.add(f"{top}.{name}")
    return names


def test_every_builder_is_listed_as_taking_user_text_or_not() -> None:
    """A new builder must be added to USER_TEXT_BUILDERS (and so to the property test below)
    or, when it takes no user text, to NO_USER_TEXT."""
    listed = set(USER_TEXT_BUILDERS) | NO_USER_TEXT
    assert _public_functions() - listed == set()
    assert listed - _public_functions() == set()  # no stale names
    assert not set(USER_TEXT_BUILDERS) & NO_USER_TEXT


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=HOSTILE, name=st.sampled_from(sorted(USER_TEXT_BUILDERS)))
def test_no_user_text_reaches_slack_live(text: str, name: str) -> None:
    for payload in USER_TEXT_BUILDERS[name](text):
        assert_safe(payload)


def test_every_hostile_sample_through_every_builder() -> None:
    """The named attacks, each through each builder, long and short (not left to chance)."""
    for sample in HOSTILE_SAMPLES:
        for text in (sample, (sample or "x") * (4000 // max(1, len(sample)))):
            for build in USER_TEXT_BUILDERS.values():
                for payload in build(text):
                    assert_safe(payload)


def test_the_checker_catches_what_it_should() -> None:
    """live_problems itself: it would fail a builder that let user text through raw."""
    assert live_problems("<!channel>") and live_problems("x <@U123> y")
    assert live_problems("<https://evil.example|https://sso.example>")
    assert live_problems("R&D") and live_problems("cut &am")
    assert live_problems(f"<@{REP}> lost *{escape_mrkdwn('<!here> & co')}*") == []
    assert live_problems(f"> {escape_mrkdwn('> quoted')}") == []


# --- the text fallbacks that carried raw deal names -----------------------------------------


def test_text_fallbacks_escape_the_deal_name() -> None:
    deal = "<!channel> <https://evil.example|https://sso.example> & co"
    escaped = escape_mrkdwn(deal)
    loss = _facts(deal, Classification.SYSTEM_MISS)
    win = _facts(deal, Classification.SYSTEM_HIT, "win")
    for message in (
        debriefs.loss_debrief_dm(loss, recognition_channel_id=None),
        debriefs.manager_note(loss),
        debriefs.win_logged_dm(win, None, shout_out_channel=None),
        debriefs.reflection_saved_dm(deal, None, None),
        debriefs.reflection_reminder_dm(loss),
    ):
        assert escaped in message["text"] and deal not in message["text"]


def test_a_reps_answers_reach_the_managers_digest_escaped() -> None:
    answer = "<!channel> read <https://evil.example|https://sso.example/login>"
    digest = checkins.digest_message("week", [RepWeek(REP, "answered", answers=[("Q?", answer)])])
    shown = "\n".join(mrkdwn_strings(digest))
    assert "&lt;!channel&gt; read &lt;https://evil.example|https://sso.example/login&gt;" in shown
    assert "<!channel>" not in shown and "<https://evil" not in shown


def test_deal_names_and_commitments_in_check_in_questions_are_escaped() -> None:
    message = checkins.checkin_message(1, _questions("<@U123> & <!here>"), "week")
    shown = "\n".join(mrkdwn_strings(message))
    assert "&lt;@U123&gt; &amp; &lt;!here&gt;" in shown and "<!here>" not in shown


def test_recent_lessons_goal_why_and_custom_metric_are_escaped() -> None:
    blocks = dashboard.rep_dashboard_blocks(_rep_dashboard("<!everyone> & <#C123|x>"))
    shown = "\n".join(mrkdwn_strings(blocks))
    assert "*Recent lessons*\n• _&lt;!everyone&gt; &amp; &lt;#C123|x&gt;_" in shown
    assert "*&lt;!everyone&gt; &amp; &lt;#C123|x&gt;:*" in shown  # the custom metric
    why = goals.goal_progress_message(_progress("<!here> & more"))
    assert "Why: &lt;!here&gt; &amp; more" in "\n".join(mrkdwn_strings(why))


def test_typed_broadcasts_in_kudos_are_never_live_whatever_the_case() -> None:
    for typed in ("<!CHANNEL>", "<!Here>", "<!channel >", "<!group>", "<!subteam^S1|@sales>"):
        # From the modal: raw text.
        post = kudos.kudos_post(
            giver_user_id=MANAGER, recipients=[REP], category="win", message=f"Go {typed}"
        )
        assert live_problems(post["text"]) == []
        assert all(live_problems(text) == [] for text in mrkdwn_strings(post))
        # From the command: Slack-escaped, with the typed "<" as "&lt;".
        sent = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert all(live_problems(text) == [] for text in mrkdwn_strings(_kudos_command(sent)))
    # A broadcast Slack itself made of "@channel" in the command shows as the word.
    shown = "\n".join(mrkdwn_strings(_kudos_command("Tell <!channel> and <!here|here>")))
    assert "Tell @channel and @here" in shown and f"<@{REP}>" in shown


# --- truncation and plurals --------------------------------------------------------------------


def test_truncate_never_cuts_a_mention_or_an_entity() -> None:
    text = "Thanks " + "<@U0REP03>" * 3
    for limit in range(1, len(text)):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert "<" not in cut.replace("<@U0REP03>", ""), cut  # whole mentions or none
    escaped = escape_mrkdwn("R&D <3 " * 20)
    for limit in range(1, len(escaped)):
        cut = truncate(escaped, limit)
        assert len(cut) <= limit and live_problems(cut) == [], cut
    assert truncate("short", 10) == "short"
    assert truncate("a" * 20, 10) == "a" * 9 + "…"


def test_long_answers_are_cut_before_they_are_escaped() -> None:
    answer = "&" * 700
    digest = checkins.digest_message("week", [RepWeek(REP, "answered", answers=[("Q?", answer)])])
    (section,) = [t for t in mrkdwn_strings(digest) if "&amp;" in t]
    assert live_problems(section) == []
    assert section.endswith("&amp;…")  # 599 ampersands kept whole, then the ellipsis


def test_plural() -> None:
    assert plural(1, "loss", "losses") == "1 loss"
    assert plural(0, "loss", "losses") == "0 losses"
    assert plural(2, "day", "days") == "2 days"
    assert plural(1200, "day", "days") == "1,200 days"


def test_the_loss_reasons_sentence_counts_in_the_singular_too() -> None:
    blocks = dashboard.manager_dashboard_blocks(
        dash.ManagerDashboard(
            rows=[_team_row()],
            more_reps=0,
            loss_reasons=[("Price", 1)],
            vital_few=["Price"],
            pareto_days=1,
            coaching=[],
        ),
        now=NOW,
    )
    shown = "\n".join(mrkdwn_strings(blocks))
    assert "(last 1 day, 1 loss)" in shown
    empty = dashboard.manager_dashboard_blocks(
        dash.ManagerDashboard(
            rows=[_team_row()],
            more_reps=0,
            loss_reasons=[],
            vital_few=[],
            pareto_days=1,
            coaching=[],
        ),
        now=NOW,
    )
    assert "No losses logged in the last 1 day." in "\n".join(mrkdwn_strings(empty))


def test_counted_nouns_agree_with_their_count() -> None:
    from bot.blocks.goals import timeline_comment
    from bot.blocks.privacy import workspace_deleted_message
    from bot.blocks.settings import settings_saved_message
    from bot.domain import format_duration
    from bot.domain.dashboard import Streak
    from bot.domain.settings import SettingsSubmission

    assert timeline_comment(REP, 1) == f"<@{REP}>'s last outcome. Each ★ is a bounce-back."
    assert "last 0" not in timeline_comment(REP, 0)
    assert timeline_comment(REP, 12).startswith(f"<@{REP}>'s last 12 outcomes.")
    assert "(1 record)" in workspace_deleted_message(1)["text"]
    assert format_duration(timedelta(days=1)) == "1 day"
    assert format_duration(timedelta(hours=1)) == "1 hour"
    assert Streak(kind="loss", length=1).describe() == "1 loss"
    assert Streak(kind="loss", length=2).describe() == "2 losses in a row"
    saved = SettingsSubmission(
        recognition_channel_id=None,
        checkin_weekday=0,
        checkin_hour=9,
        kudos_policy="managers",
        strong_process_threshold=0.8,
        retention_submitted=True,
        reflection_retention_days=1,
        more={"checkin_reminder_hours": 1, "data_grace_days": 1, "reflection_reminder_hours": 24},
    )
    text = settings_saved_message(saved)["blocks"][0]["text"]["text"]
    assert "deleted after 1 day\n" in text
    assert "Check-in reminder after 1 hour\n" in text
    assert "Debrief questions reminder after 1 day\n" in text
    assert "Data kept 1 day after an uninstall" in text
