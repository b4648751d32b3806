"""`orchestrator history THREAD` and `orchestrator fork THREAD --at CHECKPOINT`."""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from domains.travel.request import TripInputError, check_budget
from graph.builder import build_graph
from graph.persistence import hold_thread, open_checkpointer
from orchestrator.cli.errors import EXIT_OK, UserError
from orchestrator.history import UnknownCheckpoint, fork, history


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from orchestrator.cli import _common, _run_options

    hist = sub.add_parser("history", help="list a run's checkpoints: round, node, decisions")
    hist.add_argument("thread_id", metavar="THREAD")
    _common(hist)

    branch = sub.add_parser("fork", help="re-run from an earlier checkpoint on a new thread")
    branch.add_argument("thread_id", metavar="THREAD")
    branch.add_argument("--at", required=True, metavar="CHECKPOINT", help="checkpoint id")
    branch.add_argument("--budget", type=float, default=None, help="re-plan under a new budget")
    _common(branch)
    _run_options(branch)


async def show_history(args: argparse.Namespace) -> int:
    from orchestrator.cli.commands import checkpoint_target, require_thread

    target = await checkpoint_target(args)
    async with open_checkpointer(target) as saver:
        graph = build_graph(checkpointer=saver)
        await require_thread(graph, args.thread_id, target)
        entries = await history(graph, args.thread_id)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return EXIT_OK
    print(f"{'CHECKPOINT':<38} {'STEP':>4}  {'RAN':<22} {'ROUND':>5}  {'STATUS':<18} WHAT")
    for e in entries:
        ran = ",".join(sorted(set(e.ran))) or f"({e.source})"
        what = []
        if e.dispatched:
            what.append("dispatch " + ", ".join(e.dispatched))
        what.extend(e.decisions)
        first, *rest = what or [""]
        row = f"{e.checkpoint_id:<38} {e.step:>4}  {ran[:22]:<22} {e.round:>5}  {e.status:<18}"
        print(f"{row} {first}")
        for line in rest:
            print(f"{'':<94}{line}")
    return EXIT_OK


async def fork_run(args: argparse.Namespace) -> int:
    from orchestrator.cli.commands import (
        _approver,
        _context,
        _data_dir,
        _report,
        checkpoint_target,
        require_thread,
    )
    from orchestrator.cli.live import progress_view
    from orchestrator.runner import drive, run_config

    try:
        check_budget(args.budget)
    except TripInputError as exc:
        raise UserError(str(exc)) from None
    target = await checkpoint_target(args)
    data_dir = _data_dir(args)
    context = _context(args, data_dir, auto=False)
    new_thread = args.thread or f"{args.thread_id[:100]}-fork-{uuid.uuid4().hex[:6]}"
    changes = {"budget": args.budget} if args.budget is not None else None
    async with hold_thread(target, new_thread, data_dir), open_checkpointer(target) as saver:
        graph = build_graph(checkpointer=saver)
        await require_thread(graph, args.thread_id, target)
        if (await graph.aget_state({"configurable": {"thread_id": new_thread}})).values:
            raise UserError(
                f"thread {new_thread!r} already holds a run: a fork goes to a new thread, so "
                "leave out --thread or pick an unused one"
            )
        try:
            branch = await fork(graph, args.thread_id, args.at, new_thread, request_changes=changes)
        except UnknownCheckpoint as exc:
            raise UserError(str(exc)) from None
        print(f"forked {args.thread_id}@{args.at} -> {new_thread}", file=sys.stderr)
        with progress_view(json_output=args.json) as on_event:
            outcome = await drive(
                graph,
                branch.start,
                config=run_config(new_thread, context),
                context=context,
                on_event=on_event,
                approver=_approver(args),
            )
    return _report(args, new_thread, outcome)
