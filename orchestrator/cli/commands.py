"""The engine's run commands (`resume`) and what a domain's commands build on: the data
directory, the run's `Context`, the approver, `start_run` (a new run on a new thread, under the
thread's lock) and the report of how a run ended. Each validates first, then opens the stores,
then runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langgraph.types import Command, StateSnapshot

from graph.builder import Graph, build_graph
from graph.persistence import (
    describe_target,
    hold_thread,
    is_postgres,
    open_checkpointer,
    resolve_target,
)
from orchestrator.cli.approval import (
    AutoApprover,
    EditSession,
    Invalid,
    TerminalApprover,
    render_approval,
)
from orchestrator.cli.errors import EXIT_OK, EXIT_PAUSED, EXIT_UNFINISHED, UserError
from orchestrator.cli.graphs import Loaded, load, load_graph
from orchestrator.cli.live import progress_view
from orchestrator.context import Context, default_data_dir
from orchestrator.domain import Domain
from orchestrator.llm.config import model_configured
from orchestrator.llm.usage import usage_totals
from orchestrator.report.cost import cost_breakdown, cost_lines
from orchestrator.runner import Approver, RunOutcome, drive, run_config
from state import Usage


def data_dir_of(args: argparse.Namespace) -> str:
    """`--data-dir`, else `$ORCHESTRATOR_HOME`, else the default data directory."""
    return str(getattr(args, "data_dir", None) or default_data_dir())


def run_context(args: argparse.Namespace, data_dir: str, *, auto: bool) -> Context:
    """The run's `Context` from the command's options; a model asked for and missing is a
    `UserError`."""
    fields: dict[str, Any] = {"data_dir": data_dir, "approval": "auto" if auto else "ask"}
    if getattr(args, "planner", None):
        fields["planner"] = args.planner
    try:
        context = Context(**fields)
    except (ValueError, TypeError) as exc:
        raise UserError(f"a setting is wrong: {exc}") from None
    if context.planner == "llm" and not model_configured(context):
        source = "--planner llm" if getattr(args, "planner", None) else "ORCHESTRATOR_PLANNER=llm"
        raise UserError(
            f"{source} needs a model and none is configured: set OPENAI_API_KEY (and "
            "OPENAI_BASE_URL for vLLM, Ollama or LM Studio), or use --planner rules"
        )
    return context


def approver_for(args: argparse.Namespace) -> Approver | None:
    """`--yes`: approve everything; a terminal: ask; else nobody (the run stays paused)."""
    if args.yes:
        return AutoApprover()
    if sys.stdin.isatty():
        return TerminalApprover()
    return None  # nobody to ask: leave the run paused, resumable later


def report(
    args: argparse.Namespace,
    thread_id: str,
    outcome: RunOutcome,
    extra_usage: Sequence[Usage] = (),
) -> int:
    """Prints how the run ended (the answer, or JSON with `--json`) and returns the exit code."""
    values = outcome.values
    usage = usage_totals([*extra_usage, *(values.get("usage") or [])])
    answer = values.get("answer") or {}
    if outcome.paused:
        status, reason = "awaiting_approval", "waiting for approval of side effects"
    else:
        status, reason = values.get("status", "unknown"), values.get("reason", "")
    if args.json:
        print(
            json.dumps(
                {
                    "thread_id": thread_id,
                    "status": status,
                    "reason": reason,
                    "itinerary": answer.get("data"),
                    "approval": [p["value"] for p in outcome.paused] or None,
                    "usage": usage.as_dict() if usage.calls else None,
                },
                indent=2,
                default=str,
            )
        )
    elif answer:
        print(answer.get("summary", ""))
    if outcome.paused:
        print(
            f"paused for approval; continue with: orchestrator resume {thread_id} [--yes]",
            file=sys.stderr,
        )
    if usage.calls:
        print(usage.describe(), file=sys.stderr)
        for line in cost_lines(cost_breakdown([*extra_usage, *(values.get("usage") or [])])):
            print(line, file=sys.stderr)
    print(f"thread: {thread_id}  (the full report: orchestrator show {thread_id})", file=sys.stderr)
    if outcome.paused:
        return EXIT_PAUSED
    return EXIT_OK if status == "completed" else EXIT_UNFINISHED


async def start_run(
    args: argparse.Namespace,
    domain: Domain,
    inputs: Mapping[str, Any],
    thread_id: str,
    *,
    auto: bool,
    prepare: Callable[[], Awaitable[None]] | None = None,
    extra_usage: Sequence[Usage] = (),
) -> int:
    """Runs `domain` on `inputs` (`goal`, `request`) on the new thread `thread_id`, reports how
    it ended and returns the exit code. `auto`: approve every side effect (else as `--yes` and
    the terminal say). `prepare` runs once the thread is known to be free: e.g. building the
    domain's storage. `extra_usage`: model calls made before the run (reading the request)."""
    data_dir = data_dir_of(args)
    context = run_context(args, data_dir, auto=False)
    target = resolve_target(args.checkpointer, data_dir)
    approver: Approver | None = AutoApprover() if auto else approver_for(args)
    # The lock first: "is the thread empty?" and the run that fills it are one step, so two
    # processes given the same --thread can never both run it.
    async with hold_thread(target, thread_id, data_dir), open_checkpointer(target) as saver:
        graph = build_graph(domain, checkpointer=saver)
        config = run_config(thread_id, context)
        if (await graph.aget_state(config)).values:
            raise UserError(
                f"thread {thread_id!r} already holds a run: continue it with "
                f"`orchestrator resume {thread_id}`, branch it with `orchestrator fork`, "
                "or pick a new --thread"
            )
        if prepare is not None:
            await prepare()
        print(f"thread: {thread_id}  ({inputs.get('goal', '')})", file=sys.stderr)
        with progress_view(json_output=args.json) as on_event:
            outcome = await drive(
                graph,
                dict(inputs),
                config=config,
                context=context,
                on_event=on_event,
                approver=approver,
            )
    return report(args, thread_id, outcome, extra_usage)


