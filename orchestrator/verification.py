"""The verifier seat: a domain's acceptance check, which alone decides that a run is `completed`.

A planner's `finish` is a claim. Before a `completed` claim is accepted the orchestrator asks the
domain's verifier; when requirements are unmet the claim is refused like any invalid plan update
(the planner is asked again, with the unmet list as feedback). At the end, `synthesize` asks the
verifier once more and its verdict is the run's status and reason, whatever the planner said.

A verifier reads the world, not the plan: for side effects the source of truth is the ledger the
workers wrote (the travel domain's bookings table), not the planner's notes. Every sentence of
its `reason` that states a fact is computed from what it read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.context import Context
from state import FinalStatus, Task, TaskResult

PLANNED_BEFORE_RESULTS = "planned before the results: "
"""Begins the reason of a finish the planner wrote before the tasks it waited for had run (the
LLM planner's held finish, `orchestrator.llm.planner.settle_deferred`): its words stay visible
in the claim, but a verifier computes the run's reason rather than repeat them."""


def said_after_results(reason: str) -> str:
    """`reason`, or "" when it was written before the results (`PLANNED_BEFORE_RESULTS`)."""
    return "" if reason.startswith(PLANNED_BEFORE_RESULTS) else reason


@dataclass(frozen=True)
class Claim:
    """What ended the run before verification: the planner's finish, or a guard's."""

    status: FinalStatus
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The verifier's decision. `completed` only when `unmet` is empty."""

    status: FinalStatus
    reason: str
    """One sentence (or a few, joined by '; '), every fact in it computed from what was read."""
    unmet: list[str] = field(default_factory=list)
    """Each requirement that does not hold, as a sentence a person or a planner can act on."""
    facts: dict[str, Any] = field(default_factory=dict)
    """What the verdict was read from (e.g. the run's bookings), JSON-native; synthesizers
    render the answer from these facts rather than reading the world a second time."""

    def __post_init__(self) -> None:
        if self.status == "completed" and self.unmet:
            raise ValueError("a verdict with unmet requirements cannot be `completed`")

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "unmet": list(self.unmet)}


@dataclass(frozen=True)
class VerificationView:
    """What a verifier reads besides the world itself."""

    goal: str
    request: Mapping[str, Any] | None
    tasks: Mapping[str, Task]
    results: Mapping[str, TaskResult]
    notes: Mapping[str, Any]
    context: Context
    thread_id: str
    run_id: str
    scope: str
    claim: Claim | None
    """The status the planner (or a guard) claims; a verifier may use it only to lower its
    verdict (a generic domain cannot know every requirement), never to raise it."""

    @property
    def ledger_prefix(self) -> str:
        """The idempotency-key prefix of every side effect this run made (see `WorkerCall`)."""
        run = f"{self.run_id}:" if self.run_id else ""
        return f"{self.thread_id}:{run}{self.scope}"


class Verifier(Protocol):
    """Decides whether a run met its goal, from the world and the board."""

    async def verify(self, view: VerificationView) -> Verdict: ...


def refusal(verdict: Verdict) -> list[str]:
    """The feedback a planner gets when its `completed` claim is refused: one line to say so,
    then one per unmet requirement, so a capped prompt still shows each of them whole."""
    head = (
        "finish 'completed' refused: the verifier found the goal not met. Fix what is listed "
        "with new tasks, or finish 'partial' and say what is missing"
    )
    return [head, *(f"unmet: {u}" for u in verdict.unmet or [verdict.reason])]


class BoardVerifier:
    """A verifier for domains that know no requirements of their own (e.g. the synthetic one).

    It can only lower a claim: `completed` needs at least one task done and nothing left
    pending or running; with nothing done the run `failed`. Otherwise the claim stands, with its
    reason unless that was written before the results (`PLANNED_BEFORE_RESULTS`): then the
    reason is computed from the board.
    """

    async def verify(self, view: VerificationView) -> Verdict:
        statuses = [t["status"] for t in view.tasks.values()]
        done = statuses.count("done")
        open_ = sum(1 for s in statuses if s in ("pending", "running"))
        claim = view.claim or Claim(status="completed", reason="")
        said = said_after_results(claim.reason)
        unmet: list[str] = []
        if done == 0:
            unmet.append("no task was done")
        if open_:
            unmet.append(f"{open_} task{'s' if open_ != 1 else ''} still pending or running")
        facts = {"done": done, "open": open_}
        if claim.status == "completed" and not unmet:
            noun = "task" if done == 1 else "tasks"
            reason = said or f"{done} {noun} done"
            return Verdict(status="completed", reason=reason, facts=facts)
        lowest: FinalStatus = "failed" if done == 0 else "partial"
        if _RANK[claim.status] <= _RANK[lowest]:
            # The claim is already as low as the board allows: its explanation stands.
            reason = said or "; ".join(unmet) or claim.reason
            return Verdict(status=claim.status, reason=reason, unmet=unmet, facts=facts)
        return Verdict(status=lowest, reason="; ".join(unmet), unmet=unmet, facts=facts)


_RANK: dict[str, int] = {"failed": 0, "partial": 1, "completed": 2}


def view_for(
    *,
    state: Mapping[str, Any],
    tasks: Mapping[str, Task],
    context: Context,
    thread_id: str,
    claim: Claim | None,
    run_id: str | None = None,
) -> VerificationView:
    """The verification view of a run's state (with `tasks` as the caller currently sees them)."""
    return VerificationView(
        goal=state.get("goal") or "",
        request=state.get("request"),
        tasks=tasks,
        results=state.get("results") or {},
        notes=state.get("notes") or {},
        context=context,
        thread_id=thread_id,
        run_id=run_id if run_id is not None else state.get("run_id", ""),
        scope=state.get("scope", ""),
        claim=claim,
    )
