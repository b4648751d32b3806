"""`orchestrator history THREAD` and `orchestrator fork THREAD --at CHECKPOINT`."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import uuid

from graph.persistence import hold_thread, open_checkpointer
from orchestrator.cli.errors import EXIT_OK, UserError
from orchestrator.cli.graphs import load, load_graph
from orchestrator.history import HistoryEntry, UnknownCheckpoint, fork, history


async def show_history(args: argparse.Namespace) -> int:
    from orchestrator.cli.commands import checkpoint_target, require_thread

    target = await checkpoint_target(args)
    async with open_checkpointer(target) as saver:
        graph = load_graph(args.graph, saver)
        await require_thread(graph, args.thread_id, target)
        entries = await history(graph, args.thread_id)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return EXIT_OK
    from orchestrator.cli.runs_cmd import terminal_width

    print("\n".join(format_history(entries, terminal_width())))
    return EXIT_OK


def format_history(entries: list[HistoryEntry], width: int | None = None) -> list[str]:
    """One row per checkpoint (id, step, round and status in full, then the nodes that ran),
    its dispatches and decisions indented below it, wrapped to `width` when there is one."""
    lines = [f"{'CHECKPOINT':<36} {'STEP':>4} {'ROUND':>5}  {'STATUS':<17}  RAN"]
    for e in entries:
        ran = ", ".join(sorted(set(e.ran))) or f"({e.source})"
        row = f"{e.checkpoint_id:<36} {e.step:>4} {e.round:>5}  {e.status or '-':<17}"
        what = []
        if width is not None and len(row) + 2 + len(ran) > width:
            what.append(f"ran {ran}")
            lines.append(row.rstrip())
        else:
            lines.append(f"{row}  {ran}")
        if e.dispatched:
            what.append("dispatch " + ", ".join(e.dispatched))
        what.extend(e.decisions)
        for text in what:
            if width is None:
                lines.append(f"    {text}")
            else:
                lines.extend(
                    textwrap.wrap(
                        text,
                        width,
                        initial_indent="    ",
                        subsequent_indent="      ",
                        break_on_hyphens=False,
                    )
                )
    return lines


async def fork_run(args: argparse.Namespace) -> int:
    from orchestrator.cli.commands import (
        approver_for,
        checkpoint_target,
        data_dir_of,
        report,
        require_thread,
        run_context,
    )
    from orchestrator.cli.live import progress_view
    from orchestrator.cli.runs_cmd import resolve_checkpoint
    from orchestrator.runner import drive, run_config

    # `--budget` was checked by the parser (a finite amount >= 0).
    target = await checkpoint_target(args)
    data_dir = data_dir_of(args)
    context = run_context(args, data_dir, auto=False)
    new_thread = args.thread or f"{args.thread_id[:100]}-fork-{uuid.uuid4().hex[:6]}"
    changes = {"budget": args.budget} if args.budget is not None else None
    async with hold_thread(target, new_thread, data_dir), open_checkpointer(target) as saver:
        loaded = load(args.graph, saver)
        graph = loaded.graph
        await require_thread(graph, args.thread_id, target)
        if (await graph.aget_state({"configurable": {"thread_id": new_thread}})).values:
            raise UserError(
                f"thread {new_thread!r} already holds a run: a fork goes to a new thread, so "
                "leave out --thread or pick an unused one"
            )
        at = await resolve_checkpoint(loaded, args.thread_id, args.at)
        try:
            branch = await fork(graph, args.thread_id, at, new_thread, request_changes=changes)
        except UnknownCheckpoint as exc:
            raise UserError(str(exc)) from None
        print(f"forked {args.thread_id}@{at} -> {new_thread}", file=sys.stderr)
        if branch.replanned:
            # The old plan's side effects are never carried out under the new request.
            print(
                f"not carried out: {', '.join(branch.replanned)} (planned under the old "
                f"request); re-planning under the new one from checkpoint {branch.checkpoint_id}",
                file=sys.stderr,
            )
        if changes:
            print(f"goal: {branch.goal}", file=sys.stderr)
        with progress_view(json_output=args.json) as on_event:
            outcome = await drive(
                graph,
                branch.start,
                config=run_config(new_thread, context),
                context=context,
                on_event=on_event,
                approver=approver_for(args),
            )
    return report(args, new_thread, outcome)
