"""`make help` (the default goal) names every target of the Makefile."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_make_help_lists_every_target() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine")
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))

    shown = subprocess.run(
        [make, "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    ).stdout

    listed = set(re.findall(r"^make ([a-z][a-z-]*)", shown, re.M))
    assert targets - {"help"} <= listed, f"missing from make help: {targets - listed - {'help'}}"
