"""PNG charts for managers: the quadrant scatter, the Pareto of loss reasons, bounce-backs.

Rendered headless with matplotlib's Agg canvas on a `Figure` of its own (never pyplot's global
state: charts render on Bolt's worker threads). Sized for Slack's preview: 1200×800 px at
150 dpi, large type, the colour-blind-safe Okabe-Ito palette. Point labels are placed one by one
at the first offset whose box (measured by the renderer) overlaps nothing already drawn; a
label that fits nowhere is left out and counted in a footnote instead of drawn over another.

`*_figure()` builds the figure (tests measure its text boxes); `render_png()` makes the bytes.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain import (
    BounceBack,
    OutcomeEvent,
    OutcomeKind,
    detect_bounce_back,
    format_duration,
)
from bot.domain.debriefs import reason_in_control
from bot.domain.pareto import MAX_PARETO_BARS as MAX_PARETO_BARS
from bot.domain.pareto import (
    control_split,
    control_summary,
    pareto_bars,
    too_early_for_pattern,
    too_early_text,
    vital_few,
)
from bot.slack_text import plural, truncate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

# Every text that can carry people's words (names, titles, loss reasons) is drawn with
# parse_math=False: matplotlib would read "$...$" in it as mathtext, and a name such as
# "$\frac$" would make the chart fail to render at all.
# Okabe & Ito (2008), a palette readable with every common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# Loss reasons in the team's control, outside it, and those nobody can say (reason_in_control).
CONTROL_COLOURS = {True: OKABE_ITO["blue"], False: OKABE_ITO["sky_blue"], None: "#AAAAAA"}
QUADRANT_COLOURS = {
    "system-hit": OKABE_ITO["bluish_green"],
    "lucky-hit": OKABE_ITO["orange"],
    "system-miss": OKABE_ITO["vermillion"],
    "perfect-miss": OKABE_ITO["blue"],
}
WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 16.0 / 3.0, 150  # 1200 × 800 px
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, NOTE_SIZE = 18, 14, 12, 12
MAX_POINT_LABELS = 20
MAX_TIMELINE_OUTCOMES = 60
MAX_TIMELINE_LABELS = 6
# When the stars are too crowded to label, the bounce-backs become a list right of the axes.
LIST_AXES_RIGHT = 0.62
LIST_GAP_PX = 18
LIST_LINE_GAP_PX = 6
# Attainment is drawn up to this multiple of the goal; anything above sits on the top edge.
ATTAINMENT_AXIS_MAX = 3.0
# The least range of the attainment axis (one dot, or all alike, still get a readable scale),
# and the share of its height kept free above and below the dots for the quadrant names.
MIN_ATTAINMENT_SPAN = 0.4
CORNER_BAND = 0.09
LINE_CLEARANCE_PX = 3  # labels keep this far from a dashed line
# Room above 100% on the Pareto chart for the top marker and a count label.
PARETO_HEADROOM = 1.15
FOOTNOTE_Y = 0.02  # figure fraction of the footnote's baseline
LABEL_GAP_PX = 12
LABEL_MARGIN_PX = 3  # the least free space around a label
MAX_BOTTOM_MARGIN = 0.32  # figure fraction under the quadrant's axes, for a long footnote
FOOTNOTE_WIDTH = 90  # characters a line: about the figure's width at NOTE_SIZE


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


def _new_figure(*, bottom: float = 0.2, right: float = 0.9) -> Figure:
    # Imported here so that importing bot.charts costs nothing until a chart is drawn.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # Fixed margins rather than a layout engine: label boxes are measured once, so the axes
    # must not move afterwards.
    figure.subplots_adjust(left=0.11, right=right, top=0.88, bottom=bottom)
    return figure


def render_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _renderer(figure: Figure) -> Any:
    figure.canvas.draw()
    return figure.canvas.get_renderer()  # type: ignore[attr-defined]


def _overlaps(box: Bbox, others: Sequence[Bbox]) -> bool:
    return any(box.overlaps(other) for other in others)


def _padded(box: Bbox, pixels: float) -> Bbox:
    return box.expanded(1.0, 1.0).padded(pixels)


def _inside(box: Bbox, frame: Bbox) -> bool:
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1


# Offsets in points, nearest first, with the alignment that keeps the text away from the dot.
_OFFSETS: tuple[tuple[float, float, str, str], ...] = tuple(
    (dx * scale, dy * scale, ha, va)
    for scale in (1.0, 2.2, 3.5)
    for dx, dy, ha, va in (
        (8, 6, "left", "bottom"),
        (-8, 6, "right", "bottom"),
        (8, -6, "left", "top"),
        (-8, -6, "right", "top"),
        (0, 10, "center", "bottom"),
        (0, -10, "center", "top"),
    )
)


def place_labels(
    axes: Axes,
    renderer: Any,
    items: Sequence[tuple[str, tuple[float, float]]],
    avoid: Sequence[Bbox],
    *,
    fontsize: int = NOTE_SIZE,
    limit: int = MAX_POINT_LABELS,
    offsets: Sequence[tuple[float, float, str, str]] = _OFFSETS,
) -> tuple[list[Text], int]:
    """Annotate each (text, data point) at the first offset that overlaps nothing placed so far.

    Returns the annotations and how many labels were left out (no room, or over `limit`).
    """
    placed_boxes = list(avoid)
    frame = axes.get_window_extent(renderer)
    annotations: list[Text] = []
    skipped = max(0, len(items) - limit)
    for text, (x, y) in items[:limit]:
        for dx, dy, ha, va in offsets:
            annotation = axes.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                annotation_clip=False,
                parse_math=False,  # names are people's text, never mathtext
            )
            box = annotation.get_window_extent(renderer)
            # Measured with a margin: two boxes that merely touch read as one run of text
            # ("back in 15 daysback in 6 days").
            if _inside(box, frame) and not _overlaps(_padded(box, LABEL_MARGIN_PX), placed_boxes):
                placed_boxes.append(box)
                annotations.append(annotation)
                break
            annotation.remove()
        else:
            skipped += 1
    return annotations, skipped


# Above the point only: for timelines, where stems hang below the markers.
_OFFSETS_ABOVE: tuple[tuple[float, float, str, str], ...] = tuple(
    (dx * scale, dy * scale, ha, va)
    for scale in (1.0, 2.2, 3.5, 5.0)
    for dx, dy, ha, va in (
        (0, 12, "center", "bottom"),
        (6, 10, "left", "bottom"),
        (-6, 10, "right", "bottom"),
    )
)


def _marker_boxes(axes: Axes, points: Sequence[tuple[float, float]], radius: float) -> list[Bbox]:
    from matplotlib.transforms import Bbox

    boxes = []
    for x, y in points:
        px, py = axes.transData.transform((x, y))
        boxes.append(Bbox.from_extents(px - radius, py - radius, px + radius, py + radius))
    return boxes


def _footnote(figure: Figure, text: str) -> Text:
    return figure.text(
        0.5,
        FOOTNOTE_Y,
        textwrap.fill(text, FOOTNOTE_WIDTH),
        ha="center",
        va="bottom",
        fontsize=NOTE_SIZE,
        color="#333333",
        parse_math=False,
    )


# --- the quadrant scatter ----------------------------------------------------------------------


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


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def quadrant_chart(points: Sequence[QuadrantPoint], threshold: float, *, title: str = "") -> bytes:
    return render_png(quadrant_figure(points, threshold, title=title or "Team cycle review"))


# --- the Pareto of loss reasons ------------------------------------------------------------------


def pareto_figure(counts: Sequence[tuple[str, int]], *, title: str = "Why we lose") -> Figure:
    bars = pareto_bars(counts)
    # Room below for category labels that may need rotating, and the footnote under them (the
    # margin shrinks to fit once the labels are laid out). A second y-axis on the right: leave
    # room for its label.
    figure = _new_figure(bottom=0.3, right=0.85)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=TITLE_SIZE, pad=14, parse_math=False)
    total = sum(count for _, count in bars)
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # losses come in whole numbers
    positions = list(range(len(bars)))
    labels = [textwrap.shorten(reason, width=22, placeholder="…") for reason, _ in bars]
    labels = [textwrap.fill(label, width=12) for label in labels]
    # What was in the team's control stands apart from what wasn't: dark bars in it, light bars
    # outside it, grey where nobody can say (not sure yet, other, folded reasons).
    axes.bar(
        positions,
        [c for _, c in bars],
        color=[CONTROL_COLOURS[reason_in_control(reason)] for reason, _ in bars],
        width=0.7,
        zorder=2,
    )
    axes.set_xticks(positions, labels, fontsize=TICK_SIZE, parse_math=False)
    axes.set_ylabel("Losses", fontsize=LABEL_SIZE)
    axes.tick_params(axis="y", labelsize=TICK_SIZE)
    axes.set_xlim(-0.6, max(len(bars), 1) - 0.4)
    # Both y axes share one scale: the left axis's `total` losses sit level with the right
    # axis's 100%, so a bar's top reads as its share on the right and the cumulative line
    # starts at the top of the first bar.
    scale_top = max(total, 1)
    axes.set_ylim(0, scale_top * PARETO_HEADROOM)
    for x, (_, count) in zip(positions, bars, strict=True):
        # Inside the bar when it is tall enough: its top is where the cumulative line passes
        # for the first bar, and a label there would sit under the marker.
        if count >= scale_top * 0.1:
            axes.text(
                x,
                count / 2,
                f"{count}",
                ha="center",
                va="center",
                fontsize=TICK_SIZE,
                color="white",
                fontweight="bold",
            )
        else:
            axes.text(x, count, f"{count}", ha="center", va="bottom", fontsize=TICK_SIZE)
    if too_early_for_pattern(counts):
        # Fewer losses than a pattern needs: the counts alone, no cumulative share to read
        # a "vital few" from, and a footnote that says so.
        renderer = _renderer(figure)
        _shrink_tick_labels_until_apart(axes, renderer, [axes])
        footnote = _footnote(
            figure, f"{too_early_text(total)} {_control_key(control_split(counts))}"
        )
        _fit_bottom_margin(figure, axes, footnote, renderer)
        return figure
    share = axes.twinx()
    cumulative = []
    running = 0
    for _, count in bars:
        running += count
        cumulative.append(running / total if total else 0.0)
    share.plot(
        positions,
        cumulative,
        color=OKABE_ITO["vermillion"],
        marker="o",
        markersize=8,
        linewidth=2.5,
        zorder=3,
    )
    share.axhline(0.8, color=OKABE_ITO["vermillion"], linestyle=":", linewidth=1.5)
    share.set_ylim(0, PARETO_HEADROOM)
    share.yaxis.set_major_formatter(_percent_formatter())
    share.tick_params(labelsize=TICK_SIZE)
    share.set_ylabel("Cumulative share", fontsize=LABEL_SIZE, color=OKABE_ITO["vermillion"])
    renderer = _renderer(figure)
    _shrink_tick_labels_until_apart(axes, renderer, [axes, share])
    few = vital_few(counts)
    reasons = sum(1 for _, c in counts if c > 0)
    covered = cumulative[len(few) - 1] if few and cumulative else 0.0
    footnote = _footnote(
        figure,
        f"The top {len(few)} of {plural(reasons, 'reason', 'reasons')} cover {covered:.0%} of "
        f"{plural(total, 'loss', 'losses')}. {_control_key(control_split(counts))}"
        if total
        else "No losses logged in this period.",
    )
    _fit_bottom_margin(figure, axes, footnote, renderer)
    return figure


def _control_key(split: Any) -> str:
    """The footnote's key to the bar colours, with the counts behind each."""
    key = f"Dark bars: in our control ({split.in_control}); light: outside it ({split.outside})"
    if split.unsure:
        key += f"; grey: can't say yet ({split.unsure})"
    return key + "."


