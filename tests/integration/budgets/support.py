"""A managing agent that orchestrates clones of itself: a domain whose `delegate` worker hands a
sub-goal to the same domain, and whose `think` worker calls the model (the real `ChatOpenAI`
over real HTTP to the scripted loopback server, through `chat_model_for`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from domains.synthetic import ScriptedPlanner, SyntheticDomain, synthetic_domain
from graph.builder import build_graph
from orchestrator.adapters import chat_model_for
from orchestrator.context import Context
from orchestrator.delegate import delegate_worker
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.runner import drive, run_config
from orchestrator.testing.scripted_openai import ScriptedOpenAI, Text
from orchestrator.workers import WorkerCall, WorkerSpec
from tests.unit.core.support import NOTHING, add, finish, task

TOKENS_PER_CALL = (100, 20)
"""(prompt, completion) tokens the scripted server reports for every call."""


class ThinkInput(BaseModel):
    prompt: str


class ThinkOutput(BaseModel):
    text: str


async def _think(inputs: ThinkInput, call: WorkerCall) -> ThinkOutput:
    async with chat_model_for(call) as model:
        reply = await model.ainvoke(inputs.prompt)
    return ThinkOutput(text=reply.text)


def think_worker() -> WorkerSpec[ThinkInput, ThinkOutput]:
    return WorkerSpec(
        name="think",
        description="Asks the model one question.",
        input_model=ThinkInput,
        output_model=ThinkOutput,
        run=_think,
        max_attempts=1,
    )


def clone_domain(plan: Callable[[PlanView], PlanUpdate]) -> SyntheticDomain:
    """`plan` plans every run, the top one and each clone's (`view.context.depth` tells them
    apart); `delegate` runs a clone of this very domain."""
    holder: list[SyntheticDomain] = []
    domain = synthetic_domain(
        ScriptedPlanner(plan),
        name="clone",
        extra_workers=[think_worker(), delegate_worker(lambda: holder[0])],
    )
    holder.append(domain)
    return domain


def settle(view: PlanView) -> PlanUpdate:
    """Nothing more to add: wait for what runs, then finish with the first failure's error."""
    tasks = list(view.tasks.values())
    if any(t["status"] in ("pending", "running") for t in tasks):
        return NOTHING
    failed = [t for t in tasks if t["status"] == "failed"]
    if failed:
        return finish("partial", f"{failed[0]['id']} failed: {failed[0]['error']}")
    return finish("completed", "all done")


def think_forever(view: PlanView) -> PlanUpdate:
    """One more model call per round, until a limit stops the run."""
    return add(task(f"think-{len(view.tasks) + 1}", "think", prompt=f"thought {len(view.tasks)}"))


def scripted(server: ScriptedOpenAI) -> ScriptedOpenAI:
    server.usage = TOKENS_PER_CALL
    server.script(*[Text("a thought")] * 200)
    return server


def context(server: ScriptedOpenAI, **fields: Any) -> Context:
    return Context(
        base_url=server.base_url,
        planner_model="scripted",
        request_retries=0,
        request_timeout_s=10,
        approval="auto",
        **fields,
    )


async def run(
    domain: SyntheticDomain, ctx: Context, goal: str = "think it through"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    outcome = await drive(
        build_graph(domain, checkpointer=InMemorySaver()),
        {"goal": goal},
        config=run_config("budgets", ctx),
        context=ctx,
        on_event=events.append,
    )
    return outcome.values, events


def tokens(usage: list[Mapping[str, Any]]) -> int:
    return sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage)
