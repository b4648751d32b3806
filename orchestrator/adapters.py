"""Workers from what LangChain and LangGraph users already have: tools, Runnables, graphs, agents.

Each adapter returns an ordinary `WorkerSpec`: typed pydantic input and output, validated by
the orchestrator like any worker's, with its own `timeout_s` and `max_attempts` (the worker
node's retry and timeout policy).

- `worker_from_tool(tool)`: a `@tool` or `StructuredTool`. Its args schema is the input; its
  return value is wrapped in `<Name>Output(result=...)`, typed from the function's return
  annotation. A `ToolException` is the tool's own verdict (`TaskFailed`, never retried).
- `worker_from_runnable(runnable, input_model, output_model)`: any Runnable; the input model is
  dumped to a dict for it and its answer validated into the output model (`to_input` and
  `from_output` change either mapping).
- `worker_from_graph(graph, input_model, output_model)`: a compiled LangGraph graph, including a
  prebuilt ReAct agent (`react_agent`). For a graph with a `messages` channel the task becomes
  one human message and the answer is its `structured_response` (else the last message, read as
  JSON). The graph runs inside the worker node as a subgraph: its checkpoints nest under the
  run's, and an `interrupt()` in it pauses the whole run (the `GraphInterrupt` propagates) and
  resumes there.

Every output model gets a `usage` field (`ReportsUsage`): the tokens the worker's own model calls
reported, per model, with the cost where `orchestrator.llm.usage.PRICES` knows the model, so
the engine can attribute them to the task. It is measured by a callback under the invocation
(nested graphs included), never read from the answer: a model could write any `usage`.

A graph or a Runnable may also be given as a factory `(WorkerCall) -> async context manager of
the graph`, to build it per call (e.g. on the run's model endpoint from `call.context`, see
`chat_model_for` and `agent_factory`).
"""

from __future__ import annotations

import json
import threading
import typing
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar, cast

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, Field, ValidationError, create_model

from orchestrator.llm.usage import answers_usage, cost_usd
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

RunnableFactory = Callable[[WorkerCall], AbstractAsyncContextManager[Runnable[Any, Any]]]
"""Builds the Runnable (or graph) for one call, e.g. with the run's model; closed after it."""


class TokenUsage(BaseModel):
    """Tokens one model used during one task attempt."""

    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = None
    """From the price table when the model is in it; None, never a guess, otherwise."""


class ReportsUsage(BaseModel):
    """Base of every adapter's output: the worker's own model usage rides on its output."""

    usage: list[TokenUsage] = Field(
        default_factory=list,
        description="Tokens the worker's own model calls used, per model (for cost per task).",
    )


class UsageRecorder(BaseCallbackHandler):
    """Sums `usage_metadata` of every chat model answer under the call it is attached to."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._by_model: dict[str, list[int]] = {}

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for model, prompt, completion in answers_usage(response):
            with self._lock:
                row = self._by_model.setdefault(model, [0, 0, 0])
                row[0] += 1
                row[1] += prompt
                row[2] += completion

    def usage(self) -> list[TokenUsage]:
        with self._lock:
            rows = sorted(self._by_model.items())
        return [
            TokenUsage(
                model=model,
                calls=calls,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost_usd(model, prompt, completion),
            )
            for model, (calls, prompt, completion) in rows
        ]


def _config_with(handler: BaseCallbackHandler) -> RunnableConfig:
    """The node's config plus `handler`: traces, streaming and subgraph nesting still follow
    the caller's run (a config that replaced the callbacks would cut them)."""
    parent = ensure_config().get("callbacks")
    if isinstance(parent, BaseCallbackManager):
        manager = parent.copy()
        manager.add_handler(handler, inherit=True)
        return {"callbacks": manager}
    return {"callbacks": [*(parent or []), handler]}


