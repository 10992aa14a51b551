"""What every chart shares: the palette, the figure's size and type, a headless figure and its
PNG, label placement that measures each box, and the footnote (bot.charts)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 16.0 / 3.0, 150  # 1200 × 800 px
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, NOTE_SIZE = 18, 14, 12, 12
MAX_POINT_LABELS = 20
FOOTNOTE_Y = 0.02  # figure fraction of the footnote's baseline
LABEL_MARGIN_PX = 3  # the least free space around a label
FOOTNOTE_WIDTH = 90  # characters a line: about the figure's width at NOTE_SIZE


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


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


# --- alt text ---------------------------------------------------------------------------------
# Every chart goes up with `alt_txt`, the "Description of image for screen-reader" that
# files.getUploadURLExternal takes (at most 1,000 characters: longer is `alt_txt_too_large`).
# https://api.slack.com/methods/files.getUploadURLExternal
MAX_ALT_TEXT = 1000
