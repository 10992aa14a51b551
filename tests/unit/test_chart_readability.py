"""Charts people can read (issue 12, section 7): measured with matplotlib's own renderer.

Every text box (get_window_extent) is kept apart from every other by a margin, since two boxes
that merely touch read as one run of text ("back in 15 daysback in 6 days"); no label crosses a
dashed line; the quadrant's y-axis fits its dots; crowded bounce-backs stay readable.
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import charts
from bot.domain import Classification, OutcomeEvent, OutcomeKind
from tests.support.quadrant_upload import quadrant_payload

MARGIN_PX = 2.0  # the least gap between two texts that still reads as two


@pytest.fixture(autouse=True)
def _quiet_date_locator() -> Iterator[None]:
    # Hours-apart outcomes make AutoDateLocator warn that it picked its fallback interval.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def drawn_texts(figure: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    """The renderer and (text, window box, artist) of every visible, non-empty text."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    texts = []
    for artist in figure.findobj(lambda a: hasattr(a, "get_text")):
        if artist.get_visible() and artist.get_text().strip() and artist.get_figure() is not None:
            texts.append((artist.get_text(), artist.get_window_extent(renderer), artist))
    return renderer, texts


def too_close(texts: list[tuple[str, Any, Any]]) -> list[tuple[str, str]]:
    pairs = []
    for (first, a, _), (second, b, _) in itertools.combinations(texts, 2):
        gap = max(b.x0 - a.x1, a.x0 - b.x1, b.y0 - a.y1, a.y0 - b.y1)
        if gap < MARGIN_PX:
            pairs.append((first, second))
    return pairs


def inside_figure(figure: Any, texts: list[tuple[str, Any, Any]]) -> list[str]:
    frame = figure.bbox
    return [
        text
        for text, box, _ in texts
        if box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1
    ]


# --- the quadrant ---------------------------------------------------------------------------------


def rep(name: str, score: float | None, ratio: float, outcomes: int = 4) -> charts.QuadrantPoint:
    return charts.QuadrantPoint(name, score, ratio, scored_outcomes=outcomes, scored_checkins=1)


QUADRANT_CASES = {
    # Twenty reps a hair apart, all well under the goal: the case the fixed 0-200% axis
    # squeezed into its bottom eighth, and the worst case for labels.
    "twenty alike": [rep(f"Rep number {i}", 0.6 + 0.001 * i, 0.2 + 0.001 * i) for i in range(20)],
    # One rep, sitting on both dashed lines at once.
    "one rep": [rep("Leo", 0.8, 1.0, outcomes=3)],
    "all zero": [rep(f"Rep {i}", 0.0, 0.0, outcomes=0) for i in range(5)],
    "one far above": [rep("Ana", 0.9, 1.6), rep("Kai", 0.85, 1.7), rep("Di", 0.95, 1.65)],
}


def goal_and_process_lines(axes: Any, threshold: float) -> tuple[float, float]:
    x, y = axes.transData.transform((threshold, 1.0))
    return float(x), float(y)


@pytest.mark.parametrize("case", list(QUADRANT_CASES))
@pytest.mark.parametrize("threshold", [0.8, 0.1])
def test_quadrant_texts_stay_apart_and_off_the_dashed_lines(case: str, threshold: float) -> None:
    points = QUADRANT_CASES[case]
    figure = charts.quadrant_figure(points, threshold)
    _, texts = drawn_texts(figure)
    assert too_close(texts) == []
    assert inside_figure(figure, texts) == []
    axes = figure.axes[0]
    line_x, line_y = goal_and_process_lines(axes, threshold)
    on_the_chart = [(text, box) for text, box, artist in texts if artist in axes.texts]
    assert on_the_chart, "the quadrant names and dot labels are drawn on the axes"
    crossing = [
        text
        for text, box in on_the_chart
        if box.x0 - 1 < line_x < box.x1 + 1 or box.y0 - 1 < line_y < box.y1 + 1
    ]
    assert crossing == []
    # Every dot is labelled with what stands behind it, or counted as not labelled.
    labelled = [text for text, _ in on_the_chart if " n=" in text]
    footnote = " ".join(" ".join(t.get_text().split()) for t in figure.texts)
    assert "n = scored outcomes and check-ins behind each dot." in footnote
    if len(labelled) < len(points):
        assert f"{len(points) - len(labelled)} point(s) not labelled" in footnote
    assert all(text.endswith(f"n={p.evidence}") for text, p in zip(labelled, points, strict=False))


