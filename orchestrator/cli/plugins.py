"""The domains that add commands to the `orchestrator` command line, found by module path.

`$ORCHESTRATOR_DOMAINS` lists their CLI modules, comma-separated (default: `domains.travel.cli`,
the flagship travel domain's). The engine imports no domain: it imports the modules this setting
names, and only the setting names the shipped one. A domain's CLI module is read to build the
parser, so it imports only the standard library (and `orchestrator.cli.parser`'s helpers);
`--help` stays as quick as before. It provides:

- `add_commands(sub)`: adds its subcommands to the parser's subparsers (`parser.add_command`
  gives them the house style). Each sets `handler="module:function"` as a default: the async
  function `(args) -> exit code` that runs it, imported only when that command runs. It may
  also set `normalize_args` (a function folding aliases, called after parsing) and
  `unknown_thread_ok=True` (a THREAD that names no run here is left for the command to judge);
- `EXAMPLES` (optional): lines for `orchestrator --help`'s examples;
- `DOMAIN` (optional): `"module:function"` returning its `Domain`. The first listed module's is
  the graph that `runs`, `show`, `history`, `fork`, `resume` and `graph` read without `--graph`;
- `GRAPH` (optional): its graph's name in `langgraph.json`; `--graph NAME` then builds the domain
  with the CLI's own context, rather than importing the server's compiled copy.

Entry points (`importlib.metadata`) were weighed and left out: scanning them roughly doubles the
time of `orchestrator --help` and needs a reinstall for every new domain.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

DOMAINS_ENV = "ORCHESTRATOR_DOMAINS"
DEFAULT_DOMAINS = "domains.travel.cli"


class PluginError(Exception):
    """A module named in `$ORCHESTRATOR_DOMAINS` cannot be used; the message says which."""


class DomainCommands(NamedTuple):
    """What one domain's CLI module contributes. (A NamedTuple: `dataclasses` would add a
    sixth of the parser's import time.)"""

    module: str
    add_commands: Callable[[Any], None]
    examples: tuple[str, ...] = ()
    domain: str | None = None
    graph: str | None = None


def import_module(name: str) -> Any:
    """Imports `name` as `python -m` would find it: the current directory is searched too (a
    console script's `sys.path` lacks it), after everything installed, so a local file never
    hides an installed package."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        missing = (exc.name or "").split(".")[0]
        if here in sys.path or "" in sys.path or missing != name.split(".")[0]:
            raise
        sys.path.append(here)
        return importlib.import_module(name)


def module_names() -> list[str]:
    """The CLI modules `$ORCHESTRATOR_DOMAINS` names, in order, without repeats."""
    raw = os.environ.get(DOMAINS_ENV)
    names = (DEFAULT_DOMAINS if raw is None else raw).split(",")
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def load() -> list[DomainCommands]:
    """Each listed module's contribution; a module that cannot be used is a `PluginError`."""
    found = []
    for name in module_names():
        try:
            module = import_module(name)
        except ImportError as exc:
            raise PluginError(
                f"{DOMAINS_ENV} names {name}, which cannot be imported ({exc}): fix the module "
                f"path or put its folder on PYTHONPATH"
            ) from None
        except Exception as exc:  # a syntax error, or an error the module raises on import
            raise PluginError(f"{DOMAINS_ENV}: {name} fails on import: {_one_line(exc)}") from None
        add = getattr(module, "add_commands", None)
        if not callable(add):
            raise PluginError(f"{DOMAINS_ENV} names {name}, which has no add_commands(sub)")
        try:
            examples = tuple(str(line) for line in getattr(module, "EXAMPLES", ()))
        except TypeError:
            raise PluginError(
                f"{DOMAINS_ENV} names {name}, whose EXAMPLES is not a list of lines"
            ) from None
        found.append(
            DomainCommands(
                module=name,
                add_commands=add,
                examples=examples,
                domain=getattr(module, "DOMAIN", None),
                graph=getattr(module, "GRAPH", None),
            )
        )
    return found


def add_all(sub: argparse._SubParsersAction[Any], plugins: list[DomainCommands]) -> None:
    """Every plugin's commands; two plugins that claim one command name, or an `add_commands`
    that raises, are a `PluginError`."""
    for plugin in plugins:
        try:
            plugin.add_commands(sub)
        except argparse.ArgumentError as exc:  # e.g. "conflicting subparser: trip"
            raise PluginError(
                f"{DOMAINS_ENV}: {plugin.module} cannot add its commands: {exc}"
            ) from None
        except Exception as exc:  # a bug in the domain's add_commands
            raise PluginError(
                f"{DOMAINS_ENV}: {plugin.module} cannot add its commands: {_one_line(exc)}"
            ) from None


def _one_line(exc: Exception) -> str:
    """`<error type>: <message>`, the message on one line."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def resolve(target: str) -> Any:
    """The object `module:attr` names (a handler, a domain factory)."""
    where, _, attr = target.partition(":")
    return getattr(import_module(where), attr)


def default_domain() -> DomainCommands | None:
    """The first listed domain that names its `Domain`."""
    return next((p for p in load() if p.domain), None)
