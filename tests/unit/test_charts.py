"""Charts: PNGs at Slack's preview size, colour-blind-safe, with no overlapping labels."""

from __future__ import annotations

import struct
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from matplotlib.colors import to_hex

from bot import charts
from bot.domain import OutcomeEvent, OutcomeKind


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def text_boxes(figure: Any) -> list[Any]:
    """Window boxes of every visible, non-empty text the renderer drew (labels, notes, ticks)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = []
    for text in figure.findobj(lambda artist: hasattr(artist, "get_text")):
        if text.get_visible() and text.get_text().strip() and text.get_figure() is not None:
            boxes.append((text.get_text(), text.get_window_extent(renderer)))
    return boxes


def overlapping_pairs(boxes: list[Any]) -> list[tuple[str, str]]:
    pairs = []
    for i, (first_text, first) in enumerate(boxes):
        for second_text, second in boxes[i + 1 :]:
            if first.overlaps(second) and first_text != second_text:
                pairs.append((first_text, second_text))
    return pairs


def crowded_points() -> list[charts.QuadrantPoint]:
    # Twenty-five reps, many bunched at the same spot: the worst case for labels.
    return [
        charts.QuadrantPoint(f"Rep number {i}", 0.6 + 0.01 * (i % 5), 0.9 + 0.02 * (i % 4))
        for i in range(25)
    ]


def test_every_chart_is_a_1200_by_800_png() -> None:
    events = [
        OutcomeEvent(
            OutcomeKind.LOSS if i % 3 else OutcomeKind.WIN,
            datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=i),
        )
        for i in range(20)
    ]
    for png in (
        charts.quadrant_chart(crowded_points(), 0.8),
        charts.pareto_chart([("Price", 5), ("Timing", 2)]),
        charts.timeline_chart(events),
        charts.quadrant_chart([], 0.8),
        charts.pareto_chart([]),
        charts.timeline_chart([]),
    ):
        assert png_size(png) == (1200, 800)


def test_quadrant_labels_never_overlap_and_crowded_points_are_counted() -> None:
    figure = charts.quadrant_figure(crowded_points(), 0.8)
    boxes = text_boxes(figure)
    labels = [text for text, _ in boxes if text.startswith("Rep number")]
    assert 3 <= len(labels) <= charts.MAX_POINT_LABELS
    assert overlapping_pairs(boxes) == []
    for corner in ("System hit", "Lucky hit", "System miss", "Perfect miss"):
        assert corner in [text for text, _ in boxes]
    footnote = next(text for text, _ in boxes if "not labelled" in text)
    assert str(25 - len(labels)) in footnote


def test_pareto_sorts_folds_and_keeps_tick_labels_apart() -> None:
    counts = [(f"A rather long loss reason {i}", i + 1) for i in range(12)]
    bars = charts.pareto_bars(counts)
    assert len(bars) == charts.MAX_PARETO_BARS
    assert bars[0] == ("A rather long loss reason 11", 12)
    assert bars[-1][0] == "Other" and bars[-1][1] == sum(range(1, 6))
    figure = charts.pareto_figure(counts)
    assert overlapping_pairs(text_boxes(figure)) == []


def test_vital_few_are_the_reasons_behind_eighty_percent() -> None:
    counts = [("Timing", 3), ("Price", 12), ("Competitor", 8), ("Budget", 2)]
    assert charts.vital_few(counts) == ["Price", "Competitor"]
    assert charts.vital_few([]) == []


def test_timeline_marks_bounce_backs_without_overlap() -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    events = [
        OutcomeEvent(OutcomeKind.LOSS if i % 2 else OutcomeKind.WIN, start + timedelta(days=i))
        for i in range(50)
    ]
    figure = charts.timeline_figure(events)
    boxes = text_boxes(figure)
    assert overlapping_pairs(boxes) == []
    assert any(text.startswith("back in 1 day") for text, _ in boxes)


def test_palette_is_okabe_ito() -> None:
    assert set(charts.QUADRANT_COLOURS.values()) <= set(charts.OKABE_ITO.values())
    assert charts.OKABE_ITO["vermillion"] == "#D55E00"


def test_charts_render_in_parallel_threads() -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def draw() -> None:
        try:
            results.append(charts.quadrant_chart(crowded_points(), 0.7))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 4 and all(png_size(png) == (1200, 800) for png in results)


def test_pareto_axes_share_one_scale() -> None:
    counts = [("Price", 5), ("Timing", 2), ("Budget", 1)]
    figure = charts.pareto_figure(counts)
    figure.canvas.draw()
    losses, share = figure.axes
    total = sum(count for _, count in counts)
    # All the losses on the left sit level with 100% on the right ...
    _, all_losses = losses.transData.transform((0, total))
    _, hundred = share.transData.transform((0, 1.0))
    assert all_losses == pytest.approx(hundred, abs=0.5)
    # ... so the cumulative line starts on the top of the first bar (5 of 8 = 62.5%).
    _, first_bar = losses.transData.transform((0, 5))
    _, first_point = share.transData.transform((0, share.lines[0].get_ydata()[0]))
    assert first_bar == pytest.approx(first_point, abs=0.5)


@pytest.mark.parametrize(
    "counts",
    [
        [("Price", 5), ("Timing", 2)],
        [(f"A rather long loss reason {i}", i + 1) for i in range(12)],
    ],
)
def test_pareto_leaves_no_empty_band_under_its_labels(counts: list[tuple[str, int]]) -> None:
    figure = charts.pareto_figure(counts)
    renderer = _drawn(figure)
    losses = figure.axes[0]
    lowest_label = min(label.get_window_extent(renderer).y0 for label in losses.get_xticklabels())
    footnote = next(text for text in figure.texts if "losses" in text.get_text())
    gap = lowest_label - footnote.get_window_extent(renderer).y1
    assert 0 < gap <= 2 * charts.LABEL_GAP_PX


def test_reps_without_process_evidence_are_hollow_not_zero() -> None:
    points = [
        charts.QuadrantPoint("Ana", 0.9, 1.2),
        charts.QuadrantPoint("Ben", None, 0.4),
        charts.QuadrantPoint("Di", 0.0, 0.5),
    ]
    figure = charts.quadrant_figure(points, 0.8)
    renderer = _drawn(figure)
    axes = figure.axes[0]
    filled, hollow = [], []
    for collection in axes.collections:
        faces = collection.get_facecolors()
        for x, _ in collection.get_offsets():
            (hollow if len(faces) == 0 or faces[0][3] == 0 else filled).append(float(x))
    assert hollow == [charts.NO_EVIDENCE_X] and hollow[0] < 0
    assert sorted(filled) == [0.0, 0.9]  # Di really scored 0%: a filled dot at 0%
    notes = " ".join(" ".join(text.get_text().split()) for text in figure.texts)
    assert "Hollow dots" in notes and "no process evidence" in notes
    assert overlapping_pairs(text_boxes(figure)) == []
    assert renderer is not None
    assert png_size(charts.render_png(figure)) == (1200, 800)


def _drawn(figure: Any) -> Any:
    figure.canvas.draw()
    return figure.canvas.get_renderer()


# --- alt text (files.getUploadURLExternal alt_txt, at most 1,000 characters) -------------------


def test_quadrant_alt_text_counts_and_names_each_rep() -> None:
    points = [
        charts.QuadrantPoint("Leo", 0.9, 1.2),
        charts.QuadrantPoint("Ana", None, 0.5),
        charts.QuadrantPoint("Kai", 0.4, 1.0),
    ]
    text = charts.quadrant_alt_text(points, 0.8, whose="Maya's team")
    assert text.startswith(
        "Quadrant chart of Maya's team: 3 reps, 2 at or above goal, 1 with a strong process"
    )
    assert "Leo: 120% of goal, process 90%; Ana: 50% of goal, no process evidence" in text
    many = [charts.QuadrantPoint(f"Rep number {i}", 0.5, 0.5) for i in range(200)]
    long = charts.quadrant_alt_text(many, 0.8, whose="a big team")
    assert len(long) <= charts.MAX_ALT_TEXT and long.endswith("…")
    assert "1 rep," in charts.quadrant_alt_text(points[:1], 0.8, whose="x")


def test_pareto_and_timeline_alt_text() -> None:
    text = charts.pareto_alt_text([("Price", 4), ("Timing", 1)], days=90)
    assert text == (
        "Pareto chart of loss reasons over the last 90 days, 5 losses: Price 4 (80%); "
        "Timing 1 (20%). The few reasons behind most losses: Price. "
        "In our control: 0 of 5 (0%). Outside our control: 5."
    )
    assert "no losses logged in the last 1 day." in charts.pareto_alt_text([], days=1)
    now = datetime.now(UTC)
    history = [
        OutcomeEvent(OutcomeKind.LOSS, now - timedelta(days=3)),
        OutcomeEvent(OutcomeKind.LOSS, now - timedelta(days=2)),
        OutcomeEvent(OutcomeKind.WIN, now - timedelta(days=1)),
    ]
    text = charts.timeline_alt_text(history, whose="Leo's")
    assert text.startswith("Bounce-back timeline of Leo's last 3 outcomes: 1 win, 2 losses, ")
    assert "last outcome: 1 win, 0 losses, 0 bounce-backs" in charts.timeline_alt_text(
        history[-1:], whose="your"
    )
    assert "no wins or losses logged yet" in charts.timeline_alt_text([], whose="your")


def test_pareto_bars_show_what_was_in_our_control_apart() -> None:
    counts = [("Follow-up slipped", 3), ("Price", 2), ("Not sure yet", 1)]
    figure = charts.pareto_figure(counts)
    axes = figure.axes[0]
    colours = [to_hex(patch.get_facecolor()) for patch in axes.patches]
    assert colours == [
        to_hex(charts.CONTROL_COLOURS[True]),
        to_hex(charts.CONTROL_COLOURS[False]),
        to_hex(charts.CONTROL_COLOURS[None]),
    ]
    footnote = " ".join(text.get_text() for text in figure.texts).replace("\n", " ")
    assert "Dark bars: in our control (3); light: outside it (2); grey: can't say yet (1)." in (
        footnote
    )
    alt = charts.pareto_alt_text(counts, days=90)
    assert alt.endswith("In our control: 3 of 6 (50%). Outside our control: 2. Can't say yet: 1.")