@pytest.mark.parametrize("case", list(QUADRANT_CASES))
def test_quadrant_y_axis_fits_the_dots_and_the_goal(case: str) -> None:
    points = QUADRANT_CASES[case]
    figure = charts.quadrant_figure(points, 0.8)
    figure.canvas.draw()
    bottom, top = figure.axes[0].get_ylim()
    ratios = [p.attainment_ratio for p in points]
    low, high = min([*ratios, 1.0]), max([*ratios, 1.0])
    assert bottom < low and high < top  # every dot and the goal line, none on the frame
    # ... and not much more: the dots and the goal fill most of the height (at least the
    # least span's worth for one dot or alike values), where 0-200% left them an eighth.
    assert max(high - low, charts.MIN_ATTAINMENT_SPAN) / (top - bottom) >= 0.75
    ticks = [t for t in figure.axes[0].get_yticks() if bottom <= t <= top]
    assert len(ticks) >= 3
    # Nice values: whole percents on an even step.
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and all(abs(t * 100 - round(t * 100)) < 1e-6 for t in ticks)


@pytest.mark.parametrize(
    ("threshold", "drawn", "key"),
    [
        (0.1, {"System hit", "Perfect miss"}, "Left of the 10% line: lucky hit above the goal, "),
        (0.97, {"Lucky hit", "System miss"}, "Right of the 97% line: system hit above the goal, "),
    ],
)
def test_quadrant_names_that_cannot_fit_beside_the_line_are_keyed_in_the_footnote(
    threshold: float, drawn: set[str], key: str
) -> None:
    figure = charts.quadrant_figure(QUADRANT_CASES["one far above"], threshold)
    _, texts = drawn_texts(figure)
    names = {"System hit", "Perfect miss", "Lucky hit", "System miss"}
    on_the_chart = {text: artist for text, _, artist in texts if text in names}
    assert set(on_the_chart) == drawn
    # The two names on one side of the line share one size.
    for pair in (("System hit", "Perfect miss"), ("Lucky hit", "System miss")):
        sizes = {on_the_chart[name].get_fontsize() for name in pair if name in on_the_chart}
        assert len(sizes) <= 1
    footnote = " ".join(" ".join(t.get_text().split()) for t in figure.texts)
    assert key in footnote


def test_quadrant_alt_text_says_what_stands_behind_each_dot() -> None:
    points = [
        charts.QuadrantPoint("Leo", 0.9, 1.2, scored_outcomes=6, scored_checkins=1),
        charts.QuadrantPoint("Ana", None, 0.5, scored_outcomes=0),
        charts.QuadrantPoint("Kai", 0.4, 1.0, scored_outcomes=1),
    ]
    text = charts.quadrant_alt_text(points, 0.8, whose="Maya's team")
    assert (
        "Leo: 120% of goal, process 90%, from 6 scored outcomes and 1 check-in; "
        "Ana: 50% of goal, no process evidence; "
        "Kai: 100% of goal, process 40%, from 1 scored outcome." in text
    )
    assert [p.chart_label for p in points] == ["Leo n=7", "Ana n=0", "Kai n=1"]


def test_the_quadrant_payload_carries_the_evidence_and_old_rows_still_render() -> None:
    from bot.domain.goals import CycleReview, GoalProgress
    from bot.usecases.goal_reviews import _quadrant_points
    from storage.models import Goal

    goal = Goal(team_id="T1", user_id="U1", metric="deals_won", target=4)
    progress = GoalProgress(goal=goal, attainment=1, metric_label="Deals won")
    review = CycleReview(
        "U1", progress, 0.4, Classification.SYSTEM_MISS, scored_outcomes=4, scored_checkins=2
    )
    payload = quadrant_payload([review], {"U1": "Leo"})
    (point,) = _quadrant_points(payload)
    assert point.chart_label == "Leo n=6"
    # A row queued before this change (three fields) still renders, without an "n=".
    (old,) = _quadrant_points({"points": [["Leo", 0.4, 0.25]]})
    assert old.chart_label == "Leo" and old.evidence is None


# --- the bounce-back timeline ---------------------------------------------------------------------

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def thirty_bounce_backs_in_three_days() -> list[OutcomeEvent]:
    events, at = [], START
    for _ in range(30):
        events.append(OutcomeEvent(OutcomeKind.LOSS, at))
        events.append(OutcomeEvent(OutcomeKind.WIN, at + timedelta(hours=1)))
        at += timedelta(hours=2)
    return events


def streaks_of_days(seed: int) -> list[OutcomeEvent]:
    """Eight losing streaks of a few days each, some ending in wins hours apart: the day-scale
    labels ("back in 15 days", "back in 6 days") a strict overlap test let touch."""
    chooser = random.Random(seed)
    events, at = [], START
    for _ in range(8):
        for _ in range(chooser.randint(1, 3)):
            events.append(OutcomeEvent(OutcomeKind.LOSS, at))
            at += timedelta(days=chooser.choice([1, 2, 3, 5, 6, 9]))
        events.append(OutcomeEvent(OutcomeKind.WIN, at))
        at += timedelta(hours=chooser.choice([2, 5, 30]))
    return events


