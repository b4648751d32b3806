"""The CLI's live view: rounds, tasks with worker, state and time, re-plan reasons; and when the
plain line printer is used instead."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console

from orchestrator.cli.live import LiveProgress, progress_view
from orchestrator.cli.progress import ProgressPrinter

EVENTS: list[dict[str, Any]] = [
    {"event": "round_started", "round": 1},
    {"event": "plan_changed", "round": 1, "added": ["f1", "f2"], "cancelled": [],
     "retried": [], "reasons": ["search both legs in parallel"]},
    {"event": "task_dispatched", "round": 1, "task_id": "f1", "worker": "search_flights"},
    {"event": "task_dispatched", "round": 1, "task_id": "f2", "worker": "search_flights"},
    {"event": "task_done", "task_id": "f1", "worker": "search_flights", "attempt": 1,
     "seconds": 0.25, "summary": "4 flights, cheapest $533"},
    {"event": "task_failed", "task_id": "f2", "worker": "search_flights", "attempt": 1,
     "seconds": 1.5, "summary": "no seats"},
    {"event": "round_started", "round": 2},
    {"event": "plan_changed", "round": 2, "added": ["b1"], "cancelled": ["f3"], "retried": [],
     "reasons": ["f2 found nothing: book f1 only"]},
    {"event": "approval_needed", "round": 2, "task_ids": ["b1"]},
    {"event": "approval_given", "round": 2, "decision": "approve"},
    {"event": "task_dispatched", "round": 2, "task_id": "b1", "worker": "book"},
    {"event": "task_done", "task_id": "b1", "worker": "book", "attempt": 1, "seconds": 0.04,
     "summary": "booked FL-1"},
    {"event": "round_started", "round": 3},
    {"event": "run_finished", "round": 3, "status": "partial", "reason": "one leg had no seats"},
]  # fmt: skip


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def test_the_live_view_leaves_each_round_with_its_tasks_times_and_reasons() -> None:
    console, out = terminal()

    with LiveProgress(console) as view:
        for event in EVENTS:
            view(event)

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "round 1" in text and "» search both legs in parallel" in text
    assert re.search(r"✓\s+f1\s+search_flights\s+done\s+250 ms\s+4 flights, cheapest \$533", text)
    assert re.search(r"✗\s+f2\s+search_flights\s+failed\s+1.50 s\s+no seats", text)
    assert "» f2 found nothing: book f1 only" in text and "» cancelled f3" in text
    assert "⏸ approval needed for 1 item:" in text
    assert "round 2  approval: approve" in text
    assert re.search(r"✓\s+b1\s+book\s+done\s+40 ms\s+booked FL-1", text)
    assert "finished: partial - one leg had no seats" in text
    assert view.live is None, "stopped at the end"


def test_the_live_area_stops_while_approval_is_asked() -> None:
    console, _out = terminal()

    with LiveProgress(console) as view:
        for event in EVENTS[: EVENTS.index({"event": "approval_needed", "round": 2,
                                            "task_ids": ["b1"]}) + 1]:  # fmt: skip
            view(event)
        assert view.live is None, "the approver can use the terminal"
        view({"event": "approval_given", "round": 2, "decision": "approve"})
        assert view.live is not None


def test_a_running_task_shows_a_spinner_and_its_elapsed_time() -> None:
    console, _out = terminal()
    view = LiveProgress(console)
    view({"event": "round_started", "round": 1})
    view({"event": "task_dispatched", "round": 1, "task_id": "slow", "worker": "w"})

    assert view.current is not None
    live = io.StringIO()
    Console(file=live, width=80, color_system=None).print(view.render(view.current, live=True))

    assert re.search(r"slow\s+w\s+running\s+\d+ ms", live.getvalue())


def test_json_output_and_non_terminals_get_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    pipe = io.StringIO()
    with progress_view(json_output=False, stream=pipe) as sink:
        assert isinstance(sink, ProgressPrinter)
        sink(EVENTS[2])
    assert pipe.getvalue() == "  -> f1 (search_flights)\n"

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with progress_view(json_output=True, stream=Tty()) as sink:
        assert isinstance(sink, ProgressPrinter)
    with progress_view(json_output=False, stream=Tty()) as sink:
        assert isinstance(sink, LiveProgress)
