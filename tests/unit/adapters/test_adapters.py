"""Workers from tools, Runnables and compiled graphs, run by the real orchestrator graph.

Each adapter's spec goes through `build_graph` and a scripted planner: the worker node validates
the inputs, runs the tool, Runnable or graph, and the output (with its `usage`) lands on the
board like any worker's. Interrupts inside an adapted graph pause the run and resume inside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import StructuredTool, ToolException, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from pydantic import BaseModel
from typing_extensions import TypedDict

from domains.synthetic import ScriptedPlanner
from graph.builder import build_graph
from orchestrator.adapters import (
    ReportsUsage,
    worker_from_graph,
    worker_from_runnable,
    worker_from_tool,
)
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.planning import Finish, NewTask, PlanUpdate, PlanView
from orchestrator.runner import run_config
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.workers import WorkerRegistry, WorkerSpec


@tool
def multiply(a: int, b: int) -> int:
    """Multiplies two integers."""
    return a * b


async def _divide(a: float, b: float) -> float:
    if b == 0:
        raise ToolException("cannot divide by zero")
    return a / b


divide = StructuredTool.from_function(
    coroutine=_divide, name="divide", description="Divides a by b."
)


def one_task(worker: str, **inputs: Any) -> ScriptedPlanner:
    """Adds one task, then finishes with the task's status."""

    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return PlanUpdate(add=[NewTask(id="t1", worker=worker, inputs=inputs)])
        status = view.tasks["t1"]["status"]
        if status in ("pending", "running"):
            return PlanUpdate()
        done = status == "done"
        return PlanUpdate(finish=Finish(status="completed" if done else "failed", reason=status))

    return ScriptedPlanner(script)


async def run_one(spec: WorkerSpec[Any, Any], thread: str = "t", **inputs: Any) -> dict[str, Any]:
    planner = one_task(spec.name, **inputs)
    domain = Domain(
        name="adapters",
        description="adapter test",
        workers=WorkerRegistry.of(spec),
        planner=lambda _ctx: planner,
        synthesizer=lambda _ctx: TemplateSynthesizer(),
    )
    graph = build_graph(domain, checkpointer=InMemorySaver())
    context = Context(planner="rules", approval="auto")
    await graph.ainvoke({"goal": "g"}, run_config(thread, context), context=context)
    snapshot = await graph.aget_state(run_config(thread, context))
    return dict(snapshot.values)


def result_of(values: dict[str, Any], task_id: str = "t1") -> dict[str, Any]:
    ref = values["tasks"][task_id]["result_ref"]
    result: dict[str, Any] = values["results"][ref]
    return result


async def test_a_tool_is_a_worker_with_its_args_schema_as_input() -> None:
    spec = worker_from_tool(multiply, timeout_s=5, max_attempts=2)

    assert spec.name == "multiply" and spec.description == "Multiplies two integers."
    assert set(spec.input_schema()["properties"]) == {"a", "b"}
    assert spec.output_model.model_fields["result"].annotation is int
    assert (spec.timeout_s, spec.max_attempts) == (5, 2)
    values = await run_one(spec, a=6, b=7)
    result = result_of(values)
    assert result["ok"] and result["output"] == {"result": 42, "usage": []}
    assert result["summary"] == "42"
    assert values["status"] == "completed"


async def test_bad_inputs_for_a_tool_are_refused_before_it_runs() -> None:
    spec = worker_from_tool(multiply)
    with pytest.raises(Exception, match="a"):
        spec.input_model.model_validate({"a": "six", "b": 7})


async def test_a_tool_exception_fails_the_task_once_and_the_planner_sees_why() -> None:
    spec = worker_from_tool(divide, max_attempts=3)

    values = await run_one(spec, a=1, b=0)

    task = values["tasks"]["t1"]
    assert task["status"] == "failed" and task["attempts"] == 1
    assert "cannot divide by zero" in (task["error"] or "")
    assert values["status"] == "failed"


class Numbers(BaseModel):
    values: list[float]


class Stats(BaseModel):
    total: float
    count: int