def _fit_bottom_margin(figure: Figure, axes: Axes, footnote: Text, renderer: Any) -> None:
    """Move the axes' bottom edge down (or up) so the category labels end just above the
    footnote: no empty band when the labels are short, room when they are rotated."""
    boxes = [label.get_window_extent(renderer) for label in axes.get_xticklabels()]
    if not boxes:
        return
    axes_bottom = axes.get_window_extent(renderer).y0
    label_depth = axes_bottom - min(box.y0 for box in boxes)
    height = figure.bbox.height
    footnote_top = footnote.get_window_extent(renderer).y1
    bottom = (footnote_top + LABEL_GAP_PX + label_depth) / height
    figure.subplots_adjust(bottom=min(max(bottom, 0.12), 0.5))


def _shrink_tick_labels_until_apart(axes: Axes, renderer: Any, others: Sequence[Axes]) -> None:
    """Rotate, then shrink, the category labels until no two boxes overlap each other or the
    value labels of the y axes."""
    axes.tick_params(axis="x", pad=8)
    fixed = [
        label.get_window_extent(renderer)
        for each in others
        for label in each.get_yticklabels()
        if label.get_text()
    ]
    for rotation, size in (
        (0, TICK_SIZE),
        (30, TICK_SIZE),
        (30, TICK_SIZE - 2),
        (60, TICK_SIZE - 3),
    ):
        for label in axes.get_xticklabels():
            label.set_rotation(rotation)
            label.set_rotation_mode("anchor" if rotation else "default")
            label.set_ha("right" if rotation else "center")
            label.set_va("top")
            label.set_fontsize(size)
        boxes = [label.get_window_extent(renderer) for label in axes.get_xticklabels()]
        apart = not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
        if apart and not any(_overlaps(box, fixed) for box in boxes):
            return


