"""Layers point one way: the engine (`state.py`, `graph/`, `nodes/`, `orchestrator/`) imports no
domain, and nothing of the tests, benchmarks or evaluation; the domains import the engine.

Every import statement counts, wherever it is: at the top, inside a function (a lazy import),
or under `TYPE_CHECKING`. What composes the engine with a domain lives in `domains/`: the
server's entrypoints that `langgraph.json` names, and the CLI commands a domain adds (found
through `$ORCHESTRATOR_DOMAINS`).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ("state.py", "graph", "nodes", "orchestrator")
OUTSIDE = ("domains", "tests", "bench", "eval", "examples", "cluster")
"""Top-level packages the engine must not import."""


def engine_files() -> list[Path]:
    files: list[Path] = []
    for part in ENGINE:
        path = ROOT / part
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in `tree`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def outside_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for line, module in imported_modules(tree)
        if module.split(".")[0] in OUTSIDE
    ]


def test_the_engine_imports_no_domain_and_nothing_outside_it() -> None:
    files = engine_files()
    assert len(files) > 50, "the walk found too few engine modules"

    offenders = [found for path in files for found in outside_imports(path)]

    assert offenders == [], "\n".join(offenders)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "mixed.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import domains.research as research\n"
        "if TYPE_CHECKING:\n"
        "    from domains.travel.models import TripRequest\n"
        "def later():\n"
        "    from tests.keys import MARKER\n"
        "from . import sibling\n"
        "import graph.builder\n"
    )
    tree = ast.parse(module.read_text())

    found = [m for _, m in imported_modules(tree) if m.split(".")[0] in OUTSIDE]

    assert found == ["domains.research", "domains.travel.models", "tests.keys"]


def test_the_servers_graphs_are_composed_in_the_domains() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    paths = [entry["path"].split(":")[0] for entry in config["graphs"].values()]

    for path in paths:
        assert (ROOT / path).is_file(), path
        assert Path(path).parts[0] == "domains", f"{path}: a server entrypoint composes a domain"
