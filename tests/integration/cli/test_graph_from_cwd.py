"""`--graph module:attr` finds a module in the current directory, as `python -m` would, without
PYTHONPATH; an installed module of the same name still wins over a local file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.cli.test_new_domain import BIN, ENV

BARE_ENV = {k: v for k, v in ENV.items() if k != "PYTHONPATH"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The executable with no PYTHONPATH: only what `sys.path` finds by itself."""
    return subprocess.run(
        [str(BIN), *args],
        cwd=cwd,
        env=BARE_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_domain_in_the_current_directory_needs_no_pythonpath(tmp_path: Path) -> None:
    made = cli("new-domain", "notes", cwd=tmp_path)
    assert made.returncode == 0, made.stderr

    shown = cli("graph", "--graph", "notes.domain:notes_domain", cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("notes-orchestrator: ")
    assert "orchestrate      -> count_words" in shown.stdout


def test_a_local_file_does_not_hide_an_installed_module(tmp_path: Path) -> None:
    (tmp_path / "json.py").write_text("raise SystemExit('the local json.py was imported')\n")

    shown = cli("graph", "--graph", "json:nothing_here", cwd=tmp_path)

    assert shown.returncode == 2
    assert shown.stderr.strip() == "error: --graph 'json:nothing_here': json has no 'nothing_here'"


def test_a_module_nowhere_is_one_line(tmp_path: Path) -> None:
    shown = cli("graph", "--graph", "no_such_module_here:graph", cwd=tmp_path)

    assert shown.returncode == 2
    assert "cannot import no_such_module_here" in shown.stderr
    assert "Traceback" not in shown.stderr
