"""`orchestrator new-domain NAME [--dir DIR]`: a new domain package that runs at once.

It calls `orchestrator.templates.write_domain_skeleton`, which needs only the standard library,
so the command loads no engine. A name that cannot be a new package, or a folder that already
holds files, is one `error:` line and exit 2, with nothing written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestrator.cli.errors import EXIT_OK, EXIT_USAGE


def new_domain(args: argparse.Namespace) -> int:
    from orchestrator.templates import SkeletonError, write_domain_skeleton

    name, where = str(args.name), Path(args.dir)
    try:
        written = write_domain_skeleton(where, name)
    except SkeletonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # DIR is a file, or cannot be created or written
        print(
            f"error: cannot write {where / name} ({exc.strerror or exc}): pick a writable "
            "folder with --dir",
            file=sys.stderr,
        )
        return EXIT_USAGE
    package = where / name
    files = sorted(p.relative_to(package).as_posix() for p in written)
    print(f"wrote {package}/: {', '.join(files)}")
    print(
        f"next: python -m pytest -q {package / 'tests'}   (its tests and notebook pass as "
        f"written), then edit {package / 'planner.py'}"
    )
    return EXIT_OK
