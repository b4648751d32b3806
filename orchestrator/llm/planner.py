"""The LLM in the planner seat: one model call per attempt, the same validation as any planner.

Each round the planner builds a prompt from the goal, the worker catalogue (names, descriptions
and input JSON schemas from the registry, so a new worker needs no prompt edit), the limits left,
a window of the task board with compact result summaries, its own notes and, on a re-ask, the
validation errors. Every part is capped (`PromptLimits`), so a prompt's size does not grow with
the length of the run.

What it answers goes through `PlanOutcome`:
- an unreadable answer (not JSON, not a `PlanUpdate`, no tool call) comes back as `errors`, and
  the orchestrator re-asks with them, up to `Context.plan_attempts` times, like a rejected plan;
- the planner's own checks (an update that finishes and adds tasks; an update that changes
  nothing while nothing is pending; oversized notes) and a domain's `PlanningGuide.review`
  (e.g. the travel budget) add to `errors` the same way;
- a transport failure that outlived the client's retries (repeated 5xx, timeouts) ends the run
  at once with `finish=failed` and the reason: the client has already retried with backoff, so
  asking again would only repeat the wait. Nothing raises out of the node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from orchestrator.llm import prompts
from orchestrator.llm.models import ModelCallFailed, ModelUnavailable, open_chat_model
from orchestrator.planning import Finish, PlanOutcome, PlanUpdate, PlanView
from state import Task, TaskResult, Usage


@dataclass(frozen=True)
class PromptLimits:
    """Caps on each part of a planning prompt, in characters unless said otherwise."""

    board_window: int = 20
    """Tasks shown on the board: the latest ones. The others are only counted."""
    goal_chars: int = 2000
    request_chars: int = 3000
    facts_chars: int = 4000
    notes_chars: int = 1500
    inputs_chars: int = 240
    summary_chars: int = 240
    error_chars: int = 160
    reason_chars: int = 100
    feedback_items: int = 8
    feedback_chars: int = 300
    previous_chars: int = 1500


class PlanningGuide(Protocol):
    """What a domain adds to the LLM planner: facts for the prompt, and checks of its answers."""

    name: str

    def facts(self, view: PlanView) -> Mapping[str, Any]:
        """Small, computed facts (e.g. the money left); shown under the domain's heading."""
        ...

    def review(self, view: PlanView, update: PlanUpdate) -> tuple[PlanUpdate, list[str]]:
        """The update, possibly corrected (e.g. prices from the search), and reasons to refuse."""
        ...


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 6)] + "…(cut)"


def to_json(value: Any) -> str:
    """Compact JSON that cannot close a Markdown fence (backticks are escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("`", "\\u0060")


def tokens_used(usage: Iterable[Usage]) -> int:
    return sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage)


def board_rows(
    tasks: Mapping[str, Task], results: Mapping[str, TaskResult], limits: PromptLimits
) -> list[dict[str, Any]]:
    """The latest `limits.board_window` tasks, one compact row each: never a raw payload."""
    rows = []
    for task in list(tasks.values())[-limits.board_window :]:
        row: dict[str, Any] = {"id": task["id"], "worker": task["worker"], "status": task["status"]}
        if task["depends_on"]:
            row["depends_on"] = task["depends_on"][:10]
        inputs = to_json(task["inputs"])
        row["inputs"] = (
            task["inputs"]
            if len(inputs) <= limits.inputs_chars
            else clip(inputs, limits.inputs_chars)
        )
        if task["reason"]:
            row["reason"] = clip(task["reason"], limits.reason_chars)
        result = results.get(task["result_ref"] or "")
        if result is not None and result["ok"]:
            row["result"] = clip(result["summary"], limits.summary_chars)
        if task["error"]:
            row["error"] = clip(task["error"], limits.error_chars)
        if task["failures"]:
            row["failures"] = task["failures"]
        rows.append(row)
    return rows


def board_header(tasks: Mapping[str, Task], limits: PromptLimits) -> str:
    counts: dict[str, int] = {}
    for task in tasks.values():
        counts[task["status"]] = counts.get(task["status"], 0) + 1
    described = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none yet"
    return prompts.BOARD_HEADER.format(
        total=len(tasks), counts=described, shown=min(len(tasks), limits.board_window)
    )


def _limits_left(view: PlanView) -> dict[str, Any]:
    ctx = view.context
    used = tokens_used(view.usage)
    left: dict[str, Any] = {
        "rounds_left_after_this": max(0, ctx.max_rounds - view.round),
        "tasks_left": max(0, ctx.max_tasks - len(view.tasks)),
        "tasks_run_in_parallel": ctx.max_parallel,
        "identical_failures_before_refusal": ctx.max_identical_failures,
        "tokens_used": used,
    }
    if ctx.token_budget is not None:
        left["tokens_left"] = max(0, ctx.token_budget - used)
    return left


def plan_messages(
    view: PlanView,
    *,
    attempt: int,
    facts: Mapping[str, Any] | None = None,
    domain: str = "",
    previous: str = "",
    limits: PromptLimits | None = None,
) -> list[BaseMessage]:
    """The system prompt and this round's prompt; every part is capped by `limits`."""
    limits = limits or PromptLimits()
    feedback = ""
    if view.feedback:
        problems = "\n".join(
            "- " + clip(error, limits.feedback_chars)
            for error in view.feedback[: limits.feedback_items]
        )
        if len(view.feedback) > limits.feedback_items:
            problems += f"\n- …and {len(view.feedback) - limits.feedback_items} more"
        feedback = prompts.PLANNER_FEEDBACK.format(
            problems=problems,
            previous=clip(previous, limits.previous_chars).replace("`", "'") or "(nothing)",
        )
    facts_text = ""
    if facts:
        facts_text = prompts.PLANNER_FACTS.format(
            domain=domain or "task", facts=clip(to_json(dict(facts)), limits.facts_chars)
        )
    user = prompts.PLANNER_ROUND.format(
        round=view.round,
        max_rounds=view.context.max_rounds,
        attempt=attempt,
        attempts=view.context.plan_attempts,
        goal=clip(view.goal, limits.goal_chars),
        request=clip(to_json(dict(view.request or {})), limits.request_chars),
        catalogue=to_json(view.workers.catalogue()),
        limits=to_json(_limits_left(view)),
        facts=facts_text,
        board_header=board_header(view.tasks, limits),
        board=to_json(board_rows(view.tasks, view.results, limits)),
        notes=clip(to_json(dict(view.notes)), limits.notes_chars),
        feedback=feedback,
    )
    system = prompts.PLANNER_SYSTEM.format(notes_limit=limits.notes_chars)
    return [SystemMessage(system), HumanMessage(user)]