def with_usage(output_model: type[Out]) -> type[Out]:
    """`output_model` itself when it already reports usage, else a subclass that does."""
    if issubclass(output_model, ReportsUsage):
        return output_model
    if "usage" in output_model.model_fields:
        raise ValueError(
            f"{output_model.__name__} has a `usage` field of its own; derive it from "
            "ReportsUsage instead, so the adapter can fill it"
        )
    derived = create_model(
        output_model.__name__,
        __base__=(output_model, ReportsUsage),
        __module__=output_model.__module__,
    )
    derived.__doc__ = output_model.__doc__
    return cast(type[Out], derived)


@asynccontextmanager
async def _fixed(runnable: Runnable[Any, Any]) -> AsyncIterator[Runnable[Any, Any]]:
    yield runnable


def _opener(runnable: Runnable[Any, Any] | RunnableFactory) -> RunnableFactory:
    if isinstance(runnable, Runnable):
        fixed = runnable
        return lambda _call: _fixed(fixed)
    return runnable


def _summary(output: BaseModel) -> str:
    text = output.model_dump_json(exclude={"usage"})
    return text if len(text) <= 200 else text[:197] + "..."


def _spec(
    *,
    name: str,
    description: str,
    input_model: type[In],
    output_model: type[Out],
    opener: RunnableFactory,
    to_input: Callable[[In], Any],
    from_output: Callable[[Any], Any],
    failed_on: tuple[type[BaseException], ...],
    side_effects: bool,
    timeout_s: float,
    max_attempts: int,
    summarize: Callable[[Out], str] | None,
) -> WorkerSpec[In, Out]:
    if not name:
        raise ValueError("a worker needs a name")
    model = with_usage(output_model)

    async def run(inputs: In, call: WorkerCall) -> Out:
        recorder = UsageRecorder()
        async with opener(call) as runnable:
            try:
                raw = await runnable.ainvoke(to_input(inputs), _config_with(recorder))
            except failed_on as exc:
                raise TaskFailed(f"{name}: {exc}") from exc
        try:
            answer = from_output(raw)
            out = answer if isinstance(answer, model) else model.model_validate(_plain(answer))
        except (ValidationError, ValueError, TypeError) as exc:
            # Not a fault to retry blindly: the planner sees why and decides.
            raise TaskFailed(
                f"{name} answered something that is not a {model.__name__}: {_first_error(exc)}"
            ) from exc
        # Measured, never taken from the answer: a model could write any `usage` it likes.
        cast(ReportsUsage, out).usage = recorder.usage()
        return out

    return WorkerSpec(
        name=name,
        description=description,
        input_model=input_model,
        output_model=model,
        run=run,
        side_effects=side_effects,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        summarize=summarize or _summary,
    )


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        return f"{where}: {err['msg']}"
    return str(exc)[:300]


# -- tools ---------------------------------------------------------------------------------------


def _return_type(tool: BaseTool) -> Any:
    func = getattr(tool, "coroutine", None) or getattr(tool, "func", None)
    if func is None:
        return Any
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: the result stays untyped
        return Any
    return hints.get("return", Any)


def _tool_input_model(tool: BaseTool) -> type[BaseModel]:
    schema = tool.tool_call_schema  # the args the caller supplies (no injected ones)
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    schema = tool.get_input_schema()
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    raise TypeError(f"the tool {tool.name!r} has no pydantic args schema")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Tool"


