"""The report as text: a header, the plan as a tree, the timeline as a table, and the totals.

Built from rich renderables, so a terminal gets colours and a pipe gets plain text (rich drops
the styling when its output is not a terminal).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from orchestrator.report.cost import cost_table
from orchestrator.report.model import Attempt, RunReport, Step, TaskNode

BAR_WIDTH = 32

STATUS_MARK = {
    "done": ("✓", "green"),
    "failed": ("✗", "red"),
    "cancelled": ("-", "dim"),
    "pending": ("·", "yellow"),
    "running": ("▶", "yellow"),
}
RUN_STYLE = {
    "completed": "bold green",
    "partial": "bold yellow",
    "failed": "bold red",
    "awaiting_approval": "bold magenta",
    "running": "bold yellow",
}
STEP_LABEL = {"plan": "plan", "approval": "approval", "synthesize": "synthesize"}
STEP_STYLE = {"plan": "blue", "approval": "magenta", "synthesize": "cyan"}


def seconds(value: float | None) -> str:
    """A duration for people: `12 ms`, `3.40 s`, `2m 05s`."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, rest = divmod(value, 60)
    return f"{minutes:.0f}m {rest:02.0f}s"


def header(report: RunReport) -> RenderableType:
    title = Text.assemble(
        ("Run ", "bold"),
        (report.thread_id or "(no thread)", "bold"),
        "  ",
        (report.status.upper(), RUN_STYLE.get(report.status, "bold")),
    )
    lines = [title, Text(f"Goal: {report.goal}")]
    if report.reason:
        lines.append(Text(f"Why:  {report.reason}"))
    if report.planner_said:
        # Attributed: the status and "Why" above are the verifier's verdict.
        lines.append(Text(f"The planner said: {report.planner_said}"))
    return Group(*lines)


def _task_line(task: TaskNode) -> Text:
    mark, style = STATUS_MARK.get(task.status, ("?", ""))
    line = Text.assemble(
        (f"{mark} ", style),
        (task.id, "bold"),
        "  ",
        (task.worker, "cyan"),
        "  ",
        (task.status, style),
    )
    if task.seconds is not None:
        line.append(f"  {seconds(task.seconds)}")
    if task.attempts > 1:
        line.append(f"  {task.attempts} attempts", "yellow")
    if task.depends_on:
        line.append(f"  after {', '.join(task.depends_on)}", "dim")
    if task.critical:
        line.append("  ◆ critical path", "bold red")
    return line


def plan_tree(report: RunReport) -> Tree:
    """The plan: tasks grouped by the round that added them, with the round's decisions."""
    tree = Tree(
        Text(f"Plan: {len(report.tasks)} tasks in {report.totals.rounds} rounds", "bold"),
        guide_style="dim",
    )
    for summary in report.rounds:
        label = Text(f"round {summary.round}", "bold blue")
        details = [f"{len(summary.added)} added"] if summary.added else []
        if summary.dispatched:
            details.append(f"{len(summary.dispatched)} dispatched")
        if summary.planning_s is not None:
            details.append(f"planned in {seconds(summary.planning_s)}")
        if summary.tokens:
            details.append(f"{summary.tokens:,} tokens")
        if details:
            label.append("  " + " · ".join(details), "dim")
        branch = tree.add(label)
        for decision in summary.decisions:
            branch.add(Text.assemble(("» ", "dim"), (decision, "italic")))
        for task in report.tasks:
            if task.round == summary.round:
                branch.add(_task_line(task))
    return tree


def _bar(start: float, end: float | None, wall: float, style: str, width: int = BAR_WIDTH) -> Text:
    scale = width / wall if wall > 0 else 0.0
    first = min(width - 1, int(start * scale))
    last = width if end is None else max(first + 1, min(width, math.ceil(end * scale)))
    return Text.assemble(" " * first, ("█" * (last - first), style), " " * (width - last))


MIN_BAR_WIDTH = 6
"""Narrower than this, the timeline drops its bars rather than cut an id, a worker or a time."""


def _attempt_style(attempt: Attempt) -> str:
    if attempt.ok is None:
        return "yellow"
    if not attempt.ok:
        return "red"
    return "bold red" if attempt.critical else "green"