async def checkpoint_target(args: argparse.Namespace) -> str:
    """Where the run's checkpoints are; an error (not an empty new file) when there are none."""
    target = resolve_target(args.checkpointer, data_dir_of(args))
    if not is_postgres(target) and not await asyncio.to_thread(Path(target).exists):
        raise UserError(f"no run named {args.thread_id!r}: there are no checkpoints at {target}")
    return target


async def check_thread_storage(
    args: argparse.Namespace, thread_id: str, target: str, *, resuming: bool = False
) -> None:
    """Refuses (exit 2) a thread whose records are not in the domain's storage here (its
    `check_thread`: travel's bookings must be in `--data-dir`'s inventory). Nothing is built or
    written; an unknown thread, or a graph whose domain has no check, passes."""
    async with open_checkpointer(target) as saver:
        loaded = load(getattr(args, "graph", None), saver)
        snapshot = await loaded.graph.aget_state({"configurable": {"thread_id": thread_id}})
    await check_storage(loaded, thread_id, snapshot.values, data_dir_of(args), resuming=resuming)


async def check_storage(
    loaded: Loaded,
    thread_id: str,
    values: Mapping[str, Any] | None,
    data_dir: str,
    *,
    resuming: bool = False,
) -> None:
    """The domain's `check_thread` for a thread's state, off the event loop."""
    check = loaded.domain.check_thread if loaded.domain is not None else None
    if check is not None and values:
        await asyncio.to_thread(lambda: check(thread_id, values, data_dir, resuming=resuming))


async def require_thread(graph: Graph, thread_id: str, target: str) -> StateSnapshot:
    snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    if not snapshot.values:
        raise UserError(
            f"no run named {thread_id!r} in {describe_target(target)}: check the thread id "
            "(it was printed when the run started)"
        )
    return snapshot


def _answered(args: argparse.Namespace, snapshot: StateSnapshot) -> Command[Any]:
    """The resume command for `--answer`, checked against the paused question before anything
    is written: a bad answer is a UserError and the run stays paused."""
    thread = args.thread_id
    if args.yes:
        raise UserError("use either --yes or --answer, not both")
    if not snapshot.interrupts:
        if not snapshot.next:
            raise UserError(f"run {thread} already finished: there is no approval to answer")
        raise UserError(
            f"run {thread} is not waiting for approval: continue it with "
            f"`orchestrator resume {thread}` (without --answer)"
        )
    if len(snapshot.interrupts) > 1:
        raise UserError(
            f"run {thread} waits for {len(snapshot.interrupts)} approvals at once and --answer "
            "answers one: resume it from Python with Command(resume={interrupt id: answer})"
        )
    (pending,) = snapshot.interrupts
    if not isinstance(pending.value, dict):
        raise UserError(f"run {thread} is paused on something other than an approval")
    session = EditSession(pending.value)
    decision = session.run(args.answer)
    if isinstance(decision, Invalid):
        raise UserError(f"--answer {decision.message} (the run stays paused)")
    print(render_approval(pending.value), file=sys.stderr)
    if session.edited:
        print(session.render(), file=sys.stderr)
    print(f"  answered with --answer: {decision['decision']}", file=sys.stderr)
    return Command(resume={pending.id: decision})


async def resume(args: argparse.Namespace) -> int:
    data_dir = data_dir_of(args)
    target = await checkpoint_target(args)
    context = run_context(args, data_dir, auto=False)
    async with open_checkpointer(target) as saver:
        graph = load_graph(args.graph, saver)
        config = run_config(args.thread_id, context)
        snapshot = await require_thread(graph, args.thread_id, target)
        start = _answered(args, snapshot) if args.answer else None
        if not snapshot.next and snapshot.values.get("answer"):
            print(f"run {args.thread_id} already finished; nothing to do", file=sys.stderr)
            return report(args, args.thread_id, RunOutcome(dict(snapshot.values), []))
        with progress_view(json_output=args.json) as on_event:
            outcome = await drive(
                graph,
                start,
                config=config,
                context=context,
                on_event=on_event,
                approver=approver_for(args),
            )
    return report(args, args.thread_id, outcome)
