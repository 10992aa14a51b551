"""The quadrant scatter: each rep's process score across, share of goal up (bot.charts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.charts.canvas import (
    LABEL_MARGIN_PX,
    LABEL_SIZE,
    MAX_ALT_TEXT,
    OKABE_ITO,
    TICK_SIZE,
    TITLE_SIZE,
    _footnote,
    _marker_boxes,
    _new_figure,
    _overlaps,
    _percent_formatter,
    _renderer,
    place_labels,
    render_png,
)
from bot.slack_text import plural, truncate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

QUADRANT_COLOURS = {
    "system-hit": OKABE_ITO["bluish_green"],
    "lucky-hit": OKABE_ITO["orange"],
    "system-miss": OKABE_ITO["vermillion"],
    "perfect-miss": OKABE_ITO["blue"],
}
# Attainment is drawn up to this multiple of the goal; anything above sits on the top edge.
ATTAINMENT_AXIS_MAX = 3.0
# The least range of the attainment axis (one dot, or all alike, still get a readable scale),
# and the share of its height kept free above and below the dots for the quadrant names.
MIN_ATTAINMENT_SPAN = 0.4
CORNER_BAND = 0.09
LINE_CLEARANCE_PX = 3  # labels keep this far from a dashed line
MAX_BOTTOM_MARGIN = 0.32  # figure fraction under the quadrant's axes, for a long footnote


# Reps with no process evidence are drawn hollow in a lane left of 0%, not as a 0% score.
NO_EVIDENCE_X = -0.1
NO_EVIDENCE_LANE = (-0.16, -0.04)


@dataclass(frozen=True)
class QuadrantPoint:
    label: str
    process_score: float | None  # 0..1; None without any process evidence
    attainment_ratio: float  # attainment / target
    # The evidence behind the dot's process score; None when the payload predates it.
    scored_outcomes: int | None = None
    scored_checkins: int = 0

    @property
    def evidence(self) -> int | None:
        if self.scored_outcomes is None:
            return None
        return self.scored_outcomes + self.scored_checkins

    @property
    def chart_label(self) -> str:
        """The dot's label: the name and how many scored items stand behind it ("Leo n=7")."""
        return self.label if self.evidence is None else f"{self.label} n={self.evidence}"


def attainment_axis(ratios: Sequence[float]) -> tuple[float, float, list[float]]:
    """The quadrant's y-axis: (bottom, top, ticks) that fit the dots and always show the goal
    line, with a free band above the highest dot and below the lowest for the corner labels,
    and nice tick values. One dot, or many with the same value, still get a readable range."""
    from matplotlib.ticker import MaxNLocator

    values = [min(max(ratio, 0.0), ATTAINMENT_AXIS_MAX) for ratio in ratios] + [1.0]
    low, high = min(values), max(values)
    if high - low < MIN_ATTAINMENT_SPAN:
        middle = (low + high) / 2
        low = max(0.0, middle - MIN_ATTAINMENT_SPAN / 2)
        high = low + MIN_ATTAINMENT_SPAN
    # The bands take CORNER_BAND of the axis height each: the data sit in the middle.
    total = (high - low) / (1 - 2 * CORNER_BAND)
    bottom, top = low - total * CORNER_BAND, high + total * CORNER_BAND
    ticks = [
        float(tick)
        for tick in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(bottom, top)
        if bottom - 1e-9 <= tick <= top + 1e-9 and tick >= -1e-9
    ]
    return bottom, top, ticks


def _line_boxes(axes: Axes, renderer: Any, threshold: float) -> list[Bbox]:
    """Pixel boxes of the two dashed lines (strong process across, the goal up), a little wider
    than drawn so that no label is placed on them."""
    from matplotlib.transforms import Bbox

    frame = axes.get_window_extent(renderer)
    x, y = axes.transData.transform((threshold, 1.0))
    half = LINE_CLEARANCE_PX
    return [
        Bbox.from_extents(x - half, frame.y0, x + half, frame.y1),
        Bbox.from_extents(frame.x0, y - half, frame.x1, y + half),
    ]


