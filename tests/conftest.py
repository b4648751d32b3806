"""Fixtures shared by every test tier: a hermetic environment, real inventory files, a fresh data
directory per test; and how pytest-xdist shares the tests out among its workers."""

from __future__ import annotations

import compileall
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE

MODEL_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "OPENAI_MODEL",
    "ORCHESTRATOR_PLANNER",
    "ORCHESTRATOR_PLANNER_MODEL",
    "ORCHESTRATOR_SYNTHESIZER_MODEL",
    "ORCHESTRATOR_WORKER_MODEL",
    "ORCHESTRATOR_CHECKPOINTER",
    "ORCHESTRATOR_HOME",
    "ORCHESTRATOR_APPROVAL",
    "ORCHESTRATOR_INVENTORY",
    "ORCHESTRATOR_PLANNERS",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
)


PROJECT_CODE = ("orchestrator", "graph", "nodes", "domains", "bench", "eval", "state.py")


def pytest_configure(config: pytest.Config) -> None:
    """Compiles the project's own modules to bytecode once, before any test starts.

    The suite starts hundreds of Python processes (the CLI, servers, scripts). Where
    `PYTHONDONTWRITEBYTECODE` is set, none of them may write `__pycache__`, so each compiled the
    project's sources anew (about 0.3 s of CPU per CLI start). They may still read bytecode that is
    there: compiled here once (a no-op for files already compiled), in the main process only.
    """
    if "PYTEST_XDIST_WORKER" in os.environ:
        # xdist's workers start with COLUMNS=80: without it, fixtures and the commands they start
        # print what they print in a run without xdist (unwrapped, as when piped).
        os.environ.pop("COLUMNS", None)
        return
    for name in PROJECT_CODE:
        target = config.rootpath / name
        if target.is_dir():
            compileall.compile_dir(target, quiet=2)
        elif target.is_file():
            compileall.compile_file(target, quiet=2)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for `pytest -n N --dist loadgroup` (`make test`): a worker runs a whole group.

    A module is a group of its own, so a module runs in its order, on one worker, with its
    module-scoped fixtures (servers, worlds of fault cases, README runs) set up once. The Aegra
    cluster tests (`@pytest.mark.cluster`) are one group: one cluster at a time, each started
    after the previous one stopped. A test that names its own `xdist_group` keeps it. Without
    xdist the marks do nothing.
    """
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        module = item.nodeid.split("::", 1)[0]
        group = "cluster" if item.get_closest_marker("cluster") else module
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's model, data dir or tracing settings, nor reaches a real model.

    With `OPENAI_API_KEY` set, `planner=auto` would pick a real LLM; tests that want the LLM set
    their own key and point it at the scripted loopback server.
    """
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("ORCHESTRATOR_CAP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    # Output is not a terminal here, so commands run in-process print unwrapped lines, as when
    # piped; unless the runner exported a width (pytest-xdist's workers run with COLUMNS=80).
    monkeypatch.delenv("COLUMNS", raising=False)
    from orchestrator.llm import models

    monkeypatch.setattr(models, "ALLOW_REMOTE_MODELS", False)


@pytest.fixture(scope="session")
def inventory_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One inventory database built per session (seconds); tests get copies of it.

    Under pytest-xdist the workers share one: the first to need it builds it in the run's common
    temporary directory while the others wait for it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        path = tmp_path_factory.mktemp("inventory-template") / INVENTORY_FILE
        Inventory.open(path)
        return path
    shared = tmp_path_factory.getbasetemp().parent / "inventory-template"
    shared.mkdir(exist_ok=True)
    with (shared / "build.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        path = shared / INVENTORY_FILE
        Inventory.open(path)  # builds it if no worker has yet
    return path


@pytest.fixture
def data_dir(tmp_path: Path, inventory_template: Path) -> Iterator[Path]:
    """A data directory holding a private copy of the inventory, for tests that book."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy(inventory_template, target / INVENTORY_FILE)
    yield target


@pytest.fixture
def inventory(data_dir: Path) -> Inventory:
    return Inventory.open(data_dir / INVENTORY_FILE)
