"""Answering approval pauses: show the batch, read answers, collect edits, send one decision.

Items and options are numbered from 1, as shown: `drop N` leaves item N out, `alt N M` books item
N with its option M (option 1 is the item as planned, 2 and up its alternatives). Edits add up
until `y` sends them as one decision (`n` rejects the batch); the edited batch and its total are
shown after each edit, before anything is booked. An answer that cannot apply is explained in one
line and the question is asked again. No answer (end of input, Ctrl-C) leaves the run paused.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from orchestrator.board import with_dependents

Decision = dict[str, Any]
"""A resume value for the approval node: approve, reject, or edit (drop and/or inputs)."""


@dataclass(frozen=True)
class Invalid:
    """An answer that cannot apply, and one line saying what is valid."""

    message: str


@dataclass(frozen=True)
class Edited:
    """An edit was recorded; nothing is sent until the person confirms."""


APPROVE = ("y", "yes", "approve")
REJECT = ("n", "no", "reject")

HELP = (
    "Answer: y = book as shown, n = reject, 'drop N' = leave item N out, "
    "'alt N M' = item N with option M (1 = as planned), 'undo', 'reset'"
)


def _money(value: Any) -> str:
    return f"${float(value or 0):,.2f}"


def _total_line(total: float, budget: Any) -> str:
    if budget is None:
        return f"  Total {_money(total)}"
    limit = float(budget)
    verdict = "within" if total <= limit else f"{_money(total - limit)} over"
    return f"  Total {_money(total)} against a budget of {_money(limit)} ({verdict})"


def render_approval(question: dict[str, Any]) -> str:
    lines = ["", "Approval needed before booking:"]
    for n, item in enumerate(question.get("items", []), 1):
        lines.append(
            f"  {n}. {item.get('label', item.get('task_id'))}  {_money(item.get('price'))}"
        )
        for m, alt in enumerate(item.get("alternatives", []), 2):
            lines.append(f"       option {m}: {alt['label']}  {_money(alt['price'])}")
    total = float(question.get("total") or 0)
    budget = question.get("budget")
    against = f" against a budget of {_money(budget)}" if budget is not None else ""
    lines.append(f"  Total {_money(total)}{against}")
    if question.get("error"):
        lines.append(f"  (previous answer not applied: {question['error']})")
    return "\n".join(lines)


def _number(word: str, what: str, count: int, suffix: str = "") -> int | Invalid:
    valid = f"choose 1 to {count}{suffix}" if count > 1 else f"only {what} 1{suffix}"
    try:
        number = int(word)
    except ValueError:
        return Invalid(f"{word!r} is not an {what} number: {valid}")
    if not 1 <= number <= count:
        return Invalid(f"{what} {number} does not exist: {valid}")
    return number


def parse_answer(answer: str, question: dict[str, Any]) -> Decision | Invalid:
    """The decision one typed answer stands for, or why it cannot apply.

    `drop N [N...]` and `alt N M` are edit decisions on their own; `EditSession` adds them up.
    `alt N 1` is an edit with an empty patch: item N as planned.
    """
    items: list[dict[str, Any]] = list(question.get("items") or [])
    words = answer.strip().split()
    if not words:
        return Invalid(HELP)
    head = words[0].lower()
    if head in APPROVE and len(words) == 1:
        return {"decision": "approve"}
    if head in REJECT:
        reason = " ".join(words[1:]) or "rejected at the prompt"
        return {"decision": "reject", "reason": reason}
    if head in ("drop", "alt") and not items:
        return Invalid("this approval lists no items: answer y or n")
    if head == "drop":
        if len(words) < 2:
            return Invalid(f"say which item: drop N, N from 1 to {len(items)}")
        drop: list[str] = []
        for word in words[1:]:
            number = _number(word, "item", len(items))
            if isinstance(number, Invalid):
                return number
            task_id = items[number - 1]["task_id"]
            if task_id not in drop:
                drop.append(task_id)
        return {"decision": "edit", "drop": drop}
    if head == "alt":
        if len(words) != 3:
            return Invalid(f"say which item and option: alt N M, N from 1 to {len(items)}")
        number = _number(words[1], "item", len(items))
        if isinstance(number, Invalid):
            return number
        item = items[number - 1]
        alternatives = list(item.get("alternatives") or [])
        option = _number(
            words[2],
            "option",
            1 + len(alternatives),
            f" for item {number} (1 = as planned)" if alternatives else f" for item {number}",
        )
        if isinstance(option, Invalid):
            if not alternatives:
                return Invalid(f"item {number} has no alternatives: only option 1, as planned")
            return option
        patch = {} if option == 1 else {"item_id": alternatives[option - 2]["item_id"]}
        return {"decision": "edit", "inputs": {item["task_id"]: patch}}
    return Invalid(f"{answer.strip()!r} is not an answer. {HELP}")


class EditSession:
    """Answers to one approval pause, added up until the person confirms or rejects.

    `answer` returns the final decision (after y or n), `Edited()` after an edit (show `render()`
    and ask again), or `Invalid` (say it and ask again).
    """

    def __init__(self, question: dict[str, Any]) -> None:
        self.question = question
        self.items: list[dict[str, Any]] = list(question.get("items") or [])
        self.position = {item["task_id"]: n for n, item in enumerate(self.items, 1)}
        self.dropped: list[str] = []
        self.patches: dict[str, dict[str, Any]] = {}
        self._earlier: list[tuple[list[str], dict[str, dict[str, Any]]]] = []

    @property
    def edited(self) -> bool:
        return bool(self.dropped or self.patches)

    def decision(self) -> Decision:
        """What confirming now sends: approve when nothing was edited, else one edit."""
        if not self.edited:
            return {"decision": "approve"}
        return {"decision": "edit", "drop": list(self.dropped), "inputs": dict(self.patches)}

    def answer(self, text: str) -> Decision | Edited | Invalid:
        word = text.strip().lower()
        if word == "undo":
            if not self._earlier:
                return Invalid("nothing to undo")
            self.dropped, self.patches = self._earlier.pop()
            return Edited()
        if word == "reset":
            if not self.edited:
                return Invalid("nothing to reset: the batch is as planned")
            self._remember()
            self.dropped, self.patches = [], {}
            return Edited()
        parsed = parse_answer(text, self.question)
        if isinstance(parsed, Invalid):
            return parsed
        if parsed["decision"] == "approve":
            return self.decision()
        if parsed["decision"] == "reject":
            return parsed
        return self._edit(parsed)

    def _remember(self) -> None:
        self._earlier.append((list(self.dropped), dict(self.patches)))

    def _edit(self, edit: Decision) -> Edited | Invalid:
        for task_id in edit.get("drop", []):
            if task_id in self.dropped:
                return Invalid(f"item {self.position[task_id]} is already dropped")
        for task_id in edit.get("inputs", {}):
            if task_id in self.dropped:
                return Invalid(
                    f"item {self.position[task_id]} is dropped: 'undo' or 'reset' brings it back "
                    "before choosing an option"
                )
        self._remember()
        for task_id in edit.get("drop", []):
            self.dropped.append(task_id)
            self.patches.pop(task_id, None)
        for task_id, patch in edit.get("inputs", {}).items():
            if patch:
                self.patches[task_id] = patch
            else:
                self.patches.pop(task_id, None)
        return Edited()

    def run(self, answers: Sequence[str]) -> Decision | Invalid:
        """The decision for a whole list of answers (`resume --answer`); edits without a final
        y or n are applied as the decision."""
        for n, text in enumerate(answers, 1):
            result = self.answer(text)
            if isinstance(result, Invalid):
                return Invalid(f"{text!r}: {result.message}")
            if isinstance(result, dict):
                if n < len(answers):
                    return Invalid(f"{text!r} ends the approval, so it must be the last answer")
                return result
        return self.decision()

    def _chosen(self, item: dict[str, Any]) -> tuple[str, Any, str]:
        """Label, price and a note for an item as edited."""
        label = str(item.get("label", item["task_id"]))
        patch = self.patches.get(item["task_id"])
        if not patch:
            return label, item.get("price"), ""
        alternatives = list(item.get("alternatives") or [])
        for m, alt in enumerate(alternatives, 2):
            if alt["item_id"] == patch.get("item_id"):
                return str(alt["label"]), alt["price"], f"  (option {m}, instead of {label})"
        return label, item.get("price"), "  (edited)"

    def render(self) -> str:
        """The batch as it would be booked now, with its new total."""
        lines = ["Edited batch (nothing is booked until you answer y):"]
        total = 0.0
        items = {str(item["task_id"]): item for item in self.items}
        dropped = with_dependents(self.dropped, items)
        for n, item in enumerate(self.items, 1):
            label, price, note = self._chosen(item)
            if item["task_id"] in dropped:
                cause = dropped[item["task_id"]]
                why = f" (it needs item {self.position[cause]})" if cause else ""
                lines.append(f"  {n}. {label}  dropped{why}")
                continue
            total += float(price or 0)
            lines.append(f"  {n}. {label}  {_money(price)}{note}")
        lines.append(_total_line(round(total, 2), self.question.get("budget")))
        return "\n".join(lines)


@contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt at once while we wait for a line.

    `asyncio.run` turns the first Ctrl-C into a cancellation of the main task, which a blocking
    read would not see until the person pressed Enter.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # installed outside Python: cannot be restored, leave it alone
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class TerminalApprover:
    """Asks at the terminal; returns None (the run stays paused) when no answer comes."""

    def __init__(self, inp: TextIO | None = None, out: TextIO | None = None) -> None:
        self.inp = inp or sys.stdin
        self.out = out or sys.stderr

    def _readline(self) -> str | None:
        """The next line, or None at end of input."""
        return self.inp.readline() or None

    async def __call__(self, question: dict[str, Any]) -> Decision | None:
        try:
            with _ctrl_c_raises():  # before the first prompt: a Ctrl-C at it must not be lost
                decision = self._ask(question)
        except KeyboardInterrupt:
            decision = None
        if decision is None:
            print("\nno answer: nothing booked, the run stays paused", file=self.out)
        return decision

    def _ask(self, question: dict[str, Any]) -> Decision | None:
        print(render_approval(question), file=self.out)
        print(HELP, file=self.out)
        session = EditSession(question)
        while True:
            print("> ", end="", file=self.out, flush=True)
            line = self._readline()
            if line is None:
                return None
            result = session.answer(line)
            if isinstance(result, Invalid):
                print(result.message, file=self.out)
            elif isinstance(result, Edited):
                print(session.render(), file=self.out)
            else:
                return result


class AutoApprover:
    """Approves every batch (`--yes`), saying so on stderr."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    async def __call__(self, question: dict[str, Any]) -> Decision:
        print(render_approval(question), file=self.out)
        print("  approved automatically (--yes)", file=self.out)
        return {"decision": "approve"}