def quadrant_figure(
    points: Sequence[QuadrantPoint],
    threshold: float,
    *,
    title: str = "Team cycle review",
    bottom_margin: float = 0.2,
) -> Figure:
    figure = _new_figure(bottom=bottom_margin)
    axes = figure.add_subplot()
    no_evidence = any(p.process_score is None for p in points)
    # A little room beyond 0% and 100% so dots on the edges are whole, not cut in half; and,
    # when needed, a shaded lane left of 0% for reps with no process evidence.
    axes.set_xlim(NO_EVIDENCE_LANE[0] if no_evidence else -0.03, 1.03)
    axes.set_xticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    if no_evidence:
        axes.axvspan(*NO_EVIDENCE_LANE, color="#EEEEEE", zorder=0)
    # The y-axis fits the dots (a fixed 0-200% left a team near 20% in the bottom eighth).
    bottom, top, ticks = attainment_axis([p.attainment_ratio for p in points])
    axes.set_ylim(bottom, top)
    axes.set_yticks(ticks)
    axes.axvline(threshold, color="#555555", linestyle="--", linewidth=1.5)
    axes.axhline(1.0, color="#555555", linestyle="--", linewidth=1.5)
    axes.set_xlabel("Process score (share of practices that held)", fontsize=LABEL_SIZE)
    axes.set_ylabel("Attainment (share of goal)", fontsize=LABEL_SIZE)
    axes.set_title(title, fontsize=TITLE_SIZE, pad=14, parse_math=False)
    axes.tick_params(labelsize=TICK_SIZE)
    axes.xaxis.set_major_formatter(_percent_formatter())
    axes.yaxis.set_major_formatter(_percent_formatter())
    coordinates = [
        (
            NO_EVIDENCE_X if p.process_score is None else min(max(p.process_score, 0.0), 1.0),
            min(max(p.attainment_ratio, 0.0), ATTAINMENT_AXIS_MAX),
        )
        for p in points
    ]
    # No evidence counts as weak process (bot.domain.classify_cycle): a lucky hit or a
    # system miss, in that quadrant's colour.
    colours = [
        QUADRANT_COLOURS[_quadrant_key(p.process_score or 0.0, p.attainment_ratio, threshold)]
        for p in points
    ]
    for hollow in (False, True):
        chosen = [i for i, p in enumerate(points) if (p.process_score is None) is hollow]
        if not chosen:
            continue
        axes.scatter(
            [coordinates[i][0] for i in chosen],
            [coordinates[i][1] for i in chosen],
            s=110,
            facecolors="none" if hollow else [colours[i] for i in chosen],
            edgecolors=[colours[i] for i in chosen] if hollow else "black",
            linewidths=2.5 if hollow else 1.0,
            zorder=3,
            gid="no-evidence" if hollow else "evidence",
        )
    renderer = _renderer(figure)
    lines = _line_boxes(axes, renderer, threshold)
    corner_texts, unnamed = _corner_labels(axes, renderer, threshold, lines)
    avoid = [text.get_window_extent(renderer) for text in corner_texts] + lines
    avoid += _marker_boxes(axes, coordinates, radius=7)
    _, skipped = place_labels(
        axes,
        renderer,
        [(p.chart_label, xy) for p, xy in zip(points, coordinates, strict=True)],
        avoid,
    )
    notes = [f"Dashed lines: goal (100%) and strong process ({threshold:.0%})."]
    if any(p.evidence is not None for p in points):
        notes.append("n = scored outcomes and check-ins behind each dot.")
    notes += unnamed  # a side whose quadrant names did not fit beside the line
    if no_evidence:
        notes.append("Hollow dots, left of 0%: no process evidence this cycle.")
    if any(p.attainment_ratio > ATTAINMENT_AXIS_MAX for p in points):
        notes.append(f"Dots at {ATTAINMENT_AXIS_MAX:.0%}: that much of goal or more.")
    if skipped:
        notes.append(f"{skipped} point(s) not labelled for lack of room.")
    if not points:
        notes.append("No goals this cycle yet.")
    footnote = _footnote(figure, " ".join(notes))
    # A long footnote (three lines) would run into the axis title: draw the chart again on
    # a smaller axes rather than move this one, whose label boxes are already measured.
    axis_title = axes.xaxis.label.get_window_extent(renderer)
    crowded = footnote.get_window_extent(renderer).y1 + LABEL_MARGIN_PX > axis_title.y0
    if crowded and bottom_margin < MAX_BOTTOM_MARGIN:
        return quadrant_figure(points, threshold, title=title, bottom_margin=bottom_margin + 0.04)
    return figure