TIMELINE_CASES = {
    "thirty in three days": thirty_bounce_backs_in_three_days(),
    "streaks of days": streaks_of_days(34),
    "one bounce-back": [
        OutcomeEvent(OutcomeKind.LOSS, START),
        OutcomeEvent(OutcomeKind.WIN, START + timedelta(days=15)),
    ],
}


@pytest.mark.parametrize("case", list(TIMELINE_CASES))
def test_timeline_labels_never_run_together_and_no_bounce_back_is_lost(case: str) -> None:
    events = TIMELINE_CASES[case]
    figure = charts.timeline_figure(events)
    _, texts = drawn_texts(figure)
    assert too_close(texts) == []
    assert inside_figure(figure, texts) == []
    axes = figure.axes[0]
    _, zero_line = axes.transData.transform((0, 0))
    on_the_chart = [(text, box) for text, box, artist in texts if artist in axes.texts]
    assert [text for text, box in on_the_chart if box.y0 - 1 < zero_line < box.y1 + 1] == []
    # Every bounce-back is told: the newest readable (on the chart or, when crowded, in the
    # list beside it, with its date), the rest counted in the footnote.
    shown = [text for text, _, _ in texts if text.startswith("back in ")]
    bounces = sum(1 for e in events if e.kind is OutcomeKind.WIN)
    assert len(shown) >= min(bounces, 12)
    footnote = " ".join(" ".join(t.get_text().split()) for t in figure.texts)
    if len(shown) < bounces:
        assert f"{bounces - len(shown)} earlier ones are not." in footnote
    if case == "streaks of days":
        assert "All are listed on the right." in footnote
    # What a screen reader says lists them too, newest first, each with its date.
    alt = charts.timeline_alt_text(events, whose="Leo's")
    assert f"{bounces} bounce-back" in alt and len(alt) <= charts.MAX_ALT_TEXT
    if case == "one bounce-back":
        assert alt.endswith("Newest first: back in 15 days, on 17 Nov 2026.")
        assert shown == ["back in 15 days"]  # room to spare: labelled by its star
    if case == "thirty in three days":
        # Hours tell bounce-backs on one day apart; the newest comes first.
        assert shown[0] == "back in 1 hour, on 4 Nov 20:00"
        assert "Newest first: back in 1 hour, on 4 Nov 20:00; back in 1 hour, on 4 Nov 18:00" in alt


# --- hostile text -----------------------------------------------------------------------------

HOSTILE = r"A $\frac$ B <!channel> *x*"


def test_hostile_names_titles_and_reasons_are_drawn_as_written() -> None:
    # matplotlib reads "$...$" as mathtext: a name like this one made the chart fail to render.
    quadrant = charts.quadrant_figure(
        [charts.QuadrantPoint(HOSTILE, 0.5, 0.5, scored_outcomes=2)], 0.8, title=HOSTILE
    )
    pareto = charts.pareto_figure([(HOSTILE, 5), ("Price", 1)], title=HOSTILE)
    timeline = charts.timeline_figure(
        [OutcomeEvent(OutcomeKind.LOSS, START), OutcomeEvent(OutcomeKind.WIN, START)],
        title=HOSTILE,
    )
    for figure in (quadrant, pareto, timeline):
        assert charts.render_png(figure).startswith(b"\x89PNG")
        _, texts = drawn_texts(figure)
        assert any(HOSTILE in text for text, _, _ in texts)
    _, texts = drawn_texts(quadrant)
    assert f"{HOSTILE} n=2" in [text for text, _, _ in texts]


def test_a_rep_far_over_goal_is_drawn_at_the_cap_and_the_footnote_says_so() -> None:
    points = [rep("Leo", 0.9, 12.0), rep("Ana", 0.5, 0.4)]
    figure = charts.quadrant_figure(points, 0.8)
    figure.canvas.draw()
    bottom, top = figure.axes[0].get_ylim()
    assert bottom < 0.4 and charts.ATTAINMENT_AXIS_MAX < top < charts.ATTAINMENT_AXIS_MAX * 1.2
    heights = [float(y) for c in figure.axes[0].collections for _, y in c.get_offsets()]
    assert max(heights) == charts.ATTAINMENT_AXIS_MAX
    footnote = " ".join(" ".join(t.get_text().split()) for t in figure.texts)
    assert "Dots at 300%: that much of goal or more." in footnote
    assert "Leo: 1200% of goal" in charts.quadrant_alt_text(points, 0.8, whose="x")
