"""`python -m bench [B1 B3 ...] [--smoke] [--output PATH] [--postgres URI | --no-postgres]`.

With no benchmark named, runs all six and writes BENCHMARKS.md at the repository root. A subset,
or `--smoke`, prints the markdown instead unless `--output` names a file, so a partial or tiny
run never overwrites the full report.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import traceback
from pathlib import Path

from bench import MODULES, run_benchmark
from bench.common import (
    Check,
    Report,
    Settings,
    default_postgres,
    loadavg,
    repo_root,
    stderr_progress,
)
from bench.report import render


def _postgres_version(uri: str) -> str:
    import psycopg

    try:
        with psycopg.connect(uri, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        return f"unreachable ({type(exc).__name__})"
    return f"PostgreSQL {row[0] if row else '?'} at {uri}"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "benchmarks", nargs="*", metavar="B", help=f"any of {', '.join(MODULES)} (default: all)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it still works")
    parser.add_argument("--output", type=Path, help="where to write the markdown report")
    parser.add_argument(
        "--postgres",
        default=default_postgres(),
        help="PostgreSQL URI for B3 (default: $ORCHESTRATOR_BENCH_POSTGRES or the local test DB)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure B3 on SQLite only")
    args = parser.parse_args(argv)
    unknown = [b for b in args.benchmarks if b.upper() not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    keys = [b.upper() for b in args.benchmarks] or list(MODULES)
    output: Path | None = args.output
    if output is None and not args.benchmarks and not args.smoke:
        output = repo_root() / "BENCHMARKS.md"
    postgres = None if args.no_postgres else args.postgres
    command = shlex.join([".venv/bin/python", "-m", "bench", *argv])
    if not argv:
        command = f"make bench   # = {command}"
    load_before = loadavg()
    reports: list[Report] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        settings = Settings(smoke=args.smoke, workdir=Path(tmp), postgres=postgres)
        for key in keys:
            try:
                reports.append(run_benchmark(key, settings))
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                failed = True
                traceback.print_exc()
                reports.append(
                    Report(
                        key=key,
                        title=MODULES[key],
                        method="The benchmark raised before it finished.",
                        checks=[Check("runs to the end", f"{type(exc).__name__}: {exc}", False)],
                    )
                )
    extra = [("PostgreSQL", _postgres_version(postgres))] if postgres and "B3" in keys else []
    markdown = render(
        reports,
        command=command,
        load_before=load_before,
        load_after=loadavg(),
        extra_machine=extra,
        smoke=args.smoke,
    )
    if output is None:
        sys.stdout.write(markdown)
    else:
        output.write_text(markdown)
        stderr_progress(f"wrote {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
