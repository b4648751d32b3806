"""Remote workers: a worker that is an orchestrator graph served by another LangGraph server.

The remote twin of `delegate_worker`: the same inputs (a sub-goal and its structured request) and
the same answer, but the sub-orchestrator runs on a LangGraph server reached through
`langgraph.pregel.remote.RemoteGraph`, with its own checkpoints, workers and data. This is how a
managing agent orchestrates clones of itself across servers.

Each task runs on a remote thread whose id is derived from the task's idempotency key (caller's
thread and task id), so a retry or a resume after a crash never starts a second sub-run: it waits
for the one in flight, or reads the answer of the one that finished.

A server refuses `approval: "auto"` from its callers (it is the deployment's setting). A worker
whose caller's approval already covers the sub-run therefore does not send it: it answers the
sub-run's approval pauses itself, through the same API any caller resumes a run with.

Delegation is bounded as for `delegate_worker` (`orchestrator.budgets`): the sub-run's context
carries its depth, the caller's `max_depth` and `max_fanout`, and the task's share of the
caller's budgets, each lowered to the remote server's cap when its context schema states one (a
server refuses a value above its cap, and a budget is only ever a ceiling). What the sub-run
spent, read from its state, is charged to the task.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from langchain_core.runnables import RunnableConfig
from langgraph.pregel.remote import RemoteGraph
from langgraph.types import Command
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from pydantic import Field

from orchestrator.budgets import SUB_RUN_FIELDS, charge_sub_run, sub_run_limits
from orchestrator.delegate import DelegateInput, DelegateOutput, why_it_ended
from orchestrator.redact import redact_url
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec

REMOTE_URL_ENV = "ORCHESTRATOR_REMOTE_URL"
SERVER_URL_ENV = "LANGGRAPH_API_URL"
"""Set by `langgraph dev` to the server's own URL: the default target is the server itself."""

_THREAD_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-4f0e-9a35-2d0c1b7e4a91")
_IN_FLIGHT = ("pending", "running")
_FINAL = ("completed", "partial", "failed")
APPROVE_NODE = "approve"
MAX_APPROVALS = 20
"""Approval pauses a sub-run may make before the worker gives up on it (each is a new round
of bookings; a sub-run that keeps asking is stuck)."""


class RemoteOutput(DelegateOutput):
    thread_id: str = Field(description="The remote thread that ran the sub-goal.")
    url: str = Field(description="The server it ran on (any password in it redacted).")


def remote_thread_id(idempotency_key: str) -> str:
    """A stable thread id (the server wants UUIDs) for one task of one caller's thread."""
    return str(uuid.uuid5(_THREAD_NAMESPACE, idempotency_key))


def resolve_url(url: str | None) -> str:
    """The given URL, else `$ORCHESTRATOR_REMOTE_URL`, else the server this code runs in."""
    found = url or os.environ.get(REMOTE_URL_ENV) or os.environ.get(SERVER_URL_ENV)
    if not found:
        raise TaskFailed(
            f"no server to send the task to: set {REMOTE_URL_ENV} to the URL of the LangGraph "
            "server that serves the remote graph, e.g. http://127.0.0.1:2025"
        )
    return found.rstrip("/")


def remote_worker(
    name: str,
    *,
    graph_id: str,
    url: str | None = None,
    description: str,
    context: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    api_key: str | None = None,
    side_effects: bool = True,
    timeout_s: float = 600.0,
    max_attempts: int = 2,
    fail_unless_completed: bool = True,
) -> WorkerSpec[DelegateInput, RemoteOutput]:
    """A worker that runs a whole sub-orchestration on graph `graph_id` of the server at `url`.

    `url=None` resolves at call time (see `resolve_url`). `context` is the sub-run's context:
    the caller's `Context` is not forwarded, because its paths and settings belong to this
    server, not the remote one; only its depth and the task's share of its budgets are
    (`orchestrator.budgets`; a smaller budget given in `context` is kept).
    `{"approval": "auto"}` (the caller's own approval already covers the sub-run) is not sent,
    since servers refuse it from callers: the worker approves the sub-run's pauses itself.
    `headers` carry auth (`Authorization: Bearer ...`); `api_key` is sent as `x-api-key`
    (LangSmith deployments) and is never read from the environment, so no key leaks to a
    server it was not meant for.
    """

    async def run(inputs: DelegateInput, call: WorkerCall) -> RemoteOutput:
        limits = sub_run_limits(call.context, call.budget)  # TaskFailed past a limit
        base = resolve_url(url)
        thread_id = remote_thread_id(call.idempotency_key)
        client = get_client(url=base, api_key=api_key, headers=dict(headers or {}))
        try:
            remote = RemoteGraph(graph_id, client=client, name=name)
            config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
            await client.threads.create(
                thread_id=thread_id,
                if_exists="do_nothing",
                metadata={"caller_task": call.idempotency_key, "worker": name},
            )
            schema = await context_schema(client, graph_id)
            sent = for_server(bounded(context or {}, limits), schema)
            approve = sent.get("approval") == "auto"
            if approve:
                del sent["approval"]
            final, ran = await _finish(client, remote, config, inputs, sent, approve=approve)
        finally:
            await client.aclose()
        # A finished sub-run read again by a later attempt was charged by the one that ran it.
        spent = charge_sub_run(final, charged=ran or call.attempt == 1)
        answer = final.get("answer") or {}
        out = RemoteOutput(
            status=str(final.get("status")),
            reason=str(final.get("reason")),
            summary=str(answer.get("summary", "")),
            data=dict(answer.get("data", {})),
            spent=spent.as_dict(),
            thread_id=thread_id,
            url=redact_url(base),  # kept in the caller's state: no password in checkpoints
        )
        if fail_unless_completed and out.status != "completed":
            raise TaskFailed(f"remote sub-orchestrator ended {why_it_ended(final)}")
        return out

    return WorkerSpec(
        name=name,
        description=description,
        input_model=DelegateInput,
        output_model=RemoteOutput,
        run=run,
        side_effects=side_effects,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        summarize=lambda out: f"{out.status}: {out.reason} (thread {out.thread_id})",
        delegates=True,
    )


