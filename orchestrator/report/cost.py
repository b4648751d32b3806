"""Cost per task: a run's model usage summed per task, per worker and per round.

Built from the run's `usage` records (`state.Usage`): the planner's and the synthesizer's calls
(attributed to `(planning)` and `(synthesis)`), every worker attempt's own calls, and what each
delegated sub-run spent, attributed to the task that delegated it. Every total is a
`UsageTotals`, so tokens, calls and cost (where the model has a price) add up the same way
everywhere: the totals per task, per worker and per round each sum to the run's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table

from orchestrator.llm.usage import UsageTotals, usage_totals
from state import Usage

ROLE_LABELS = {"planner": "(planning)", "synthesizer": "(synthesis)"}
"""What the orchestrator's own calls are attributed to, in place of a task or a worker."""
TASKS_SHOWN = 12
"""Tasks listed by name in the text views (the most expensive); the others are summed."""


def _label(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if value:
        return str(value)
    role = str(entry.get("role") or "")
    return ROLE_LABELS.get(role, f"({role or 'other'})")


@dataclass(frozen=True)
class CostBreakdown:
    """A run's usage: in all, and per task, per worker and per round."""

    total: UsageTotals
    by_task: dict[str, UsageTotals]
    """Task id (or `(planning)`, `(synthesis)`) -> its totals, in first-use order."""
    by_worker: dict[str, UsageTotals]
    by_round: dict[int, UsageTotals]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.as_dict(),
            "by_task": {k: v.as_dict() for k, v in self.by_task.items()},
            "by_worker": {k: v.as_dict() for k, v in self.by_worker.items()},
            "by_round": {str(k): v.as_dict() for k, v in self.by_round.items()},
        }


def cost_breakdown(usage: Iterable[Usage]) -> CostBreakdown:
    """The totals of `usage` per task, per worker and per round."""
    entries = list(usage)
    tasks: dict[str, list[Usage]] = {}
    workers: dict[str, list[Usage]] = {}
    rounds: dict[int, list[Usage]] = {}
    for entry in entries:
        tasks.setdefault(_label(entry, "task_id"), []).append(entry)
        workers.setdefault(_label(entry, "worker"), []).append(entry)
        rounds.setdefault(int(entry["round"]), []).append(entry)
    return CostBreakdown(
        total=usage_totals(entries),
        by_task={k: usage_totals(v) for k, v in tasks.items()},
        by_worker={k: usage_totals(v) for k, v in workers.items()},
        by_round={k: usage_totals(v) for k, v in sorted(rounds.items())},
    )


def _money(totals: UsageTotals) -> str:
    return "-" if totals.cost_usd is None else f"${totals.cost_usd:,.4f}"


def _short(totals: UsageTotals) -> str:
    money = "" if totals.cost_usd is None else f" {_money(totals)}"
    return f"{totals.tokens:,} tokens{money}"


def _most_expensive(by_task: Mapping[str, UsageTotals], shown: int) -> list[str]:
    return sorted(by_task, key=lambda k: (-by_task[k].tokens, k))[:shown]


def cost_lines(breakdown: CostBreakdown, *, tasks_shown: int = TASKS_SHOWN) -> list[str]:
    """A few lines for the end of a run: tokens (and cost) per worker, per round, per task."""
    if not breakdown.total.calls:
        return []
    lines = [
        "  per worker: "
        + "; ".join(f"{name} {_short(t)}" for name, t in breakdown.by_worker.items()),
        "  per round:  " + "; ".join(f"{n}: {_short(t)}" for n, t in breakdown.by_round.items()),
    ]
    top = _most_expensive(breakdown.by_task, tasks_shown)
    line = "  per task:   " + "; ".join(f"{k} {_short(breakdown.by_task[k])}" for k in top)
    if len(breakdown.by_task) > len(top):
        line += f"; and {len(breakdown.by_task) - len(top)} more"
    lines.append(line)
    return lines


def cost_table(breakdown: CostBreakdown, *, tasks_shown: int = TASKS_SHOWN) -> Table:
    """The breakdown as a table for `orchestrator show`: per worker, per round, then per task
    (the most expensive `tasks_shown`, the rest summed)."""
    table = Table(
        title="Model usage (per worker, round and task)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("per", no_wrap=True)
    table.add_column("", no_wrap=True)
    for name in ("calls", "prompt", "completion", "tokens", "cost"):
        table.add_column(name, justify="right", no_wrap=True)

    def row(kind: str, name: str, t: UsageTotals) -> None:
        table.add_row(
            kind,
            name,
            f"{t.calls:,}",
            f"{t.prompt_tokens:,}",
            f"{t.completion_tokens:,}",
            f"{t.tokens:,}",
            _money(t),
        )

    for name, totals in breakdown.by_worker.items():
        row("worker", name, totals)
    for number, totals in breakdown.by_round.items():
        row("round", str(number), totals)
    top = _most_expensive(breakdown.by_task, tasks_shown)
    for name in top:
        row("task", name, breakdown.by_task[name])
    rest = [t for k, t in breakdown.by_task.items() if k not in top]
    if rest:
        others = UsageTotals(
            calls=sum(t.calls for t in rest),
            prompt_tokens=sum(t.prompt_tokens for t in rest),
            completion_tokens=sum(t.completion_tokens for t in rest),
            cost_usd=(
                None
                if all(t.cost_usd is None for t in rest)
                else round(sum(t.cost_usd or 0.0 for t in rest), 8)
            ),
            unpriced_calls=sum(t.unpriced_calls for t in rest),
        )
        row("task", f"{len(rest)} more", others)
    row("run", "total", breakdown.total)
    return table
