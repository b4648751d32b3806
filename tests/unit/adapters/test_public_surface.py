"""One import for domain authors: every exported name resolves, lazily, without cycles."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import orchestrator

ROOT = Path(__file__).resolve().parents[3]


def test_every_exported_name_resolves() -> None:
    for name in orchestrator.__all__:
        assert getattr(orchestrator, name) is not None, name
    assert set(orchestrator.__all__) <= set(dir(orchestrator))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        orchestrator.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected an AttributeError")


def test_importing_the_package_loads_nothing_heavy_and_names_import_without_cycles() -> None:
    probe = (
        "import sys, orchestrator\n"
        "heavy = [m for m in ('langgraph', 'langchain_core', 'langchain_openai', 'graph', "
        "'pydantic') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from orchestrator import Domain, WorkerSpec, build_graph, worker_from_tool, Verdict\n"
        "from orchestrator import *\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-1500:]


def test_the_packages_ship_py_typed_and_their_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]
    for package in ("orchestrator", "graph", "nodes", "domains"):
        assert (ROOT / package / "py.typed").is_file(), package
        assert "py.typed" in data[package], package
    assert "docs/*.md" in data["domains.research"]
    assert any(p.startswith("templates/") for p in data["orchestrator"])
