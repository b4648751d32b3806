"""Plain progress lines for the custom stream events, written to stderr (stdout stays clean).

Used when the output is not a terminal (a pipe, a log, CI, a notebook) and with `--json`. A
round's header is written with the round's first line, so a round in which nothing happened
(the last one, often) leaves no empty `round N` behind.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 item`, `3 items`; `many` for irregular nouns."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def _money(value: Any) -> str:
    return f"${float(value):,.2f}" if isinstance(value, int | float) else ""


def approval_lines(event: dict[str, Any]) -> list[str]:
    """What a pause waits for: each item with its price, and the total against the budget."""
    items = list(event.get("items") or [])
    count = len(items) or len(event.get("task_ids") or [])
    lines = [f"  approval needed for {plural(count, 'item')}:"]
    if not items:
        lines.extend(f"    {n}. {task}" for n, task in enumerate(event.get("task_ids") or [], 1))
    for n, item in enumerate(items, 1):
        label = item.get("label") or item.get("task_id")
        lines.append(f"    {n}. {label}  {_money(item.get('price'))}".rstrip())
    if event.get("total") is not None:
        budget = event.get("budget")
        against = f" (budget {_money(budget)})" if budget is not None else ""
        lines.append(f"    total {_money(event['total'])}{against}")
    return lines


class ProgressPrinter:
    """Prints readable lines per orchestration event."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self._header: str | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "round_started":
            self._header = self.format(event)
            return
        line = self.format(event)
        if not line:
            return
        header, self._header = self._header, None
        if header and event.get("event") != "run_finished":
            line = f"{header}\n{line}"
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
        if name == "plan_rejected":
            errors = "; ".join(str(e) for e in event.get("errors") or []) or "no reason given"
            return f"  plan rejected: {errors}"
        if name == "task_dispatched":
            return f"  -> {event['task_id']} ({event['worker']})"
        if name == "task_done":
            return f"  ok {event['task_id']} {event['seconds']:.2f}s: {event['summary']}"
        if name == "task_failed":
            return f"  !! {event['task_id']} {event['seconds']:.2f}s: {event['summary']}"
        if name == "approval_needed":
            return "\n".join(approval_lines(event))
        if name == "approval_given":
            return f"  approval: {event['decision']}"
        if name == "run_finished":
            return f"finished: {event['status']} - {event['reason']}"
        return None
