"""A tiny run of each benchmark (`bench/`): it still runs to the end and still renders.

Nothing here asserts a timing or a target: the figures of a smoke run mean nothing, and the
real ones live in BENCHMARKS.md (`make bench`).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from bench import MODULES, run_benchmark
from bench.common import Report, Settings, default_postgres
from bench.report import render


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
    uri = default_postgres()
    try:
        with psycopg.connect(uri, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"PostgreSQL at {uri} is unreachable: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI requires it)")
        pytest.skip(message)
    report = _smoke("B3", tmp_path, inventory_template, postgres=uri)
    assert any(row[0] == "PostgreSQL" for row in report.tables[0].rows)
