"""The CLI answers `--help`, `--version`, a command's `--help` and a usage mistake without
loading the engine: under 0.3x the time of importing LangGraph's `StateGraph`, measured side by
side in this process (the machine is shared, so only the ratio is held to a target). Of the
domains, only the grammar of the one `$ORCHESTRATOR_DOMAINS` names loads (`domains.travel.cli`,
the standard library only)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "orchestrator"
RATIO = 0.3
REPEATS = 3
HEAVY = ("langgraph", "langchain_core", "pydantic", "rich", "domains", "graph", "matplotlib")
GRAMMAR = ("domains", "domains.travel", "domains.travel.cli")
"""The travel domain's CLI module and its (empty) packages: what the parser reads of it."""
QUICK = [
    ["--help"],
    ["--version"],
    ["trip", "--help"],
    ["trip", "--travelers", "0"],
    ["completion", "bash"],
]


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False, timeout=60)
    return time.perf_counter() - start


@pytest.mark.parametrize("args", QUICK, ids=" ".join)
def test_quick_commands_import_nothing_heavy(args: list[str]) -> None:
    probe = (
        "import sys\nfrom orchestrator.cli import _main\n"
        f"try:\n    _main({args!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r} "
        f"and m not in {GRAMMAR!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_quick_commands_start_in_under_a_third_of_a_langgraph_import() -> None:
    baseline_cmd = [sys.executable, "-c", "from langgraph.graph import StateGraph"]
    _seconds(baseline_cmd)  # warm the file cache for both sides
    _seconds([str(BIN), "--help"])
    baseline, ours = [], []
    for _ in range(REPEATS):
        baseline.append(_seconds(baseline_cmd))
        ours.append(max(_seconds([str(BIN), *args]) for args in QUICK))
    ratio = statistics.median(ours) / statistics.median(baseline)
    print(
        f"slowest quick command {statistics.median(ours) * 1000:.0f} ms, "
        f"import StateGraph {statistics.median(baseline) * 1000:.0f} ms, ratio {ratio:.2f}"
    )

    assert ratio < RATIO


def test_the_executable_exits_with_the_command_code_and_all_output() -> None:
    """It skips the interpreter's teardown (`os._exit`) only after flushing: nothing is lost."""
    done = subprocess.run(
        [str(BIN), "completion", "bash"], capture_output=True, text=True, check=False, timeout=60
    )
    bad = subprocess.run(
        [str(BIN), "trip", "--budget", "x"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0 and done.stdout.endswith("orchestrator\n")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_only_the_executable_skips_the_interpreter_teardown(tmp_path: Path) -> None:
    """An `atexit` hook runs at teardown: the executable never gets there, a caller of
    `main()` in its own process does (tests and notebooks are not cut short)."""
    (tmp_path / "sitecustomize.py").write_text(
        'import atexit, os\natexit.register(lambda: os.write(2, b"TEARDOWN\\n"))\n'
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": str(BIN.parent)}
    runs = {
        "executable": [str(BIN), "--version"],
        "module": [sys.executable, "-m", "orchestrator.cli", "--version"],
        "in-process": [
            sys.executable,
            "-c",
            "from orchestrator.cli import main; main(['--version'])",
        ],
    }
    seen = {
        name: subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        for name, argv in runs.items()
    }

    assert all(done.stdout.startswith("orchestrator ") for done in seen.values())
    assert "TEARDOWN" not in seen["executable"].stderr + seen["module"].stderr
    assert "TEARDOWN" in seen["in-process"].stderr
