"""A new domain to start from: `write_domain_skeleton(path, name)`.

It writes a package `<path>/<name>/` whose parts each show one seat of the pattern: workers (a
LangChain tool made a worker, and a plain one), a deterministic planner, a verifier, the
`Domain`, tests that run the domain through the real graph, and a notebook that runs it with the
deterministic planner first, then with the LLM planner against the scripted loopback model. It
all passes at once: `pytest <path>/<name>/tests` (run from `<path>`, or anywhere with `<path>` on
`sys.path`). The CLI's `orchestrator new-domain NAME` calls this function.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import keyword
from importlib import resources
from pathlib import Path
from typing import Any

TEMPLATE = "domain"
"""The folder of `.tmpl` files beside this module, copied with the placeholders filled."""


class SkeletonError(ValueError):
    """The name is not a valid package name, or the target is taken."""


def _check(name: str, path: Path) -> None:
    if not (name.isidentifier() and name.islower() and not keyword.iskeyword(name)):
        raise SkeletonError(
            f"{name!r} cannot name a Python package: use lower-case letters, digits and _"
        )
    if name in {"orchestrator", "graph", "nodes", "domains", "state", "tests"}:
        raise SkeletonError(f"{name!r} is taken by this project's own packages")
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        found = None
    if found is not None and found.origin is not None:  # a folder alone is no module yet
        raise SkeletonError(
            f"{name!r} is already a module ({found.origin}), which the new package would hide: "
            "pick another name"
        )
    target = path / name
    try:
        beside = importlib.machinery.PathFinder.find_spec(name, [str(path)])
    except (ImportError, ValueError):
        beside = None
    origin = beside.origin if beside is not None else None
    if origin is not None and Path(origin).parent != target:  # not the package's own __init__
        raise SkeletonError(
            f"{name!r} is already a module in {path} ({origin}), which the new package would "
            "hide: pick another name"
        )


def _fill(text: str, name: str) -> str:
    title = name.replace("_", " ").strip().capitalize()
    klass = "".join(part.capitalize() for part in name.split("_") if part)
    return text.replace("{{name}}", name).replace("{{Class}}", klass).replace("{{title}}", title)


def _copy(source: Any, target: Path, name: str, written: list[Path]) -> None:
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            _copy(entry, target / entry.name, name, written)
        elif entry.name.endswith(".tmpl"):
            path = target / entry.name[: -len(".tmpl")]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_fill(entry.read_text(encoding="utf-8"), name), encoding="utf-8")
            written.append(path)


def write_domain_skeleton(path: str | Path, name: str) -> list[Path]:
    """Writes the domain package `<path>/<name>/`; returns the files written.

    Refuses a name that cannot be a package, a name a module already has (on this process's
    import path, or in `path`: `<path>/<name>.py` would be hidden by the package), and a target
    folder that exists and is not empty.
    """
    _check(name, Path(path))
    target = Path(path) / name
    if target.exists() and any(target.iterdir()):
        raise SkeletonError(f"{target} exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    _copy(resources.files("orchestrator.templates").joinpath(TEMPLATE), target, name, written)
    notebook = target / "notebook.ipynb"
    notebook.write_text(json.dumps(_notebook(name), indent=1) + "\n", encoding="utf-8")
    written.append(notebook)
    return written


def _notebook(name: str) -> dict[str, Any]:
    from orchestrator.templates.notebook import CELLS

    cells = []
    for n, (kind, source) in enumerate(CELLS, 1):
        cell: dict[str, Any] = {
            "cell_type": "markdown" if kind == "md" else "code",
            "id": f"cell-{n:02d}",
            "metadata": {},
            "source": _fill(source, name),
        }
        if kind != "md":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