def worker_from_tool(
    tool: BaseTool,
    *,
    name: str | None = None,
    description: str | None = None,
    side_effects: bool = False,
    timeout_s: float = 30.0,
    max_attempts: int = 3,
    summarize: Callable[[Any], str] | None = None,
) -> WorkerSpec[Any, Any]:
    """A worker that calls `tool` with the task's inputs (the tool's args schema).

    The output is `<Name>Output(result=<the tool's return value>, usage=[...])`. A tool that
    raises `ToolException` fails the task (the planner sees the message); any other exception
    is a fault the node retries. Set `side_effects=True` for a tool that changes the world.
    """
    input_model = _tool_input_model(tool)
    returns = _return_type(tool)
    output_model = create_model(
        f"{_camel(tool.name)}Output",
        __base__=ReportsUsage,
        result=(returns, Field(description=f"What the {tool.name} tool returned.")),
    )

    def summary(out: Any) -> str:
        text = str(out.result)
        return text if len(text) <= 200 else text[:197] + "..."

    return _spec(
        name=name or tool.name,
        description=description or tool.description,
        input_model=input_model,
        output_model=output_model,
        opener=_opener(tool),
        # Only the fields the task set: a tool's own defaults stay its own.
        to_input=lambda inputs: inputs.model_dump(exclude_unset=True),
        from_output=lambda raw: {"result": raw},
        failed_on=(ToolException,),
        side_effects=side_effects,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        summarize=summarize or summary,
    )


# -- runnables -----------------------------------------------------------------------------------


def worker_from_runnable(
    runnable: Runnable[Any, Any] | RunnableFactory,
    input_model: type[In],
    output_model: type[Out],
    *,
    name: str,
    description: str,
    to_input: Callable[[In], Any] | None = None,
    from_output: Callable[[Any], Any] | None = None,
    failed_on: tuple[type[BaseException], ...] = (),
    side_effects: bool = False,
    timeout_s: float = 30.0,
    max_attempts: int = 3,
    summarize: Callable[[Out], str] | None = None,
) -> WorkerSpec[In, Out]:
    """A worker that invokes `runnable` (or one built per call by a factory).

    By default the Runnable receives `inputs.model_dump()` and its answer (a dict or a model)
    is validated into `output_model`. Exceptions of `failed_on` types fail the task at once;
    others are retried up to `max_attempts`.
    """
    return _spec(
        name=name,
        description=description,
        input_model=input_model,
        output_model=output_model,
        opener=_opener(runnable),
        to_input=to_input or (lambda inputs: inputs.model_dump()),
        from_output=from_output or (lambda raw: raw),
        failed_on=failed_on,
        side_effects=side_effects,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        summarize=summarize,
    )


# -- graphs and agents ---------------------------------------------------------------------------


def task_message(inputs: BaseModel) -> HumanMessage:
    """The task as an agent's first message: a lone text field as it is, else the JSON."""
    fields = list(type(inputs).model_fields)
    if len(fields) == 1:
        value = getattr(inputs, fields[0])
        if isinstance(value, str):
            return HumanMessage(value)
    return HumanMessage(inputs.model_dump_json())


def _has_messages(graph: Runnable[Any, Any]) -> bool:
    channels = getattr(graph, "channels", None)
    return isinstance(channels, Mapping) and "messages" in channels


def agent_answer(state: Any) -> Any:
    """An agent's final answer: `structured_response` if it has one, else its last AI message
    read as JSON."""
    if not isinstance(state, Mapping):
        return state
    if state.get("structured_response") is not None:
        return state["structured_response"]
    messages: list[BaseMessage] = list(state.get("messages") or [])
    for message in reversed(messages):
        if isinstance(message, AIMessage) and not message.tool_calls:
            try:
                return json.loads(message.text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"the agent's last message is not JSON: {exc}") from exc
    raise ValueError("the agent finished without an answer")


