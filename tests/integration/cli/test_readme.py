"""Every code block of the README that runs offline runs, in order, as a reader would run it:
shell blocks line by line (`orchestrator` on the PATH, a fresh ORCHESTRATOR_HOME, a scratch
working directory with the project's `.venv`), Python blocks as scripts. Blocks that need a
server, a model or `make` are skipped, each with its reason. A command passes when it exits 0,
or 3 for a run left paused (nobody at the terminal to approve), and prints no traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from domains.travel.services import INVENTORY_FILE

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
TIMEOUT_S = 180
OK_CODES = (0, 3)
"""0 done; 3 a run paused for approval, which a later line of the same block resumes."""


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    text: str

    @property
    def id(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"L{self.line}-{re.sub(r'[^A-Za-z0-9]+', '-', first)[:40].strip('-')}"


def blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(text[: m.start()].count("\n") + 1, m.group(1), m.group(2))
        for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
    ]


def skip_reason(block: Block) -> str | None:
    """Why a block cannot run here, or None."""
    text = block.text
    if block.lang not in ("sh", "python"):
        return "a diagram, not code"
    if "get_client" in text or re.search(r"make (serve|cluster)", text):
        return "needs a LangGraph server (tests/integration/server and cluster cover it)"
    if re.search(r"orchestrator run |OPENAI_API_KEY", text):
        return "needs a model (tests/integration/llm covers it with a scripted model)"
    if "-m bench" in text:
        return "benchmarks take minutes (tests/unit/test_bench_smoke.py runs their smoke sizes)"
    if all(line.startswith("make ") for line in commands(block)):
        return "make targets build the virtualenv and run whole suites (CI runs them)"
    return None


def commands(block: Block) -> list[str]:
    """A shell block's commands: continuations joined, comments and blank lines dropped."""
    joined = block.text.replace("\\\n", " ")
    found = []
    for raw in joined.splitlines():
        line = re.sub(r"\s+#\s.*$", "", raw).strip()
        if line and not line.startswith("#"):
            found.append(line)
    return found


@dataclass
class Result:
    ran: list[tuple[str, int, str]]
    """(command, exit code, stderr + stdout) per command or script."""


def _run_block(block: Block, cwd: Path, env: dict[str, str]) -> Result:
    ran = []
    if block.lang == "python":
        script = cwd / f"readme_{block.line}.py"
        script.write_text(block.text)
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        return Result([(script.name, done.returncode, done.stderr + done.stdout)])
    for command in commands(block):
        if " -m pytest" in command:
            continue  # the generated domain's own suite: tests/unit covers the skeleton
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        ran.append((command, done.returncode, done.stderr + done.stdout))
    return Result(ran)


BLOCKS = blocks()


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory, inventory_template: Path
) -> dict[str, Result]:
    cwd = tmp_path_factory.mktemp("readme")
    home = cwd / "home"
    home.mkdir()
    shutil.copy(inventory_template, home / INVENTORY_FILE)
    (cwd / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        ORCHESTRATOR_HOME=str(home),
        LANGSMITH_TRACING="false",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=f"{cwd}{os.pathsep}{ROOT}",
    )
    return {b.id: _run_block(b, cwd, env) for b in BLOCKS if skip_reason(b) is None}


def _param(block: Block) -> object:
    reason = skip_reason(block)
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    return pytest.param(block, id=block.id, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_block_runs(block: Block, results: dict[str, Result]) -> None:
    for command, code, output in results[block.id].ran:
        assert "Traceback" not in output, f"{command}\n{output}"
        assert code in OK_CODES, f"{command} exited {code}\n{output[-2000:]}"


def test_every_runnable_block_is_run_or_skipped_with_a_reason() -> None:
    runnable = [b for b in BLOCKS if skip_reason(b) is None]
    assert any("orchestrator trip" in b.text for b in runnable)
    assert any(b.lang == "python" and "build_graph" in b.text for b in runnable)
    assert all("$" not in line or "'" in line for b in BLOCKS for line in commands(b)), (
        "a $ in a double-quoted argument is expanded by the shell: single-quote it"
    )
