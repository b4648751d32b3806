"""The README's "Your own domain" section, followed literally in an empty folder.

Its shell lines run as written (with `.venv/bin/` pointing at this virtualenv), then each Python
block runs as a script there: the skeleton's own tests and notebook pass, the domain completes,
and the adapter examples build their workers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_the_five_minute_path_works_as_written(tmp_path: Path) -> None:
    own = section("Your own domain")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ORCHESTRATOR_"))}
    env.update(ORCHESTRATOR_HOME=str(tmp_path / "home"), JUPYTER_PLATFORM_DIRS="1")

    (shell,) = blocks(own, "sh")
    for line in [ln for ln in shell.splitlines() if ln.strip()]:
        command = line.replace(".venv/bin/", f"{VENV_BIN}/")
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
    assert "3 passed" in done.stdout

    outputs = []
    for n, code in enumerate(blocks(own, "python"), 1):
        script = tmp_path / f"block_{n}.py"
        script.write_text(code)
        done = subprocess.run(
            [sys.executable, script.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "PYTHONPATH": str(tmp_path)},
        )
        assert done.returncode == 0, f"block {n}:\n{done.stderr[-3000:]}"
        outputs.append(done.stdout)
    assert outputs[0].startswith("completed - 2 text(s) counted and the longest shouted")
    assert outputs[1].split() == ["reverse", "helper", "['answer',", "'usage']"]
