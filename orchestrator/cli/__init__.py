"""The `orchestrator` command line.

Parsing (`orchestrator.cli.parser`) needs only the standard library, so `--help`, `--version`,
`completion` and a usage mistake answer at once; the engine (`orchestrator.cli.app`) is
imported only for a command that runs. A domain adds its own commands through the module
`$ORCHESTRATOR_DOMAINS` names (`orchestrator.cli.plugins`; travel's by default). Every failure
a user can cause is one `error:` line and exit 2 (see `app`). The console script ends the
process as soon as its output is flushed, without the interpreter's teardown; `main(argv)`
called from Python just returns the exit code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from orchestrator.cli.parser import EXIT_USAGE, build_parser, completion_script, normalize
from orchestrator.cli.plugins import PluginError

EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line `argv` (default: the process's) and returns its exit code."""
    code = _main(argv)
    if argv is None and _is_console_script():
        _exit_now(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        parser = build_parser()
    except PluginError as exc:  # a module named in $ORCHESTRATOR_DOMAINS cannot be used
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, a usage mistake: already printed
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "completion":
        print(completion_script(parser, args.shell), end="")
        return 0
    normalize(args)
    if args.command == "new-domain":  # the standard library only: no engine to load
        from orchestrator.cli.new_domain import new_domain

        return new_domain(args)
    from orchestrator.cli import app

    return app.run(args)


def _is_console_script() -> bool:
    """True in the `orchestrator` executable (or `python -m orchestrator.cli`), not when a
    test or a notebook calls `main()` in its own process."""
    main_module: Any = sys.modules.get("__main__")
    path = os.path.basename(str(getattr(main_module, "__file__", "") or ""))
    return path in ("orchestrator", "__main__.py") and getattr(
        main_module, "__package__", None
    ) in (None, "", "orchestrator.cli")


def _exit_now(code: int) -> None:
    """Flushes what the command wrote, then ends the process without the interpreter's
    teardown (about a quarter of a second of freeing objects nobody will read). Everything the
    command opened (stores, files, the event loop) was closed by its own `with` blocks."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        code = code or EXIT_BROKEN_PIPE
    with contextlib.suppress(ValueError, OSError):
        sys.stderr.flush()
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    os._exit(code)
