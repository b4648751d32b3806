"""The report as pictures, drawn with matplotlib (no network): the plan and the timeline.

Also draws the LangGraph structure itself from `graph.get_graph()`, because LangGraph's own
`draw_mermaid_png` sends the diagram to a web service.

Figures are built with `matplotlib.figure.Figure` directly, never through pyplot, so nothing here
picks a GUI backend or keeps global state: `save` writes PNG or SVG, and a notebook shows a
figure by displaying it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from langgraph.graph import END, START
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path as CurvePath

from orchestrator.report.mermaid import structure_graph
from orchestrator.report.model import Attempt, RunReport, Step, TaskNode
from orchestrator.report.text import seconds

FORMATS = ("png", "svg")

STATUS_FILL = {
    "done": "#d8f3dc",
    "failed": "#ffd6d6",
    "cancelled": "#eeeeee",
    "pending": "#fff3bf",
    "running": "#fff3bf",
}
STATUS_EDGE = {
    "done": "#2d6a4f",
    "failed": "#c1121f",
    "cancelled": "#999999",
    "pending": "#e0a800",
    "running": "#e0a800",
}
CRITICAL = "#d00000"
STEP_COLOR = {"plan": "#4361ee", "approval": "#b5179e", "synthesize": "#0096c7"}
WORKER_COLORS = [
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#b279a2",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#9d755d",
    "#bab0ac",
    "#ff9da6",
]

MAX_TASKS_PER_COLUMN = 14
"""More tasks than this in one round are drawn as the first ones and a '+N more' box."""
MAX_LABELLED_ROWS = 60
"""Up to this many attempts, the timeline has a labelled row each; beyond, attempts share lanes."""
MAX_ROWS_HIGH = 40
"""The timeline is sized for at most this many rows; more rows get thinner."""

_BOX_W, _BOX_H, _ROW, _COL = 2.3, 0.72, 0.95, 3.1


def worker_colors(workers: Iterable[str]) -> dict[str, str]:
    return {w: WORKER_COLORS[i % len(WORKER_COLORS)] for i, w in enumerate(sorted(set(workers)))}


def _box(ax: Any, x: float, y: float, text: str, *, fill: str, edge: str, width: float = 1.2,
         w: float = _BOX_W, h: float = _BOX_H, size: float = 8.0) -> FancyBboxPatch:  # fmt: skip
    patch = ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=fill,
            edgecolor=edge,
            linewidth=width,
            zorder=3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=4)
    return patch  # type: ignore[no-any-return]


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], *, style: str = "-",
           color: str = "#555555", rad: float = 0.0, width: float = 1.0) -> None:  # fmt: skip
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=10,
            linestyle=style,
            color=color,
            linewidth=width,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=2,
            shrinkB=2,
            zorder=2,
        )
    )


def _routed_arrow(ax: Any, points: Sequence[tuple[float, float]], *, color: str = "#333333",
                  width: float = 1.2) -> None:  # fmt: skip
    """An arrow along a polyline: for a dependency that skips columns, routed through the gaps
    between columns and a lane under them, so it never runs behind a box it does not join."""
    codes = [CurvePath.MOVETO] + [CurvePath.LINETO] * (len(points) - 1)
    ax.add_patch(
        FancyArrowPatch(
            path=CurvePath(list(points), codes),
            arrowstyle="-|>",
            mutation_scale=10,
            color=color,
            linewidth=width,
            zorder=2,
        )
    )


def _title(ax: Any, text: str, *, size: float = 10) -> None:
    """A title wrapped to the figure's width, never cut at its edge."""
    chars = max(40, int(ax.figure.get_figwidth() * 120 / size))
    ax.set_title(textwrap.fill(text, chars), fontsize=size, loc="left")


