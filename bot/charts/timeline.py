"""A rep's bounce-back timeline: wins and losses over time, each bounce-back named (bot.charts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.charts.canvas import (
    _OFFSETS_ABOVE,
    MAX_ALT_TEXT,
    NOTE_SIZE,
    OKABE_ITO,
    TICK_SIZE,
    TITLE_SIZE,
    _footnote,
    _marker_boxes,
    _new_figure,
    _renderer,
    place_labels,
    render_png,
)
from bot.domain import (
    BounceBack,
    OutcomeEvent,
    OutcomeKind,
    detect_bounce_back,
    format_duration,
)
from bot.slack_text import plural, truncate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_TIMELINE_OUTCOMES = 60
MAX_TIMELINE_LABELS = 6
# When the stars are too crowded to label, the bounce-backs become a list right of the axes.
LIST_AXES_RIGHT = 0.62
LIST_GAP_PX = 18
LIST_LINE_GAP_PX = 6


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
