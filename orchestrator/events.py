"""Custom stream events (`stream_mode="custom"`): the run's progress as it happens.

The CLI, the SDK and Studio all see these. Each is a flat JSON dict with an `event` name.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.types import StreamWriter

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
