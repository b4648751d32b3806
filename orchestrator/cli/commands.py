"""The CLI's commands. Each validates first, then opens the stores, then runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langgraph.types import Command, StateSnapshot

from domains.travel.inventory import AIRPORTS
from domains.travel.models import Leg, TripRequest
from domains.travel.request import (
    TripInputError,
    build_trip,
    inventory_window,
    parse_day,
    parse_leg,
    round_trip_legs,
    showcase_trip,
)
from domains.travel.services import (
    check_inventory_holds,
    existing_inventory,
    inventory_at,
    inventory_exists,
    inventory_location,
    thread_bookings,
)
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
from orchestrator.cli.graphs import load_graph
from orchestrator.cli.live import progress_view
from orchestrator.context import Context, default_data_dir
from orchestrator.llm.config import model_configured
from orchestrator.llm.usage import usage_totals
from orchestrator.runner import Approver, RunOutcome, drive, run_config
from state import Usage


def _data_dir(args: argparse.Namespace) -> str:
    return str(args.data_dir or default_data_dir())


def _context(args: argparse.Namespace, data_dir: str, *, auto: bool) -> Context:
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


def _approver(args: argparse.Namespace) -> Approver | None:
    if args.yes:
        return AutoApprover()
    if sys.stdin.isatty():
        return TerminalApprover()
    return None  # nobody to ask: leave the run paused, resumable later


def _report(
    args: argparse.Namespace,
    thread_id: str,
    outcome: RunOutcome,
    extra_usage: Sequence[Usage] = (),
) -> int:
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
    print(f"thread: {thread_id}  (the full report: orchestrator show {thread_id})", file=sys.stderr)
    if outcome.paused:
        return EXIT_PAUSED
    return EXIT_OK if status == "completed" else EXIT_UNFINISHED


async def _run_trip(
    args: argparse.Namespace,
    trip: TripRequest,
    data_dir: str,
    thread_id: str,
    *,
    auto: bool,
    extra_usage: Sequence[Usage] = (),
) -> int:
    context = _context(args, data_dir, auto=False)
    target = resolve_target(args.checkpointer, data_dir)
    approver: Approver | None = AutoApprover() if auto else _approver(args)
    # The lock first: "is the thread empty?" and the run that fills it are one step, so two
    # processes given the same --thread can never both run it.
    async with hold_thread(target, thread_id, data_dir), open_checkpointer(target) as saver:
        graph = build_graph(checkpointer=saver)
        config = run_config(thread_id, context)
        if (await graph.aget_state(config)).values:
            raise UserError(
                f"thread {thread_id!r} already holds a run: continue it with "
                f"`orchestrator resume {thread_id}`, branch it with `orchestrator fork`, "
                "or pick a new --thread"
            )
        if not await asyncio.to_thread(inventory_exists, data_dir):
            where = inventory_location(data_dir)
            print(f"creating the inventory database in {where} (once)...", file=sys.stderr)
        await asyncio.to_thread(inventory_at, data_dir)
        print(f"thread: {thread_id}  ({trip.goal()})", file=sys.stderr)
        with progress_view(json_output=args.json) as on_event:
            outcome = await drive(
                graph,
                {"goal": trip.goal(), "request": trip.model_dump(mode="json")},
                config=config,
                context=context,
                on_event=on_event,
                approver=approver,
            )
    return _report(args, thread_id, outcome, extra_usage)


async def trip(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    try:
        legs = _legs(args)
        request = build_trip(
            legs=legs,
            travelers=args.travelers,
            budget=args.budget,
            cabin=args.cabin,
            hotel_tier=args.hotel_tier,
            car=args.car,
            car_class=args.car_class,
            window=await asyncio.to_thread(inventory_window, data_dir),
            open_jaw=args.open_jaw,
        )
    except TripInputError as exc:
        raise UserError(str(exc)) from None
    thread_id = args.thread or f"trip-{uuid.uuid4().hex[:8]}"
    return await _run_trip(args, request, data_dir, thread_id, auto=False)


def _legs(args: argparse.Namespace) -> list[Leg]:
    if args.leg:
        if args.origin or args.destination:
            raise TripInputError("use either --leg (repeated) or --from/--to, not both")
        return [parse_leg(text) for text in args.leg]
    if not (args.origin and args.destination and args.depart):
        raise TripInputError(
            "say where and when: --from SFO --to CDG --depart +30 [--return +35] (dates are "
            "YYYY-MM-DD or +N days from today), or repeat --leg FROM-TO:DATE"
        )
    depart = parse_day(args.depart, "--depart")
    back = parse_day(args.back, "--return") if args.back else None
    return round_trip_legs(args.origin, args.destination, depart, back)


async def demo(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    window = await asyncio.to_thread(inventory_window, data_dir)
    request = showcase_trip(window[0])
    print(
        "Demo: the orchestrator plans a trip, delegates searches to workers in parallel, "
        "re-plans from what they find, then books (approval is automatic in the demo).",
        file=sys.stderr,
    )
    thread_id = f"demo-{uuid.uuid4().hex[:8]}"
    args.yes = True
    return await _run_trip(args, request, data_dir, thread_id, auto=True)


async def checkpoint_target(args: argparse.Namespace) -> str:
    """Where the run's checkpoints are; an error (not an empty new file) when there are none."""
    target = resolve_target(args.checkpointer, _data_dir(args))
    if not is_postgres(target) and not await asyncio.to_thread(Path(target).exists):
        raise UserError(f"no run named {args.thread_id!r}: there are no checkpoints at {target}")
    return target


