"""The Pareto of loss reasons, bars coloured by whether the reason is in the team's control
(bot.charts)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.charts.canvas import (
    LABEL_SIZE,
    MAX_ALT_TEXT,
    OKABE_ITO,
    TICK_SIZE,
    TITLE_SIZE,
    _footnote,
    _new_figure,
    _overlaps,
    _percent_formatter,
    _renderer,
    render_png,
)
from bot.domain.debriefs import reason_in_control
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

# Loss reasons in the team's control, outside it, and those nobody can say (reason_in_control).
CONTROL_COLOURS = {True: OKABE_ITO["blue"], False: OKABE_ITO["sky_blue"], None: "#AAAAAA"}
# Room above 100% on the Pareto chart for the top marker and a count label.
PARETO_HEADROOM = 1.15
LABEL_GAP_PX = 12


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