def timeline_table(report: RunReport, width: int | None = None) -> Table:
    """Every orchestrator step and task attempt, in start order, with a bar on a shared scale.

    `width` (the console's): the bars take what the columns leave, so ids, workers and times are
    never cut; below `MIN_BAR_WIDTH` the bars are left out."""
    wall = report.totals.wall_s
    rows: list[tuple[float, int, Step | Attempt]] = [
        (s.start, 0, s) for s in report.steps if s.kind in STEP_LABEL
    ]
    rows.extend((a.start, 1, a) for a in report.attempts)
    cells = [_timeline_cells(item) for _s, _o, item in sorted(rows, key=lambda r: (r[0], r[1]))]
    headers = ["round", "what", "worker / node", "start", "end", "time"]
    bar_width = BAR_WIDTH
    if width is not None:
        columns = [max([len(h), *(c[i].cell_len for c, _ in cells)]) for i, h in enumerate(headers)]
        # Each column is padded by one space on each side, except the table's outer edges.
        bar_width = min(BAR_WIDTH, width - sum(columns) - 2 * len(columns) - 1)
    table = Table(
        title="Timeline (0 = run start; ◆ = critical path)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name, justify in [("round", "right"), ("what", "left"), ("worker / node", "left")]:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for name in ("start", "end", "time"):
        table.add_column(name, justify="right", no_wrap=True)
    with_bars = bar_width >= MIN_BAR_WIDTH
    if with_bars:
        table.add_column("", no_wrap=True)
    for row, (item, style) in cells:
        bar = [_bar(item.start, item.end, wall, style, bar_width)] if with_bars else []
        table.add_row(*row, *bar)
    return table


def _timeline_cells(item: Step | Attempt) -> tuple[list[Text], tuple[Step | Attempt, str]]:
    """A timeline row's text cells, and what its bar needs."""
    if isinstance(item, Step):
        style = STEP_STYLE[item.kind]
        cells = [
            Text(str(item.round)),
            Text(STEP_LABEL[item.kind], style),
            Text(", ".join(sorted(set(item.nodes))), "dim"),
            Text(seconds(item.start)),
            Text(seconds(item.end) if item.end is not None else "open"),
            Text(seconds(item.seconds)),
        ]
        return cells, (item, style)
    label = Text(item.task_id, "bold" if item.critical else "")
    if item.attempt > 1:
        label.append(f" #{item.attempt}", "yellow")
    if item.critical:
        label.append(" ◆", "bold red")
    if item.ok is False:
        label.append(" failed", "red")
    cells = [
        Text(str(item.round)),
        label,
        Text(item.worker, "cyan"),
        Text(seconds(item.start)),
        Text(seconds(item.end) if item.end is not None else "running"),
        Text(seconds(item.seconds)),
    ]
    return cells, (item, _attempt_style(item))


def totals_table(report: RunReport) -> Table:
    t = report.totals
    table = Table(title="Totals", title_justify="left", box=None, show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(t.by_status.items()))
    table.add_row("tasks", f"{t.tasks} ({statuses or 'none'}), {t.attempts} attempts")
    table.add_row("rounds", str(t.rounds))
    table.add_row("wall time", seconds(t.wall_s))
    table.add_row("worker time", f"{seconds(t.worker_s)} summed over attempts")
    if t.planning_s is not None:
        table.add_row("planning", f"{seconds(t.planning_s)} in the orchestrator node")
    if t.approval_wait_s:
        table.add_row("approval", f"{seconds(t.approval_wait_s)} waiting for a decision")
    ratio = f"; worker time / wall time {t.worker_s / t.wall_s:.1f}" if t.wall_s > 0 else ""
    table.add_row("parallelism", f"up to {t.max_parallel} tasks at once{ratio}")
    path = " → ".join(_path_names(report.critical_path)) or "-"
    table.add_row("critical path", f"{seconds(t.critical_path_s)} of worker time: {path}")
    u = report.usage
    if u.calls:
        cost = f", ${u.cost_usd:,.4f}" if u.cost_usd is not None else ", cost unknown"
        table.add_row(
            "tokens",
            f"{u.tokens:,} ({u.prompt_tokens:,} prompt + {u.completion_tokens:,} completion) "
            f"in {u.calls} model call(s){cost}",
        )
    else:
        table.add_row("tokens", "none (no model was called)")
    return table


def _path_names(keys: Sequence[str]) -> list[str]:
    """`task#1` as `task`, a retry `task#2` as `task #2`."""
    names = []
    for key in keys:
        task_id, attempt = key.rsplit("#", 1)
        names.append(task_id if attempt == "1" else f"{task_id} #{attempt}")
    return names


def renderables(report: RunReport, width: int | None = None) -> list[RenderableType]:
    """The whole report, in order; print them one after the other (or display them in Jupyter).
    `width`: the console's, which the timeline fits."""
    blank = Text("")
    parts: list[RenderableType] = [
        header(report),
        blank,
        plan_tree(report),
        blank,
        timeline_table(report, width),
        totals_table(report),
    ]
    if report.cost is not None and report.cost.total.calls:
        parts += [blank, cost_table(report.cost)]
    return parts


def print_report(report: RunReport, console: Console) -> None:
    for part in renderables(report, console.width):
        console.print(part)