async def check_thread_inventory(
    thread_id: str, target: str, data_dir: str, *, resuming: bool = False
) -> None:
    """Refuses (exit 2) a thread whose bookings are not in `data_dir`'s inventory: it was
    deleted, or replaced by another one. Nothing is built or written; an unknown thread passes
    (the command itself says so). `resuming`: a run that searched a now missing inventory is
    refused too, rather than continued (and booked) in a freshly built one."""
    async with open_checkpointer(target) as saver:
        snapshot = await build_graph(checkpointer=saver).aget_state(
            {"configurable": {"thread_id": thread_id}}
        )
    if snapshot.values:
        booked = thread_bookings(snapshot.values)
        searched = resuming and bool(snapshot.values.get("results"))
        await asyncio.to_thread(
            lambda: check_inventory_holds(thread_id, booked, data_dir, searched=searched)
        )


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
    data_dir = _data_dir(args)
    target = await checkpoint_target(args)
    context = _context(args, data_dir, auto=False)
    async with open_checkpointer(target) as saver:
        graph = load_graph(args.graph, saver)
        config = run_config(args.thread_id, context)
        snapshot = await require_thread(graph, args.thread_id, target)
        start = _answered(args, snapshot) if args.answer else None
        if not snapshot.next and snapshot.values.get("answer"):
            print(f"run {args.thread_id} already finished; nothing to do", file=sys.stderr)
            return _report(args, args.thread_id, RunOutcome(dict(snapshot.values), []))
        with progress_view(json_output=args.json) as on_event:
            outcome = await drive(
                graph,
                start,
                config=config,
                context=context,
                on_event=on_event,
                approver=_approver(args),
            )
    return _report(args, args.thread_id, outcome)


async def bookings(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    if args.thread:
        await _check_bookings_thread(args, data_dir)
    inventory = await asyncio.to_thread(existing_inventory, data_dir)
    rows: list[dict[str, Any]] = []
    if inventory is not None:
        found = await asyncio.to_thread(inventory.bookings, args.thread)
        rows = [b.model_dump(mode="json") for b in found]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no bookings" + (f" for thread {args.thread}" if args.thread else ""))
    for b in rows:
        print(
            f"{b['ref']:<12} {b['status']:<10} {b['kind']:<7} ${b['total_price']:>10,.2f}  "
            f"{b['thread_id']}  {b['description']}"
        )
    return EXIT_OK


async def _check_bookings_thread(args: argparse.Namespace, data_dir: str) -> None:
    """`bookings --thread T` when T's checkpoints list bookings: they must be in this inventory,
    else "no bookings" would be a lie. No checkpoints at all: nothing to check against."""
    target = resolve_target(args.checkpointer, data_dir)
    if is_postgres(target) or await asyncio.to_thread(Path(target).is_file):
        await check_thread_inventory(args.thread, target, data_dir)


async def airports(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([a.model_dump() for a in AIRPORTS], indent=2))
        return EXIT_OK
    for a in sorted(AIRPORTS, key=lambda a: (a.city, a.code)):
        print(f"{a.code}  {a.city:<16} {a.name}  ({a.tz})")
    return EXIT_OK