def pareto_chart(counts: Sequence[tuple[str, int]], *, title: str = "") -> bytes:
    return render_png(pareto_figure(counts, title=title or "Why we lose"))


# --- a rep's bounce-back timeline -----------------------------------------------------------------


def timeline_figure(history: Sequence[OutcomeEvent], *, title: str = "Bounce-backs") -> Figure:
    events = sorted(history, key=lambda e: e.at)[-MAX_TIMELINE_OUTCOMES:]
    figure = _new_figure()
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=TITLE_SIZE, pad=14, parse_math=False)
    axes.axhline(0, color="#555555", linewidth=1)
    axes.set_ylim(-1.6, 2.7)
    axes.set_yticks([-1, 1], ["Loss", "Win"], fontsize=TICK_SIZE)
    axes.tick_params(axis="x", labelsize=TICK_SIZE)
    wins = [e for e in events if e.kind is OutcomeKind.WIN]
    losses = [e for e in events if e.kind is OutcomeKind.LOSS]
    for group, y, colour, label in (
        (wins, 1, OKABE_ITO["blue"], "Win"),
        (losses, -1, OKABE_ITO["vermillion"], "Loss"),
    ):
        if group:
            xs = [_num(e.at) for e in group]
            axes.vlines(xs, 0, y, colors=colour, linewidth=2.5)
            axes.scatter(xs, [y] * len(xs), s=80, color=colour, zorder=3, label=label)
    bounce_items: list[tuple[str, tuple[float, float]]] = []
    bounce_wins: list[tuple[datetime, str]] = []
    for win in wins:
        bounce = detect_bounce_back(events, win.at)
        if bounce is not None:
            axes.scatter(
                [_num(win.at)],
                [1],
                s=320,
                marker="*",
                color=OKABE_ITO["yellow"],
                edgecolors="black",
                zorder=4,
            )
            words = _bounce_words(bounce)
            bounce_items.append((words, (_num(win.at), 1)))
            bounce_wins.append((win.at, words))
    if events:
        first, last = _num(events[0].at), _num(events[-1].at)
        pad = max((last - first) * 0.05, 0.5)
        axes.set_xlim(first - pad, last + pad)
    axes.xaxis_date()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    renderer = _renderer(figure)
    avoid = _marker_boxes(
        axes, [(_num(e.at), 1 if e.kind is OutcomeKind.WIN else -1) for e in events], 6
    )
    # The newest bounce-backs matter most: label those first.
    labels, skipped = place_labels(
        axes,
        renderer,
        list(reversed(bounce_items)),
        avoid,
        limit=MAX_TIMELINE_LABELS,
        offsets=_OFFSETS_ABOVE,
    )
    last = "the last outcome" if len(events) == 1 else f"the last {len(events):,} outcomes"
    note = f"★ = a win after a losing streak ({len(bounce_items)} in {last})."
    if skipped:
        # Too crowded to label each star: the labels come off the chart and become a list
        # beside it, newest first, each with its date, so none is lost or run into another.
        for label in labels:
            label.remove()
        note += _bounce_list(figure, renderer, list(reversed(bounce_wins)), events)
    _footnote(figure, note if events else "No outcomes logged yet.")
    return figure


