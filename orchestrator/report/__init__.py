"""Run reports: what a run did and when, as text, Mermaid and images.

- `model`: the report itself, computed from a run's state (pure and tested).
- `load`: reads a thread's state and checkpoint times into a report.
- `text`: rich renderables (tree, timeline table, totals).
- `mermaid`: a `flowchart` of the plan and a `gantt` of the timeline.
- `image`: the same pictures drawn with matplotlib (no network), and the graph's structure.
"""

from orchestrator.report.load import UnknownRun, load_report
from orchestrator.report.model import Attempt, Checkpoint, RunReport, Step, TaskNode, build_report

__all__ = [
    "Attempt",
    "Checkpoint",
    "RunReport",
    "Step",
    "TaskNode",
    "UnknownRun",
    "build_report",
    "load_report",
]
