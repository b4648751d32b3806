"""The README's "Your own domain" section, followed literally in an empty folder.

Its blocks are taken in order, as a reader would: each shell line runs as written (with
`.venv/bin/` pointing at this virtualenv), each `diff` is applied to the file it names (its `-`
lines must be there, exactly once), each Python block runs as a script there. So: the CLI writes
the skeleton, whose own tests and notebook pass; the planner edit applies; the edited domain
completes as the README says it prints; the adapter examples build their workers.
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


def blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def apply_diff(diff: str, cwd: Path) -> Path:
    """Replaces the `-` lines of `diff` by its `+` lines in the file its `---` line names."""
    lines = diff.splitlines()
    (name,) = [ln.removeprefix("--- ") for ln in lines if ln.startswith("--- ")]
    old = [ln[1:] for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:] for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    path = cwd / name
    text = path.read_text()
    before = "\n".join(old) + "\n"
    assert text.count(before) == 1, f"the README's diff does not apply to {name}:\n{before}"
    path.write_text(text.replace(before, "\n".join(new) + "\n"))
    return path


def test_the_sections_path_is_a_shell_block_a_diff_and_a_run() -> None:
    found = blocks(section("Your own domain"))

    assert [lang for lang, _ in found][:3] == ["sh", "diff", "python"], found
    assert found[0][1].splitlines()[0] == ".venv/bin/orchestrator new-domain notes"


@pytest.mark.slow
def test_the_five_minute_path_works_as_written(tmp_path: Path) -> None:
    own = section("Your own domain")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ORCHESTRATOR_"))}
    env.update(ORCHESTRATOR_HOME=str(tmp_path / "home"), JUPYTER_PLATFORM_DIRS="1")

    outputs = []
    for n, (lang, code) in enumerate(blocks(own), 1):
        if lang == "sh":
            for line in [ln for ln in code.splitlines() if ln.strip()]:
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
                if " -m pytest" in line:
                    assert "3 passed" in done.stdout
        elif lang == "diff":
            apply_diff(code, tmp_path)
        elif lang == "python":
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

    said = re.search(r"It prints `(.*?)`", own, flags=re.S)
    assert said is not None
    assert outputs[0].strip() == said.group(1)
    assert outputs[1].split() == ["reverse", "helper", "['answer',", "'usage']"]
    # The edit keeps the old rule as the default: the skeleton's tests still pass (its notebook,
    # which the first run executed, does not read `pick`).
    pytest_args = ["-q", "-p", "no:cacheprovider", "-k", "not notebook", "notes/tests"]
    again = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert again.returncode == 0 and "2 passed" in again.stdout, again.stdout[-3000:]
