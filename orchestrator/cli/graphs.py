"""Which graph a CLI command reads or runs: `--graph NAME|module:attr`, so any domain built on
the engine gets `show`, `history`, `fork`, `runs` and `resume`.

NAME is a graph of `langgraph.json` (the one beside the current directory's, else the
project's); `module:attr` (or `path/to/file.py:attr`) names a compiled graph, a `Domain`, or a
function returning either. The default is the first graph of `langgraph.json`, the travel
orchestrator, which the CLI builds itself (with the CLI's own context) rather than taking the
server's compiled copy.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel

from graph.builder import Graph, build_graph
from orchestrator.cli.errors import UserError
from orchestrator.domain import Domain

TRAVEL = "orchestrator"
"""The name `langgraph.json` gives the travel orchestrator: built here, not imported."""


def langgraph_json() -> Path | None:
    """The `langgraph.json` that names the graphs: the current directory's, else the project's."""
    for place in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (place / "langgraph.json").is_file():
            return place / "langgraph.json"
    return None


def graph_names() -> dict[str, str]:
    """Graph name -> `path:attr`, as `langgraph.json` lists them (in its order)."""
    path = langgraph_json()
    if path is None:
        return {}
    try:
        graphs = json.loads(path.read_text()).get("graphs") or {}
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot read {path}: {exc}; fix the file or give --graph module:attr"
        ) from None
    out: dict[str, str] = {}
    for name, entry in graphs.items():
        target = entry.get("path") if isinstance(entry, dict) else entry
        if isinstance(target, str):
            out[str(name)] = (
                str((path.parent / target).resolve()) if target.startswith(".") else target
            )
    return out


def _import(target: str) -> Any:
    where, _, attr = target.rpartition(":")
    if not where or not attr:
        raise UserError(f"--graph {target!r} is not NAME or module:attr")
    try:
        if where.endswith(".py"):
            spec = importlib.util.spec_from_file_location(f"_graph_{Path(where).stem}", where)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {where}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except (ImportError, OSError, SyntaxError) as exc:
        raise UserError(f"--graph {target!r}: cannot import {where}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"--graph {target!r}: {where} has no {attr!r}") from None


def load_graph(spec: str | None, saver: BaseCheckpointSaver[Any]) -> Graph:
    """The graph `spec` names, reading and writing its checkpoints through `saver`."""
    names = graph_names()
    name = spec or next(iter(names), TRAVEL)
    if name == TRAVEL:
        return build_graph(checkpointer=saver)
    target = names.get(name, name)
    if ":" not in target:
        known = ", ".join(names) or "none"
        raise UserError(
            f"--graph {name!r} is not a graph of langgraph.json ({known}) nor module:attr"
        )
    found = _import(target)
    if not isinstance(found, Pregel | Domain) and callable(found):
        found = found()
    if isinstance(found, Domain):
        return build_graph(found, checkpointer=saver)
    if isinstance(found, Pregel):
        return found.copy(update={"checkpointer": saver})  # type: ignore[return-value]
    raise UserError(f"--graph {target!r} is neither a compiled graph nor a Domain")
