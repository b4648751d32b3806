"""What a run tells the outside world while it happens: custom stream events and trace metadata.

Custom stream events (`stream_mode="custom"`) are the run's progress: the CLI, the SDK and Studio
all see them. Each is a flat JSON dict with an `event` name.

Trace metadata goes on the LangSmith run of the node that is executing (when tracing is on), so a
trace can be filtered and read by thread, round, task and worker.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.types import StreamWriter
from langsmith import get_current_run_tree

EventName = Literal[
    "round_started",
    "plan_changed",
    "plan_rejected",
    "task_dispatched",
    "task_done",
    "task_failed",
    "approval_needed",
    "approval_given",
    "run_finished",
]


def emit(writer: StreamWriter, event: EventName, **data: Any) -> None:
    writer({"event": event, **data})


def annotate_trace(**metadata: Any) -> None:
    """Adds `metadata` to the current node's trace run; does nothing when tracing is off.

    LangGraph opens one run per node execution. The run is sent when the node ends, so metadata
    added here while the node runs arrives with it. `None` values are left out.
    """
    run = get_current_run_tree()
    if run is not None:
        run.metadata.update({k: v for k, v in metadata.items() if v is not None})