def _bounce_list(
    figure: Figure,
    renderer: Any,
    bounces: Sequence[tuple[datetime, str]],
    events: Sequence[OutcomeEvent],
) -> str:
    """Lists `bounces` (newest first) in a column right of the axes, one text a line, as many
    as fit; returns the footnote's word on the rest."""
    figure.subplots_adjust(right=LIST_AXES_RIGHT)
    axes_box = figure.axes[0].get_window_extent(renderer)
    x = (axes_box.x1 + LIST_GAP_PX) / figure.bbox.width
    y = axes_box.y1
    heading = figure.text(
        x,
        y / figure.bbox.height,
        "Newest first",
        ha="left",
        va="top",
        fontsize=NOTE_SIZE,
        fontweight="bold",
    )
    y = heading.get_window_extent(renderer).y0 - LIST_LINE_GAP_PX
    listed = 0
    for at, words in bounces:
        line = figure.text(
            x,
            y / figure.bbox.height,
            f"{words}, on {_moment(at, events)}",
            ha="left",
            va="top",
            fontsize=NOTE_SIZE,
        )
        box = line.get_window_extent(renderer)
        if box.y0 < axes_box.y0:
            line.remove()
            break
        listed += 1
        y = box.y0 - LIST_LINE_GAP_PX
    rest = len(bounces) - listed
    if not rest:
        return " All are listed on the right." if listed > 1 else " It is listed on the right."
    return (
        f" The {plural(listed, 'newest is', 'newest are')} listed on the right; "
        f"{rest} earlier {'one is' if rest == 1 else 'ones are'} not."
    )