def bounded(context: Mapping[str, Any], limits: Mapping[str, Any]) -> dict[str, Any]:
    """The worker's own `context` with the sub-run's `limits`: for a budget both set, the lower
    (a worker configured with a smaller one keeps it); `depth` is always the limits'."""
    sent = dict(context)
    for name, value in limits.items():
        mine = sent.get(name)
        lower = name != "depth" and isinstance(mine, int | float) and not isinstance(mine, bool)
        sent[name] = min(mine, value) if lower else value
    return sent


async def context_schema(client: LangGraphClient, graph_id: str) -> dict[str, Any]:
    """The context fields the server states for `graph_id` (its context schema's `properties`,
    with each cap as `maximum`: `Context.__get_pydantic_json_schema__`); {} when it states none."""
    try:
        found = await client.assistants.search(graph_id=graph_id, limit=1)
        if not found:
            return {}
        schemas = await client.assistants.get_schemas(found[0]["assistant_id"])
    except httpx.HTTPError:
        return {}  # the run itself will say what is wrong with the server, if anything
    properties = (schemas.get("context_schema") or {}).get("properties")
    return properties if isinstance(properties, dict) else {}


def for_server(sent: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """`sent` fit for a server whose context fields are `schema` ({}: unknown, sent as is):
    every limit lowered to the server's cap (it refuses one above), and the limits it has no
    field for left out (it refuses unknown fields; it bounds its runs by its own settings)."""
    out = dict(sent)
    for name in SUB_RUN_FIELDS:
        value = out.get(name)
        if value is None or not schema:
            continue
        prop = schema.get(name)
        if not isinstance(prop, Mapping):
            del out[name]
            continue
        limit = prop.get("maximum")
        if isinstance(limit, int | float) and isinstance(value, int | float) and value > limit:
            out[name] = int(limit) if isinstance(value, int) else float(limit)
    return out


async def _finish(
    client: LangGraphClient,
    remote: RemoteGraph,
    config: RunnableConfig,
    inputs: DelegateInput,
    context: dict[str, Any],
    *,
    approve: bool = False,
) -> tuple[dict[str, Any], bool]:
    """The sub-run's final values: joined if in flight, read if finished, else run to its end;
    and False when they were only read (the sub-run had finished before this call).

    With `approve`, every approval pause of the sub-run is answered "approve"."""
    thread_id = str(config["configurable"]["thread_id"])
    runs = await client.runs.list(thread_id, limit=5)
    in_flight = [r for r in runs if r["status"] in _IN_FLIGHT]
    if in_flight:
        # An earlier attempt timed out, or its caller crashed, while the sub-run went on.
        await client.runs.join(thread_id, in_flight[0]["run_id"])
    else:
        state = await client.threads.get_state(thread_id)
        values, pending = _values_and_next(state)
        if values.get("status") in _FINAL and not pending:
            return values, False
        checkpoint = state.get("checkpoint") or {}
        if values and checkpoint.get("checkpoint_id"):
            # Stopped half-way (an error, a crash): continue from the last checkpoint, named
            # explicitly, which re-runs only what did not finish. A run with neither input nor
            # command nor checkpoint is refused by some servers (Aegra answers 422).
            await remote.ainvoke(
                None,
                config,
                context=context,
                checkpoint={
                    "thread_id": thread_id,
                    "checkpoint_ns": str(checkpoint.get("checkpoint_ns") or ""),
                    "checkpoint_id": str(checkpoint["checkpoint_id"]),
                },
            )
        else:
            await remote.ainvoke(inputs.model_dump(mode="json"), config, context=context)
    values, pending = await _state(client, thread_id)
    for _ in range(MAX_APPROVALS if approve else 0):
        if pending != [APPROVE_NODE]:
            break
        await remote.ainvoke(Command(resume="approve"), config, context=context)
        values, pending = await _state(client, thread_id)
    if pending:
        raise TaskFailed(
            f"remote sub-run paused at {pending} on thread {thread_id}; answer it there, or "
            "let the worker approve for its caller (context approval 'auto')"
        )
    return values, True


async def _state(client: LangGraphClient, thread_id: str) -> tuple[dict[str, Any], list[str]]:
    """The thread's latest values ({} before its first checkpoint) and its pending nodes."""
    return _values_and_next(await client.threads.get_state(thread_id))


def _values_and_next(state: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    values = state["values"] if isinstance(state["values"], dict) else {}
    return values, list(state["next"])