def worker_from_graph(
    graph: Runnable[Any, Any] | RunnableFactory,
    input_model: type[In],
    output_model: type[Out],
    *,
    name: str | None = None,
    description: str,
    messages: bool | None = None,
    to_input: Callable[[In], Any] | None = None,
    from_output: Callable[[Any], Any] | None = None,
    failed_on: tuple[type[BaseException], ...] = (),
    side_effects: bool = False,
    timeout_s: float = 120.0,
    max_attempts: int = 2,
    summarize: Callable[[Out], str] | None = None,
) -> WorkerSpec[In, Out]:
    """A worker that runs a compiled LangGraph graph (a ReAct agent too) as a subgraph.

    `messages` (detected from a compiled graph's channels; say it for a factory) makes the task
    one human message (`task_message`) and the answer `agent_answer(state)`; otherwise the
    graph gets `inputs.model_dump()` and its final state is validated into `output_model`.
    Compile the graph without a checkpointer: it nests under the run's, so an `interrupt()` in
    it pauses the run and a resume continues inside it.
    """
    if messages is None:
        messages = isinstance(graph, Runnable) and _has_messages(graph)
    graph_name = getattr(graph, "name", None) if isinstance(graph, Runnable) else None
    chosen = name or (graph_name if graph_name and graph_name != "LangGraph" else None)
    if not chosen:
        raise ValueError("name the worker: the graph has no name of its own")

    def default_input(inputs: In) -> Any:
        return {"messages": [task_message(inputs)]} if messages else inputs.model_dump()

    return _spec(
        name=chosen,
        description=description,
        input_model=input_model,
        output_model=output_model,
        opener=_opener(graph),
        to_input=to_input or default_input,
        from_output=from_output or (agent_answer if messages else (lambda raw: raw)),
        failed_on=failed_on,
        side_effects=side_effects,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        summarize=summarize,
    )


def react_agent(
    model: Any,
    tools: list[Any],
    *,
    response_format: type[BaseModel] | None = None,
    prompt: str | None = None,
    name: str | None = None,
) -> Any:
    """A prebuilt ReAct agent: `langchain.agents.create_agent` when `langchain` is installed,
    else `langgraph.prebuilt.create_react_agent` (deprecated there in favour of the former,
    same behaviour; its deprecation warning is silenced here, on purpose)."""
    try:
        from langchain.agents import create_agent  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from langgraph.prebuilt import create_react_agent
        from langgraph.warnings import LangGraphDeprecatedSinceV10

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
            return create_react_agent(
                model, tools, prompt=prompt, response_format=response_format, name=name
            )
    return create_agent(  # pragma: no cover - only with `langchain` installed
        model, tools, system_prompt=prompt, response_format=response_format, name=name
    )


@asynccontextmanager
async def chat_model_for(call: WorkerCall) -> AsyncIterator[Any]:
    """The run's chat model (`ChatOpenAI`, from `call.context`: endpoint, model name, timeout,
    retries) for a worker's own calls; its connections close when the block ends.

    The model is `Context.worker_model`, else the planner's (`Context.planner_model`).
    """
    from orchestrator.llm.models import ModelUnavailable, open_chat_model

    try:
        async with open_chat_model(call.context, "worker") as model:
            yield model.client
    except ModelUnavailable as exc:
        # No model configured (or remote models switched off): retrying cannot help.
        raise TaskFailed(f"this worker needs a model: {exc}") from exc


def answer_schema(model: type[BaseModel]) -> type[BaseModel]:
    """What a model is asked to answer: `model` without the measured `usage` field."""
    if "usage" not in model.model_fields:
        return model
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in model.model_fields.items()
        if name != "usage"
    }
    schema = create_model(model.__name__, __module__=model.__module__, **fields)
    schema.__doc__ = model.__doc__
    return schema


def agent_factory(
    tools: list[Any],
    response_format: type[BaseModel],
    *,
    prompt: str,
    name: str,
) -> RunnableFactory:
    """Builds a ReAct agent per call, on the run's model (`chat_model_for`). The model is asked
    for `response_format` without its `usage` field, which the adapter measures itself."""
    answer = answer_schema(response_format)

    @asynccontextmanager
    async def open_agent(call: WorkerCall) -> AsyncIterator[Runnable[Any, Any]]:
        async with chat_model_for(call) as model:
            yield cast(
                Runnable[Any, Any],
                react_agent(model, tools, response_format=answer, prompt=prompt, name=name),
            )

    return open_agent