def _bounce_words(bounce: BounceBack) -> str:
    return f"back in {format_duration(bounce.recovery)}"


def _moment(at: datetime, events: Sequence[OutcomeEvent]) -> str:
    """ "4 Nov 20:00" when the outcomes span less than a week (hours tell close bounce-backs
    apart), else "4 Nov 2026"."""
    span = events[-1].at - events[0].at
    return f"{at.day} {at:%b %H:%M}" if span.days < 7 else f"{at.day} {at:%b %Y}"


def _num(moment: datetime) -> float:
    from matplotlib.dates import date2num

    return float(date2num(moment))


def timeline_chart(history: Sequence[OutcomeEvent], *, title: str = "") -> bytes:
    return render_png(timeline_figure(history, title=title or "Bounce-backs"))


# --- alt text ---------------------------------------------------------------------------------
# Every chart goes up with `alt_txt`, the "Description of image for screen-reader" that
# files.getUploadURLExternal takes (at most 1,000 characters: longer is `alt_txt_too_large`).
# https://api.slack.com/methods/files.getUploadURLExternal
MAX_ALT_TEXT = 1000


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


def pareto_alt_text(counts: Sequence[tuple[str, int]], *, days: int) -> str:
    """What the Pareto chart of loss reasons shows: each reason's count and share."""
    bars = pareto_bars(counts, max_bars=len(counts) + 1)
    total = sum(count for _, count in bars)
    if not total:
        return (
            "Pareto chart of loss reasons: no losses logged in the last "
            f"{plural(days, 'day', 'days')}."
        )
    if too_early_for_pattern(counts):
        counted = "; ".join(f"{reason or 'No reason given'} {count}" for reason, count in bars)
        return truncate(
            f"Bar chart of loss reasons over the last {plural(days, 'day', 'days')}, "
            f"{plural(total, 'loss', 'losses')}: {counted}. {too_early_text(total)} "
            f"{control_summary(control_split(counts))}",
            MAX_ALT_TEXT,
        )
    each = "; ".join(
        f"{reason or 'No reason given'} {count} ({count / total:.0%})" for reason, count in bars
    )
    few = ", ".join(vital_few(counts))
    return truncate(
        f"Pareto chart of loss reasons over the last {plural(days, 'day', 'days')}, "
        f"{plural(total, 'loss', 'losses')}: {each}. The few reasons behind most losses: {few}. "
        f"{control_summary(control_split(counts))}",
        MAX_ALT_TEXT,
    )


def timeline_alt_text(history: Sequence[OutcomeEvent], *, whose: str) -> str:
    """What the bounce-back timeline shows: wins, losses and bounce-backs, oldest first."""
    events = sorted(history, key=lambda e: e.at)[-MAX_TIMELINE_OUTCOMES:]
    if not events:
        return f"Bounce-back timeline of {whose}: no wins or losses logged yet."
    wins = [e for e in events if e.kind is OutcomeKind.WIN]
    bounces = [
        f"{_bounce_words(bounce)}, on {_moment(win.at, events)}"
        for win in reversed(wins)
        if (bounce := detect_bounce_back(events, win.at)) is not None
    ]
    last = "last outcome" if len(events) == 1 else f"last {len(events):,} outcomes"
    # The same words as the chart's labels (or its list, when crowded), newest first.
    listed = f" Newest first: {'; '.join(bounces)}." if bounces else ""
    return truncate(
        f"Bounce-back timeline of {whose} {last}: {plural(len(wins), 'win', 'wins')}, "
        f"{plural(len(events) - len(wins), 'loss', 'losses')}, "
        f"{plural(len(bounces), 'bounce-back', 'bounce-backs')} (a win after a losing streak), "
        f"from {events[0].at:%d %b %Y} to {events[-1].at:%d %b %Y}.{listed}",
        MAX_ALT_TEXT,
    )