def _corner_labels(
    axes: Axes, renderer: Any, threshold: float, lines: Sequence[Bbox]
) -> tuple[list[Text], list[str]]:
    """The four quadrant names in the free bands above and below the dots, each on its own side
    of the strong-process line, the two on a side in one size: the largest that keeps both off
    the line. A side whose names cannot fit even smaller is left out. Returns the names drawn
    and the footnote's key to each side left out."""
    from matplotlib.transforms import blended_transform_factory

    # x in data (inside the 0-100% process range, never over the no-evidence lane), y in axes
    # fractions (the bands, whatever the data's range).
    transform = blended_transform_factory(axes.transData, axes.transAxes)
    texts: list[Text] = []
    keys: list[str] = []
    for side, x, ha, names in (
        ("Right", 1.01, "right", (("System hit", "system-hit"), ("Perfect miss", "perfect-miss"))),
        ("Left", 0.01, "left", (("Lucky hit", "lucky-hit"), ("System miss", "system-miss"))),
    ):
        for size in (LABEL_SIZE, LABEL_SIZE - 2, LABEL_SIZE - 4):
            pair = [
                axes.text(
                    x,
                    y,
                    name,
                    ha=ha,
                    va=va,
                    fontsize=size,
                    fontweight="bold",
                    color=QUADRANT_COLOURS[key],
                    transform=transform,
                )
                for (name, key), (y, va) in zip(
                    names, ((0.985, "top"), (0.015, "bottom")), strict=True
                )
            ]
            if not any(_overlaps(text.get_window_extent(renderer), lines[:1]) for text in pair):
                texts += pair
                break
            for text in pair:
                text.remove()
        else:
            (above, _), (below, _) = names
            keys.append(
                f"{side} of the {threshold:.0%} line: {above.lower()} above the goal, "
                f"{below.lower()} below."
            )
    return texts, keys


def _quadrant_key(process: float, ratio: float, threshold: float) -> str:
    strong = process >= threshold - 1e-9
    if ratio >= 1.0:
        return "system-hit" if strong else "lucky-hit"
    return "perfect-miss" if strong else "system-miss"


def quadrant_chart(points: Sequence[QuadrantPoint], threshold: float, *, title: str = "") -> bytes:
    return render_png(quadrant_figure(points, threshold, title=title or "Team cycle review"))


def quadrant_alt_text(points: Sequence[QuadrantPoint], threshold: float, *, whose: str) -> str:
    """What the quadrant chart shows, in words: how many reps, where each one stands, and what
    each dot's process score stands on (the chart's "n=")."""
    reached = sum(1 for p in points if p.attainment_ratio >= 1)
    strong = sum(1 for p in points if p.process_score is not None and p.process_score >= threshold)
    each = "; ".join(
        f"{p.label}: {p.attainment_ratio:.0%} of goal, "
        + ("no process evidence" if p.process_score is None else f"process {p.process_score:.0%}")
        + _evidence_words(p)
        for p in points
    )
    text = (
        f"Quadrant chart of {whose}: {plural(len(points), 'rep', 'reps')}, {reached} at or "
        f"above goal, {strong} with a strong process (at least {threshold:.0%} of the "
        "practices). Process score across, share of goal up."
    )
    return truncate(f"{text} {each}." if points else text, MAX_ALT_TEXT)


def _evidence_words(point: QuadrantPoint) -> str:
    """ ", from 2 scored outcomes and 1 check-in": the alt text's "n=" (nothing when unknown)."""
    if point.evidence is None or point.process_score is None:
        return ""
    parts = [plural(point.scored_outcomes or 0, "scored outcome", "scored outcomes")]
    if point.scored_checkins:
        parts.append(plural(point.scored_checkins, "check-in", "check-ins"))
    return ", from " + " and ".join(parts)
