"""What every benchmark shares: its settings, the report it returns, and small measuring helpers.

Each benchmark module exposes `KEY`, `TITLE` and `run(settings) -> Report`. A report holds tables
of plain strings (so the markdown writer knows nothing about any one benchmark) and the checks
against the issue's targets. Every figure that is compared with a target is a ratio against a
baseline measured in the same run: absolute times drift on a shared machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_ENV = "ORCHESTRATOR_BENCH_POSTGRES"
"""A postgres URI for B3; `ORCHESTRATOR_TEST_POSTGRES`, then the local default, fill in."""


def default_postgres() -> str:
    from_env = os.environ.get(POSTGRES_ENV) or os.environ.get("ORCHESTRATOR_TEST_POSTGRES")
    return from_env or DEFAULT_POSTGRES


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Settings:
    """How big to run, and where things are."""

    smoke: bool
    """Tiny sizes: checks that a benchmark still works, measures nothing worth reading."""
    workdir: Path
    """A scratch directory the run owns (SQLite files, inventory copies)."""
    postgres: str | None = None
    """A PostgreSQL URI for B3, or None to measure SQLite only."""
    inventory: Path | None = None
    """An inventory database to copy for B4 and B6; built in `workdir` when None."""
    progress: Callable[[str], None] = stderr_progress

    def pick(self, full: Any, smoke: Any) -> Any:
        """`smoke` under `--smoke`, else `full`."""
        return smoke if self.smoke else full


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass(frozen=True)
class Check:
    """One target of the issue, and how this run measured against it."""

    target: str
    measured: str
    passed: bool | None
    """None: informational, no target applies."""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "MISS"


@dataclass
class Report:
    key: str
    title: str
    method: str
    """How it was measured, in a few sentences of markdown."""
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# Measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One measured run: wall-clock and process CPU seconds."""

    wall: float
    cpu: float


class Stopwatch:
    """Wall-clock and process CPU time of a block (`with Stopwatch() as sw: ...; sw.timing`)."""

    def __enter__(self) -> Stopwatch:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timing = Timing(
            wall=time.perf_counter() - self._wall, cpu=time.process_time() - self._cpu
        )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def loadavg() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# Formatting ------------------------------------------------------------------------------


def ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1000:.{digits}f} ms"


def ratio(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}×"


def kib(n_bytes: float) -> str:
    if n_bytes >= 10 * 1024 * 1024:
        return f"{n_bytes / 1024 / 1024:,.1f} MiB"
    return f"{n_bytes / 1024:,.1f} KiB"


def plain_bytes(n_bytes: float) -> str:
    return f"{n_bytes:,.0f} B"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def inventory_template(settings: Settings) -> Path:
    """An inventory database to copy: the one given, else one built once in the workdir."""
    if settings.inventory is not None:
        return settings.inventory
    from domains.travel.inventory import Inventory
    from domains.travel.services import INVENTORY_FILE

    path = settings.workdir / "inventory-template" / INVENTORY_FILE
    if not path.exists():
        settings.progress("  building a fresh inventory database (a few seconds)")
        path.parent.mkdir(parents=True, exist_ok=True)
        Inventory.open(path)
    return path


def fresh_data_dir(settings: Settings, name: str) -> Path:
    """A data directory holding a private copy of the inventory, for runs that book."""
    import shutil

    from domains.travel.services import INVENTORY_FILE

    target = settings.workdir / name
    target.mkdir(parents=True, exist_ok=False)
    shutil.copy(inventory_template(settings), target / INVENTORY_FILE)
    return target


def prose(text: str) -> str:
    """A paragraph written as an indented triple-quoted string, on one line for markdown."""
    return " ".join(text.split())
