"""The benchmark suite (issue #8): `python -m bench [B1 ...] [--smoke]` writes BENCHMARKS.md.

One module per benchmark, each with `KEY`, `TITLE` and `run(settings) -> Report`:

- B1 `b1_overhead`: time per orchestrator round against a minimal LangGraph loop;
- B2 `b2_makespan`: makespan against the per-level bound and the critical path;
- B3 `b3_checkpoints`: checkpoint bytes per task at 10, 100 and 1,000 tasks, ours and naive;
- B4 `b4_supervisor`: LLM calls, tokens and wall time against a langgraph-supervisor baseline;
- B5 `b5_scale`: 1,000 tasks: peak memory and time per task at 100 and 1,000;
- B6 `b6_inventory`: inventory search latency and booking throughput.
"""

from __future__ import annotations

import importlib
import time
from typing import Protocol

from bench.common import Report, Settings

MODULES: dict[str, str] = {
    "B1": "bench.b1_overhead",
    "B2": "bench.b2_makespan",
    "B3": "bench.b3_checkpoints",
    "B4": "bench.b4_supervisor",
    "B5": "bench.b5_scale",
    "B6": "bench.b6_inventory",
}


class Benchmark(Protocol):
    KEY: str
    TITLE: str

    def run(self, settings: Settings) -> Report: ...


def load(key: str) -> Benchmark:
    module: Benchmark = importlib.import_module(MODULES[key.upper()])
    return module


def run_benchmark(key: str, settings: Settings) -> Report:
    """Runs one benchmark and times it; errors propagate (the smoke test wants them)."""
    bench = load(key)
    settings.progress(f"{bench.KEY} {bench.TITLE}")
    started = time.perf_counter()
    report = bench.run(settings)
    report.seconds = time.perf_counter() - started
    settings.progress(f"{bench.KEY} done in {report.seconds:.1f} s")
    return report
