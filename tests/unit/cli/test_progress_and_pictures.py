"""Piped progress (rejected plans, what a pause waits for, plurals, no empty last round) and
the plan picture's arrows, which never run behind a box they skip."""

from __future__ import annotations

import io
import itertools
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from orchestrator.cli.progress import ProgressPrinter, plural
from orchestrator.report.image import draw_plan
from orchestrator.report.model import build_report
from tests.unit.report.support import result, task, values

PAUSE = {
    "event": "approval_needed",
    "round": 3,
    "task_ids": ["book-flight-1"],
    "items": [{"task_id": "book-flight-1", "label": "flight AA979 SFO->JFK", "price": 1066.0}],
    "total": 1066.0,
    "budget": 7000.0,
}


def printed(*events: dict[str, Any]) -> str:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for event in events:
        printer(event)
    return out.getvalue()


def test_a_rejected_plan_update_is_printed_with_its_reasons() -> None:
    text = printed(
        {"event": "round_started", "round": 2},
        {"event": "plan_rejected", "round": 2, "errors": ["unknown worker 'x'", "cycle a -> b"]},
    )

    assert text == "round 2\n  plan rejected: unknown worker 'x'; cycle a -> b\n"


def test_a_pause_lists_its_items_with_prices_and_the_total() -> None:
    text = printed({"event": "round_started", "round": 3}, PAUSE)

    assert text.splitlines() == [
        "round 3",
        "  approval needed for 1 item:",
        "    1. flight AA979 SFO->JFK  $1,066.00",
        "    total $1,066.00 (budget $7,000.00)",
    ]


def test_a_round_with_nothing_in_it_leaves_no_empty_header() -> None:
    text = printed(
        {"event": "round_started", "round": 4},
        {"event": "task_dispatched", "round": 4, "task_id": "a", "worker": "w"},
        {"event": "round_started", "round": 5},
        {"event": "run_finished", "status": "completed", "reason": "done"},
    )

    assert "round 5" not in text
    assert text.splitlines() == ["round 4", "  -> a (w)", "finished: completed - done"]


def test_plurals() -> None:
    assert [plural(1, "car"), plural(2, "car"), plural(0, "item")] == ["1 car", "2 cars", "0 items"]


def _inside(point: tuple[float, float], box: FancyBboxPatch) -> bool:
    x, y = point
    return bool(
        box.get_x() + 0.05 < x < box.get_x() + box.get_width() - 0.05
        and box.get_y() + 0.05 < y < box.get_y() + box.get_height() - 0.05
    )


def test_a_dependency_that_skips_a_column_goes_around_the_boxes_between() -> None:
    tasks = [
        task("a", round=1),
        task("b1", round=2),
        task("b2", round=2),
        task("b3", round=2),
        task("c", round=3, deps=["a"]),
    ]
    results = [result(t["id"], 0.1 * t["round"], 0.1 * t["round"] + 0.05) for t in tasks]
    report = build_report(values(tasks, results, rounds=4), thread_id="t")
    ax = Figure().add_subplot()

    draw_plan(ax, report)

    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    routed = [
        p for p in ax.patches if isinstance(p, FancyArrowPatch) and p._path_original is not None
    ]
    assert len(routed) == 1, "the a -> c arrow is routed"
    vertices = [tuple(v) for v in routed[0]._path_original.vertices]
    samples = [
        (x0 + (x1 - x0) * k / 20, y0 + (y1 - y0) * k / 20)
        for (x0, y0), (x1, y1) in itertools.pairwise(vertices)
        for k in range(21)
    ]
    crossed = [b for b in boxes for point in samples if _inside(point, b)]
    assert crossed == []
