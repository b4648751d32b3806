"""The live view, `show`'s timeline, `history` and `runs` at 80 and 120 columns: task and
checkpoint ids, workers, states and times are never cut; the summary (or the bars) shrink."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from orchestrator.cli.history_cmd import format_history
from orchestrator.cli.live import LiveProgress
from orchestrator.cli.runs_cmd import RunRow, format_runs
from orchestrator.history import HistoryEntry
from orchestrator.report.model import build_report
from orchestrator.report.text import print_report
from tests.unit.report.support import result, task, values

WIDTHS = [80, 120]
LONG_IDS = ["book-hotel-2-alternative-3", "search-flights-leg-12", "cars-2"]
WORKERS = ["book", "search_flights", "search_cars"]
SUMMARY = "booked hotel HT-FTVG6Y $628 (confirmed), a long summary " * 3


def console(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, color_system=None, force_terminal=False), out


@pytest.mark.parametrize("width", WIDTHS)
def test_the_live_view_keeps_ids_workers_and_states_whole(width: int) -> None:
    term, out = console(width)
    view = LiveProgress(term)
    view({"event": "round_started", "round": 4})
    for task_id, worker in zip(LONG_IDS, WORKERS, strict=True):
        view({"event": "task_dispatched", "round": 4, "task_id": task_id, "worker": worker})
        view(
            {
                "event": "task_done",
                "round": 4,
                "task_id": task_id,
                "worker": worker,
                "seconds": 12.5,
                "summary": SUMMARY,
            }
        )
    view({"event": "round_started", "round": 5})  # prints round 4 for good

    lines = out.getvalue().splitlines()
    for task_id, worker in zip(LONG_IDS, WORKERS, strict=True):
        (row,) = [line for line in lines if f" {task_id} " in line]
        assert re.search(rf"{task_id}\s+{worker}\s+done\s+12\.\d+ s", row), row
        assert "booked hotel" in row
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_timeline_keeps_ids_workers_and_times_whole(width: int) -> None:
    tasks = [task(t, round=1, worker=w) for t, w in zip(LONG_IDS, WORKERS, strict=True)]
    results = [
        result(t, 0.01 * n, 0.5 + n, worker=w)
        for n, (t, w) in enumerate(zip(LONG_IDS, WORKERS, strict=True))
    ]
    report = build_report(values(tasks, results, rounds=2), thread_id="t-80")
    term, out = console(width)

    print_report(report, term)

    text = out.getvalue()
    timeline = text[text.index("Timeline") : text.index("Totals")].splitlines()
    for task_id, worker in zip(LONG_IDS, WORKERS, strict=True):
        (row,) = [line for line in timeline if f" {task_id}" in line]
        assert re.search(rf"{task_id}( ◆)?\s+{worker}\s+\d", row), row
    assert all(len(line.rstrip()) <= width for line in timeline)
    if width >= 120:
        assert "█" in "".join(timeline), "with room to spare the bars are drawn"


def entry(n: int, ran: list[str], decisions: list[str]) -> HistoryEntry:
    return HistoryEntry(
        checkpoint_id=f"1f1ecdc9-da41-6dae-800{n}-80871d5849de",
        step=n,
        source="loop",
        ran=ran,
        next=[],
        round=n,
        status="awaiting_approval",
        dispatched=["flights-1", "flights-2"],
        decisions=decisions,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_history_keeps_checkpoint_ids_and_status_whole(width: int) -> None:
    entries = [
        entry(1, ["orchestrate"], ["a decision " * 20]),
        entry(2, ["search_cars", "search_hotels", "search_flights"], []),
    ]

    lines = format_history(entries, width)

    for e in entries:
        (row,) = [line for line in lines if line.startswith(e.checkpoint_id)]
        assert re.match(rf"{e.checkpoint_id}\s+{e.step}\s+{e.round}\s+awaiting_approval", row)
    assert "search_cars, search_flights, search_hotels" in "\n".join(lines)
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_runs_keeps_thread_status_and_start_whole(width: int) -> None:
    rows = [
        RunRow(
            "demo-989b6965-fork-8aefc0", "awaiting_approval", "2026-11-30 16:40", "x" * 90, 0, 0.0
        ),
        RunRow("t1", "completed", None, "goal", 1234, None),
    ]

    lines = format_runs(rows, width)

    assert lines.splitlines()[1].startswith(
        "demo-989b6965-fork-8aefc0  awaiting_approval  2026-11-30 16:40  $0.00"
    )
    assert "t1" in lines and "1,234 tok" in lines and "goal" in lines
    assert all(len(line) <= width for line in lines.splitlines())
