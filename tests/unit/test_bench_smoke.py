"""A tiny run of each benchmark (`bench/`): it still runs to the end and still renders.

Nothing here asserts a timing or a target: the figures of a smoke run mean nothing, and the
real ones live in BENCHMARKS.md (`make bench`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import MODULES, run_benchmark
from bench.common import Report, Settings, default_postgres
from bench.report import render
from tests.postgres import require_postgres


def _smoke(key: str, workdir: Path, inventory: Path, postgres: str | None = None) -> Report:
    settings = Settings(
        smoke=True,
        workdir=workdir,
        postgres=postgres,
        inventory=inventory,
        progress=lambda _message: None,
    )
    report = run_benchmark(key, settings)
    assert report.key == key
    assert report.tables and all(table.rows for table in report.tables)
    assert report.checks
    markdown = render([report], command="python -m bench --smoke", load_before="", load_after="")
    assert f"## {key} " in markdown
    return report


@pytest.mark.parametrize("key", list(MODULES))
def test_each_benchmark_runs_at_smoke_size(
    key: str, tmp_path: Path, inventory_template: Path
) -> None:
    # B3 runs on SQLite here; its PostgreSQL half is the test below.
    _smoke(key, tmp_path, inventory_template)


@pytest.mark.postgres
def test_checkpoint_growth_runs_on_postgres(tmp_path: Path, inventory_template: Path) -> None:
    uri = require_postgres(default_postgres())
    report = _smoke("B3", tmp_path, inventory_template, postgres=uri)
    assert any(row[0] == "PostgreSQL" for row in report.tables[0].rows)
