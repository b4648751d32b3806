"""What runs once the command line has parsed: checks, dispatch and the one-line errors.

Every command checks its input before it writes anything; a mistake prints one line that says
how to fix it and exits 2. So does a store that cannot be used (a damaged file, an unreachable
server): one `error:` line naming it, password masked, never a traceback or a hang. Progress goes
to stderr, results to stdout (`--json` keeps stdout machine-clean); a closed pipe (`| head`) ends
the command quietly. Imported only after parsing: `--help` and usage mistakes never load it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import sqlite3
import sys
import uuid
from typing import Any

from graph.persistence import StoreError, check_target
from orchestrator.cli import commands, history_cmd, plugins, runs_cmd, show_cmd
from orchestrator.cli.errors import EXIT_USAGE, UserError
from orchestrator.context import Context, default_data_dir
from orchestrator.domain import StorageUnavailable
from orchestrator.redact import redact_text

THREAD_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""What a thread id may be: 1 to 128 letters, digits, `.`, `_`, `:` and `-`."""
NUMBER_SETTINGS = ("ORCHESTRATOR_REQUEST_TIMEOUT",)
"""Environment settings that must hold a positive number."""
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a command whose reader went away."""


def run(args: argparse.Namespace) -> int:
    """Runs the parsed command: its exit code, every failure a user can cause as one line."""
    try:
        return asyncio.run(dispatch(args))
    except (UserError, StoreError, StorageUnavailable, plugins.PluginError) as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        return _pipe_closed()
    except (sqlite3.Error, OSError) as exc:
        # A store that broke during the command, after the checks that name it had passed.
        return _fail(f"{_storage_failure(args)} failed: {type(exc).__name__}: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):
            return _fail(f"{_storage_failure(args)} failed: {type(exc).__name__}: {exc}")
        raise
    except KeyboardInterrupt:
        thread = getattr(args, "thread_id", None) or getattr(args, "thread", None)
        hint = f"; continue with: orchestrator resume {thread}" if thread else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130
    finally:
        _flush_traces()


def _fail(message: str) -> int:
    """One `error:` line on stderr, credentials masked, whatever the message quotes."""
    first, *_ = message.replace("Value error, ", "").strip().splitlines() or [""]
    with contextlib.suppress(BrokenPipeError):
        print(f"error: {redact_text(first)}", file=sys.stderr)
    return EXIT_USAGE


def _pipe_closed() -> int:
    """The reader of stdout went away (`| head`): stop quietly, as `cat` does."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail
    return EXIT_BROKEN_PIPE


def _storage_failure(args: argparse.Namespace) -> str:
    data_dir = commands.data_dir_of(args)
    where = getattr(args, "checkpointer", None) or os.environ.get("ORCHESTRATOR_CHECKPOINTER")
    stores = f"the data in {data_dir}"
    if where:
        stores = f"the checkpoint store {where} or {stores}"
    return f"a database ({stores}; check the files, the disk and the server)"


def _check_environment(args: argparse.Namespace) -> None:
    """Settings from the environment, checked before anything runs: one line when one is wrong."""
    for name in NUMBER_SETTINGS:
        raw = os.environ.get(name)
        try:
            good = not raw or (math.isfinite(float(raw)) and float(raw) > 0)
        except ValueError:
            good = False
        if not good:
            raise UserError(f"{name} must be a positive number of seconds, not {raw!r}")
    try:
        Context()
    except (ValueError, TypeError) as exc:
        raise UserError(f"a setting in the environment is wrong: {exc}") from None
    if "checkpointer" in args and not args.checkpointer:
        env = os.environ.get("ORCHESTRATOR_CHECKPOINTER")
        if env:
            try:
                check_target(env)
            except StoreError as exc:
                raise UserError(f"ORCHESTRATOR_CHECKPOINTER: {exc}") from None
    elif getattr(args, "checkpointer", None) is not None:
        check_target(args.checkpointer)
    if "data_dir" in args:
        data_dir = args.data_dir or default_data_dir()
        if os.path.exists(data_dir) and not os.path.isdir(data_dir):
            setting = "--data-dir" if args.data_dir else "ORCHESTRATOR_HOME"
            raise UserError(
                f"the data directory {data_dir} is a file, not a directory: point {setting} "
                "at a directory"
            )


def check_thread_id(thread_id: str, what: str = "thread id") -> str:
    """`thread_id` if it is 1 to 128 of `A-Z a-z 0-9 . _ : -`; else a one-line `UserError`."""
    if not THREAD_ID.fullmatch(thread_id):
        shown = thread_id if len(thread_id) <= 40 else thread_id[:40] + "..."
        raise UserError(
            f"{what} {shown!r} is not valid: use 1 to 128 letters, digits, '.', '_', ':' or '-'"
        )
    return thread_id


def _flush_traces() -> None:
    """Sends what the LangSmith tracer still holds before exiting; no-op when tracing is off."""
    tracers = sys.modules.get("langchain_core.tracers.langchain")
    if tracers is not None:  # nothing was traced by a command that never loaded the tracer
        tracers.wait_for_all_tracers()


async def dispatch(args: argparse.Namespace) -> int:
    _check_environment(args)
    for name, what in (("thread_id", "THREAD"), ("thread", "--thread")):
        if getattr(args, name, None) is not None:
            check_thread_id(getattr(args, name), what)
    if getattr(args, "thread_id", None) is not None:
        await runs_cmd.resolve_thread(args, commands.data_dir_of(args))
    handlers: dict[str, Any] = {
        "resume": _resume,
        "runs": runs_cmd.list_runs,
        "history": history_cmd.show_history,
        "fork": history_cmd.fork_run,
        "show": show_cmd.show,
        "graph": show_cmd.draw_graph,
    }
    handler = handlers.get(args.command) or _domain_handler(args)
    result: int = await handler(args)
    return result


def _domain_handler(args: argparse.Namespace) -> Any:
    """The handler a domain's command names (`handler="module:function"`), imported now."""
    target = getattr(args, "handler", None)
    if not isinstance(target, str):
        raise plugins.PluginError(f"the command {args.command!r} names no handler")
    try:
        return plugins.resolve(target)
    except (ImportError, AttributeError) as exc:
        raise plugins.PluginError(
            f"the command {args.command!r} cannot load its handler {target}: {exc}"
        ) from None


async def _resume(args: argparse.Namespace) -> int:
    """`resume`, once the thread's records are known to be in the domain's storage here
    (travel: its bookings in this inventory), under the thread's lock: a run that another
    process is driving is not driven twice."""
    from graph.persistence import hold_thread

    target = await commands.checkpoint_target(args)
    data_dir = commands.data_dir_of(args)
    await commands.check_thread_storage(args, args.thread_id, target, resuming=True)
    async with hold_thread(target, args.thread_id, data_dir):
        return await commands.resume(args)


def new_thread_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))
