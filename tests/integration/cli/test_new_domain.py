"""`orchestrator new-domain NAME [--dir DIR]`, through the executable: it writes a domain package
whose tests pass at once, loads no engine doing so, and refuses in one line, writing nothing,
a name that cannot be a new package or a folder that holds files.

(`tests/unit/adapters/test_readme_own_domain.py` runs the skeleton's whole suite, notebook
included, along the README's path; here its tests run without the notebook.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "orchestrator"
ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_"))
}
ENV["LANGSMITH_TRACING"] = "false"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_it_writes_a_domain_whose_tests_pass(tmp_path: Path) -> None:
    here, src = tmp_path / "here", tmp_path / "src"
    here.mkdir()

    done = cli("new-domain", "word_games", "--dir", str(src), cwd=here)

    assert done.returncode == 0, done.stderr
    assert listing(here) == [], "it writes under --dir only"
    assert (src / "word_games" / "planner.py").is_file()
    assert (src / "word_games" / "notebook.ipynb").is_file()
    assert done.stdout.startswith(f"wrote {src / 'word_games'}/: __init__.py, domain.py")
    assert f"python -m pytest -q {src / 'word_games' / 'tests'}" in done.stdout
    pytest_args = ["-q", "-p", "no:cacheprovider", "-k", "not notebook", "word_games/tests"]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=src,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "2 passed" in tests.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Notes"], "'Notes' cannot name a Python package"),
        (["two words"], "cannot name a Python package"),
        (["class"], "cannot name a Python package"),
        (["orchestrator"], "taken by this project's own packages"),
        (["json"], "'json' is already a module"),
        (["kept"], "exists and is not empty"),
        (["fresh", "--dir", "a_file"], "cannot write a_file/fresh (Not a directory)"),
    ],
)
def test_a_name_or_a_place_that_cannot_take_it_is_one_line_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.txt").write_text("keep me")
    (tmp_path / "a_file").write_text("not a folder")
    before = listing(tmp_path)

    done = cli("new-domain", *args, cwd=tmp_path)

    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert listing(tmp_path) == before


def test_it_loads_no_engine(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom orchestrator.cli import main\n"
        f"assert main(['new-domain', 'light', '--dir', {str(tmp_path)!r}]) == 0\n"
        "heavy = ('langgraph', 'langchain_core', 'pydantic', 'rich', 'graph', 'nodes')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=ENV
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("beside", ["mydom.py", "mydom/__init__.py"])
def test_a_module_beside_the_new_package_in_dir_is_not_hidden(tmp_path: Path, beside: str) -> None:
    src = tmp_path / "src"
    (src / beside).parent.mkdir(parents=True, exist_ok=True)
    (src / beside).write_text("VALUE = 1\n")
    before = listing(tmp_path)

    done = cli("new-domain", "mydom", "--dir", str(src), cwd=tmp_path)

    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    if beside == "mydom.py":
        assert f"'mydom' is already a module in {src} ({src / beside})" in lines[0]
        assert "which the new package would hide" in lines[0]
    else:
        assert "exists and is not empty" in lines[0]
    assert listing(tmp_path) == before