def own_checks(view: PlanView, update: PlanUpdate, limits: PromptLimits) -> list[str]:
    """Reasons to refuse an update that the generic validation would let through."""
    errors = []
    if update.finish is not None and update.add:
        errors.append(
            "the update both finishes the run and adds tasks, which would never run: "
            "either add tasks or finish"
        )
    pending = any(t["status"] in ("pending", "running") for t in view.tasks.values())
    if update.is_empty() and not pending:
        errors.append(
            "the update changes nothing and no task is pending: add tasks, or set finish "
            "with a status and a reason"
        )
    if update.notes is not None and len(to_json(update.notes)) > limits.notes_chars:
        errors.append(
            f"notes are {len(to_json(update.notes))} characters, over the limit of "
            f"{limits.notes_chars}: keep only what the next round needs"
        )
    return errors


class LLMPlanner:
    """Implements `Planner` with a chat model; `guide` adds a domain's facts and checks."""

    def __init__(
        self, *, guide: PlanningGuide | None = None, limits: PromptLimits | None = None
    ) -> None:
        self.guide = guide
        self.limits = limits or PromptLimits()
        self._round = -1
        self._attempt = 0
        self._previous = ""

    def _next_attempt(self, view: PlanView) -> int:
        if view.round != self._round or not view.feedback:
            self._round, self._attempt = view.round, 0
        self._attempt += 1
        return self._attempt

    async def plan(self, view: PlanView) -> PlanOutcome:
        ctx = view.context
        attempt = self._next_attempt(view)
        spent = tokens_used(view.usage)
        if ctx.token_budget is not None and spent >= ctx.token_budget:
            reason = f"token budget spent: {spent} of {ctx.token_budget} (Context.token_budget)"
            return PlanOutcome(PlanUpdate(finish=Finish(status="partial", reason=reason)))
        messages = plan_messages(
            view,
            attempt=attempt,
            facts=self.guide.facts(view) if self.guide else None,
            domain=self.guide.name if self.guide else "",
            previous=self._previous if view.feedback else "",
            limits=self.limits,
        )
        try:
            async with open_chat_model(ctx, "planner") as model:
                answer = await model.structured(PlanUpdate, messages, round_no=view.round)
        except (ModelUnavailable, ModelCallFailed) as exc:
            reason = f"the planner model failed: {exc}"
            return PlanOutcome(PlanUpdate(finish=Finish(status="failed", reason=reason)))
        usage = [answer.usage] if answer.usage else []
        self._previous = answer.sent
        if answer.value is None:
            return PlanOutcome(PlanUpdate(), usage=usage, errors=[answer.error or "no answer"])
        update = answer.value
        errors = own_checks(view, update, self.limits)
        if self.guide is not None:
            update, refused = self.guide.review(view, update)
            errors.extend(refused)
        return PlanOutcome(update, usage=usage, errors=errors)