def _text_box_height(text: str) -> float:
    return max(1.4, 0.35 + 0.2 * (text.count("\n") + 1))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def draw_plan(ax: Any, report: RunReport) -> None:
    """The plan on `ax`: goal, one column per round (its tasks), outcome; dependency arrows."""
    columns: list[tuple[int, list[TaskNode]]] = []
    for summary in report.rounds:
        tasks = [t for t in report.tasks if t.round == summary.round]
        if tasks:
            columns.append((summary.round, tasks))
    rows = max((min(len(t), MAX_TASKS_PER_COLUMN + 1) for _r, t in columns), default=1)
    top = (rows - 1) * _ROW / 2
    where: dict[str, tuple[float, float]] = {}
    goal = "goal\n" + _wrap(report.goal, 26, 7)
    _box(ax, 0, 0, goal, fill="#e7e7ff", edge="#5a5acd", w=2.6, h=_text_box_height(goal), size=7.5)
    previous: tuple[float, float] | None = (1.3, 0)
    planning = {s.round: s.planning_s for s in report.rounds}
    for i, (round_no, tasks) in enumerate(columns, start=1):
        x = i * _COL
        shown = tasks if len(tasks) <= MAX_TASKS_PER_COLUMN + 1 else tasks[:MAX_TASKS_PER_COLUMN]
        height = (len(shown) - 1) * _ROW
        for j, task in enumerate(shown):
            y = height / 2 - j * _ROW
            where[task.id] = (x, y)
            detail = f"{task.worker} · {seconds(task.seconds)}"
            if task.attempts > 1:
                detail += f" · {task.attempts}x"
            _box(
                ax,
                x,
                y,
                f"{_short(task.id, 24)}\n{_short(detail, 30)}",
                fill=STATUS_FILL.get(task.status, "#ffffff"),
                edge=CRITICAL if task.critical else STATUS_EDGE.get(task.status, "#333333"),
                width=2.4 if task.critical else 1.0,
            )
        if len(shown) < len(tasks):
            y = height / 2 - len(shown) * _ROW
            _box(ax, x, y, f"+{len(tasks) - len(shown)} more", fill="#ffffff", edge="#999999")
        header = f"round {round_no}"
        if planning.get(round_no) is not None:
            header += f"\nplanned in {seconds(planning[round_no])}"
        ax.text(x, top + 0.75, header, ha="center", va="bottom", fontsize=9, weight="bold")
        if previous is not None:
            label = "plan" if i == 1 else "re-plan"
            target = (x - _BOX_W / 2 - 0.05, 0.0)
            _arrow(ax, previous, target, style="--", color="#5a5acd")
            # Beside the arrow (above it), on a white ground so a crossing line never hides it.
            mid = ((previous[0] + target[0]) / 2, 0.1)
            ax.text(*mid, label, ha="center", va="bottom", fontsize=7, color="#5a5acd", zorder=5,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})  # fmt: skip
        previous = (x + _BOX_W / 2 + 0.05, 0.0)
    end_x = (len(columns) + 1) * _COL
    outcome = f"{report.status.upper()}\n{_wrap(report.reason, 26, 7)}"
    _box(ax, end_x, 0, outcome, fill="#e7e7ff", edge="#5a5acd", w=2.6, h=_text_box_height(outcome),
         size=7.5)  # fmt: skip
    if previous is not None:
        _arrow(ax, previous, (end_x - 1.3, 0), style="--", color="#5a5acd")
    bottom = -top - _BOX_H / 2
    lanes = 0
    for task in report.tasks:
        for dep in task.depends_on:
            if dep in where and task.id in where:
                (x0, y0), (x1, y1) = where[dep], where[task.id]
                if x1 - x0 > 1.5 * _COL:
                    # Skips a column: out into the gap, down to a lane of its own under every
                    # box, along it, and up the gap before the target.
                    gap = min(0.2 + 0.07 * lanes, (_COL - _BOX_W) / 2 - 0.05)
                    lane = bottom - 0.25 - 0.16 * lanes
                    lanes += 1
                    out, into = x0 + _BOX_W / 2 + gap, x1 - _BOX_W / 2 - gap
                    start, end = (x0 + _BOX_W / 2, y0), (x1 - _BOX_W / 2, y1)
                    route = [start, (out, y0), (out, lane), (into, lane), (into, y1), end]
                    _routed_arrow(ax, route)
                    continue
                # Within one round: right side to right side, bowed out; else left to right.
                same = abs(x0 - x1) < 1e-6
                end = (x1 + (_BOX_W / 2 if same else -_BOX_W / 2), y1)
                _arrow(ax, (x0 + _BOX_W / 2, y0), end, color="#333333",
                       rad=-0.6 if same else 0.0, width=1.2)  # fmt: skip
    tallest = max(top + _BOX_H / 2, 0.75)
    ax.set_xlim(-1.6, end_x + 1.6)
    ax.set_ylim(min(-top - 0.9, bottom - 0.4 - 0.16 * lanes, -tallest), max(top + 1.5, tallest))
    ax.set_axis_off()
    _title(
        ax,
        f"Plan: {len(report.tasks)} tasks in {report.totals.rounds} rounds  (red outline = "
        "critical path; dashed = the orchestrator re-planning from results; solid = a task's "
        "depends_on)",
    )
    ax.legend(
        handles=[
            Patch(facecolor=STATUS_FILL[s], edgecolor=STATUS_EDGE[s], label=s)
            for s in ("done", "failed", "cancelled", "pending")
            if any(t.status == s for t in report.tasks) or s == "done"
        ],
        loc="lower left",
        fontsize=7,
        frameon=False,
        ncols=4,
    )