async def test_a_runnable_is_a_worker_with_typed_input_and_output() -> None:
    calls: list[dict[str, Any]] = []

    def stats(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(payload)
        return {"total": sum(payload["values"]), "count": len(payload["values"])}

    spec = worker_from_runnable(
        RunnableLambda(stats), Numbers, Stats, name="stats", description="Sums numbers."
    )

    assert issubclass(spec.output_model, Stats) and issubclass(spec.output_model, ReportsUsage)
    values = await run_one(spec, values=[1, 2, 3.5])
    assert result_of(values)["output"] == {"total": 6.5, "count": 3, "usage": []}
    assert calls == [{"values": [1.0, 2.0, 3.5]}]


async def test_a_runnable_answer_that_does_not_fit_fails_the_task_with_the_reason() -> None:
    spec = worker_from_runnable(
        RunnableLambda(lambda _p: {"total": "lots"}),
        Numbers,
        Stats,
        name="stats",
        description="Sums numbers.",
    )

    values = await run_one(spec, values=[1])

    error = values["tasks"]["t1"]["error"] or ""
    assert "is not a Stats" in error and "total" in error


async def test_a_faulty_runnable_is_retried_up_to_its_own_attempts() -> None:
    attempts: list[int] = []

    def flaky(payload: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) < 2:
            raise RuntimeError("transient")
        return {"total": 1.0, "count": 1}

    spec = worker_from_runnable(
        RunnableLambda(flaky), Numbers, Stats, name="stats", description="d", max_attempts=2
    )

    values = await run_one(spec, values=[1])

    assert len(attempts) == 2 and values["tasks"]["t1"]["status"] == "done"


class Question(BaseModel):
    question: str


class Reply(BaseModel):
    answer: str


class QAState(TypedDict):
    question: str
    answer: str


def qa_graph(*, ask: bool) -> Any:
    def answer(state: QAState) -> dict[str, Any]:
        if ask:
            decision = interrupt({"question": f"may I answer {state['question']!r}?"})
            return {"answer": f"{state['question']} -> {decision}"}
        return {"answer": state["question"].upper()}

    builder = StateGraph(QAState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(name="qa")


async def test_a_compiled_graph_is_a_worker_and_keeps_its_name() -> None:
    spec = worker_from_graph(qa_graph(ask=False), Question, Reply, description="Answers.")

    assert spec.name == "qa"
    values = await run_one(spec, question="why")
    assert result_of(values)["output"] == {"answer": "WHY", "usage": []}


async def test_an_interrupt_inside_the_graph_pauses_the_run_and_a_resume_finishes_it() -> None:
    spec = worker_from_graph(qa_graph(ask=True), Question, Reply, description="Answers.")
    planner = one_task(spec.name, question="why")
    domain = Domain(
        name="adapters",
        description="adapter test",
        workers=WorkerRegistry.of(spec),
        planner=lambda _ctx: planner,
        synthesizer=lambda _ctx: TemplateSynthesizer(),
    )
    graph = build_graph(domain, checkpointer=InMemorySaver())
    context = Context(planner="rules", approval="auto")
    config = run_config("paused", context)

    await graph.ainvoke({"goal": "g"}, config, context=context)

    snapshot = await graph.aget_state(config)
    (pause,) = snapshot.interrupts
    assert pause.value == {"question": "may I answer 'why'?"}
    assert snapshot.values["tasks"]["t1"]["status"] == "running"

    await graph.ainvoke(Command(resume="yes"), config, context=context)

    values = (await graph.aget_state(config)).values
    assert result_of(values)["output"]["answer"] == "why -> yes"
    assert values["status"] == "completed"


class Sum(ReportsUsage):
    total: int


class ToolCallingFake(GenericFakeChatModel):
    """Replays its messages whatever tools are bound (the agent binds its tools first)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


async def test_a_react_agent_is_a_worker_and_its_token_usage_is_on_the_output() -> None:
    from orchestrator.adapters import react_agent

    model = ToolCallingFake(
        messages=iter(
            [
                AIMessage(
                    "",
                    tool_calls=[{"name": "multiply", "args": {"a": 6, "b": 7}, "id": "c1"}],
                    usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
                    response_metadata={"model_name": "fake-model"},
                ),
                AIMessage(
                    '{"total": 42}',
                    usage_metadata={"input_tokens": 20, "output_tokens": 3, "total_tokens": 23},
                    response_metadata={"model_name": "fake-model"},
                ),
            ]
        )
    )
    agent = react_agent(model, [multiply], name="calculator")
    spec = worker_from_graph(agent, Question, Sum, description="Computes with tools.")

    assert spec.name == "calculator" and spec.output_model is Sum
    values = await run_one(spec, question="what is 6 times 7?")
    output = result_of(values)["output"]
    assert output["total"] == 42
    assert output["usage"] == [
        {
            "model": "fake-model",
            "calls": 2,
            "prompt_tokens": 30,
            "completion_tokens": 8,
            "cost_usd": None,
        }
    ]
    assert "usage" not in result_of(values)["summary"]


def test_an_output_model_with_its_own_usage_field_is_refused() -> None:
    class Odd(BaseModel):
        usage: int

    with pytest.raises(ValueError, match="ReportsUsage"):
        worker_from_runnable(RunnableLambda(lambda p: p), Numbers, Odd, name="x", description="x")


def test_a_graph_without_a_name_needs_one() -> None:
    builder = StateGraph(QAState)
    builder.add_node("answer", lambda s: s)
    builder.add_edge(START, "answer")
    with pytest.raises(ValueError, match="name the worker"):
        worker_from_graph(builder.compile(), Question, Reply, description="d")


@tool
def transfer(amount: int) -> str:
    """Moves money, once a person agreed."""
    answer = interrupt({"transfer": amount})
    return f"transferred {amount}" if answer == "yes" else "refused"


class Done(BaseModel):
    note: str


async def test_an_agent_tool_that_asks_a_person_pauses_the_run_and_resumes_inside_the_agent() -> (
    None
):
    from orchestrator.adapters import react_agent

    model = ToolCallingFake(
        messages=iter(
            [
                AIMessage("", tool_calls=[{"name": "transfer", "args": {"amount": 5}, "id": "c1"}]),
                AIMessage('{"note": "done"}'),
            ]
        )
    )
    spec = worker_from_graph(
        react_agent(model, [transfer], name="banker"), Question, Done, description="Pays."
    )
    planner = one_task(spec.name, question="pay 5")
    domain = Domain(
        name="adapters",
        description="adapter test",
        workers=WorkerRegistry.of(spec),
        planner=lambda _ctx: planner,
        synthesizer=lambda _ctx: TemplateSynthesizer(),
    )
    graph = build_graph(domain, checkpointer=InMemorySaver())
    context = Context(planner="rules", approval="auto")
    config = run_config("agent-pause", context)

    await graph.ainvoke({"goal": "g"}, config, context=context)
    (pause,) = (await graph.aget_state(config)).interrupts
    assert pause.value == {"transfer": 5}

    await graph.ainvoke(Command(resume="yes"), config, context=context)

    values = (await graph.aget_state(config)).values
    assert result_of(values)["output"]["note"] == "done"
    assert values["status"] == "completed"


async def test_an_agent_worker_without_a_model_fails_at_once_and_says_why() -> None:
    from orchestrator.adapters import agent_factory

    spec = worker_from_graph(
        agent_factory([multiply], Sum, prompt="Compute.", name="calc"),
        Question,
        Sum,
        name="calc",
        description="Computes.",
        messages=True,
        max_attempts=3,
    )

    values = await run_one(spec, question="6 times 7?")

    task = values["tasks"]["t1"]
    assert task["status"] == "failed" and task["attempts"] == 1
    assert "needs a model" in (task["error"] or "")


async def test_usage_is_measured_never_taken_from_the_answer() -> None:
    from orchestrator.adapters import answer_schema

    spec = worker_from_runnable(
        RunnableLambda(
            lambda _p: {
                "total": 1,
                "usage": [
                    {"model": "m", "calls": 9, "prompt_tokens": 10**9, "completion_tokens": 1}
                ],
            }
        ),
        Question,
        Sum,
        name="liar",
        description="d",
    )

    values = await run_one(spec, question="q")

    assert result_of(values)["output"] == {"total": 1, "usage": []}
    assert "usage" not in answer_schema(Sum).model_fields
    assert answer_schema(Sum).__name__ == "Sum"
