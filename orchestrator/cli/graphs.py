"""Which graph a CLI command reads or runs: `--graph NAME|module:attr`, so any domain built on
the engine gets `show`, `history`, `fork`, `runs`, `resume` and `graph`.

NAME is a graph of `langgraph.json` (the one beside the current directory's, else the
project's); `module:attr` (or `path/to/file.py:attr`) names a compiled graph, a `Domain`, or a
function returning either. The default is the first domain `$ORCHESTRATOR_DOMAINS` lists (the
travel orchestrator), else the first graph of `langgraph.json`. A domain whose CLI module names
its `langgraph.json` graph (`GRAPH`) is built here, with the CLI's own context, rather than
taken from the server's compiled copy.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel

from graph.builder import Graph, build_graph
from orchestrator.cli import plugins
from orchestrator.cli.errors import UserError
from orchestrator.domain import Domain
from orchestrator.history import side_effect_workers


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
            module = plugins.import_module(where)
    except (ImportError, OSError, SyntaxError) as exc:
        raise UserError(f"--graph {target!r}: cannot import {where}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"--graph {target!r}: {where} has no {attr!r}") from None


@dataclass(frozen=True)
class Loaded:
    """A graph to read or run, with its `Domain` when the CLI knows it (not for a graph given
    compiled)."""

    graph: Graph
    domain: Domain | None = None

    def side_effect_workers(self) -> frozenset[str]:
        """The workers whose tasks change the world: the domain's `side_effects` ones, else the
        ones the graph's `approve` node routes to."""
        if self.domain is not None:
            return frozenset(s.name for s in self.domain.workers.values() if s.side_effects)
        return side_effect_workers(self.graph)


def _domain(target: str) -> Domain:
    """The `Domain` a plugin's `DOMAIN = "module:function"` names."""
    try:
        found = plugins.resolve(target)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"{plugins.DOMAINS_ENV}: cannot load the domain {target}: {exc}") from None
    domain = found() if callable(found) and not isinstance(found, Domain) else found
    if not isinstance(domain, Domain):
        raise UserError(f"{plugins.DOMAINS_ENV}: {target} is not a Domain")
    return domain


def load(spec: str | None, saver: BaseCheckpointSaver[Any] | None) -> Loaded:
    """The graph `spec` names (None: the default), reading and writing its checkpoints through
    `saver` (None: compiled without one, to draw it)."""
    known = plugins.load()
    if spec is None:
        first = next((p for p in known if p.domain), None)
        if first is not None and first.domain is not None:
            domain = _domain(first.domain)
            return Loaded(build_graph(domain, checkpointer=saver), domain)
    names = graph_names()
    name = spec or next(iter(names), None)
    if name is None:
        raise UserError(
            f"no graph to read: give --graph NAME|module:attr, or list a domain's CLI module in "
            f"{plugins.DOMAINS_ENV}"
        )
    for plugin in known:
        if plugin.graph == name and plugin.domain:
            domain = _domain(plugin.domain)
            return Loaded(build_graph(domain, checkpointer=saver), domain)
    target = names.get(name, name)
    if ":" not in target:
        listed = ", ".join(names) or "none"
        raise UserError(
            f"--graph {name!r} is not a graph of langgraph.json ({listed}) nor module:attr"
        )
    found = _import(target)
    if not isinstance(found, Pregel | Domain) and callable(found):
        found = found()
    if isinstance(found, Domain):
        return Loaded(build_graph(found, checkpointer=saver), found)
    if isinstance(found, Pregel):
        copy: Graph = found.copy(update={"checkpointer": saver})  # type: ignore[assignment]
        return Loaded(copy)
    raise UserError(f"--graph {target!r} is neither a compiled graph nor a Domain")


def load_graph(spec: str | None, saver: BaseCheckpointSaver[Any] | None) -> Graph:
    """The graph `spec` names (see `load`)."""
    return load(spec, saver).graph
