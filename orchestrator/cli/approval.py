"""Answering approval pauses at the terminal: show the batch, ask, read the answer."""

from __future__ import annotations

import sys
from typing import Any, TextIO


def render_approval(question: dict[str, Any]) -> str:
    lines = ["", "Approval needed before booking:"]
    for n, item in enumerate(question.get("items", []), 1):
        price = float(item.get("price") or 0)
        lines.append(f"  {n}. {item.get('label', item.get('task_id'))}  ${price:,.2f}")
        for m, alt in enumerate(item.get("alternatives", []), 2):
            lines.append(f"       option {m}: {alt['label']}  ${float(alt['price'] or 0):,.2f}")
    total = float(question.get("total") or 0)
    budget = question.get("budget")
    against = f" against a budget of ${float(budget):,.2f}" if budget is not None else ""
    lines.append(f"  Total ${total:,.2f}{against}")
    if question.get("error"):
        lines.append(f"  (previous answer not applied: {question['error']})")
    return "\n".join(lines)


HELP = (
    "Answer: y = approve all, n = reject all, 'drop N' = drop item N, "
    "'alt N M' = item N with option M"
)


def parse_answer(answer: str, question: dict[str, Any]) -> dict[str, Any] | None:
    """The decision for a typed answer, or None when it cannot be read."""
    items = question.get("items", [])
    words = answer.strip().lower().split()
    if not words:
        return None
    if words[0] in ("y", "yes", "approve"):
        return {"decision": "approve"}
    if words[0] in ("n", "no", "reject"):
        return {"decision": "reject", "reason": "rejected at the prompt"}
    try:
        if words[0] == "drop" and len(words) == 2:
            item = items[int(words[1]) - 1]
            return {"decision": "edit", "drop": [item["task_id"]]}
        if words[0] == "alt" and len(words) == 3:
            item = items[int(words[1]) - 1]
            alt = item["alternatives"][int(words[2]) - 2]
            return {
                "decision": "edit",
                "inputs": {
                    item["task_id"]: {
                        "item_id": alt["item_id"],
                        "label": f"{alt['label']} (alternative)",
                        "price": alt["price"],
                    }
                },
            }
    except (ValueError, IndexError, KeyError):
        return None
    return None


class TerminalApprover:
    """Asks at the terminal; re-asks on an answer it cannot read."""

    def __init__(self, inp: TextIO | None = None, out: TextIO | None = None) -> None:
        self.inp = inp or sys.stdin
        self.out = out or sys.stderr

    async def __call__(self, question: dict[str, Any]) -> dict[str, Any]:
        print(render_approval(question), file=self.out)
        while True:
            print(HELP, file=self.out)
            print("> ", end="", file=self.out, flush=True)
            line = self.inp.readline()
            if not line:
                return {"decision": "reject", "reason": "no answer (end of input)"}
            decision = parse_answer(line, question)
            if decision is not None:
                return decision


class AutoApprover:
    """Approves every batch (`--yes`), saying so on stderr."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    async def __call__(self, question: dict[str, Any]) -> dict[str, Any]:
        print(render_approval(question), file=self.out)
        print("  approved automatically (--yes)", file=self.out)
        return {"decision": "approve"}
