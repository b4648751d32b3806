"""Builders for the LLM tests: scripted plan updates, contexts, runs, and what the server saw."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from domains.synthetic import synthetic_domain
from graph.builder import Graph, build_graph
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.llm.planner import LLMPlanner
from orchestrator.llm.synthesizer import LLMSynthesizer
from orchestrator.runner import RunOutcome, drive, run_config
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from orchestrator.workers import WorkerSpec

API_KEY = "sk-test-MARKER-7f3a9c1e5b2d4f60"
"""The `OPENAI_API_KEY` every LLM test runs with; it must never be stored anywhere."""

MODEL = "test-model"


def task(task_id: str, worker: str, deps: Sequence[str] = (), **inputs: Any) -> dict[str, Any]:
    """A task as the model writes it in a plan update."""
    return {"id": task_id, "worker": worker, "inputs": inputs, "depends_on": list(deps)}


def add(*tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"add": list(tasks), **fields}


def finish(status: str = "completed", reason: str = "done") -> dict[str, Any]:
    return {"finish": {"status": status, "reason": reason}}


def sleep_domain(
    *, llm_synthesizer: bool = False, extra_workers: Sequence[WorkerSpec[Any, Any]] = ()
) -> Domain:
    """The synthetic `sleep` pool, planned by the LLM (and written up by it, if asked)."""
    base = synthetic_domain(lambda _ctx: LLMPlanner(), extra_workers=extra_workers)
    if not llm_synthesizer:
        return base
    return Domain(
        name=base.name,
        description=base.description,
        workers=base.workers,
        planner=base.planner,
        synthesizer=lambda _ctx: LLMSynthesizer(TemplateSynthesizer()),
    )


def sleep_graph(
    *, checkpointer: BaseCheckpointSaver[Any] | None = None, **domain_options: Any
) -> Graph:
    return build_graph(sleep_domain(**domain_options), checkpointer=checkpointer or InMemorySaver())


def llm_context(server: ScriptedOpenAI, **overrides: Any) -> Context:
    """A run that plans with the scripted model: short timeouts, no retries unless asked."""
    fields: dict[str, Any] = {
        "planner": "llm",
        "base_url": server.base_url,
        "planner_model": MODEL,
        "request_timeout_s": 5.0,
        "request_retries": 0,
        "approval": "auto",
    }
    fields.update(overrides)
    return Context(**fields)


async def run(
    graph: Graph,
    context: Context,
    *,
    goal: str = "test goal",
    request: dict[str, Any] | None = None,
    thread: str = "t1",
    callbacks: list[Any] | None = None,
) -> RunOutcome:
    """Drives a run to its end or its first pause, as the CLI does (custom events only)."""
    config: RunnableConfig = run_config(thread, context)
    if callbacks:
        config["callbacks"] = callbacks
    start: dict[str, Any] = {"goal": goal, "request": request}
    return await drive(graph, start, config=config, context=context)


async def run_streaming_messages(
    graph: Graph, context: Context, *, goal: str, request: dict[str, Any] | None, thread: str
) -> tuple[dict[str, Any], int]:
    """Runs with `stream_mode="messages"`, which makes the model calls stream over HTTP.

    Returns the final values and how many message chunks the stream delivered.
    """
    config = run_config(thread, context)
    chunks = 0
    async for _mode, _item in graph.astream(
        {"goal": goal, "request": request},
        config,
        context=context,
        stream_mode=["messages", "custom"],
    ):
        if _mode == "messages":
            chunks += 1
    snapshot = await graph.aget_state(config)
    return dict(snapshot.values), chunks


def prompt_of(request: dict[str, Any]) -> str:
    """Every message the client sent in one request, joined."""
    return "\n".join(str(m.get("content") or "") for m in request["messages"])


def prompt_chars(request: dict[str, Any]) -> int:
    return len(prompt_of(request))


def tool_names(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools") or []]


def catalogue_in(request: dict[str, Any]) -> list[str]:
    """Worker names in the `## Workers` block of a planning prompt: a line per worker, each
    input indented under it."""
    text = prompt_of(request)
    block = text.split("## Workers", 1)[1].split("\n\n## ", 1)[0]
    heads = [line for line in block.splitlines()[1:] if line[:1] != " "]
    return [line.split(":", 1)[0].removesuffix(" (side effects)") for line in heads]


def stored_bytes(path: Path) -> bytes:
    """An SQLite database's bytes, with its WAL and shared-memory files."""
    data = b""
    for part in sorted(path.parent.glob(path.name + "*")):
        data += part.read_bytes()
    return data


def log_kinds(values: dict[str, Any], kind: str) -> list[str]:
    return [e["message"] for e in values.get("log") or [] if e["kind"] == kind]
