"""Plain progress lines for the custom stream events, written to stderr (stdout stays clean)."""

from __future__ import annotations

import sys
from typing import Any, TextIO


class ProgressPrinter:
    """Prints one readable line per orchestration event."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    def __call__(self, event: dict[str, Any]) -> None:
        line = self.format(event)
        if line:
            print(line, file=self.out, flush=True)

    @staticmethod
    def format(event: dict[str, Any]) -> str | None:
        name = event.get("event")
        if name == "round_started":
            return f"round {event['round']}"
        if name == "plan_changed":
            reasons = event.get("reasons") or []
            parts = [f"  plan: {r}" for r in reasons]
            if event.get("cancelled"):
                parts.append(f"  plan: cancelled {', '.join(event['cancelled'])}")
            return "\n".join(parts) or None
        if name == "task_dispatched":
            return f"  -> {event['task_id']} ({event['worker']})"
        if name == "task_done":
            return f"  ok {event['task_id']} {event['seconds']:.2f}s: {event['summary']}"
        if name == "task_failed":
            return f"  !! {event['task_id']} {event['seconds']:.2f}s: {event['summary']}"
        if name == "approval_needed":
            return f"  approval needed for {len(event.get('task_ids', []))} side effect(s)"
        if name == "approval_given":
            return f"  approval: {event['decision']}"
        if name == "run_finished":
            return f"finished: {event['status']} - {event['reason']}"
        return None
