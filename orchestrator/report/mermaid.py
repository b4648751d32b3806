"""The report as Mermaid text: a `flowchart` of the plan and a `gantt` of the timeline.

Paste either diagram into any Mermaid renderer (GitHub, GitLab, Notion, mermaid.live). The
graph's own structure comes from LangGraph (`draw_mermaid`), minus the error-handler nodes it
lists unconnected.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.runnables.graph import Graph as DrawableGraph

from orchestrator.report.model import Attempt, RunReport, Step
from orchestrator.report.text import seconds

STATUS_CLASSES = """\
    classDef done fill:#d8f3dc,stroke:#2d6a4f,color:#1b4332
    classDef failed fill:#ffd6d6,stroke:#c1121f,color:#6a040f
    classDef cancelled fill:#eeeeee,stroke:#999999,color:#666666
    classDef pending fill:#fff3bf,stroke:#e0a800,color:#5c4400
    classDef running fill:#fff3bf,stroke:#e0a800,color:#5c4400
    classDef critical stroke:#d00000,stroke-width:3px
    classDef outcome fill:#e7e7ff,stroke:#5a5acd"""

ERROR_HANDLER_PREFIX = "__error_handler__"


def _label(text: str, limit: int = 80) -> str:
    """Text safe inside a quoted Mermaid label."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def plan_flowchart(report: RunReport) -> str:
    """The plan: one box per round (left to right), its tasks inside, dependencies as arrows.

    A dotted arrow from one round to the next is the orchestrator reading the round's results
    and re-planning; solid arrows are the tasks' explicit `depends_on`.
    """
    ids = {task.id: f"t{i}" for i, task in enumerate(report.tasks)}
    lines = ["flowchart LR", f'    goal(["{_label("goal: " + report.goal)}"])']
    previous = "goal"
    for summary in report.rounds:
        tasks = [t for t in report.tasks if t.round == summary.round]
        if not tasks:
            continue
        lines.append(f'    subgraph r{summary.round}["round {summary.round}"]')
        lines.append("        direction TB")
        for task in tasks:
            detail = f"{task.worker} · {task.status}"
            if task.seconds is not None:
                detail += f" · {seconds(task.seconds)}"
            if task.attempts > 1:
                detail += f" · {task.attempts} attempts"
            lines.append(
                f'        {ids[task.id]}["{_label(task.id)}<br/><small>{_label(detail)}</small>"]'
            )
        lines.append("    end")
        link = "-->" if previous == "goal" else "-. re-plan .->"
        lines.append(f"    {previous} {link} r{summary.round}")
        previous = f"r{summary.round}"
    outcome = f"{report.status}: {report.reason}" if report.reason else report.status
    lines.append(f'    outcome(["{_label(outcome)}"])')
    lines.append(f"    {previous} --> outcome")
    for task in report.tasks:
        for dep in task.depends_on:
            if dep in ids:
                lines.append(f"    {ids[dep]} --> {ids[task.id]}")
    lines.append(STATUS_CLASSES)
    by_status: dict[str, list[str]] = {}
    for task in report.tasks:
        by_status.setdefault(task.status, []).append(ids[task.id])
    for status, members in by_status.items():
        lines.append(f"    class {','.join(members)} {status}")
    critical = [ids[t.id] for t in report.tasks if t.critical]
    if critical:
        lines.append(f"    class {','.join(critical)} critical")
    lines.append("    class goal,outcome outcome")
    return "\n".join(lines)


def _gantt_name(text: str) -> str:
    """Gantt task names end at ':' and may not hold '#' or ';'."""
    return re.sub(r"[:#;]", " ", text).strip()


def _ms(value: float) -> int:
    return round(value * 1000)


def timeline_gantt(report: RunReport) -> str:
    """The timeline: orchestrator steps, then each round's task attempts; `crit` = critical path.

    Times are milliseconds since the run started (`dateFormat x`).
    """
    wall = report.totals.wall_s
    axis = "%S.%L" if wall < 10 else ("%M:%S" if wall < 3600 else "%H:%M")
    title = (
        f"{report.thread_id or 'run'} - {seconds(wall)}, up to "
        f"{report.totals.max_parallel} tasks at once"
    )
    lines = [
        "gantt",
        f"    title {_gantt_name(title)}",
        "    dateFormat x",
        f"    axisFormat {axis}",
    ]
    steps = [s for s in report.steps if s.kind in ("plan", "approval", "synthesize")]
    if steps:
        lines.append("    section orchestrator")
        for i, step in enumerate(steps):
            lines.append(_gantt_line(f"{step.kind} r{step.round}", f"s{i}", step, wall))
    rounds = sorted({a.round for a in report.attempts})
    for round_no in rounds:
        lines.append(f"    section round {round_no}")
        for i, attempt in enumerate(report.attempts):
            if attempt.round == round_no:
                lines.append(_gantt_line(_attempt_name(attempt), f"a{i}", attempt, wall))
    return "\n".join(lines)


def _attempt_name(attempt: Attempt) -> str:
    name = f"{attempt.task_id} ({attempt.worker})"
    if attempt.attempt > 1:
        name += f" try {attempt.attempt}"
    if attempt.ok is False:
        name += " FAILED"
    return name


def _gantt_line(name: str, ident: str, item: Step | Attempt, wall: float) -> str:
    tags = []
    if isinstance(item, Attempt) and item.critical:
        tags.append("crit")
    if item.end is None:
        tags.append("active")
    elif isinstance(item, Step) or item.ok:
        tags.append("done")
    start = _ms(item.start)
    end = max(start + 1, _ms(item.end if item.end is not None else wall))
    return f"    {_gantt_name(name)} :{', '.join([*tags, ident])}, {start}, {end}"


def report_mermaid(report: RunReport, diagram: str = "both") -> str:
    """The plan (`flowchart`), the timeline (`gantt`) or both, raw: each diagram headed by a
    `%%` comment, so `--diagram plan > plan.mmd` is one file a renderer takes as it is."""
    parts = []
    if diagram in ("plan", "both"):
        parts.append(f"%% plan of {report.thread_id or 'the run'}\n{plan_flowchart(report)}")
    if diagram in ("timeline", "both"):
        parts.append(f"%% timeline of {report.thread_id or 'the run'}\n{timeline_gantt(report)}")
    return "\n\n".join(parts)


def report_markdown(report: RunReport, diagram: str = "both") -> str:
    """Both diagrams as fenced ```mermaid blocks, ready for a README, an issue or a PR."""
    blocks = []
    if diagram in ("plan", "both"):
        blocks.append(f"```mermaid\n{plan_flowchart(report)}\n```")
    if diagram in ("timeline", "both"):
        blocks.append(f"```mermaid\n{timeline_gantt(report)}\n```")
    return "\n\n".join(blocks)


def structure_graph(graph: Any) -> DrawableGraph:
    """The compiled graph's drawable structure, without the unconnected error-handler nodes."""
    drawable: DrawableGraph = graph.get_graph()
    nodes = {k: v for k, v in drawable.nodes.items() if not k.startswith(ERROR_HANDLER_PREFIX)}
    edges = [e for e in drawable.edges if e.source in nodes and e.target in nodes]
    return DrawableGraph(nodes=nodes, edges=edges)


def structure_mermaid(graph: Any) -> str:
    """LangGraph's own Mermaid drawing of the graph (what Studio shows), as text."""
    return structure_graph(graph).draw_mermaid()
