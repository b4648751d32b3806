"""Fixtures shared by every test tier: a hermetic environment, real inventory files, a fresh data
directory per test."""

from __future__ import annotations

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
    from orchestrator.llm import models

    monkeypatch.setattr(models, "ALLOW_REMOTE_MODELS", False)


@pytest.fixture(scope="session")
def inventory_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One inventory database built per session (seconds); tests get copies of it."""
    path = tmp_path_factory.mktemp("inventory-template") / INVENTORY_FILE
    Inventory.open(path)
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
