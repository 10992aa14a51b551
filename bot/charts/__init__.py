"""PNG charts for managers: the quadrant scatter, the Pareto of loss reasons, bounce-backs.

Rendered headless with matplotlib's Agg canvas on a `Figure` of its own (never pyplot's global
state: charts render on Bolt's worker threads). Sized for Slack's preview: 1200×800 px at
150 dpi, large type, the colour-blind-safe Okabe-Ito palette. Point labels are placed one by one
at the first offset whose box (measured by the renderer) overlaps nothing already drawn; a
label that fits nowhere is left out and counted in a footnote instead of drawn over another.

`*_figure()` builds the figure (tests measure its text boxes); `render_png()` makes the bytes.
Each chart is a module of its own, with its alt text (quadrant, pareto, timeline); what they
share is in canvas. This package's names are the ones callers use (`from bot import charts`).
"""

from bot.charts.canvas import (
    MAX_ALT_TEXT,
    MAX_POINT_LABELS,
    OKABE_ITO,
    place_labels,
    render_png,
)
from bot.charts.pareto import (
    CONTROL_COLOURS,
    LABEL_GAP_PX,
    pareto_alt_text,
    pareto_chart,
    pareto_figure,
)
from bot.charts.quadrant import (
    ATTAINMENT_AXIS_MAX,
    MIN_ATTAINMENT_SPAN,
    NO_EVIDENCE_X,
    QUADRANT_COLOURS,
    QuadrantPoint,
    attainment_axis,
    quadrant_alt_text,
    quadrant_chart,
    quadrant_figure,
)
from bot.charts.timeline import timeline_alt_text, timeline_chart, timeline_figure
from bot.domain.pareto import MAX_PARETO_BARS, pareto_bars, vital_few

__all__ = [
    "ATTAINMENT_AXIS_MAX",
    "CONTROL_COLOURS",
    "LABEL_GAP_PX",
    "MAX_ALT_TEXT",
    "MAX_PARETO_BARS",
    "MAX_POINT_LABELS",
    "MIN_ATTAINMENT_SPAN",
    "NO_EVIDENCE_X",
    "OKABE_ITO",
    "QUADRANT_COLOURS",
    "QuadrantPoint",
    "attainment_axis",
    "pareto_alt_text",
    "pareto_bars",
    "pareto_chart",
    "pareto_figure",
    "place_labels",
    "quadrant_alt_text",
    "quadrant_chart",
    "quadrant_figure",
    "render_png",
    "timeline_alt_text",
    "timeline_chart",
    "timeline_figure",
    "vital_few",
]
