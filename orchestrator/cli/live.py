"""The live view of a run in a terminal: each round, its re-plan reasons, and its tasks ticking.

The round being worked on redraws in place (rich `Live`, on stderr); a finished round is printed
once, for good, above it. When a run pauses for approval the live area stops so the question can
be asked, and starts again when the run goes on. Not a terminal (a pipe, a log file, CI) or
`--json`: `progress_view` gives the plain line printer instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from orchestrator.cli.progress import ProgressPrinter, approval_lines
from orchestrator.report.text import RUN_STYLE, seconds
from orchestrator.runner import EventSink


@dataclass
class TaskRow:
    task_id: str
    worker: str
    state: str = "running"
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    summary: str = ""
    attempt: int = 1


@dataclass
class RoundView:
    round: int
    title: str = ""
    notes: list[Text] = field(default_factory=list)
    tasks: dict[str, TaskRow] = field(default_factory=dict)


STATE_STYLE = {"done": "green", "failed": "red", "running": "yellow"}


class LiveProgress:
    """An `EventSink` that draws the run as it happens. Use it as a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.current: RoundView | None = None
        self.live: Live | None = None

    def __enter__(self) -> LiveProgress:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._flush()
        self._stop()

    def _start(self) -> None:
        if self.live is None:
            self.live = Live(
                console=self.console,
                get_renderable=self._renderable,
                refresh_per_second=8,
                transient=True,
            )
            self.live.start()

    def _stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _renderable(self) -> RenderableType:
        return self.render(self.current, live=True) if self.current else Text("")

    def _flush(self) -> None:
        """Prints the current round for good (above the live area) and forgets it."""
        view, self.current = self.current, None
        if view is not None and (view.tasks or view.notes or view.title):
            self.console.print(self.render(view, live=False))

    def _round(self, round_no: int) -> RoundView:
        if self.current is None:
            self.current = RoundView(round=round_no)
        return self.current

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        round_no = int(event.get("round") or 0)
        if name == "round_started":
            self._flush()
            self.current = RoundView(round=round_no)
        elif name == "plan_changed":
            view = self._round(round_no)
            view.notes.extend(Text.assemble(("» ", "dim"), (r, "italic")) for r in event["reasons"])
            if event.get("cancelled"):
                view.notes.append(Text(f"» cancelled {', '.join(event['cancelled'])}", "dim"))
        elif name == "plan_rejected":
            errors = "; ".join(event.get("errors") or [])
            self._round(round_no).notes.append(Text(f"✗ plan update rejected: {errors}", "red"))
        elif name == "task_dispatched":
            view = self._round(round_no)
            view.tasks[event["task_id"]] = TaskRow(event["task_id"], event["worker"])
        elif name in ("task_done", "task_failed"):
            view = self._round(round_no)
            row = view.tasks.get(event["task_id"]) or TaskRow(event["task_id"], event["worker"])
            view.tasks[row.task_id] = row
            row.state = "done" if name == "task_done" else "failed"
            row.seconds = float(event.get("seconds") or 0.0)
            row.summary = str(event.get("summary") or "")
            row.attempt = int(event.get("attempt") or 1)
        elif name == "approval_needed":
            first, *items = approval_lines(event)
            notes = self._round(round_no).notes
            notes.append(Text(f"⏸ {first.strip()}", "bold magenta"))
            notes.extend(Text(line, "magenta") for line in items)
            self._flush()
            self._stop()  # the approver asks on this terminal next
        elif name == "approval_given":
            self._start()
            self.current = RoundView(
                round=round_no, title=f"approval: {event.get('decision', '?')}"
            )
        elif name == "run_finished":
            self._flush()
            status = str(event.get("status", ""))
            self.console.print(
                Text.assemble(
                    ("finished: ", "bold"),
                    (status, RUN_STYLE.get(status, "bold")),
                    f" - {event.get('reason', '')}",
                )
            )
        if self.live is not None:
            self.live.refresh()

    def render(self, view: RoundView, *, live: bool) -> RenderableType:
        title = Text(f"round {view.round}", "bold blue")
        if view.title:
            title.append(f"  {view.title}", "magenta")
        # The refresh thread renders while events arrive: work on copies.
        rows = list(view.tasks.values())
        parts: list[RenderableType] = [title, *list(view.notes)]
        if rows:
            now = time.monotonic()
            cells = []
            for row in rows:
                elapsed = row.seconds if row.seconds is not None else now - row.started
                label = row.task_id + (f" #{row.attempt}" if row.attempt > 1 else "")
                cells.append((row, label, seconds(elapsed)))
            # Id, worker, state and time in full; the summary gets what is left of the line.
            widths = [
                max(len(label) for _, label, _ in cells),
                max(len(r.worker) for r in rows),
                max(len(r.state) for r in rows),
                max(len(took) for _, _, took in cells),
            ]
            gaps = 2 * 5  # one space each side between six columns, none at the edges
            fixed = 2 + sum(widths) + gaps
            room = max(self.console.width - fixed, 0)
            table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
            table.add_column(width=2)
            table.add_column(no_wrap=True, style="bold")
            table.add_column(no_wrap=True, style="cyan")
            table.add_column(no_wrap=True)
            table.add_column(justify="right", no_wrap=True)
            table.add_column(overflow="ellipsis", no_wrap=True, style="dim", max_width=room)
            for row, label, took in cells:
                state: RenderableType
                if row.state == "running" and live:
                    state = Spinner("dots", style="yellow")
                else:
                    mark = {"done": "✓", "failed": "✗"}.get(row.state, "…")
                    state = Text(mark, STATE_STYLE.get(row.state, ""))
                table.add_row(
                    state,
                    label,
                    row.worker,
                    Text(row.state, STATE_STYLE.get(row.state, "")),
                    took,
                    row.summary if room else "",
                )
            parts.append(table)
        return Group(*parts)


@contextmanager
def progress_view(*, json_output: bool, stream: TextIO | None = None) -> Iterator[EventSink]:
    """The live view when `stream` (stderr) is a terminal and the output is not JSON, else the
    plain line printer."""
    out = stream or sys.stderr
    console = Console(file=out)
    if json_output or not console.is_terminal or console.is_dumb_terminal:
        yield ProgressPrinter(out)
        return
    with LiveProgress(console) as live:
        yield live