def _wrap(text: str, width: int, lines: int) -> str:
    words, out, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], _short(" ".join(out[lines - 1 :]), width)]
    return "\n".join(out)


def _lanes(attempts: Sequence[Attempt], wall: float) -> list[int]:
    """A lane per attempt so that attempts in one lane never overlap (greedy, in start order)."""
    lane_end: list[float] = []
    lanes = []
    for a in attempts:
        end = a.end if a.end is not None else wall
        for i, free_at in enumerate(lane_end):
            if free_at <= a.start:
                lane_end[i] = end
                lanes.append(i)
                break
        else:
            lane_end.append(end)
            lanes.append(len(lane_end) - 1)
    return lanes


def draw_timeline(ax: Any, report: RunReport) -> None:
    """A Gantt chart on `ax`: the orchestrator's steps on top, then every task attempt."""
    wall = report.totals.wall_s or 1e-3
    unit, scale = ("ms", 1000.0) if wall < 2 else ("s", 1.0)
    attempts = list(report.attempts)
    labelled = len(attempts) <= MAX_LABELLED_ROWS
    rows = list(range(len(attempts))) if labelled else _lanes(attempts, wall)
    n_rows = (max(rows) + 1 if rows else 0) + 1
    colors = worker_colors(a.worker for a in attempts)
    for k, summary in enumerate(report.rounds):
        if summary.start is None or summary.end is None:
            continue
        ax.axvspan(summary.start * scale, summary.end * scale,
                   color="#f1f3f5" if k % 2 == 0 else "#ffffff", zorder=0)  # fmt: skip
        ax.text((summary.start + summary.end) / 2 * scale, -0.95, f"r{summary.round}",
                ha="center", va="bottom", fontsize=7, color="#777777")  # fmt: skip
    steps: list[Step] = [s for s in report.steps if s.kind in STEP_COLOR]
    for step in steps:
        end = step.end if step.end is not None else wall
        ax.barh(0, max(end - step.start, wall / 2000) * scale, left=step.start * scale,
                height=0.6, color=STEP_COLOR[step.kind], zorder=2)  # fmt: skip
    for attempt, row in zip(attempts, rows, strict=True):
        end = attempt.end if attempt.end is not None else wall
        width = max(end - attempt.start, wall / 2000) * scale
        ax.barh(
            row + 1,
            width,
            left=attempt.start * scale,
            height=0.7,
            color=colors[attempt.worker],
            alpha=0.55 if attempt.ok is None else 1.0,
            hatch="///" if attempt.ok is False else None,
            edgecolor=CRITICAL if attempt.critical or attempt.ok is False else "none",
            linewidth=1.8 if attempt.critical else 0.8,
            zorder=3,
        )
    labels = ["orchestrator"]
    if labelled:
        labels += [
            f"{_short(a.task_id, 22)}{'' if a.attempt == 1 else f' #{a.attempt}'}"
            + (" ◆" if a.critical else "")
            for a in attempts
        ]
        ax.set_yticks(range(n_rows), labels, fontsize=7 if n_rows > 25 else 8)
    else:
        stride = max(1, (n_rows - 1) // 10)
        ticks = [0, *range(1, n_rows, stride)]
        ax.set_yticks(ticks, ["orchestrator", *(f"lane {t}" for t in ticks[1:])], fontsize=8)
    ax.set_ylim(n_rows - 0.4, -1.0)
    ax.set_xlim(0, wall * scale * 1.01)
    ax.set_xlabel(f"{unit} since the run started")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=1)
    ax.spines[["top", "right"]].set_visible(False)
    totals = report.totals
    ax.set_title(
        f"Timeline: {seconds(totals.wall_s)} wall, up to {totals.max_parallel} tasks at once, "
        f"critical path {seconds(totals.critical_path_s)} of worker time",
        fontsize=10,
        loc="left",
    )
    handles: list[Any] = [Patch(color=c, label=w) for w, c in colors.items()]
    handles += [Patch(color=STEP_COLOR[k], label=k) for k in STEP_COLOR
                if any(s.kind == k for s in steps)]  # fmt: skip
    handles.append(Line2D([], [], color=CRITICAL, linewidth=2, label="critical path"))
    if any(a.ok is False for a in attempts):
        handles.append(Patch(facecolor="white", edgecolor=CRITICAL, hatch="///", label="failed"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7,
              frameon=False)  # fmt: skip


def _plan_size(report: RunReport) -> tuple[float, float]:
    columns = len({t.round for t in report.tasks})
    rows = max(
        (sum(1 for t in report.tasks if t.round == r) for r in {t.round for t in report.tasks}),
        default=1,
    )
    return max(8.0, (columns + 2) * 2.0), 1.8 + min(rows, MAX_TASKS_PER_COLUMN + 1) * 0.55


def _timeline_height(report: RunReport) -> float:
    n = len(report.attempts)
    rows = n if n <= MAX_LABELLED_ROWS else max(_lanes(report.attempts, report.totals.wall_s)) + 1
    return 1.6 + min(rows + 1, MAX_ROWS_HIGH) * 0.26


def plan_figure(report: RunReport) -> Figure:
    width, height = _plan_size(report)
    fig = Figure(figsize=(width, height), layout="constrained")
    draw_plan(fig.add_subplot(), report)
    return fig


def timeline_figure(report: RunReport) -> Figure:
    width = max(8.0, _plan_size(report)[0])
    fig = Figure(figsize=(width, _timeline_height(report)), layout="constrained")
    draw_timeline(fig.add_subplot(), report)
    return fig


def report_figure(report: RunReport) -> Figure:
    """The plan above the timeline, in one figure (what `orchestrator show --out` writes)."""
    width, plan_h = _plan_size(report)
    time_h = _timeline_height(report)
    fig = Figure(figsize=(width, plan_h + time_h + 0.4), layout="constrained")
    plan_ax, time_ax = fig.subplots(2, 1, height_ratios=[plan_h, time_h])
    draw_plan(plan_ax, report)
    draw_timeline(time_ax, report)
    title = (
        f"{report.thread_id or 'run'}: {report.status}  ({report.totals.tasks} tasks, "
        f"{report.totals.rounds} rounds, {seconds(report.totals.wall_s)})"
    )
    fig.suptitle(textwrap.fill(title, int(width * 10)), fontsize=12, weight="bold")
    return fig


def _back_edges(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that close a loop (to a node still on the depth-first path from the start)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in edges:
        succ[source].append(target)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the path, 2: finished

    def visit(node: str) -> None:
        state[node] = 1
        for target in succ[node]:
            if state.get(target) == 1:
                back.add((node, target))
            elif target not in state:
                visit(target)
        state[node] = 2

    for root in [START, *nodes] if START in succ else nodes:
        if root not in state:
            visit(root)
    return back


def _layout(
    nodes: Sequence[str], forward: Sequence[tuple[str, str]], gap: float
) -> dict[str, tuple[float, float]]:
    """Layers by distance from the start; the widest layer evenly spaced, the others centred
    over their neighbours. Within a layer, the path to the end goes last (rightmost)."""
    depth = {nodes[0]: 0}
    frontier = [nodes[0]]
    while frontier:
        reached = []
        for source, target in forward:
            if source in frontier and target not in depth:
                depth[target] = depth[source] + 1
                reached.append(target)
        frontier = reached
    for node in nodes:
        depth.setdefault(node, max(depth.values()) + 1)
    ends = {s for s, t in forward if t == END}
    out_same = {s for s, t in forward if depth[s] == depth[t]}
    layers: dict[int, list[str]] = {}
    for node in sorted(nodes, key=lambda n: (n in ends, n in out_same, nodes.index(n))):
        layers.setdefault(depth[node], []).append(node)
    widest = max(layers, key=lambda k: len(layers[k]))
    x = {n: (i - (len(layers[widest]) - 1) / 2) * gap for i, n in enumerate(layers[widest])}
    order = [*range(widest - 1, -1, -1), *range(widest + 1, max(layers) + 1)]
    for layer in order:
        members = layers.get(layer, [])
        for node in members:
            near = [x[t] for s, t in forward if s == node and t in x]
            near += [x[s] for s, t in forward if t == node and s in x]
            x[node] = sum(near) / len(near) if near else 0.0
        wanted = sum(x[n] for n in members) / len(members) if members else 0.0
        for i, node in enumerate(members):
            x[node] = wanted + (i - (len(members) - 1) / 2) * gap
    return {n: (x[n], -depth[n] * 1.7) for n in nodes}


def structure_figure(graph: Any) -> Figure:
    """The compiled graph's nodes and edges, top to bottom.

    Dashed = conditional (a route or a `Send`), solid = always; a two-headed arrow is a pair of
    edges both ways (a worker is sent its task and always returns to the orchestrator).
    """
    drawable = structure_graph(graph)
    nodes = list(drawable.nodes)
    edges = [(e.source, e.target) for e in drawable.edges]
    conditional = {(e.source, e.target) for e in drawable.edges if e.conditional}
    back = _back_edges(nodes, edges)
    forward = [e for e in edges if e not in back]
    pos = _layout(nodes, forward, gap=2.1)
    xs = [x for x, _y in pos.values()]
    ys = [y for _x, y in pos.values()]
    width = max(7.0, (max(xs) - min(xs)) * 0.75 + 3)
    fig = Figure(figsize=(width, 1.6 + (max(ys) - min(ys)) * 0.75), layout="constrained")
    ax = fig.add_subplot()
    boxes = {}
    for node, (x, y) in pos.items():
        special = node in (START, END)
        boxes[node] = _box(
            ax,
            x,
            y,
            node.strip("_") if special else node,
            fill="#ffffff" if special else "#f2f0ff",
            edge="#5a5acd",
            w=1.75,
            h=0.55,
            size=9,
        )
    for source, target in forward:
        both_ways = (target, source) in back
        same_layer = abs(pos[source][1] - pos[target][1]) < 1e-6
        # An edge within a layer bows below it, so it does not run through its neighbours.
        bow = 0.0
        if same_layer:
            bow = -0.45 if pos[source][0] > pos[target][0] else 0.45
        ax.add_patch(
            FancyArrowPatch(
                posA=pos[source],
                posB=pos[target],
                patchA=boxes[source],
                patchB=boxes[target],
                arrowstyle="<|-|>" if both_ways else "-|>",
                mutation_scale=11,
                linestyle="--" if (source, target) in conditional else "-",
                color="#444444",
                linewidth=1.1,
                connectionstyle=f"arc3,rad={bow}",
                zorder=2,
            )
        )
    for source, target in back:
        if (target, source) in forward:
            continue
        ax.add_patch(
            FancyArrowPatch(
                posA=pos[source],
                posB=pos[target],
                patchA=boxes[source],
                patchB=boxes[target],
                arrowstyle="-|>",
                mutation_scale=11,
                linestyle="--" if (source, target) in conditional else "-",
                color="#888888",
                connectionstyle="arc3,rad=0.3",
                zorder=2,
            )
        )
    ax.set_xlim(min(xs) - 1.3, max(xs) + 1.3)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 0.6)
    ax.set_axis_off()
    _title(
        ax,
        f"{getattr(graph, 'name', 'graph')}: dashed = conditional (route or Send), "
        "solid = always, two heads = there and back",
    )
    return fig


def image_format(path: str | Path) -> str:
    """`png` or `svg` from the file name; ValueError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot write {str(path)!r}: the image must end in .png or .svg"
            + (f", not .{suffix}" if suffix else "")
        )
    return suffix


def save(figure: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Writes the figure as PNG or SVG, by the file's extension."""
    target = Path(path)
    fmt = image_format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format=fmt, dpi=dpi)
    return target
